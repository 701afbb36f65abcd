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
import functools

from pydantic import Field

from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.elide import MARKER
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output

# difflib's matcher costs about len(a) * len(b); past this many line pairs a near-copy of a different
# length is not diffed (one of the same length is compared line by line, which is linear).
_DIFFLIB_BUDGET = 250_000


class DedupeParams(Params):
    min_chars: int = Field(200, ge=0, description="outputs shorter than this are never collapsed")
    near_duplicates: bool = Field(True, description="replace a re-run by a diff against its first copy")
    min_shared: float = Field(0.5, ge=0, le=1, description="share of lines two outputs must have in common")
    max_delta: float = Field(0.6, gt=0, le=1, description="use the diff only if it is at most this share of the size")
    max_lines: int = Field(5000, ge=1, description="larger outputs are not diffed (bounded decision time)")
    max_candidates: int = Field(8, ge=1, description="diff only against the latest full copies of the same tool")
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
        first = next((e for e in full if e.text == text), None)  # str hashes are cached: cheap on long sessions
        if first is not None:
            return (f"{MARKER} identical to the output of {first.tool_name or 'tool'} call {first.tool_id} above; "
                    f"the original is at /v1/retrieve handle {ctx.stash(text)}]")
        if not params.near_duplicates:
            return None
        lines = text.split("\n")
        if len(lines) > params.max_lines:
            return None
        mine = set(lines)
        best: tuple[tuple[bool, float], Output] | None = None
        same_call = [e for e in full if e.tool_name == output.tool_name and e.tool_input == output.tool_input]
        same_tool = [e for e in full if e.tool_name == output.tool_name and e.tool_input != output.tool_input]
        for candidate in same_call[-params.max_candidates:] + same_tool[-params.max_candidates:]:
            theirs = candidate.text.split("\n")
            if not 0.5 <= len(theirs) / len(lines) <= 2 or len(theirs) > params.max_lines:
                continue
            if len(theirs) != len(lines) and len(theirs) * len(lines) > _DIFFLIB_BUDGET:
                continue
            shared = len(mine.intersection(theirs)) / max(len(mine), 1)
            rank = (candidate.tool_input == output.tool_input, shared)  # the same command run again first
            if shared >= params.min_shared and (best is None or rank > best[0]):
                best = (rank, candidate)
        if best is None:
            return None
        first = best[1]
        body = delta(first.text, text, params.context_lines) or "(no line changed)"
        result = (f"{MARKER} re-run of {first.tool_name or 'tool'} call {first.tool_id} above; only the lines "
                  f"that changed follow as a unified diff; the original is at /v1/retrieve handle "
                  f"{ctx.stash(text)}]\n{body}")
        return result if len(result) <= len(text) * params.max_delta else None


@functools.lru_cache(maxsize=512)
def delta(earlier: str, later: str, context: int) -> str:
    """The hunks of a unified diff from `earlier` to `later` (no file header lines).

    Memoised: the same pair comes back on every later turn of a session, and difflib costs milliseconds
    per pair. When both have the same number of lines (a re-run that changed values, not shape), lines are
    compared position by position: linear, and a valid diff (the same hunks difflib makes when no line
    repeats; with repeated lines difflib may align them differently)."""
    a, b = earlier.split("\n"), later.split("\n")
    if len(a) != len(b):
        return "\n".join(list(difflib.unified_diff(a, b, n=context, lineterm=""))[2:])
    changed = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    groups: list[list[int]] = []
    for i in changed:
        if groups and i - groups[-1][-1] <= 2 * context + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    out: list[str] = []
    for group in groups:
        start, end = max(group[0] - context, 0), min(group[-1] + context + 1, len(a))
        count = end - start
        out.append(f"@@ -{_range(start, count)} +{_range(start, count)} @@")
        i = start
        while i < end:
            if a[i] == b[i]:
                out.append(" " + a[i])
                i += 1
                continue
            j = i
            while j < end and a[j] != b[j]:
                j += 1
            out += ["-" + line for line in a[i:j]] + ["+" + line for line in b[i:j]]
            i = j
    return "\n".join(out)


def _range(start: int, count: int) -> str:
    return f"{start + 1}" if count == 1 else f"{start + 1},{count}"
