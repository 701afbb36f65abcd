"""Collections of records (a JSON array of objects, JSON lines, CSV rows, a table): a record is kept whole
or elided whole, never cut, and never reformatted.

A record stays when the question points at it, when it reports trouble (of log records where trouble is
common, a few of each kind, as in a log), or when it is unusual among its peers: a field whose value few
records share (`"status": "failed"` among hundreds of `"succeeded"`), a field few records have at all
(`"hold_reason"`), a number far outside its field's usual range. The first and the last record stay too
(they show the shape), and a table's or CSV's header always does. The
marker for an elided run counts its records by their most telling field (`status: succeeded 338`).
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from anyray.server.optimizer.content import logs, salience
from anyray.server.optimizer.content.units import Marks, Unit, count, render, summary

_STRUCT = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_STATUSY = re.compile(r"status|state|level|severity|result|outcome|conclusion|phase|health|type|kind", re.I)
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(?:%|[kKMGTP]i?[bB]?|[mun]?s|ms|[bB]|x)?$")
_MISSING = object()
_DIGITS = re.compile(r"\d+")


def array_spans(text: str) -> dict[int, list[tuple[int, int]]]:
    """For every JSON array in `text`, by its start offset: the character span of each object or string
    element. A small scanner over strings and brackets only (scalars are not records)."""
    found: dict[int, list[tuple[int, int]]] = {}
    stack: list[tuple[str, int, list[list[int]]]] = []
    for m in _STRUCT.finditer(text):
        token = m.group()
        top = stack[-1] if stack else None
        if token[0] == '"':
            if top is not None and top[0] == "[":
                top[2].append([m.start(), m.end()])
            continue
        if token in "[{":
            if top is not None and top[0] == "[":
                top[2].append([m.start(), -1])
            stack.append((token, m.start(), []))
        else:
            if not stack:
                break
            kind, start, elements = stack.pop()
            if kind == "[":
                found[start] = [(a, b) for a, b in elements if b >= 0]
            if stack and stack[-1][0] == "[" and stack[-1][2] and stack[-1][2][-1][1] == -1:
                stack[-1][2][-1][1] = m.end()
    return found


def _fields(record: Any) -> dict[str, Any]:
    """Top-level fields, and one level of nested objects as `a.b`, with scalar values."""
    out: dict[str, Any] = {}
    if not isinstance(record, dict):
        return out
    for key, value in record.items():
        if isinstance(value, dict):
            for k2, v2 in value.items():
                if not isinstance(v2, dict | list):
                    out[f"{key}.{k2}"] = v2
        elif not isinstance(value, list):
            out[str(key)] = value
    return out


def _number(value: Any) -> float | None:
    """A field's value as a number, units and all (`100%`, `250ms`, `3.5Gi`), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (m := _NUMBER.match(value.strip())):
        return float(m.group(1))
    return None


def _hashable(value: Any) -> Any:
    return value[:80] if isinstance(value, str) else value


def unusual(records: Sequence[dict[str, Any]], asked: frozenset[str] = frozenset()) -> tuple[list[bool], list[str]]:
    """Which records stand out among their peers, and each record's label (its most telling field's value).

    Unusual: a value few records share in a field of few values (a `failed` among `succeeded`s); a field
    few records have at all; a value two records share in a field where values are otherwise unique (the
    duplicate email); a field's largest and smallest number (the full disk, the slowest call) and any far
    outside its usual spread."""
    n = len(records)
    flags = [False] * n
    labels = [""] * n
    if n < 4:
        return flags, labels
    rare = max(2, int(n * 0.05))
    present_in = Counter(k for r in records for k in r)
    named = {k for k in present_in if any(a in k.lower() for a in asked)}  # columns the question names
    best: tuple[int, int, str] | None = None  # the field that labels records best: status-like, few values
    for key, present in present_in.items():
        if present <= rare and present < n:  # a field few records have
            for i, r in enumerate(records):
                if r.get(key) not in (None, "", [], {}):
                    flags[i] = True
        values = [_hashable(r.get(key)) for r in records]
        if any(isinstance(v, dict | list) for v in values):
            continue
        distinct = Counter(values)
        numbers = [_number(v) for v in values]
        if 1 < len(distinct) <= max(2, min(12, n // 4)):
            rank = (0 if _STATUSY.search(key) else 1, len(distinct), key)
            best = rank if best is None or rank < best else best
            commonest = distinct.most_common(1)[0][1]
            odd = [i for i, v in enumerate(values) if distinct[v] <= rare and distinct[v] < commonest]
            if len(odd) <= max(2, n * 0.1):  # a few odd ones out, not a field of many small groups
                for i in odd:
                    flags[i] = True
        elif len(distinct) >= n * 0.8 and n >= 6:  # mostly unique: a repeated value is news
            for i, v in enumerate(values):
                if distinct[v] == 2 and v not in (None, ""):
                    flags[i] = True
            # ... and so is one of another shape: digits aside, values that follow one pattern but for a
            # few (`app-7:1.7.0` everywhere, `app-44:latest` once; an id in another format)
            shaped = [_DIGITS.sub("0", v) if isinstance(v, str) else type(v).__name__ for v in values]
            shapes = Counter(shaped)
            if 1 < len(shapes) <= max(2, min(12, n // 4)):
                usual = shapes.most_common(1)[0][1]
                odd = [i for i, shape in enumerate(shaped) if shapes[shape] <= rare < usual]
                if len(odd) <= max(2, n * 0.1):
                    for i in odd:
                        flags[i] = True
        known = [(x, i) for i, x in enumerate(numbers) if x is not None]
        if len(known) >= max(6, n * 0.8) and len({x for x, _ in known}) > 2 and (not named or key in named):
            flags[min(known)[1]] = flags[max(known)[1]] = True
            middle = statistics.median(x for x, _ in known)
            spread = statistics.median(abs(x - middle) for x, _ in known)
            far = [i for x, i in known if spread > 0 and abs(x - middle) > 6 * spread]
            if len(far) <= rare:
                for i in far:
                    flags[i] = True
    if best is not None:
        key = best[2]
        labels = [f"{key}: {r[key]}" if key in r and not isinstance(r[key], dict | list) else "" for r in records]
    if sum(flags) > n * 0.4:  # "unusual" no longer singles anything out
        flags = [False] * n
    return flags, labels


_LEVEL_KEYS = ("level", "severity", "lvl", "loglevel", "log.level")
_BAD = frozenset({"error", "err", "fatal", "critical", "crit", "panic", "alert", "emerg", "severe"})


def _levels(records: Sequence[dict[str, Any]]) -> list[bool] | None:
    """For log records (most have a level field): which report trouble (error or worse; warnings when they
    are rare). None when these are not log records."""
    key = next((k for k in _LEVEL_KEYS if sum(1 for r in records if isinstance(r.get(k), str)) >= len(records) * 0.8),
               None)
    if key is None:
        return None
    values = [str(r.get(key, "")).lower() for r in records]
    warned = [v.startswith("warn") for v in values]
    rare_warnings = sum(warned) <= max(3, len(values) * 0.05)
    return [v in _BAD or (w and rare_warnings) for v, w in zip(values, warned, strict=True)]


def choose(texts: Sequence[str], records: Sequence[dict[str, Any]], query: str, head: int, tail: int) -> tuple[
        list[bool], list[str]]:
    """Which records to keep, and their labels."""
    lowered = [t.lower() for t in texts]
    whole = "\n".join(lowered)
    pattern = salience.anchors(query, whole, len(texts), salience.ENTRY_SHARE)
    keep = salience.hits(lowered, pattern)
    odd, labels = unusual(records, frozenset(salience.query_terms(query)[1]))
    levels = _levels(records)
    if levels is not None:  # log records (JSON lines with a level): judged as a log is, by level, not oddity
        odd = levels
    identifiers, _ = salience.query_terms(query)
    by_name = salience.anchors(" ".join(identifiers), whole, len(texts), salience.ENTRY_SHARE) if identifiers else None
    named = salience.hits(lowered, by_name)
    if not (0 < sum(named) <= max(3, len(texts) * 0.05)):  # a lookup of named records needs nothing else
        trouble = salience.troubled(lowered)
        if levels is not None and sum(trouble) > logs.FEW:  # log records where trouble is common (a warning on
            # every fifth): the first two and the last of each kind tell it, as in a log
            trouble = logs.samples(trouble, keep, texts)
        if sum(trouble) <= len(texts) * 0.4:
            keep = [k or t for k, t in zip(keep, trouble, strict=True)]
        keep = [k or o for k, o in zip(keep, odd, strict=True)]
    for i in range(min(head, len(keep))):
        keep[i] = True
    for i in range(max(0, len(keep) - tail), len(keep)):
        keep[i] = True
    return keep, labels


def _worth(keep: Sequence[bool]) -> bool:
    return len(keep) >= 6 and sum(keep) <= len(keep) * 0.7


# ------------------------------------------------------------------------------------------------ JSON


def json_records(text: str, offset: int, query: str, marks: Marks, head: int, tail: int) -> str | None:
    """A JSON document whose bulk is one array of objects (or strings): that array's records thinned."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    spans = array_spans(text)
    if not spans:
        return None
    elements = max(spans.values(), key=lambda found: sum(b - a for a, b in found))
    if len(elements) < 6 or sum(b - a for a, b in elements) < len(text) * 0.5:
        return None
    parsed = [_parse(text[a:b]) for a, b in elements]
    del value
    keep, labels = choose([text[a:b] for a, b in elements], [_fields(p) for p in parsed], query, head, tail)
    if not _worth(keep):
        return None
    starts = [text.count("\n", 0, a) for a, _ in elements]
    ends = [text.count("\n", 0, b) for _, b in elements]
    if all(ends[i] < starts[i + 1] for i in range(len(elements) - 1)):  # one or more lines per record
        lines = text.split("\n")
        units = [Unit(a, b, k, lab) for a, b, k, lab in zip(starts, ends, keep, labels, strict=True)]
        indent = lambda u: lines[u.first][: len(lines[u.first]) - len(lines[u.first].lstrip())]  # noqa: E731
        return "\n".join(render(lines, units, _offset(marks, offset), "records", indent))
    out: list[str] = []  # records side by side on a line: cut by characters, the marker a JSON string
    cursor = 0
    i = 0
    n = len(elements)
    while i < n:
        if keep[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and not keep[j + 1]:
            j += 1
        out.append(text[cursor: elements[i][0]])
        what = f"{count(j - i + 1, 'records')} (records {i + 1}-{j + 1} of {n}){summary(labels[i: j + 1])}"
        out.append(orjson.dumps(marks.say(what)).decode())
        cursor = elements[j][1]
        i = j + 1
    out.append(text[cursor:])
    return "".join(out)


def _parse(raw: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _offset(marks: Marks, offset: int) -> Marks:
    marks.offset = offset
    return marks


# ---------------------------------------------------------------------------------- JSONL, CSV, tables


def line_records(lines: list[str], offset: int, kind: str, query: str, marks: Marks, head: int,
                 tail: int) -> list[str] | None:
    """One record per line: JSON lines, CSV/TSV rows, or table rows under a header that is always kept."""
    header = 0 if kind == "jsonl" else 1
    if kind == "table" and len(lines) > 1 and set(lines[1].strip()) <= set("-+=|: "):
        header = 2  # a separator under the header
    body = [(i, x) for i, x in enumerate(lines) if i >= header and x.strip()]
    if len(body) < 6:
        return None
    names = _columns(lines[0], kind) if header else []
    if kind == "table" and "|" not in lines[0] and body and len(names) != len(body[0][1].split()):
        names = []  # "Mounted on": header words and cells do not line up; columns by position
    records = [_row(x, kind, names) for _, x in body]
    keep, labels = choose([x for _, x in body], records, query, head, tail)
    if not _worth(keep):
        return None
    units = [Unit(i, i, k, lab) for (i, _), k, lab in zip(body, keep, labels, strict=True)]
    return render(lines, units, _offset(marks, offset), "rows" if kind != "jsonl" else "records")


def _columns(line: str, kind: str) -> list[str]:
    return [c.strip() for c in _cells(line, kind)]


def _cells(line: str, kind: str) -> list[str]:
    if kind == "csv":
        sep = max((",", "\t", ";"), key=line.count)
        return next(csv.reader([line], delimiter=sep), [])
    if "|" in line:
        return [c for c in line.strip().strip("|").split("|")]
    return line.split()  # an aligned table (df, kubectl, ps): one cell per word; headers may have two-word names


def _row(line: str, kind: str, names: list[str]) -> dict[str, Any]:
    if kind == "jsonl":
        value = _parse(line)
        return _fields(value) if isinstance(value, dict) else {}
    cells = [c.strip() for c in _cells(line, kind)]
    return {(names[i] if i < len(names) and names[i] else f"col{i}"): c for i, c in enumerate(cells)}
