"""Shared by the content strategies: which lines must stay, and how elided spans are marked.

Facts survive: a line is never altered, only kept or elided, and an elided span becomes one marker line
that names the handle under which the whole original is stashed (POST /v1/retrieve returns it byte for
byte). Which lines must stay is decided from the output itself (errors, failures, anomalies) and from the
question that was live when the tool ran (rare terms of the question or of the call's arguments). Nothing
here reads later turns, so the same output renders to the same bytes on every turn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from anyray.server.optimizer.strategies.tool_output import MARKER

# Lines an agent almost always needs: what went wrong. Deliberately broad; keeping too much costs tokens,
# dropping one costs the answer.
ERRORISH = re.compile(
    r"error|fail|fatal|exception|traceback|panic|critical|denied|refused|timed? ?out|warn|\boom|killed|crash|"
    r"backoff|unhealthy|invalid|not found|abort|assert|unable|cannot|can't|could not|missing|conflict|"
    r"rejected|evicted|deadlock|segfault|(?:status|code|HTTP/\d(?:\.\d)?\"?)\W{0,3}[45]\d\d\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/@-]*[A-Za-z0-9_]|[A-Za-z0-9_]")
_SPLIT = re.compile(r"[._:/@-]+")
_STOP = (
    "the a an and or but if then else of to in on at by for with from into onto over under about as is are was "
    "were be been being do does did done have has had this that these those it its it's i me my we our you your "
    "they them their he she his her what which who whom whose why how when where there here all any some each "
    "most more less least much many few not no nor only own same so than too very can could should would will "
    "shall may might must just also please tell show find give get make let use used using see look file files "
    "line lines output tool run ran running command result results check read latest last first next one two "
    "again still now why's what's whats need needs want know thing things"
)
STOPWORDS = frozenset(_STOP.split())


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


def salient(lines: Sequence[str], query: str = "", text: str | None = None) -> list[bool]:
    """Lines that must stay: errors and failures, earlier elision markers, and lines the question singles out."""
    anchors = anchor_pattern(query, text if text is not None else "\n".join(lines), len(lines)) if query else None
    return [
        MARKER in line or ERRORISH.search(line) is not None
        or (anchors is not None and anchors.search(line) is not None)
        for line in lines
    ]


def widen(keep: list[bool], before: int, after: int) -> list[bool]:
    """Also keep `before` lines above and `after` lines below every kept line (context for the model)."""
    out = list(keep)
    n = len(keep)
    for i, k in enumerate(keep):
        if k:
            for j in range(max(0, i - before), min(n, i + after + 1)):
                out[j] = True
    return out


def marker(what: str, handle: str) -> str:
    return f"{MARKER} {what} elided; the original is at /v1/retrieve handle {handle}]"


def render(lines: Sequence[str], keep: Sequence[bool], handle: str, unit: str = "lines") -> str:
    """Kept lines verbatim; each elided run becomes one marker naming its line range and the handle."""
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        if keep[i]:
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < n and not keep[j]:
            j += 1
        span = f"{unit} {i + 1}-{j}" if j - i > 1 else f"{unit[:-1] if unit.endswith('s') else unit} {i + 1}"
        out.append(marker(f"{j - i} {unit} ({span})", handle))
        i = j
    return "\n".join(out)


def bm25(lines: Sequence[str], query_terms: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 of every line against the query (each line a document). Deterministic, no dependencies."""
    docs = [[t for w in _WORD.findall(line.lower()) for t in (w, *_SPLIT.split(w)) if len(t) >= 3] for line in lines]
    n = len(docs)
    if n == 0 or not query_terms:
        return [0.0] * n
    wanted = set(query_terms)
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(wanted.intersection(doc))
    avg = sum(len(d) for d in docs) / n or 1.0
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in wanted if df[t]}
    scores = []
    for doc in docs:
        if not doc:
            scores.append(0.0)
            continue
        tf = Counter(t for t in doc if t in idf)
        norm = k1 * (1 - b + b * len(doc) / avg)
        scores.append(sum(idf[t] * f * (k1 + 1) / (f + norm) for t, f in tf.items()))
    return scores
