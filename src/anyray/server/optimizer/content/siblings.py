"""Chunks that come in a list (search results, retrieved passages, one text block each): the ones the
question has no word for go, each as a whole.

A chunk is too short to thin inside, but a list of twenty is mostly beside the point. Among the text
parts of one tool result or one message (at least three besides the human's own words, each up to a few
thousand characters), each is scored against the question (BM25 over its words, stems and families); a
chunk that scores under a fifth of the best chunk and holds none of the question's identifiers is replaced
by a one-line marker with its first line (where a title or source usually is). When no chunk scores
anything, all stay: there is nothing to go by. The question itself, when it is a part of the same
message, is no chunk: scored, it would set the bar (it matches itself best) and push real chunks under it.
"""

from __future__ import annotations

from collections import defaultdict

from anyray.server.optimizer.content import salience
from anyray.server.optimizer.content.pieces import OWN, Path, Piece
from anyray.server.optimizer.content.prose import _scores

MIN_CHUNKS = 3
MAX_CHUNK_CHARS = 6000


def beside_the_point(found: list[Piece]) -> set[Path]:
    """The `where` of every chunk to replace by a marker."""
    groups: dict[Path, list[Piece]] = defaultdict(list)
    for piece in found:
        # text blocks (or parts) of one list: a message's content, a tool result's content, never whole messages
        if len(piece.where) >= 3 and piece.where[-1] == "text" and isinstance(piece.where[-2], int) \
                and piece.slot != "system":
            groups[piece.where[:-2]].append(piece)
    out: set[Path] = set()
    for parts in groups.values():
        query = "\n".join(dict.fromkeys(p.query for p in parts))
        # the human's own words beside the chunks (the question) are no chunk: they would set the bar
        group = [p for p in parts if not (len(p.text) <= OWN and p.text.strip() in query)]
        if len(group) < MIN_CHUNKS or any(len(p.text) > MAX_CHUNK_CHARS for p in group):
            continue
        scores = _scores([p.text for p in group], query)
        identifiers, _ = salience.query_terms(query)
        lowered = [p.text.lower() for p in group]
        # an identifier most chunks hold (`on-call` in every catalogue entry) names none of them in particular
        few = max(2, len(group) // 2)
        naming = [i for i in identifiers if sum(1 for t in lowered if i in t) <= few]
        named = [any(i in t for i in naming) for t in lowered]
        if max(scores) <= 0 and not any(named):
            continue
        best = max(scores)
        for piece, score, name in zip(group, scores, named, strict=True):
            if not name and score < best * 0.2 and len(piece.text) >= 200:
                out.add(piece.where)
    return out


def marker(text: str, handle: str) -> str:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")[:100]
    return f"[anyray: a {len(text):,}-character text the question has no word for, beginning \"{first}\", elided; " \
           f"anyray_retrieve handle {handle}]"
