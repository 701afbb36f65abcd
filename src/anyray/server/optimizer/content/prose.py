"""Prose, documents and whatever has no stronger shape: paragraphs or lines kept by what the question asks.

Prose (markdown, docs, runbooks, RAG chunks, transcripts, notes) is cut into paragraphs at blank lines;
a paragraph of many short lines (a list, a transcript, key: value pairs) into its lines. Headings are
names and always stay. The paragraphs that best match the question (BM25 over the question's words,
their stems and families) stay, with any that hold one of its identifiers; so do the first paragraph
(what the text is) and anything reporting trouble in an otherwise quiet text. Diffs keep every file and
hunk header and every changed line; only long runs of unchanged context go. Text of no known shape is
treated line by line like a log without levels.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from anyray.server.optimizer.content import salience
from anyray.server.optimizer.content.units import Marks, Unit, count, paragraph_blocks, render, widen

_HEADING = re.compile(r"^\s*(?:#{1,6}\s|=+\s*$|-{3,}\s*$|\*\*[^*]+\*\*:?\s*$|[A-Z][A-Za-z0-9 /&()-]{2,60}:\s*$"
                      r"|(?:Title|Source|Document|Chunk|Section|File|URL|Subject|Date|From|Ticket|Page)\b.{0,120}$)")
_TERM = re.compile(r"[a-z0-9_][a-z0-9_.:/@#-]*[a-z0-9_]|[a-z0-9_]")


def paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """Paragraph spans (non-blank line runs); a run of many short lines is split into its lines."""
    out: list[tuple[int, int]] = []
    start = None
    for i, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            run = lines[start:i]
            if len(run) > 4 and sum(len(x) for x in run) / len(run) < 160:
                out += [(j, j) for j in range(start, i)]
            else:
                out.append((start, i - 1))
            start = None
    return out


def _scores(texts: list[str], query: str) -> list[float]:
    """BM25 of each unit against the question's words (stems and families included)."""
    _, words = salience.query_terms(query)
    wanted = set(words)
    for word in words:
        for key, family in salience.FAMILIES.items():
            if word.startswith(key):
                wanted.update(family)
    n = len(texts)
    if not n or not wanted:
        return [0.0] * n
    lowered = [t.lower() for t in texts]
    df = Counter(w for t in lowered for w in wanted if w in t)
    lengths = [max(1, len(t.split())) for t in texts]
    average = sum(lengths) / n
    scores = []
    for t, length in zip(lowered, lengths, strict=True):
        score = 0.0
        for w in wanted:
            tf = t.count(w)
            if tf and df[w] <= max(2, n * 0.6):
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average))
        scores.append(score)
    return scores


def compress(lines: list[str], offset: int, query: str, marks: Marks, top: int = 6, share: float = 0.3,
             protect: re.Pattern[str] | None = None) -> list[str] | None:
    spans = paragraphs(lines)
    if len(spans) < 3:
        return None
    texts = ["\n".join(lines[a: b + 1]) for a, b in spans]
    lowered = [t.lower() for t in texts]
    keep = [bool(_HEADING.match(lines[a])) and b - a < 2 for a, b in spans]
    # what the question points at (its ids and names, its rare words), then the best of the rest by BM25
    keep = [k or h for k, h in zip(keep, salience.hits(lowered, salience.anchors(query, "\n".join(lowered),
                                                                                   len(texts), 0.05)), strict=True)]
    scores = _scores(texts, query)
    best = max(scores)
    if best > 0:
        ranked = sorted(range(len(spans)), key=lambda i: -scores[i])
        for i in ranked[: max(top, len(spans) // 30)]:
            if scores[i] >= best * share:
                keep[i] = True
    trouble = salience.troubled(lowered)
    if sum(trouble) <= max(2, len(spans) * 0.1):
        keep = [k or t for k, t in zip(keep, trouble, strict=True)]
    if protect is not None:
        keep = [k or protect.search(t) is not None for k, t in zip(keep, texts, strict=True)]
    keep[0] = True
    keep = _with_heading(keep, spans, lines)
    if sum(len(t) for t, k in zip(texts, keep, strict=True) if not k) < 300:
        return None
    units = [Unit(a, b, k) for (a, b), k in zip(spans, keep, strict=True)]
    marks.offset = offset
    return render(lines, units, marks, "paragraphs")


def blocks(lines: list[str], offset: int, query: str, marks: Marks, head: int = 2, tail: int = 1) -> list[str] | None:
    """A list of look-alike blocks (a plan's resources, tickets, search hits): each block is a record, kept
    whole when the question points at it or it reports trouble (unless most do), and at the ends. Of the
    others only the first line stays (it names the block: names are facts), and one marker stands for the
    rest of each run of them."""
    spans = paragraph_blocks(lines)
    if len(spans) < 4:
        return None
    lowered = ["\n".join(lines[a: b + 1]).lower() for a, b in spans]
    keep = salience.hits(lowered, salience.anchors(query, "\n".join(lowered), len(spans), 0.1))
    trouble = salience.troubled(lowered)
    if sum(trouble) <= max(3, len(spans) * 0.3):
        keep = [k or t for k, t in zip(keep, trouble, strict=True)]
    for i in [*range(min(head, len(keep))), *range(max(0, len(keep) - tail), len(keep))]:
        keep[i] = True
    elided = sum(len(t) - len(t.split("\n", 1)[0]) for t, k in zip(lowered, keep, strict=True) if not k)
    if elided < sum(len(t) for t in lowered) * 0.3:
        return None
    marks.offset = offset
    out = lines[: spans[0][0]]
    i = 0
    while i < len(spans):
        j = i
        while not keep[i] and j + 1 < len(spans) and not keep[j + 1]:
            j += 1
        if keep[i]:
            out += lines[spans[i][0]: spans[i][1] + 1]
        else:
            out += [lines[a] for a, _ in spans[i: j + 1]]
            out.append(marks.say(f"the rest of the {count(j - i + 1, 'blocks')} above", spans[i][0], spans[j][1]))
        i = j + 1
    return out


def _with_heading(keep: list[bool], spans: list[tuple[int, int]], lines: list[str]) -> list[bool]:
    """A kept paragraph keeps the heading it sits under."""
    out = list(keep)
    heading = None
    for i, (a, _) in enumerate(spans):
        if _HEADING.match(lines[a]):
            heading = i
        elif keep[i] and heading is not None:
            out[heading] = True
    return out


_FILE_HEADER = re.compile(r"^(?:diff --git |index [0-9a-f]|--- |\+\+\+ |new file mode|deleted file mode|similarity |"
                          r"rename (?:from|to) |\$ )")


def diff(lines: list[str], offset: int, query: str, marks: Marks, context: int = 1) -> list[str] | None:
    """File headers always stay (which files changed is a fact). A hunk stays whole when the question points
    into it (or, with nothing to go by, every hunk stays); elsewhere only long runs of unchanged context go."""
    starts = [i for i, x in enumerate(lines) if x.startswith("@@") or _FILE_HEADER.match(x)]
    hunks: list[tuple[int, int]] = []
    for i, x in enumerate(lines):
        if x.startswith("@@"):
            end = next((j - 1 for j in starts if j > i), len(lines) - 1)
            hunks.append((i, end))
    if not hunks:
        return None
    lowered = "\n".join(lines).lower()
    pattern = salience.anchors(query, lowered, len(hunks), rare_share=0.34)
    units: list[Unit] = []
    if pattern is not None and any(pattern.search("\n".join(lines[a: b + 1]).lower()) for a, b in hunks):
        for a, b in hunks:
            text = "\n".join(lines[a: b + 1]).lower()
            keep = pattern.search(text) is not None or (salience.errorish(text) and "conflict" in text)
            units.append(Unit(a, b, keep))
        units = _quiet_files(lines, units)
        noun = "hunks"
    else:
        changed = [not x.startswith(" ") or bool(_FILE_HEADER.match(x)) or x.startswith("@@") for x in lines]
        keep = widen(changed, context, context)
        units = [Unit(i, i, k) for i, k in enumerate(keep)]
        noun = "unchanged lines"
    units = [u for u in units if u.last >= u.first]
    if sum(u.last - u.first + 1 for u in units if not u.keep) < 8:
        return None
    marks.offset = offset
    return render(lines, units, marks, noun)


_NAMING = ("diff --git ", "new file mode", "deleted file mode", "similarity ", "rename ", "old mode", "new mode")


def _quiet_files(lines: list[str], hunks: list[Unit]) -> list[Unit]:
    """A file none of whose hunks stay keeps only its `diff --git` line (its name) and mode or rename lines:
    its `index`, `---` and `+++` lines go with its hunks, in one marker."""
    out = list(hunks)
    for n, unit in enumerate(hunks):
        if n and hunks[n - 1].last + 1 == unit.first:
            continue  # not a file's first hunk
        i = unit.first
        while i > 0 and lines[i - 1].startswith(("index ", "--- ", "+++ ")):
            i -= 1
        if i == unit.first or i == 0 or not lines[i - 1].startswith(_NAMING):
            continue
        own = [unit]  # the file's hunks: each starts where the one before it ends
        for u in hunks[n + 1:]:
            if u.first != own[-1].last + 1:
                break
            own.append(u)
        if not any(u.keep for u in own):
            out[n] = Unit(i, unit.last, False)
    return out


def _with_parents(keep: list[bool], lines: list[str]) -> list[bool]:
    """A kept line keeps the lines it sits under (the nearest less indented line above, and so on up): in
    YAML, HCL, a plan or a status dump, `memory: 3584Mi` means nothing without `limits:` and its resource."""
    out = list(keep)
    stack: list[tuple[int, int]] = []  # (indent, line) of the lines above that are less indented
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if keep[i]:
            for _, j in stack:
                out[j] = True
        stack.append((indent, i))
    return out


def lines_by_question(lines: list[str], offset: int, query: str, marks: Marks, head: int = 3,
                      tail: int = 2) -> list[str] | None:
    """Text of no known shape: the lines the question or trouble points at, one line around, the ends."""
    if len(lines) < 12:
        return None
    lowered = [x.lower() for x in lines]
    pattern = salience.anchors(query, "\n".join(lowered), len(lines))
    keep = salience.hits(lowered, pattern)
    trouble = salience.troubled(lowered)
    if sum(trouble) <= len(lines) * 0.3:
        keep = [k or t for k, t in zip(keep, trouble, strict=True)]
    keep = [k or bool(_HEADING.match(x)) for k, x in zip(keep, lines, strict=True)]
    keep = _with_parents(widen(keep, 1, 1), lines)
    for i in [*range(min(head, len(keep))), *range(max(0, len(keep) - tail), len(keep))]:
        keep[i] = True
    if sum(keep) > len(keep) * 0.7:
        return None
    units = [Unit(i, i, k) for i, k in enumerate(keep) if lines[i].strip() or not k]
    marks.offset = offset
    return render(lines, units, marks, "lines")


_TAGLINE = re.compile(r"^\s*</?[A-Za-z_][^>]*>\s*$")


def title(lines: list[str], first: int, last: int) -> str:
    """A section's name: its heading line without markup (for a chunk's tag line or a banner's rule, the next
    line with words)."""
    for line in lines[first: min(last, first + 3) + 1]:
        if any(c.isalnum() for c in line) and not _TAGLINE.match(line):  # not a rule drawn around a banner
            return line.strip().lstrip("#/-=*; ").strip()[:80]
    return lines[first].strip()[:80]


def choose_sections(lines: list[str], spans: list[tuple[int, int]], query: str, top: int = 4,
                    share: float = 0.35, preamble: bool = True) -> list[bool] | None:
    """Which sections of a document to keep: those that best match the question (BM25), any that holds
    one of its identifiers, and a short preamble (`preamble`: the first span is one, not a section of its
    own). None when nothing matches at all (nothing to go by)."""
    texts = ["\n".join(lines[a: b + 1]) for a, b in spans]
    lowered = [t.lower() for t in texts]
    identifiers, _ = salience.query_terms(query)
    # an identifier names a section when few hold it; one most sections mention (the system every runbook
    # entry is about) tells them apart no better than a common word, and BM25 ranks them instead
    few = max(2, len(texts) // 4)
    naming = [i for i in identifiers if sum(1 for t in lowered if i in t) <= few]
    keep = [any(i in t for i in naming) for t in lowered]
    scores = _scores(texts, query)
    best = max(scores[1:] if len(scores) > 1 else scores)  # a long preamble (instructions) would set the bar
    if best <= 0 and not any(keep):
        return None
    ranked = sorted(range(len(spans)), key=lambda i: -scores[i])
    # when the question does not tell several sections apart (each policy mentions fees), keep them all
    tied = sum(1 for s in scores if s >= best * 0.85)
    most = min(max(top, tied), 12)
    if any(not any(name in t for t in lowered) for name in salience.names(query)):
        # it names what no section names (a city where they name countries, a product by a nickname): the
        # ranking cannot single the one out, so every section that matches it well enough stays
        most = max(most, sum(1 for s in scores if s >= best * 0.5))
    for i in ranked[:most]:
        if scores[i] >= best * share and scores[i] > 0:
            keep[i] = True
    if preamble and len(texts[0]) < 600:
        keep[0] = True
    return keep


def section_marker(lines: list[str], run: list[tuple[int, int]], marks: Marks, most: int = 12) -> str:
    names = [title(lines, a, b) for a, b in run]
    listed = "; ".join(n for n in names[:most] if n) + ("; ..." if len(names) > most else "")
    marks.offset = 0  # section spans are the piece's own line numbers (a compressor may have left its offset)
    return marks.say(f"{count(len(run), 'sections')} ({listed})", run[0][0], run[-1][1])
