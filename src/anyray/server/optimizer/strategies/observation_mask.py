"""observation_mask: tool results from long ago become a one-line marker with a handle.

An agent reads a 30K-token log on turn 3 and is still paying for it on turn 60. Here a tool result older
than the last `keep_turns` turns is replaced by a marker naming the tool, its size and the /v1/retrieve
handle of the original (byte for byte). Kept whole: results flagged `is_error`, small ones, results with
images or documents, and everything in the recent turns. Ids, order and `is_error` never change, so
tool_use/tool_result pairing holds.

Prefix stability: "older than N turns" moves every turn, and every move would break the cached prefix.
So the masked region grows in steps: its boundary only ever sits on a multiple of `step_turns` user
turns, and it moves there only if the step pays for itself in cache terms (conversation.pays_off: the
results it masks are most of the tail that has to be written again). The boundary is found by replaying
the history from the first turn, so every later turn computes the same boundary and the same bytes; the
prefix changes only on the turn the boundary moves.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer import tokens
from anyray.server.optimizer.content.salience import errorish
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Strategy
from anyray.server.optimizer.strategies.conversation import (
    Ledger,
    StepParams,
    blocks,
    has_messages,
    message_sizes,
    rounds,
    tool_results,
)
from anyray.server.optimizer.strategies.tool_output import MARKER


class MaskParams(StepParams):
    keep_turns: int = Field(8, ge=1, description="tool results of the last N user turns are never masked")
    step_turns: int = Field(8, ge=1, description="the masked region grows by multiples of this many turns")
    min_tokens: int = Field(400, ge=0, description="results smaller than this are left whole")


def _text(content: Any) -> str | None:
    """The whole text of a tool result, or None when it holds anything but text (an image stays whole)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content and all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
        return "\n".join(p["text"] for p in content)
    return None


class ObservationMask(Strategy):
    kind = "observation_mask"
    default_enabled = False
    endpoints = ("/v1/messages", "/v1/chat/completions")
    Params = MaskParams
    summary = "mask tool results older than the last N turns (in cache-paying steps), errors kept whole"

    def apply(self, request: dict[str, Any], ctx: Context, params: MaskParams) -> Applied | NotApplied:
        if not has_messages(request):
            return NotApplied("no messages", quiet=True)
        messages: list[Any] = request["messages"]
        users = rounds(messages)  # one request per round: the turns the boundary counts
        if len(users) <= params.keep_turns:
            return NotApplied("conversation shorter than keep_turns", quiet=True)
        names = {str(b.get("id")): str(b.get("name", "")) for m in messages for b in blocks(m)
                 if b.get("type") == "tool_use"}
        names |= {str(c.get("id")): str((c.get("function") or {}).get("name", "")) for m in messages
                  if isinstance(m, dict) for c in m.get("tool_calls") or () if isinstance(c, dict)}
        # per round: the results that could be masked, as (message, block, text, name, tokens saved)
        candidates: list[list[tuple[int, int | None, str, str, int]]] = []
        start = 0
        for end in users:
            found = []
            for mi, bi, content in tool_results(messages, start, end):
                holder = messages[mi] if bi is None else messages[mi]["content"][bi]
                if holder.get("is_error"):
                    continue
                text = _text(content)
                if text is None or text.startswith(MARKER) or tokens.estimate(text) < params.min_tokens:
                    continue
                if errorish(text[:200].lower()):  # an error (OpenAI has no is_error flag) stays whole
                    continue
                tool_id = holder.get("tool_call_id") if bi is None else holder.get("tool_use_id")
                found.append((mi, bi, text, names.get(str(tool_id), "") or "tool", tokens.estimate(text)))
            candidates.append(found)
            start = end + 1
        sizes = message_sizes(messages)
        ledger = Ledger(params, tokens.estimate(request.get("tools")) + tokens.estimate(request.get("system")))
        masked_upto = 0  # user turns [0, masked_upto) are masked
        for k in range(1, len(users) + 1):  # replay: the request as it was when it ended with user turn k
            ledger.turn(sum(sizes[: users[k - 1] + 1]))
            boundary = max(k - params.keep_turns, 0) // params.step_turns * params.step_turns
            if boundary <= masked_upto:
                continue
            step = [c for turn in candidates[masked_upto:boundary] for c in turn]
            if not step:
                continue
            saved = sum(c[4] for c in step) - 40 * len(step)  # a marker is ~40 tokens
            tail = sum(sizes[step[0][0]: users[k - 1] + 1])
            if ledger.allow(saved, tail):
                ledger.take(saved, tail)
                masked_upto = boundary
        chosen = [c for turn in candidates[:masked_upto] for c in turn]
        if not chosen:
            return NotApplied("no masking step has paid for itself yet")
        new_messages = list(messages)
        before = after = 0
        for mi, bi, text, name, size in chosen:
            message = new_messages[mi] = dict(new_messages[mi])
            handle = ctx.stash(text)
            marker = (f"{MARKER} tool result masked: {size} tokens of {name} output from an earlier turn; the "
                      f"original is retrievable with anyray_retrieve, handle {handle}]")
            if bi is None:  # an OpenAI tool message
                message["content"] = marker
            else:
                content = message["content"] = list(message["content"])
                content[bi] = {**content[bi], "content": marker}
            before, after = before + size, after + tokens.estimate(marker)
        total = tokens.estimate(request)
        decision = Decision(self.kind, f"masked {len(chosen)} tool result(s) of the first {masked_upto} turns",
                            total, total - (before - after),
                            {"resultsMasked": len(chosen), "maskedTurns": masked_upto})
        return Applied({**request, "messages": new_messages}, decision)
