"""What in a text must stay: the units the question points at, and the units that report trouble.

The question points at a unit when the unit holds one of the question's identifiers (anything with a
digit, `_`, `/`, `.`, `-` or `:` in it: an id, a path, a route, a version, a key), or one of its words
that singles out a few units of this text: the word itself, its stem (`failed` finds `failure`), or a
word of the same family in the short list below (`crash` finds `SIGSEGV`). Trouble is an error, a
failure or a warning in any of the usual spellings. Both are decided from the text and the question
alone, case-insensitively, so a unit's fate is the same on every turn.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Sequence

# Lines an agent almost always needs: what went wrong. Deliberately broad; keeping too much costs tokens,
# dropping one costs the answer. One case-sensitive pass over the lower-cased text (~3 ms for 300 KB);
# the same alternation with IGNORECASE run line by line costs ~100 ms.
ERROR_WORDS = (
    "error", "fail", "fatal", "exception", "traceback", "panic", "critical", "denied", "refused", "timeout",
    "timed out", "warn", "oom", "killed", "crash", "backoff", "unhealthy", "invalid", "not found", "abort",
    "assert", "unable", "cannot", "can't", "could not", "missing", "conflict", "rejected", "evicted", "deadlock",
    "segfault", "firing", "destroy", "must be replaced", "forces replacement", "sigsegv", "sigkill",
    "oomkilled", "exit code", "exit status", "non-zero", "crashloop", "unavailable",
)
_STATUS = r'(?:status|code|http/\d(?:\.\d)?")\W{0,3}[45]\d\d\b'
# Run on lower-cased text. Two patterns, not one: sre scans a pure-literal alternation fast, and the mixed
# one four times slower.
ERRORS = (re.compile("|".join(re.escape(w) for w in ERROR_WORDS)), re.compile(_STATUS))


_STOP = (
    "the a an and or but if then else of to in on at by for with from into onto over under about as is are was "
    "were be been being do does did done have has had this that these those it its it's i me my we our you your "
    "they them their he she his her what which who whom whose why how when where there here all any some each "
    "most more less least much many few not no nor only own same so than too very can could should would will "
    "shall may might must just also please tell show find give get make let use used using see look file files "
    "line lines output tool run ran running command result results check read latest last first next one two "
    "again still now why's what's whats need needs want know thing things log logs here's pasting pasted paste "
    "dump dumped attached below above context ok okay thanks sure also"
)
STOPWORDS = frozenset(_STOP.split())

# Families of words people use for the same trouble or the same thing. Deliberately short and general:
# each entry is a word of the question (or its stem) -> words a text may use instead.
_FAMILIES = (
    ("crash", "panic", "segfault", "sigsegv", "sigabrt", "sigkill", "core dump", "fatal", "oomkill", "exit code"),
    ("fail", "error", "exception", "refused", "denied", "rejected", "abort", "timed out", "timeout"),
    ("slow", "latency", "timeout", "timed out", "p99", "p95", "duration"),
    ("memory", "oom", "heap", "rss", "out of memory"),
    ("disk", "no space", "enospc", "inode", "volume"),
    ("restart", "backoff", "crashloop", "evicted", "oomkill"),
    ("permission", "denied", "forbidden", "unauthorized", "403", "401"),
    ("rollback", "rolled back", "revert"),
    ("deploy", "rollout", "release"),
    ("password", "credential", "login", "reset", "recover"),
    ("delete", "remove", "drop", "destroy"),
    ("limit", "quota", "maximum", "max_", "threshold", "throttl"),
    ("retry", "retries", "attempt", "backoff"),
    ("price", "cost", "amount", "fee", "charge"),
    ("decid", "decision", "agreed", "conclusion", "resolved", "outcome"),
    ("owner", "assignee", "responsible", "on-call", "oncall"),
    ("expir", "expiry", "ttl", "valid until"),
    ("broke", "regress", "error", "fail"),
    ("wrong", "mismatch", "incorrect", "invalid", "unexpected"),
    ("recreat", "replac", "destroy", "must be replaced", "forces replacement"),
    ("uptime", "availability", "sla", "slo", "99.9"),
    ("full", "100%", "no space", "enospc", "exhausted"),
)
FAMILIES: dict[str, tuple[str, ...]] = {}
for _family in _FAMILIES:
    for _word in _family:
        FAMILIES[_word] = tuple(sorted({*FAMILIES.get(_word, ()), *(w for w in _family if w != _word)}))

_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/@#-]*[A-Za-z0-9_]|[A-Za-z0-9_]")
_SPLIT = re.compile(r"[._:/@#-]+")
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}\b")
_IDENTIFIER = re.compile(r"[0-9_/.:#-]")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "edly", "ers", "ies", "ied", "ed", "es", "er",
             "ure", "ly", "s")


def stem(word: str) -> str:
    """A crude stem that is a prefix of the word's other forms: `failed`, `failure`, `failing` -> `fail`."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word[:-1] if word.endswith("y") and len(word) >= 5 else word


def names(query: str) -> set[str]:
    """A capitalised word inside a sentence is a name (a person, a customer, a city): as good as an id."""
    return {w.lower() for w in _NAME.findall(query) if w.lower() not in STOPWORDS}


@functools.lru_cache(maxsize=4096)
def query_terms(query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(identifiers, words) of a question, lower-cased: identifiers whole (and their parts), words stemmed."""
    identifiers: list[str] = sorted(names(query))
    words: list[str] = []
    for token in _WORD.findall(query.lower()):
        if _IDENTIFIER.search(token) and len(token) >= 4 and not token.replace(".", "").isdigit():
            identifiers.append(token.strip(".:-"))
            parts = [p for p in _SPLIT.split(token) if len(p) >= 3 and p not in STOPWORDS]
            words += parts
        elif len(token) >= 3 and token not in STOPWORDS:
            words.append(token)
    seen: set[str] = set()
    stems = []
    for word in words:
        for form in (word, stem(word)):
            if form not in seen and len(form) >= 3:
                seen.add(form)
                stems.append(form)
    return tuple(dict.fromkeys(identifiers)), tuple(stems)


# Entries (log lines, records) are many and short: a question word on more than 3 % of them is what the
# whole text is about (the service every line names), not a pointer. Paragraphs and bodies are fewer and
# longer, and keep the wider share. Measured on all three workload sets: no key fact lost, 1-2 points saved.
ENTRY_SHARE = 0.03


@functools.lru_cache(maxsize=8192)
def kin(word: str) -> tuple[str, ...]:
    """The words of every family `word` belongs to (by a prefix either way): a walk of FAMILIES per word, once."""
    out: list[str] = []
    for key, family in FAMILIES.items():
        if word.startswith(key) or (len(word) >= 4 and key.startswith(word)):
            out += family
    return tuple(out)


def anchor_words(query: str, lowered: str, units: int, rare_share: float = 0.1) -> list[str]:
    """The question's terms that single out units of this (lower-cased) text: identifiers when they occur in
    at most half the units, words (and their families) in at most `rare_share` of them (at least 3)."""
    identifiers, words = query_terms(query)
    limit = max(3, int(units * rare_share))
    # an identifier on most units (the one host every line comes from) singles nothing out
    found = [t for t in identifiers if 0 < lowered.count(t) <= max(3, units // 2)]
    candidates: list[str] = []
    for word in words:
        candidates.append(word)
        candidates += kin(word)
    for term in dict.fromkeys(candidates):
        if term not in found and 0 < lowered.count(term) <= limit:
            found.append(term)
    return found


def anchors(query: str, lowered: str, units: int, rare_share: float = 0.1) -> re.Pattern[str] | None:
    """One pattern for `anchor_words`, longest first, run on lower-cased text."""
    words = anchor_words(query, lowered, units, rare_share)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def hits(lowered_units: Sequence[str], pattern: re.Pattern[str] | None) -> list[bool]:
    """Which units hold a match of `pattern`: one scan over all of them."""
    out = [False] * len(lowered_units)
    if pattern is None:
        return out
    joined = "\x00".join(lowered_units)
    starts = list(itertools.accumulate((len(u) + 1 for u in lowered_units), initial=0))
    for m in pattern.finditer(joined):
        out[bisect.bisect_right(starts, m.start()) - 1] = True
    return out


def errorish(lowered: str) -> bool:
    return any(p.search(lowered) is not None for p in ERRORS)


def troubled(lowered_units: Sequence[str]) -> list[bool]:
    """Which units report trouble: each pattern runs once over all of them (not once per unit)."""
    joined = "\x00".join(lowered_units)
    starts = list(itertools.accumulate((len(u) + 1 for u in lowered_units), initial=0))
    out = [False] * len(lowered_units)
    for pattern in ERRORS:
        for m in pattern.finditer(joined):
            out[bisect.bisect_right(starts, m.start()) - 1] = True
    return out
