"""Units of a text (a log entry, a record, a paragraph, a function body), kept whole or elided whole, and
the markers that stand for elided runs.

A unit is a span of the text's lines. Kept units are copied verbatim; each maximal run of elided units
becomes one marker line that says what was removed (how many of which kind, with a count of their
labels when they have one: `INFO 1,180, DEBUG 20`), and which lines of the original they were (a run
of one-line units is counted by its span alone: `log lines 5-1204`, not `1,200 log lines (lines 5-1204)`). The
piece's first marker also names the handle of the whole original and how to get it back; the others
are short (the handle is said once per piece). Line numbers count the original's lines from 1, exactly
as the retrieve tool numbers them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MARKER = "[anyray:"


@dataclass(slots=True)
class Unit:
    first: int  # line index in the piece (0-based, inclusive)
    last: int
    keep: bool = False
    label: str = ""  # what a marker may count it as (a log level, a record's status...)


class Marks:
    """The markers of one piece: the handle is made (the original stashed) on the first elision only."""

    def __init__(self, handle: Callable[[], str], total_lines: int, line_offset: int = 0) -> None:
        self._handle = handle
        self.total = total_lines
        self.offset = line_offset
        self.made = 0

    def say(self, what: str, first: int | None = None, last: int | None = None) -> str:
        """A marker for `what` (e.g. "12 records"), spanning piece lines first..last (0-based)."""
        where = ""
        if first is not None and last is not None:
            where = f" ({self._span('line', first, last)})"
        return self._marker(f"{what}{where}")

    def say_lines(self, noun: str, first: int, last: int, detail: str = "") -> str:
        """A marker for a run of lines that are its own count (`log lines 40-51`, `body, lines 7-9`): the span
        says how many, so no count is said twice. `noun` ends in "line"; `detail` follows the span."""
        return self._marker(f"{self._span(noun, first, last)}{detail}")

    def _span(self, noun: str, first: int, last: int) -> str:
        a, b = first + 1 + self.offset, last + 1 + self.offset
        span = f"{noun} {a}" if a == b else f"{noun}s {a}-{b}"
        return span + (f" of {self.total:,}" if self.made == 0 else "")

    def _marker(self, what: str) -> str:
        self.made += 1
        if self.made == 1:  # the handle, said once per piece; the retrieve tool's description says the rest
            return f"{MARKER} {what} elided; anyray_retrieve handle {self._handle()}]"
        return f"{MARKER} {what} elided]"


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n != 1 else f"1 {noun.removesuffix('s')}"


def summary(labels: Sequence[str], top: int = 3) -> str:
    """`(status: succeeded 13, pending 2)`: the labels of a run counted, their common `key: ` said once."""
    counted = Counter(label for label in labels if label)
    if not counted:
        return ""
    if len(labels) == 1:  # one unit: its label, not a count of one
        return f" ({labels[0]})"
    keys = {label.split(": ", 1)[0] for label in counted if ": " in label}
    key = keys.pop() if len(keys) == 1 and all(": " in label for label in counted) else None
    parts = [f"{label.split(': ', 1)[1] if key else label} {n:,}" for label, n in counted.most_common(top)]
    if len(counted) > top:
        parts.append("...")
    return f" ({key + ': ' if key else ''}{', '.join(parts)})"


def render(lines: Sequence[str], units: Sequence[Unit], marks: Marks, noun: str,
           indent: Callable[[Unit], str] | None = None, cite: bool = True) -> list[str]:
    """The lines with every maximal run of elided units replaced by one marker line. Lines outside every
    unit (headers, fences, separators) are kept. `cite`: the markers give line numbers (not when `lines`
    are not the original's own, e.g. a one-line JSON laid out for reading)."""
    out: list[str] = []
    cursor = 0
    i = 0
    while i < len(units):
        unit = units[i]
        if unit.keep:
            i += 1
            continue
        j = i
        while j + 1 < len(units) and not units[j + 1].keep and units[j + 1].first == units[j].last + 1:
            j += 1
        run = units[i: j + 1]
        out.extend(lines[cursor: unit.first])
        cursor = run[-1].last + 1
        i = j + 1
        size = sum(len(x) + 1 for x in lines[unit.first: cursor])
        if size < 120 and marks.made:  # a marker would cost about what it saves: keep the lines
            out.extend(lines[unit.first: cursor])
            continue
        detail = summary([u.label for u in run])
        prefix = indent(unit) if indent is not None else ""
        if cite and noun.endswith("lines") and len(run) == cursor - unit.first:  # one unit a line: the span counts
            out.append(prefix + marks.say_lines(noun[:-1], unit.first, run[-1].last, detail))
        else:
            what = count(len(run), noun) + detail
            out.append(prefix + (marks.say(what, unit.first, run[-1].last) if cite else marks.say(what)))
    out.extend(lines[cursor:])
    return out


def paragraph_blocks(lines: Sequence[str]) -> list[tuple[int, int]]:
    """Blank-line-separated blocks as units: each runs to the next one's first line, blank lines and all, so
    that elided neighbours make one marker."""
    starts = [i for i, x in enumerate(lines) if x.strip() and (i == 0 or not lines[i - 1].strip())]
    return [(a, b - 1) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def widen(keep: list[bool], before: int, after: int) -> list[bool]:
    """Also keep `before` units above and `after` below every kept unit."""
    out = list(keep)
    for i, k in enumerate(keep):
        if k:
            for j in range(max(0, i - before), min(len(keep), i + after + 1)):
                out[j] = True
    return out
