"""How a content strategy rewrites the long texts of a request, one piece at a time, copy-on-write.

Content strategies (context_dedupe, command_digest, code_skeleton, relevance_filter, context_compression,
durable_blobs) only ever change the *text* of a piece (content/pieces.py: tool results, user and
assistant texts, system prompts, documents, in either dialect). Ids, order, `is_error`, `cache_control`
and every other field stay as they were, so tool_use/tool_result pairing can never break. Each strategy
says which slots it works on.

Prefix stability is built in: each piece carries the question it was given to answer, never anything
from later turns. A transform that reads only a piece, its question and earlier pieces makes the same
bytes on every later turn.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar

from anyray.server.optimizer import tokens
from anyray.server.optimizer.content.pieces import Path, Piece, pieces, replace
from anyray.server.optimizer.content.units import MARKER
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy

Where = Path
__all__ = ["MARKER", "ContentStrategy", "Output", "Where", "is_source_read", "outputs", "replace", "tool_path"]


Output = Piece  # what a content strategy rewrites: any long text of the request (content/pieces.py)


_SOURCE_TOOLS = re.compile(r"read|view|cat|open|edit|write|notebook", re.IGNORECASE)
NUMBERED = re.compile(r"^\s*\d+(?:→|\t)")  # Claude Code's Read and `cat -n` line numbers


_DATA_FILES = re.compile(r"\.(?:log|out|err|csv|tsv|jsonl|ndjson)(?:\.\d+)?$", re.IGNORECASE)


def tool_path(arguments: object) -> str:
    """The file a call read, when its arguments name one."""
    if isinstance(arguments, dict):
        for key in ("file_path", "path", "filename", "file"):
            if isinstance(arguments.get(key), str):
                return str(arguments[key])
    return ""


def is_source_read(output: Output) -> bool:
    """A file read back (by a Read-like tool, or with line numbers) that an agent may quote in an edit; a
    log or data file (`.log`, `.csv`, `.jsonl`, ...) is not one, however it was read."""
    if _DATA_FILES.search(tool_path(output.tool_input)):
        return False
    return bool(_SOURCE_TOOLS.search(output.tool_name)) or bool(NUMBERED.match(output.text))


def _seen(found: list[Piece], ctx: Context) -> list[Piece]:
    """Each piece with the question it was first shrunk for (once per request, shared by every strategy)."""
    if ctx.first_seen is not None:
        for piece in found:
            if len(piece.text) >= ContentStrategy.min_chars:
                piece.seen_for = ctx.first_seen.question(piece.key, piece.latest)
    return found


def _holds_long_text(value: Any, least: int) -> bool:
    """Whether any string in `value` is at least `least` long: over-approximates the pieces (any field counts),
    stops at the first one found (a long request's first tool result), so it costs only a short chat a walk."""
    if isinstance(value, str):
        return len(value) >= least
    if isinstance(value, dict):
        return any(_holds_long_text(v, least) for v in value.values())
    if isinstance(value, list):
        return any(_holds_long_text(v, least) for v in value)
    return False


def holds_long_text(request: dict[str, Any]) -> bool:
    """Whether the content strategies have anything to look at (a text of `min_chars` or more)."""
    return (_holds_long_text(request.get("messages"), ContentStrategy.min_chars)
            or _holds_long_text(request.get("system"), ContentStrategy.min_chars))


def _candidates(request: dict[str, Any], ctx: Context) -> list[Piece]:
    # a short chat has no text worth a look: skip the walk, the chained keys and the first-seen lookups (most
    # of the content strategies' cost on a request of a few hundred bytes)
    if not holds_long_text(request):
        return []
    return _seen(pieces(request, str(ctx.metadata.get("team") or "")), ctx)


def outputs(request: dict[str, Any]) -> list[Piece]:
    """Every piece of text a content strategy may rewrite, in prompt order (content/pieces.py)."""
    return pieces(request)


class ContentStrategy(Strategy):
    """A strategy that rewrites long texts one piece at a time; subclasses say how one piece shrinks."""

    changed_what: str = "text"
    # where it works: tool results by default; a subclass widens it (system prompts need care)
    slots: ClassVar[frozenset[str]] = frozenset({"tool_result"})
    min_chars: ClassVar[int] = 200  # shorter pieces are not worth a look

    def plan(self, found: list[Output], ctx: Context, params: Any) -> None:
        """What to work out across all pieces before rewriting them one by one (into `ctx.notes`)."""

    def transform(self, output: Output, ctx: Context, params: Any, earlier: list[Output]) -> str | None:
        """The new text of one output, or None to leave it; `earlier` holds the outputs before it as this
        strategy has already left them (never anything later: that is what keeps the prefix stable)."""
        raise NotImplementedError

    def apply(self, request: dict[str, Any], ctx: Context, params: Params) -> Applied | NotApplied:
        every = ctx.derived("pieces", request, lambda r: _candidates(r, ctx))
        mine = [p for p in every if p.slot in self.slots]
        found = [p for p in mine if len(p.text) >= self.min_chars]
        if not found:  # nothing long enough to look at (a short chat): not worth reporting
            return NotApplied("no_candidate_blocks", quiet=True)
        self.plan(mine, ctx, params)
        changes: dict[Where, str] = {}
        before = after = 0
        done: list[Output] = []  # earlier pieces as this strategy leaves them (short ones too: a traceback)
        for output in mine:
            if len(output.text) < self.min_chars:
                done.append(output)
                continue
            new = self.transform(output, ctx, params, done)
            old_tokens = tokens.estimate(output.text)
            new_tokens = old_tokens if new is None else tokens.estimate(new)
            if new is None or new_tokens >= old_tokens:  # never make a prompt bigger
                done.append(output)
                continue
            done.append(dataclasses.replace(output, text=new))
            changes[output.where] = new
            before, after = before + old_tokens, after + new_tokens
        if not changes:
            longest = max(len(p.text) for p in found)
            return NotApplied("below_min_tokens" if longest < getattr(params, "min_chars", 0) else "would_not_pay_back")
        total = tokens.estimate(request)
        decision = Decision(self.kind, f"shrank {len(changes)} of {len(found)} {self.changed_what}(s)", total,
                            total - (before - after), {"outputsChanged": len(changes), "outputTokensBefore": before,
                                                       "outputTokensAfter": after})
        return Applied(replace(request, changes), decision)
