"""A text cut into segments of one kind each: a log, a JSON document, CSV rows, a table, a diff, a stack
trace, source code, or prose. Detected by shape, line by line, never by where the text came from.

Fence lines (```) and lines that are only an XML-ish tag (`<document index="2">`, `</context>`) frame
segments and are always kept. Between them, blank lines separate blocks; each block is classified by
the share of its lines that look like each kind, and neighbouring blocks of the same kind are one
segment (a source file's functions are separated by blank lines, a markdown document's paragraphs too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

_FENCE = re.compile(r"^\s*(```|~~~)")
_TAG = re.compile(r"^\s*</?[A-Za-z_][\w:.-]*(\s[^<>]*)?/?>\s*$")
_TIME = (r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}|[A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2}"
         r"|\d{1,2}:\d{2}:\d{2}[.,]\d+|\d{10}(?:\.\d+)?\s")
_LOG = re.compile(
    rf"^\s*(?:\[?(?:{_TIME})|\d{{1,3}}(?:\.\d{{1,3}}){{3}} \S+ \S+ \[|\{{\s*\"(?:time|ts|timestamp|@timestamp|level|"
    r"severity|msg|message)\"|(?:level|lvl|severity)=|\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|"
    r"CRITICAL|PANIC)\]?[\s:\]]|[IWEF]\d{4} \d{2}:"
    r"|\w+=(?:\"[^\"]*\"|\S+)\s+\w+=|#\d+ (?:\d+\.\d+ |\[|DONE|CACHED|ERROR)|commit [0-9a-f]{7,40}\b)"
)
_DIFF = re.compile(r"^(?:diff --git |--- |\+\+\+ |@@ |[+\- ]|index [0-9a-f]+\.\.)")
_DIFF_HEAD = re.compile(r"^(?:diff --git |@@ -\d)")
_TRACE = re.compile(r"^\s*(?:Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|at [\w$.<>/]+\(|"
                    r"at .+ \(.+:\d+:\d+\)|goroutine \d+ \[|\S+\.go:\d+ \+0x|Caused by: |\.\.\. \d+ more)")
_CODE = re.compile(
    r"^\s*(?:(?:export |async |public |private |protected |static |final |abstract |pub(?:\(crate\))? |override )*"
    r"(?:def |class |function\b|func |fn |interface |type |struct |enum |impl |trait |import |from \S+ import |"
    r"package |using |namespace |const |let |var |return\b|if\s*\(|if .*:$|elif |else\b|for\s*\(|for .*:$|"
    r"while\b|switch\b|case .*:|try\b|catch\b|except\b|finally\b|throw |raise |await |yield |#include|@\w+|"
    r"describe\(|it\(|test\(|expect\(|assert\b|CREATE |ALTER |INSERT |SELECT |DROP |})"
    r"|.*(?:[;{]|\)\s*:|=>\s*\{?|\):)\s*(?://.*|#.*)?$"
    r"|\s*[\w.\[\]\"']+\s*(?:[-+*/%|&^]|//|\*\*)?=\s*[^=\s]"  # an assignment
    r"|\s*[\w.]+\(.*\)[,;]?\s*$"  # a call as a statement
    r"|\s*(?:\"\"\"|'''|/\*\*?|\*/)|\s+\* "  # docstrings and block comments (not markdown bullets)
    r"|\s{2,}[a-z_]\w*\s*:\s*[\w\[\].|]+(?:\s*=.*)?$"  # an indented annotated field (`id: str`)
    r"|.*[(\[{]\s*$|\s*[)\]}]+[,;)]*\s*$"  # a bracket left open, or closed on a line of its own
    r")"
)
_KEY_VALUE = re.compile(r"^\s*[A-Za-z][\w .()/-]{0,40}:(?:\s|$)")
_COMMIT = re.compile(r"^commit [0-9a-f]{7,40}\b")
_TABLE_PIPE = re.compile(r"^\s*\|.*\|\s*$|^[^|]+( \| [^|]*){1,}$")
_ALIGNED = re.compile(r"\S {2,}\S.* {2,}\S|\S\t\S.*\t\S")
_KINDS = ("trace", "diff", "log", "csv", "table", "code")


@dataclass(slots=True)
class Segment:
    first: int  # line indexes in the text, inclusive
    last: int
    kind: str  # one of _KINDS, "json", "jsonl", "fields", "prose", "blocks" (a list of look-alike blocks: records),
    # or "frame" (fences and tag lines: kept)


def _looks(lines: list[str], kind: str) -> float:
    n = len(lines)
    if kind == "log":
        return sum(1 for x in lines if _LOG.match(x)) / n
    if kind == "diff":
        if not any(_DIFF_HEAD.match(x) for x in lines):
            return 0.0
        return sum(1 for x in lines if _DIFF.match(x)) / n
    if kind == "trace":
        return sum(1 for x in lines if _TRACE.match(x)) / n * 1.5
    if kind == "code":
        return sum(1 for x in lines if _CODE.match(x)) / n
    if kind == "table":
        pipes = sum(1 for x in lines if _TABLE_PIPE.match(x)) / n
        aligned = sum(1 for x in lines if _ALIGNED.search(x)) / n
        return max(pipes, aligned) if n >= 3 else 0.0
    if kind == "csv":
        if n < 3:
            return 0.0
        for sep in (",", "\t", ";"):
            counts = [x.count(sep) for x in lines]
            common = max(set(counts), key=counts.count)
            if common >= 2:
                share = counts.count(common) / n
                if share >= 0.8:
                    return share
        return 0.0
    return 0.0


_NUMBERED = re.compile(r"^\s*\d+(?:→|\t)")


_SAMPLE = 160


def classify(lines: list[str]) -> str:
    """The kind of one block (non-blank lines): the best-matching kind if at least half its lines look so.
    A long block's line shapes are judged on its first lines and an even sample of the rest (the same lines
    every time); whether it is JSON, on all of it."""
    if sum(1 for x in lines[:20] if _NUMBERED.match(x)) >= min(len(lines), 20) * 0.6:
        lines = [_NUMBERED.sub("", x, count=1) for x in lines]  # a numbered read: judge the file, not its numbers
    text = "\n".join(lines).strip()
    if text[:1] in "{[" and text[-1:] in "}]":
        try:
            orjson.loads(text)
            return "json"
        except orjson.JSONDecodeError:
            pass
    if len(lines) > _SAMPLE:
        step = (len(lines) - _SAMPLE // 2) / (_SAMPLE // 2)
        lines = lines[: _SAMPLE // 2] + [lines[_SAMPLE // 2 + int(i * step)] for i in range(_SAMPLE // 2)]
    objects = [x for x in lines if x.lstrip()[:1] == "{" and x.rstrip()[-1:] == "}"]
    if len(lines) >= 2 and len(objects) >= 0.8 * len(lines) and sum(map(_is_object, objects)) >= 0.8 * len(lines):
        return "jsonl"
    if sum(1 for x in lines if _COMMIT.match(x)) >= 3:
        return "log"  # git log: an entry from each `commit` line to the next
    best, score = "prose", 0.5
    for kind in _KINDS:  # a line can look like several kinds: the earlier kinds win a tie
        s = _looks(lines, kind)
        if s > score:
            best, score = kind, s
            if s >= 0.9:  # clear enough: the later (costlier) kinds could only tie or lose
                break
    if best == "prose" and len(lines) >= 8 and sum(1 for x in lines if _KEY_VALUE.match(x)) >= len(lines) * 0.5:
        return "fields"  # a status dump (kubectl describe, YAML, key: value output): looked at line by line
    return best


def _is_object(line: str) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def split(lines: list[str]) -> list[Segment]:
    """The segments of a text's lines, in order, covering every line."""
    commits = [i for i, x in enumerate(lines) if _COMMIT.match(x)]
    if len(commits) >= 3:  # git log: entries from one `commit` line to the next, blank lines and all
        head = split(lines[: commits[0]]) if commits[0] else []
        return [*head, Segment(commits[0], len(lines) - 1, "log")]
    blocks: list[Segment] = []
    start: int | None = None
    fenced = False

    def close(end: int) -> None:
        nonlocal start
        if start is not None and end >= start:
            body = [x for x in lines[start: end + 1] if x.strip()]
            if body:
                blocks.append(Segment(start, end, classify(body)))
        start = None

    for i, line in enumerate(lines):
        first = line.lstrip()[:1]  # a cheap look before any pattern: most lines start with neither
        if first in _FENCE_START and _FENCE.match(line):
            close(i - 1)
            blocks.append(Segment(i, i, "frame"))
            fenced = not fenced
            continue
        if first == "<" and not fenced and _TAG.match(line) and len(line) < 200:
            close(i - 1)
            blocks.append(Segment(i, i, "frame"))
            continue
        if not line.strip():
            if not fenced:
                close(i - 1)
            continue
        if start is None:
            start = i
    close(len(lines) - 1)
    return _merged(blocks, lines)


_STICKY = ("code", "diff", "log", "trace")


def _smoothed(blocks: list[Segment], lines: list[str]) -> list[Segment]:
    """A text that is mostly one kind of code-like content is that kind throughout: the short blocks between
    its parts (an attribute line, a one-line statement, a hunk's context) that look like prose on their own
    are relabelled. From its first header on, a diff is all diff."""
    size: dict[str, int] = {}
    for b in blocks:
        size[b.kind] = size.get(b.kind, 0) + sum(len(x) + 1 for x in lines[b.first: b.last + 1])
    total = sum(v for k, v in size.items() if k != "frame") or 1
    main = max((k for k in size if k in _STICKY), key=lambda k: size[k], default=None)
    if main is None or size[main] < total * 0.5:
        return blocks
    out = []
    seen_diff = False
    for i, b in enumerate(blocks):
        seen_diff |= b.kind == "diff"
        short = b.last - b.first < 12
        inner = 0 < i < len(blocks) - 1
        relabel = (main == "diff" and seen_diff) or (b.kind in ("prose", "table", "csv") and short
                                                     and (inner or main != "code"))
        if b.kind != "frame" and relabel:
            b = Segment(b.first, b.last, main)
        out.append(b)
    return out


_LOOSE = frozenset({"prose", "code", "fields", "table"})
# a block that opens with a declaration (`def`, `func`, `public`, a decorator): source, whose skeleton keeps names
_DECLARATION = re.compile(r"^\s*(?:@\w|(?:export |async |public |private |protected |static |pub |override )*"
                          r"(?:def|class|func|function|fn|interface|struct|enum|impl|trait|type|const|let|var)\b)")
_SHAPE = re.compile(r"^(\s*)(\S{0,12})")
_DIGITS = re.compile(r"\d")


def opening(line: str) -> str:
    """How a block (or a text) opens: its indent and first word, digits blanked (`  #`, `Name:`, `[9]`, `Ticket`)."""
    m = _SHAPE.match(line)
    return m.group(1) + _DIGITS.sub("9", m.group(2)) if m else ""


def _repeated(blocks: list[Segment], lines: list[str]) -> list[Segment]:
    """A run of at least four blocks that open alike but read as different kinds, some as code or a table (a
    plan's resources, one read as prose and the next as braces), is one list of records: each block is a
    unit, kept or elided whole. Left to their kinds, each block would be a segment too small to thin, and
    the code among them has no function bodies to elide. (Prose and fields alone are thinned line by
    line already.)"""
    out = list(blocks)
    i = 0
    while i < len(out):
        j = i
        if out[i].kind in _LOOSE and not _DECLARATION.match(lines[out[i].first]):  # functions are code's
            shape = opening(lines[out[i].first])
            while j + 1 < len(out) and out[j + 1].kind in _LOOSE and opening(lines[out[j + 1].first]) == shape:
                j += 1
        kinds = {b.kind for b in out[i: j + 1]}
        if j - i >= 3 and len(kinds) > 1 and kinds & {"code", "table"}:
            out[i: j + 1] = [Segment(b.first, b.last, "blocks") for b in out[i: j + 1]]
        i = j + 1
    return out


def _merged(blocks: list[Segment], lines: list[str]) -> list[Segment]:
    """Neighbouring blocks of one kind (but JSON documents, which stand alone) become one segment."""
    blocks = _smoothed(_repeated(blocks, lines), lines)
    out: list[Segment] = []
    for block in blocks:
        if out and out[-1].kind == block.kind and block.kind not in ("frame", "json"):
            out[-1] = Segment(out[-1].first, block.last, block.kind)
        else:
            out.append(block)
    return out


_FENCE_START = ("`", "~")
_BANNER_START = frozenset("FfPp#`/-;")
_CHUNK_WORD_START = frozenset("DdCcRrSsPpEeNnFf")  # Document 3, Chunk 2, Result, Source, Passage, Excerpt...
_ATX = re.compile(r"^(#{1,6})\s+\S")  # at the margin: an indented `# ...` is a comment (a plan, code)
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_CHUNK = re.compile(
    r"^\s*(?:<(?:document|doc|chunk|result|search_result|source|article|page|note|file|entry)\b[^>]*>"
    r"|\[(?:doc|document|chunk|result|source|passage|page|ref)?\s*#?\d+\]"
    r"|(?:Document|Doc|Chunk|Result|Source|Passage|Excerpt|Note|Entry|File)\s*#?\d+\b"
    r"|(?:={2,}|-{2,}|#{2,}|\*{2,}|/{2,}\s*-{2,}|==>)\s*\S.*?\S\s*(?:={2,}|-{2,}|#{2,}|\*{2,}|<==)\s*$)", re.I)
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$")
# a file's banner in a dump of many files, as the usual tools write it: `FILE: path` (gitingest),
# `File: path` and `## File: path` (repomix), a heading or a backquoted line that is only a path
# (code2prompt, hand-made markdown), a comment rule naming a path (`// ---- src/a.ts`); and, checked
# apart, a bare path over a `---` line (files-to-prompt)
_PATH = r"`?[\w.@~-]*(?:/[\w.@~-]+)*\.\w{1,8}`?"
_BANNER = re.compile(rf"^(?:#{{1,6}}\s+)?(?:FILE|File|Path|PATH)\s*:\s*{_PATH}\s*$"
                     rf"|^#{{1,6}}\s+{_PATH}\s*$|^`[^`\s]+\.\w{{1,8}}`:?\s*$"
                     rf"|^(?://|#|--|;)\s*[-=*#]{{3,}}\s*{_PATH}\s*(?:[-=*#]{{3,}})?\s*$")
_BARE_PATH = re.compile(r"^[\w.@~-]+(?:/[\w.@~-]+)+\.\w{1,8}$")


def _banner(lines: list[str], i: int) -> bool:
    line = lines[i]
    return bool(_BANNER.match(line)) or (i + 1 < len(lines) and lines[i + 1] == "---" and bool(_BARE_PATH.match(line)))


class Sections(list[tuple[int, int]]):
    """A document's sections as (first, last) line spans; `preamble`: the first is the text before any heading."""

    preamble: bool = False


def sections(lines: list[str], markdown: bool = True) -> Sections | None:
    """A document's sections, when it has at least three: spans that each start at a heading of the document's
    main level (markdown `#`s or underlines, a chunk's opening tag or `[3]`/`Document 3` line, a file's banner,
    or a rule). The lines before the first heading are a section of their own (the preamble)."""
    starts: dict[int, list[int]] = {}
    banners: list[int] = []
    fenced = False
    for i, line in enumerate(lines):
        first = line.lstrip()[:1]
        if first in _FENCE_START and _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or not first:
            continue
        if (first in _BANNER_START or lines[i + 1: i + 2] == ["---"]) and _banner(lines, i):
            banners.append(i)
            continue
        if first.isalnum() and first not in _CHUNK_WORD_START:
            continue  # a heading, a chunk header, a rule or an underline starts with none of these
        if not markdown:  # code and data: only file banners and chunk tags make sections
            if _CHUNK.match(line):
                starts.setdefault(0, []).append(i)
            continue
        if m := _ATX.match(line):
            starts.setdefault(len(m.group(1)), []).append(i)
        elif _CHUNK.match(line) or (_RULE.match(line) and i > 0 and not lines[i - 1].strip()):
            starts.setdefault(0, []).append(i)
        elif i > 0 and _SETEXT.match(line) and lines[i - 1].strip() and not _RULE.match(lines[i - 1]):
            starts.setdefault(1 if line.strip()[0] == "=" else 2, []).append(i - 1)
    if banners:  # the rules drawn around a banner (gitingest, repomix) are part of it, not sections of their own
        beside = {j for b in banners for j in (b - 1, b + 1) if 0 <= j < len(lines) and _RULE.match(lines[j])}
        starts = {lv: [i for i in found if i not in beside and i not in banners] for lv, found in starts.items()}
        starts.setdefault(0, []).extend(b - 1 if b - 1 in beside else b for b in banners)
    level = next((lv for lv in sorted(starts) if len(starts[lv]) >= (3 if markdown else 5)), None)
    if level is None:
        return None
    heads = sorted({i for lv, found in starts.items() if lv <= level for i in found})
    spans = Sections((a, b - 1) for a, b in zip(heads, [*heads[1:], len(lines)], strict=True))
    # the preamble: what comes before the first heading, or a title above the main level (`# Runbook` over `##`s)
    spans.preamble = heads[0] > 0 or heads[0] not in starts[level]
    if heads[0] > 0:
        spans.insert(0, (0, heads[0] - 1))
    return spans
