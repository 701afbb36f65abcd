"""Shared by the content strategies: which lines must stay, and how elided spans are marked.

Facts survive: a line is never altered, only kept or elided, and an elided span becomes one marker line
that names the handle under which the whole original is stashed (POST /v1/retrieve returns it byte for
byte). Which lines must stay is decided from the output itself (errors, failures, anomalies) and from the
question that was live when the tool ran (rare terms of the question or of the call's arguments). Nothing
here reads later turns, so the same output renders to the same bytes on every turn.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence

from anyray.server.optimizer.content.salience import ERRORS, STOPWORDS
from anyray.server.optimizer.content.units import MARKER, Marks, Unit
from anyray.server.optimizer.content.units import render as units_render


def is_errorish(text: str) -> bool:
    lowered = text.lower()
    return any(pattern.search(lowered) is not None for pattern in ERRORS)


def lines_with(text: str, words: Sequence[str], patterns: Sequence[re.Pattern[str]] = ()) -> set[int]:
    """Indexes of the lines of `text` (split at newlines) that contain any of `words` (lower-case) or match
    one of `patterns` (run on the lower-cased text). One C-speed scan per word over the whole text, not one per line."""
    lowered = text.lower()  # may change the length of some non-ASCII text: every offset is into this copy
    positions: list[int] = []
    for word in words:
        i = lowered.find(word)
        while i >= 0:
            positions.append(i)
            i = lowered.find(word, i + len(word))
    for pattern in patterns:
        positions += [m.start() for m in pattern.finditer(lowered)]
    if not positions:
        return set()
    starts = list(itertools.accumulate((len(line) + 1 for line in lowered.split("\n")), initial=0))
    return {bisect.bisect_right(starts, i) - 1 for i in positions}


_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/@-]*[A-Za-z0-9_]|[A-Za-z0-9_]")
_SPLIT = re.compile(r"[._:/@-]+")


def terms(text: str) -> list[str]:
    """Lower-cased search terms: identifiers whole and split at punctuation, stop words and 1-2 chars out."""
    out: list[str] = []
    seen: set[str] = set()
    for word in _WORD.findall(text.lower()):
        for term in (word, *_SPLIT.split(word)):
            if len(term) >= 3 and term not in STOPWORDS and term not in seen:
                seen.add(term)
                out.append(term)
    return out


def rare_terms(query: str, text: str, line_count: int) -> list[str]:
    """Terms of the query that single out a few lines of `text`: present, but not on most lines."""
    lowered = text.lower()
    limit = max(3, line_count // 20)
    return [t for t in terms(query) if 0 < lowered.count(t) <= limit]


def anchor_pattern(query: str, text: str, line_count: int) -> re.Pattern[str] | None:
    found = rare_terms(query, text, line_count)
    if not found:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(found, key=len, reverse=True)), re.IGNORECASE)


def salient(lines: Sequence[str], query: str = "") -> list[bool]:
    """Lines that must stay: errors and failures, earlier elision markers, and lines the question singles out."""
    text = "\n".join(lines)
    words = [MARKER.lower()]
    if query:
        words += rare_terms(query, text, len(lines))
    hits = lines_with(text, words, ERRORS)
    return [i in hits for i in range(len(lines))]


def widen(keep: list[bool], before: int, after: int, lines: Sequence[str] | None = None) -> list[bool]:
    """Also keep `before` lines above and `after` lines below every kept line (context for the model).
    Given the lines, blank lines do not count: a heading keeps the paragraph under it, not the gap."""
    out = list(keep)
    n = len(keep)
    for i, k in enumerate(keep):
        if not k:
            continue
        for step, wanted in ((-1, before), (1, after)):
            j, found = i + step, 0
            while 0 <= j < n and found < wanted:
                out[j] = True
                if lines is None or lines[j].strip():
                    found += 1
                j += step
    return out


def render(lines: Sequence[str], keep: Sequence[bool], handle: str, unit: str = "lines",
           said: bool = False, cite: bool = True) -> str:
    """Kept lines verbatim; each elided run becomes one marker with its line range; the first names the
    handle (unless the text already `said` it, in a header of its own)."""
    marks = Marks(lambda: handle, len(lines))
    marks.made = int(said)
    units = [Unit(i, i, k) for i, k in enumerate(keep)]
    return "\n".join(units_render(lines, units, marks, unit, cite=cite))


def bm25(lines: Sequence[str], query_terms: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 of every line against the query (each line a document). Deterministic, no dependencies.

    Only lines that contain a query term as a substring are tokenised (the others score 0), terms found on
    more than half the lines are ignored, and a line's length is its count of whitespace-separated words:
    that keeps a 3,000-line log within a few milliseconds."""
    n = len(lines)
    text = "\n".join(lines)
    lowered = text.lower()
    # A term on most lines barely moves the ranking (idf <= log 2, against ~log n for a rare one) but would
    # make every line a candidate: leave it out.
    wanted = {t for t in query_terms if 0 < lowered.count(t) <= n // 2}
    if n == 0 or not wanted:
        return [0.0] * n
    candidates = sorted(lines_with(text, sorted(wanted)))
    if not candidates:
        return [0.0] * n
    lengths = [line.count(" ") + 1 for line in lines]
    avg = sum(lengths) / n
    counts: dict[int, Counter[str]] = {}
    df: Counter[str] = Counter()
    for i in candidates:
        tf = Counter(t for w in _WORD.findall(lines[i].lower()) for t in (w, *_SPLIT.split(w)) if t in wanted)
        counts[i] = tf
        df.update(tf.keys())
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in df}
    scores = [0.0] * n
    for i, tf in counts.items():
        norm = k1 * (1 - b + b * lengths[i] / avg)
        scores[i] = sum(idf[t] * f * (k1 + 1) / (f + norm) for t, f in tf.items())
    return scores
