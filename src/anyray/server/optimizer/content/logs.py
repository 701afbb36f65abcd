"""Logs: an entry (a line, with the indented or `at ...` lines that continue it) is kept whole or elided.

An entry stays when it reports trouble (its level is WARN or worse, or it says error, failed, timeout...),
when the question points at it, or when it is unusual: its template (the line with numbers, ids, hex,
times and quoted values blanked out) occurs only once or twice in a log where most entries repeat a
few templates. The first and the last entry stay (where the log starts and where it stands now), and
the entry before each kept one (what led to it: for the entry a question names too, the line before it
often says why). Elided runs are counted by level.
"""

from __future__ import annotations

import re
from collections import Counter

from anyray.server.optimizer.content import salience
from anyray.server.optimizer.content.segments import _LOG
from anyray.server.optimizer.content.units import Marks, Unit, paragraph_blocks, render, widen

# levels as logs spell them: upper-case words, or a level field (`"level":"info"`, `level=warn`). Two
# case-sensitive patterns run once over all the entries' first lines: a per-line IGNORECASE search cost
# ~11 us an entry (16,000 entries of a 350 KB log: 180 ms).
_LEVEL_WORD = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE)\b")
_LEVEL_FIELD = re.compile(r"\b(?:level|lvl|severity|Level|Severity)[\"']?\s*[:=]\s*[\"']?([A-Za-z]+)")
_LEVEL_REACH = 200  # a level further into a line is not this line's level
# at each line's start: the earliest level word or level field in it, or an empty match (findall: one per line)
# (no part of it can match a newline, so a match never runs into the next line and the list stays aligned)
_FIELD_ON_ONE_LINE = _LEVEL_FIELD.pattern.replace(r"\s", r"[^\S\n]")
_FIRST_LEVEL = re.compile(rf"^(?:[^\n]*?(?:{_LEVEL_WORD.pattern}|{_FIELD_ON_ONE_LINE}))?", re.MULTILINE)
_LEVEL_WORDS = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERR", "FATAL", "CRIT", "PANIC", "SEVERE")
_FIELD_WORDS = ("level", "lvl", "severity", "Level", "Severity")
_BAD_LEVELS = frozenset({"error", "err", "fatal", "critical", "crit", "panic", "severe", "alert", "emerg"})
_WARN_LEVELS = frozenset({"warn", "warning"})
# a number, an id or a version (from its first digit on), a quoted value: what varies between two lines of
# one template. Deliberately simple: 3.5x faster than spelling out uuids, hex and key=value on a 70 KB log.
_VARIABLE = re.compile(r"\d[\w.:-]*|\"[^\"\n]*\"")


def _normal(value: str) -> str:
    value = value.upper()
    return {"WARNING": "WARN", "ERR": "ERROR", "CRIT": "CRITICAL"}.get(value, value)


def level(line: str) -> str:
    return levels([line])[0]


def levels(firsts: list[str]) -> list[str]:
    """Each line's level (the first within its first 200 characters): one C-level pass over all the lines,
    a match at every line's start that takes the earliest level word or level field (or nothing), and no
    pass at all when the text holds none of the words (a plain `in` is a memchr; the regex is not)."""
    heads = [x[:_LEVEL_REACH] for x in firsts]
    joined = "\n".join(heads)
    if not any(w in joined for w in (*_LEVEL_WORDS, *_FIELD_WORDS)):
        return [""] * len(firsts)
    found = _FIRST_LEVEL.findall(joined)[: len(firsts)]  # one match per line, empty where it has no level
    return [_normal(word or field) if word or field else "" for word, field in found]


_COMMIT = re.compile(r"^commit [0-9a-f]{7,40}\b")


def _git_log(lines: list[str]) -> bool:
    return sum(1 for x in lines[:400] if _COMMIT.match(x)) >= 3


def template(line: str) -> str:
    return _VARIABLE.sub("#", line)


def entries(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line of each entry: a line that starts like a log line begins one, and every other line
    (a stack frame, a wrapped message, a commit's author and message) continues it."""
    out: list[tuple[int, int]] = []
    starts = _COMMIT if _git_log(lines) else _LOG  # `git log`: a commit is its hash, author, date and message
    for i, line in enumerate(lines):
        if not out or starts.match(line):
            out.append((i, i))
        else:
            out[-1] = (out[-1][0], i)
    if len(out) < 3 and starts is _LOG:  # hardly a line starts like a log line: every unindented line starts an entry
        out = []
        for i, line in enumerate(lines):
            if not out or not (line[:1].isspace() or line.startswith(("Caused by", "...")) or not line.strip()):
                out.append((i, i))
            else:
                out[-1] = (out[-1][0], i)
    return out


def compress(lines: list[str], offset: int, query: str, marks: Marks, head: int = 2, tail: int = 2) -> list[str] | None:
    spans = entries(lines)
    if len(spans) < 12:
        return None
    texts = ["\n".join(lines[a: b + 1]) for a, b in spans]
    lowered = [t.lower() for t in texts]
    found = levels([lines[a] for a, _ in spans])
    pattern = salience.anchors(query, "\n".join(lowered), len(texts), salience.ENTRY_SHARE)
    keep = salience.hits(lowered, pattern)
    bad = [lv.lower() in _BAD_LEVELS for lv in found]
    warned = [lv.lower() in _WARN_LEVELS for lv in found]
    if sum(warned) <= max(3, len(found) * 0.05):  # warnings are news when there are few of them
        bad = [b or w for b, w in zip(bad, warned, strict=True)]
    leveled = sum(1 for lv in found if lv) >= len(found) * 0.5
    # with levels, trust them (an INFO line saying "0 errors" is not trouble); the words count for entries
    # without a level and for entries with a continuation (a trace); without levels, for every entry
    asked = [i for i in range(len(keep)) if not leveled or not found[i] or spans[i][1] > spans[i][0]]
    trouble = dict(zip(asked, salience.troubled([lowered[i] for i in asked]), strict=True))
    troubled = [bad[i] or trouble.get(i, False) for i in range(len(keep))]
    # trouble everywhere, or a question that points into the trouble (the 504, its id): a few of each kind
    # tell the rest of it
    pointed = any(k and t for k, t in zip(keep, troubled, strict=True))
    if sum(troubled) > max(_ABUNDANT, len(troubled) // 10) or (pointed and sum(troubled) > FEW):
        troubled = samples(troubled, keep, texts)
    keep = [k or t for k, t in zip(keep, troubled, strict=True)]
    firsts = [lines[a] for a, _ in spans]
    sample = Counter(_VARIABLE.sub("#", "\n".join(firsts[:: max(1, len(firsts) // 200)])).split("\n"))
    few = len(sample) <= sum(sample.values()) / 4  # judged on a sample: most logs have too many to bother
    templates = _VARIABLE.sub("#", "\n".join(firsts)).split("\n") if few else []  # one pass, not one per entry
    counted = Counter(templates)
    if few and len(counted) <= len(texts) / 4:  # a log of a few repeating templates: a rare one is news
        for i, t in enumerate(templates):
            if counted[t] <= 2:
                keep[i] = True
    keep = widen(keep, 1, 0)  # each kept entry keeps the one before it: what led to it
    for i in range(min(head, len(keep))):
        keep[i] = True
    for i in range(max(0, len(keep) - tail), len(keep)):
        keep[i] = True
    if sum(keep) > len(keep) * 0.7:
        return None
    units = [Unit(a, b, k, lv or "") for (a, b), k, lv in zip(spans, keep, found, strict=True)]
    marks.offset = offset
    return render(lines, units, marks, "commits" if _git_log(lines) else "log lines")


_ABUNDANT = 24
FEW = 8
_KIND = re.compile(r"(?<![\w.:-])[45]\d\d(?![\w.:-])|\b(?:error|fatal|critical|panic|warn\w*|fail\w*|timeout|"
                   r"timed out|refused|denied|killed|oom\w*)\b", re.I)


def samples(troubled: list[bool], asked: list[bool], texts: list[str], first: int = 2, last: int = 1) -> list[bool]:
    """When many entries report trouble, the kinds of trouble are the news: of each kind (its status codes and
    trouble words, with its template), the first two and the last entry stay; the question's own stay too."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(troubled):
        if t and not asked[i]:
            kind = " ".join(sorted({m.group().lower() for m in _KIND.finditer(texts[i])}))
            groups.setdefault(kind + "\0" + template(texts[i].split("\n", 1)[0]), []).append(i)
    out = [False] * len(troubled)
    for members in groups.values():
        for i in members[:first] + members[-last:]:
            out[i] = True
    return out


_STATE = re.compile(r"^goroutine \d+ \[([^\],]+)")
_RAISED = re.compile(r"^\s*(?:[\w.$]+(?:Error|Exception|Panic|Fault)\b|panic:|fatal error:|Caused by:|Traceback|"
                     r"[\w.]+: [A-Z]|Exception in thread|thread '.*' panicked)")


def trace(lines: list[str], offset: int, query: str, marks: Marks, frames: int = 3) -> list[str] | None:
    """A stack trace, or a dump of many (Go's goroutines, a thread dump). With several blocks: the first
    (where it went wrong) stays whole, and so do blocks the question points at; the rest are counted by
    state. With one: every exception line stays with the frames just under it and the last frames; the
    frames between go unless the question points at them."""
    blocks = paragraph_blocks(lines)
    lowered = "\n".join(lines).lower()
    pattern = salience.anchors(query, lowered, max(len(blocks), 1), rare_share=0.2)
    if len(blocks) >= 4:
        keep = [i == 0 or (pattern is not None and pattern.search("\n".join(lines[a: b + 1]).lower()) is not None)
                or bool(_RAISED.match(lines[a])) for i, (a, b) in enumerate(blocks)]
        if sum(keep) > len(keep) * 0.7:
            return None
        labels = [(m.group(1) if (m := _STATE.match(lines[a])) else "") for a, _ in blocks]
        units = [Unit(a, b, k, lab) for (a, b), k, lab in zip(blocks, keep, labels, strict=True)]
        marks.offset = offset
        return render(lines, units, marks, "blocks")
    if len(lines) < 30:
        return None
    keep = [bool(_RAISED.match(x)) for x in lines]
    for i in [i for i, k in enumerate(keep) if k]:
        for j in range(i + 1, min(len(lines), i + 1 + frames * 2)):
            keep[j] = True
    keep = [k or (pattern is not None and pattern.search(x.lower()) is not None) for k, x in zip(keep, lines,
                                                                                                strict=True)]
    for i in range(max(0, len(lines) - frames * 2), len(lines)):
        keep[i] = True
    if sum(keep) > len(keep) * 0.7:
        return None
    units = [Unit(i, i, k) for i, k in enumerate(keep)]
    marks.offset = offset
    return render(lines, units, marks, "frame lines")
