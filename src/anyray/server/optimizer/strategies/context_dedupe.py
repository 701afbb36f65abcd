"""context_dedupe: a tool output seen before collapses to a reference; a re-run keeps only what changed.

Agents re-read the same file after every edit, re-run the same test command, poll the same status. Each
copy is re-sent on every later turn. Here an output identical byte for byte to an earlier one becomes a
one-line reference to that earlier call; a near-duplicate (same tool, most lines shared: a re-run) becomes
a unified diff against the earlier copy, which stays in the prompt in full. Only earlier outputs are ever
compared with, and only ones kept in full, so a reference always points at text the model can see and
this turn's rewrite of an output is the same on every later turn.
"""

from __future__ import annotations

import difflib
import hashlib

from pydantic import Field

from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.elide import MARKER
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output


class DedupeParams(Params):
    min_chars: int = Field(200, ge=0, description="outputs shorter than this are never collapsed")
    near_duplicates: bool = Field(True, description="replace a re-run by a diff against its first copy")
    min_shared: float = Field(0.5, ge=0, le=1, description="share of lines two outputs must have in common")
    max_delta: float = Field(0.6, gt=0, le=1, description="use the diff only if it is at most this share of the size")
    max_lines: int = Field(5000, ge=1, description="larger outputs are not diffed (bounded decision time)")
    context_lines: int = Field(1, ge=0)


class ContextDedupe(ContentStrategy):
    kind = "context_dedupe"
    default_enabled = True
    Params = DedupeParams
    summary = "collapse repeated tool output to a reference; a re-run to a diff against its first copy"

    def transform(self, output: Output, ctx: Context, params: DedupeParams, earlier: list[Output]) -> str | None:
        text = output.text
        if len(text) < params.min_chars or text.startswith(MARKER):
            return None
        # earlier outputs still in full (a reference or a diff is never what another one points at)
        full = [e for e in earlier if len(e.text) >= params.min_chars and not e.text.startswith(MARKER)]
        digest = hashlib.sha256(text.encode()).digest()
        originals = {hashlib.sha256(e.text.encode()).digest(): e for e in reversed(full)}  # first copy wins
        first = originals.get(digest)
        if first is not None:
            return (f"{MARKER} identical to the output of {first.tool_name or 'tool'} call {first.tool_id} above; "
                    f"the original is at /v1/retrieve handle {ctx.stash(text)}]")
        if not params.near_duplicates:
            return None
        lines = text.split("\n")
        if len(lines) > params.max_lines:
            return None
        mine = set(lines)
        best: tuple[float, Output, list[str]] | None = None
        for candidate in full:
            if candidate.tool_name != output.tool_name:
                continue
            theirs = candidate.text.split("\n")
            if not 0.5 <= len(theirs) / len(lines) <= 2 or len(theirs) > params.max_lines:
                continue
            shared = len(mine.intersection(theirs)) / max(len(mine), 1)
            if shared >= params.min_shared and (best is None or shared > best[0]):
                best = (shared, candidate, theirs)
        if best is None:
            return None
        _, first, theirs = best
        delta = list(difflib.unified_diff(theirs, lines, "earlier", "this run", n=params.context_lines, lineterm=""))
        body = "\n".join(delta[2:]) if delta else "(no line changed)"
        result = (f"{MARKER} re-run of {first.tool_name or 'tool'} call {first.tool_id} above; only the lines "
                  f"that changed follow as a unified diff; the original is at /v1/retrieve handle "
                  f"{ctx.stash(text)}]\n{body}")
        return result if len(result) <= len(text) * params.max_delta else None
