"""One piece of text, shrunk segment by segment, each by what its shape calls for.

The piece is cut into segments (segments.py); each long enough segment goes to its kind's compressor:
logs (logs.py), JSON/JSON lines/CSV/tables (records.py), source code (code.py), diffs and prose and
shapeless text (prose.py); stack traces are kept whole. Every compressor keeps or elides whole units and
never rewrites a kept line, so any fact on a kept line survives byte for byte. The whole piece is
stashed once, under one handle, the first time anything is elided; markers cite the piece's own line
numbers, which is how the retrieve tool numbers them.

What is never shrunk: the human's own words in a user message (a prose segment of a user text shorter
than `keep_user_prose_chars`), and, in a system prompt, prose that instructs (second person, must,
never, always, do not): only reference material there (documents, notes, data) is a candidate.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from anyray.server.optimizer.content import code, logs, markup, prose, records
from anyray.server.optimizer.content.pieces import Piece
from anyray.server.optimizer.content.segments import Segment, sections, split
from anyray.server.optimizer.content.units import Marks

_INSTRUCTS = re.compile(r"\b(?:you|your|you're|must|never|always|do not|don't|important)\b", re.I)


@dataclass(slots=True)
class Knobs:
    """What the compressors may do (context_compression's params, minus the strategy's own)."""

    min_segment_chars: int = 300
    head_records: int = 2
    tail_records: int = 1
    head_lines: int = 2
    tail_lines: int = 2
    prose_top: int = 6
    prose_share: float = 0.3
    min_body_lines: int = 3
    min_body_chars: int = 120
    keep_user_prose_chars: int = 1500
    max_blob_chars: int = 2000
    follow_calls: bool = False  # code: bodies the kept ones call stay too
    kinds: frozenset[str] | None = None  # only these kinds of segment (None: every kind, and sections)
    code: bool = True
    system_documents: bool = True  # a system prompt made of sections may lose the ones the question is not about


def _query(piece: Piece, lines: list[str], segments: list[Segment]) -> str:
    """The piece's question; in a user text, its own short prose too (a question asked around a paste)."""
    if piece.slot != "user":
        return piece.query
    own = [ "\n".join(lines[s.first: s.last + 1]) for s in segments if s.kind == "prose"]
    return "\n".join([piece.query, *(t for t in own if len(t) <= 1500)])


class Renderings:
    """Shrunk pieces by what decides their rendering (text, slot, question, knobs, earlier traces): an agent
    re-sends every earlier piece on every turn, and the rendering is the same each time (that is the point),
    so it is worked out once. Bounded by entries and by characters held. One per optimizer: a rendering
    names handles that only that optimizer's stash knows."""

    def __init__(self, entries: int = 2048, chars: int = 64 << 20) -> None:
        self.entries, self.chars = entries, chars
        self._held: OrderedDict[bytes, tuple[str | None, bool]] = OrderedDict()
        self._size = 0

    @staticmethod
    def key(piece: Piece, knobs: Knobs, earlier: str) -> bytes:
        digest = hashlib.blake2b(digest_size=16)
        for part in (piece.text, piece.slot, piece.query, repr(knobs), earlier):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.digest()

    def get(self, key: bytes) -> tuple[str | None, bool] | None:
        found = self._held.get(key)
        if found is not None:
            self._held.move_to_end(key)
        return found

    def put(self, key: bytes, value: tuple[str | None, bool]) -> None:
        self._held[key] = value
        self._size += len(value[0] or "")
        while len(self._held) > self.entries or self._size > self.chars:
            _, (old, _) = self._held.popitem(last=False)
            self._size -= len(old or "")


def shrink(piece: Piece, stash: Callable[[str], str], knobs: Knobs, earlier: str = "",
           renderings: Renderings | None = None) -> str | None:
    """The piece's new text, or None when nothing in it is worth eliding (memoised in `renderings`)."""
    if renderings is None:
        return _shrink(piece, stash, knobs, earlier)
    key = Renderings.key(piece, knobs, earlier)
    known = renderings.get(key)
    if known is not None:
        new, stashed = known
        if stashed:
            stash(piece.text)  # this request's markers name the handle: it must be stored again
        return new
    stashed = []

    def noting(text: str) -> str:
        stashed.append(True)
        return stash(text)

    new = _shrink(piece, noting, knobs, earlier)
    renderings.put(key, (new, bool(stashed) and new is not None))
    return new


def _shrink(piece: Piece, stash: Callable[[str], str], knobs: Knobs, earlier: str = "") -> str | None:
    text = piece.text
    lines = text.split("\n")
    handle: list[str] = []

    def made() -> str:
        if not handle:
            handle.append(stash(text))
        return handle[0]

    marks = Marks(made, len(lines))
    lines, capped = _blobs(lines, marks, knobs.max_blob_chars)
    segments = split(lines)
    query = _query(piece, lines, segments)
    if knobs.kinds is None and not capped and len(lines) >= 12:  # XML elements, YAML documents: records
        by_record = markup.compress(lines, 0, query, marks, knobs.head_records, knobs.tail_records)
        if by_record is not None:
            return "\n".join(by_record)
    spans = sections(lines, markdown=_documentish(lines, segments)) if knobs.kinds is None else None
    keep = prose.choose_sections(lines, spans, query, preamble=spans.preamble) if spans else None
    if keep is not None and spans is not None and piece.slot == "system":
        # in a system prompt a section that instructs stays, whatever the question
        keep = [k or _instructs("\n".join(lines[a: b + 1])) for k, (a, b) in zip(keep, spans, strict=True)]
    if spans is None or keep is None or all(keep):
        out, changed = _segments(lines, 0, segments, piece, query, marks, knobs, earlier, True)
        return "\n".join(out) if changed or capped else None
    out = []
    i = 0
    while i < len(spans):
        a, b = spans[i]
        if keep[i]:  # a section the question is about: thinned inside; its prose only when it is long
            part = lines[a: b + 1]
            long = sum(len(x) + 1 for x in part) > 3000
            new, _ = _segments(part, a, split(part), piece, query, marks, knobs, earlier, long)
            out.extend(new)
            i += 1
            continue
        j = i
        while j + 1 < len(spans) and not keep[j + 1]:
            j += 1
        out.append(prose.section_marker(lines, spans[i: j + 1], marks))
        i = j + 1
    return "\n".join(out)


def _blobs(lines: list[str], marks: Marks, limit: int) -> tuple[list[str], bool]:
    """A line longer than `limit` with hardly a space (base64, a minified bundle, a key) keeps its head and
    tail around a marker: nothing in its middle reads as words."""
    out = list(lines)
    capped = False
    for i, line in enumerate(lines):
        if len(line) > limit and line.count(" ") < len(line) // 100:
            head, tail = line[: limit * 2 // 3], line[-(limit // 3):]
            marks.offset = 0
            what = f"{len(line) - len(head) - len(tail):,} characters of line {i + 1}"
            out[i] = f"{head}{marks.say(what)}{tail}"
            capped = True
    return out, capped


def _instructs(text: str) -> bool:
    """Prose that tells the model what to do (second person, must, never, always): 2+ such words in 100."""
    return len(_INSTRUCTS.findall(text)) >= max(2, len(text.split()) // 50)


def _documentish(lines: list[str], segments: list[Segment]) -> bool:
    """Mostly prose (with its tables and fenced examples): a document whose sections can be told apart."""
    size = {"prose": 0, "other": 0}
    for seg in segments:
        chars = sum(len(x) + 1 for x in lines[seg.first: seg.last + 1])
        size["prose" if seg.kind in ("prose", "table", "frame") else "other"] += chars
    return size["prose"] >= (size["prose"] + size["other"]) * 0.5


def _segments(lines: list[str], base: int, segments: list[Segment], piece: Piece, query: str, marks: Marks,
              knobs: Knobs, earlier: str, with_prose: bool) -> tuple[list[str], bool]:
    """`lines` (piece lines from `base` on) with each long enough segment thinned by its kind."""
    out: list[str] = []
    cursor = 0
    changed = False
    for segment in segments:
        out.extend(lines[cursor: segment.first])
        part = lines[segment.first: segment.last + 1]
        cursor = segment.last + 1
        new = None
        if (segment.kind != "frame" and (with_prose or segment.kind != "prose")
                and (knobs.kinds is None or segment.kind in knobs.kinds)
                and sum(len(x) + 1 for x in part) >= knobs.min_segment_chars):
            new = _one(Segment(segment.first + base, segment.last + base, segment.kind), part, piece, query, marks,
                       knobs, earlier)
        if new is None:
            out.extend(part)
        else:
            out.extend(new)
            changed = True
    out.extend(lines[cursor:])
    return out, changed


def _one(segment: Segment, part: list[str], piece: Piece, query: str, marks: Marks, knobs: Knobs,
         earlier: str) -> list[str] | None:
    at = segment.first
    kind = segment.kind
    if kind == "log":
        return logs.compress(part, at, query, marks, knobs.head_lines, knobs.tail_lines)
    if kind == "json":
        new = records.json_records("\n".join(part), at, query, marks, knobs.head_records, knobs.tail_records)
        if new is not None:
            return new.split("\n")
        if sum(len(x) for x in part) < 4000:  # a small document of no records: every value may be the answer
            return None
        return prose.lines_by_question(part, at, query, marks, knobs.head_lines, knobs.tail_lines)
    if kind in ("jsonl", "csv", "table"):
        return records.line_records(part, at, kind, query, marks, knobs.head_records, knobs.tail_records)
    if kind == "code":
        if not knobs.code:
            return None
        return code.compress(part, at, query, marks, earlier, knobs.min_body_lines, knobs.min_body_chars,
                             knobs.follow_calls)
    if kind == "diff":
        return prose.diff(part, at, query, marks)
    if kind == "trace":
        return logs.trace(part, at, query, marks)
    if kind == "blocks":
        return prose.blocks(part, at, query, marks, knobs.head_records, knobs.tail_records)
    if kind == "fields":
        return prose.lines_by_question(part, at, query, marks, knobs.head_lines, knobs.tail_lines)
    # prose
    if piece.slot == "user" and sum(len(x) + 1 for x in part) < knobs.keep_user_prose_chars:
        return None
    protect = _INSTRUCTS if piece.slot == "system" else None  # a paragraph that instructs stays
    return prose.compress(part, at, query, marks, knobs.prose_top, knobs.prose_share, protect)
