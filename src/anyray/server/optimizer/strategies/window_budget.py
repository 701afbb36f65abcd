"""window_budget: a conversation that would outgrow its budget loses its oldest middle turns, reversibly.

Past the context window a request fails outright; well before it, every turn re-sends (and re-reads
from cache) a history the model rarely needs. When the request would exceed `budget_tokens`, the
messages between the first user message and the recent ones are cropped: the span is stashed whole and
a marker with its /v1/retrieve handle is appended to the first user message. Pinned: tools, system, the
first user message (the task), and the last `keep_recent` messages. A crop always starts at the first
assistant message and ends just before an assistant message, so a tool_use and its tool_result are
either both kept or both cropped, and the live turn (with its signed thinking) is never touched.

Prefix stability: the crop end moves in large steps. When the budget is exceeded the crop grows until
the request is down to `low_water` of the budget, which leaves room for many turns before the next
move. Where the crop ends is found by replaying the history turn by turn, so every turn in between
computes the same crop and the same marker (its handle depends only on the cropped bytes).
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import Field

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy
from anyray.server.optimizer.strategies.conversation import has_messages, message_sizes, rounds
from anyray.server.optimizer.strategies.tool_output import MARKER

_MARKER_TOKENS = 60


class WindowParams(Params):
    budget_tokens: int = Field(160_000, ge=1000, description="crop when a request would exceed this (estimate)")
    low_water: float = Field(0.6, gt=0, lt=1, description="after a crop the request is at most this share of it")
    keep_recent: int = Field(12, ge=2, description="the last N messages are never cropped")


class WindowBudget(Strategy):
    kind = "window_budget"
    default_enabled = True
    endpoints = ("/v1/messages", "/v1/chat/completions")
    Params = WindowParams
    summary = "crop the oldest middle turns (stashed) when a conversation exceeds a generous token budget"

    def apply(self, request: dict[str, Any], ctx: Context, params: WindowParams) -> Applied | NotApplied:
        if not has_messages(request):
            return NotApplied("no messages", quiet=True)
        messages: list[Any] = request["messages"]
        fixed = tokens.estimate(request.get("tools")) + tokens.estimate(request.get("system"))
        sizes = message_sizes(messages)
        if fixed + sum(sizes) <= params.budget_tokens:
            return NotApplied("within budget", quiet=True)
        # pinned: an OpenAI history's leading system messages, and the first user message (the task)
        first = next((i for i, m in enumerate(messages) if not (isinstance(m, dict)
                                                               and m.get("role") in ("system", "developer"))), 0)
        if not (isinstance(messages[first], dict) and messages[first].get("role") == "user"):
            return NotApplied("first message is not a user message")
        start = first + 1
        ends = [i for i, m in enumerate(messages)
                if i > start and isinstance(m, dict) and m.get("role") == "assistant"]
        crop_end = start  # messages [start, crop_end) are cropped
        total = fixed + sum(sizes[:start])
        done = start
        for u in sorted({*rounds(messages), len(messages) - 1}):  # replay, one request per round
            if u < done:
                continue
            total += sum(sizes[done: u + 1])
            done = u + 1
            size = total - sum(sizes[start:crop_end]) + (_MARKER_TOKENS if crop_end > start else 0)
            if size <= params.budget_tokens:
                continue
            allowed = [b for b in ends if crop_end < b <= u + 1 - params.keep_recent]
            for b in allowed:
                crop_end = b
                if total - sum(sizes[start:b]) + _MARKER_TOKENS <= params.low_water * params.budget_tokens:
                    break
        if crop_end <= start:
            return NotApplied("over budget, but nothing old enough to crop")
        cropped = messages[start:crop_end]
        handle = ctx.stash(orjson.dumps(cropped).decode())
        note = (f"{MARKER} {len(cropped)} earlier messages of this conversation were cropped to fit the token "
                f"budget; the original is retrievable with anyray_retrieve, handle {handle}]")
        task = messages[first]
        content = task.get("content")
        if isinstance(content, str) and ctx.endpoint == "/v1/chat/completions":  # OpenAI: a string stays one
            noted: Any = f"{content}\n\n{note}"
        else:
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or ())
            noted = [*blocks, {"type": "text", "text": note}]
        new_messages = [*messages[:first], {**task, "content": noted}, *messages[crop_end:]]
        before = tokens.estimate(request)
        return Applied({**request, "messages": new_messages},
                       Decision(self.kind, f"cropped {len(cropped)} middle message(s)", before,
                                before - sum(sizes[start:crop_end]) + _MARKER_TOKENS,
                                {"messagesCropped": len(cropped)}))
