"""Collections of records written as markup: the repeated elements of an XML document (a JUnit report's
`<testcase>`s, a Maven dependency list, an Android resource file) and the documents or list items of
a YAML stream (`kubectl get -o yaml`, a directory of manifests joined by `---`).

Line by line these read as tag lines (kept as frames) or `key: value` fields, so nothing ever went; as
records they are what JSON arrays are: each kept or elided whole by records.choose (what the question
names, what reports trouble, what is unusual among its peers: the one `<testcase>` holding a
`<failure>`, the one image tagged `latest`), never cut inside and never reformatted. A record must
start and end on its own lines; anything else in the text (a preamble, the root element's own lines)
stays as it is.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from anyray.server.optimizer.content import records
from anyray.server.optimizer.content.units import Marks, Unit, render

MIN_RECORDS = 6
# a comment, CDATA or declaration (skipped), else a tag: closing slash, name, attributes, self-closing slash.
# No part of a tag reaches past the next `<` (XML allows none in an attribute value), so a text full of
# unclosed `<a "` costs one pass, not one per `<`
_TAG = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[?!][^>]*>"
                  r"|<(/?)([A-Za-z_][\w:.-]*)((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*?)(/?)>", re.S)
_ATTR = re.compile(r"([A-Za-z_][\w:.-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_LEAF = re.compile(r"<([A-Za-z_][\w:.-]*)[^<>]*>([^<>]{1,80})</\1>")
_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?([\w./-]+):(?:\s+(.*?))?\s*$")


def compress(lines: list[str], offset: int, query: str, marks: Marks, head: int, tail: int) -> list[str] | None:
    """The text with its markup records thinned, or None when it holds no such collection (or keeps most)."""
    text = "\n".join(lines)
    found = _xml(text, lines) if _mostly(lines, lambda x: x.lstrip().startswith("<"), 0.3) else None
    noun = f"<{_element_name(text, lines, found)}> elements" if found is not None else ""
    if found is None:
        found, noun = _yaml(lines), "documents" if any(x.strip() == "---" for x in lines) else "items"
    if found is None:
        return None
    spans, fields = found
    if sum(sum(len(x) + 1 for x in lines[a: b + 1]) for a, b in spans) < len(text) * 0.5:
        return None  # the records are a small part: the text is something else
    keep, labels = records.choose(["\n".join(lines[a: b + 1]) for a, b in spans], fields, query, head, tail)
    if not records._worth(keep):
        return None
    marks.offset = offset
    units = [Unit(a, b, k, lab) for (a, b), k, lab in zip(spans, keep, labels, strict=True)]
    indent = lambda u: lines[u.first][: len(lines[u.first]) - len(lines[u.first].lstrip())]  # noqa: E731
    return render(lines, units, marks, noun, indent)


def _mostly(lines: list[str], test: Callable[[str], Any], share: float) -> bool:
    """At least `share` of the non-blank lines pass `test`: a cheap look before a parse."""
    filled = [x for x in lines if x.strip()]
    return bool(filled) and sum(1 for x in filled if test(x)) >= len(filled) * share


# ------------------------------------------------------------------------------------------------- XML


def _xml(text: str, lines: list[str]) -> tuple[list[tuple[int, int]], list[dict[str, Any]]] | None:
    """The most repeated element among siblings (by total size), as line spans and fields, or None."""
    head = text[:500].lower()
    if "<html" in head or "<!doctype html" in head:
        return None  # HTML is laid out for reading, not as records; its prose and tables are handled as such
    stack: list[tuple[str, int, int]] = []  # (name, start offset, end of its start tag)
    elements: dict[tuple[int, str], list[tuple[int, int, int]]] = defaultdict(list)
    for m in _TAG.finditer(text):
        closing, name, _, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if name is None:
            continue  # a comment, CDATA, a declaration
        if empty:
            elements[(len(stack), name)].append((m.start(), m.end(), m.end()))
        elif not closing:
            stack.append((name, m.start(), m.end()))
        elif any(n == name for n, _, _ in stack):
            while stack:
                opened, start, tag_end = stack.pop()
                if opened == name:
                    elements[(len(stack), name)].append((start, m.end(), tag_end))
                    break
    repeated = [found for found in elements.values() if len(found) >= MIN_RECORDS]
    if not repeated:
        return None
    chosen = max(repeated, key=lambda found: sum(b - a for a, b, _ in found))
    if sum(1 for a, b, tag_end in chosen if not _record_like(text[tag_end:b])) > len(chosen) * 0.2:
        return None  # wrappers of documents (`<chunk>`, `<file>` around prose or code): sections, not records
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    spans: list[tuple[int, int]] = []
    fields: list[dict[str, Any]] = []
    for a, b, tag_end in sorted(chosen):
        first, last = _line_of(starts, a), _line_of(starts, b - 1)
        if text[starts[first]: a].strip() or text[b: starts[last + 1] - 1].strip():
            return None  # shares a line with something else: not a record of whole lines
        if spans and first <= spans[-1][1]:
            return None
        spans.append((first, last))
        fields.append(_element_fields(text[a:tag_end], text[tag_end:b]))
    return _with_blank_lines(spans, lines), fields


def _with_blank_lines(spans: list[tuple[int, int]], lines: list[str]) -> list[tuple[int, int]]:
    """Each record with the blank lines that separate it from the next one (never past the next)."""
    out = []
    for n, (a, b) in enumerate(spans):
        nxt = spans[n + 1][0] if n + 1 < len(spans) else a
        while b + 1 < nxt and not lines[b + 1].strip():
            b += 1
        out.append((a, b))
    return out


def _record_like(inner: str) -> bool:
    """Empty (self-closing), holding elements of its own, or a short value: not a wrapper around a document
    (a RAG chunk's prose, a file's code), which is read as sections instead."""
    inner = inner[: inner.rfind("</")] if inner.rstrip().endswith(">") else inner  # its own closing tag aside
    return "<" in inner or len(inner) < 80


def _element_name(text: str, lines: list[str], found: tuple[list[tuple[int, int]], Any]) -> str:
    first = lines[found[0][0][0]].lstrip()
    m = re.match(r"<([A-Za-z_][\w:.-]*)", first)
    return m.group(1) if m else "XML"


def _line_of(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset, 0, len(starts) - 1) - 1


def _element_fields(start_tag: str, inner: str) -> dict[str, Any]:
    """Its attributes, each child element's short text (`status`), and which child elements it has at all
    (so the one `<testcase>` with a `<failure>` is a record with a field few others have)."""
    out: dict[str, Any] = {k: v if v is not None else w for k, v, w in _ATTR.findall(start_tag)}
    for name, value in _LEAF.findall(inner):
        out.setdefault(name, value.strip())
    for m in _TAG.finditer(inner):
        if m.group(2) and not m.group(1):
            out.setdefault(f"<{m.group(2)}>", True)
    return out


# ------------------------------------------------------------------------------------------------ YAML


def _yaml(lines: list[str]) -> tuple[list[tuple[int, int]], list[dict[str, Any]]] | None:
    """The documents of a `---`-separated stream, or else the items of the outermost block sequence of
    mappings (`- name: ...` at one indentation); each document takes its separator line with it, so a run
    of elided ones is one marker."""
    if not _mostly(lines[:60], _YAML_KEY.match, 0.5) or not _mostly(lines, _YAML_KEY.match, 0.6):
        return None
    separators = [i for i, x in enumerate(lines) if x.rstrip() == "---"]
    if len(separators) >= MIN_RECORDS - 1:
        bounds = [0, *separators, len(lines)]
        spans = [(a, b - 1) for a, b in itertools.pairwise(bounds) if b - 1 >= a]
    else:
        items = [i for i, x in enumerate(lines) if re.match(r"^\s*- [\w./-]+:(?:\s|$)", x)]
        if not items:
            return None
        width = Counter(len(lines[i]) - len(lines[i].lstrip()) for i in items)
        outer = min(width)
        if width[outer] < MIN_RECORDS:
            return None
        items = [i for i in items if len(lines[i]) - len(lines[i].lstrip()) == outer]
        ends = []
        for n, i in enumerate(items):
            end = items[n + 1] - 1 if n + 1 < len(items) else len(lines) - 1
            if n + 1 == len(items):  # the last item ends where the sequence does: at a line as far out as it
                end = next((j - 1 for j in range(i + 1, len(lines)) if lines[j].strip()
                            and len(lines[j]) - len(lines[j].lstrip()) <= outer), end)
            while end > i and not lines[end].strip():
                end -= 1
            ends.append(end)
        spans = list(zip(items, ends, strict=True))
    spans = [(a, b) for a, b in spans if any(x.strip() and x.strip() != "---" for x in lines[a: b + 1])]
    if len(spans) < MIN_RECORDS:
        return None
    return spans, [_yaml_fields(lines[a: b + 1]) for a, b in spans]


def _yaml_fields(lines: list[str]) -> dict[str, Any]:
    """`key: scalar` lines by their path of keys (`spec.template.spec.containers.image`)."""
    out: dict[str, Any] = {}
    path: list[tuple[int, str]] = []
    for line in lines:
        m = _YAML_KEY.match(line)
        if not m:
            continue
        width = len(m.group(1)) + (2 if line.lstrip().startswith("- ") else 0)
        while path and path[-1][0] >= width:
            path.pop()
        value = (m.group(3) or "").strip().strip("'\"")
        if value and not value.startswith(("|", ">", "{", "[", "&", "*")):
            out.setdefault(".".join([*(k for _, k in path), m.group(2)]), value)
        else:
            path.append((width, m.group(2)))
    return out
