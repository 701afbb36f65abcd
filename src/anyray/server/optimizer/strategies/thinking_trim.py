"""thinking_trim: reasoning replayed from finished turns is dropped; the live turn's stays, signed and whole.

With extended thinking, clients send every earlier `thinking` block back. The API needs only those of
the current assistant turn, the one since the last user message that is not a tool result (during a
tool-use loop the thinking that led to a tool call must come back unmodified with its signature);
earlier turns' thinking may be omitted (Anthropic's extended-thinking docs, "Preserving thinking
blocks"). So `thinking` and `redacted_thinking` blocks are removed from assistant messages *before* the
last user prompt; never from the live turn, never a tool_use, tool_result or text block, and never a
message that would be left empty.

Prefix stability: a turn's thinking becomes removable only when the next user prompt arrives, so the
bytes change only then (the step), and only if the step pays for itself in cache terms
(conversation.pays_off), found by replaying the history from the first prompt.
"""

from __future__ import annotations

from typing import Any

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Strategy
from anyray.server.optimizer.strategies.conversation import (
    Ledger,
    StepParams,
    anthropic_only,
    blocks,
    message_sizes,
    prompt_indexes,
)

THINKING = ("thinking", "redacted_thinking")


def _removable(message: Any) -> int:
    """Tokens of thinking in an assistant message that would keep other content once trimmed, else 0."""
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return 0
    content = blocks(message)
    thoughts = [b for b in content if b.get("type") in THINKING]
    if not thoughts or len(thoughts) == len(content):
        return 0
    return sum(tokens.estimate(b) for b in thoughts)


class ThinkingTrim(Strategy):
    kind = "thinking_trim"
    default_enabled = False
    endpoints = ("/v1/messages",)
    Params = StepParams
    summary = "drop thinking blocks of finished turns (never the live turn's signed blocks)"

    def apply(self, request: dict[str, Any], ctx: Context, params: StepParams) -> Applied | NotApplied:
        if not anthropic_only(request):
            return NotApplied("no messages", quiet=True)
        messages: list[Any] = request["messages"]
        weight = [_removable(m) for m in messages]
        if not any(weight):
            return NotApplied("no thinking blocks in finished turns", quiet=True)
        prompts = prompt_indexes(messages)
        assistants = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
        if assistants:  # belt and braces: the last assistant message is the live turn's, whatever came after
            weight[assistants[-1]] = 0
        sizes = message_sizes(messages)
        ledger = Ledger(params, tokens.estimate(request.get("tools")) + tokens.estimate(request.get("system")))
        trimmed_upto = 0  # assistant messages before this index are trimmed
        ends = sorted({i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"})
        for end in ends:  # replay: the request as it was when it ended with this user message
            ledger.turn(sum(sizes[: end + 1]))
            if end not in prompts:
                continue
            saved = sum(weight[trimmed_upto:end])
            if not saved:
                continue
            first = next(i for i in range(trimmed_upto, end) if weight[i])
            tail = sum(sizes[first: end + 1])
            if ledger.allow(saved, tail):
                ledger.take(saved, tail)
                trimmed_upto = end
        if not trimmed_upto:
            return NotApplied("trimming has not paid for itself yet")
        new_messages = list(messages)
        count = 0
        for i in range(trimmed_upto):
            if weight[i]:
                kept = [b for b in messages[i]["content"] if not (isinstance(b, dict) and b.get("type") in THINKING)]
                count += len(messages[i]["content"]) - len(kept)
                new_messages[i] = {**messages[i], "content": kept}
        saved = sum(weight[:trimmed_upto])
        total = tokens.estimate(request)
        return Applied({**request, "messages": new_messages},
                       Decision(self.kind, f"removed {count} thinking block(s) of finished turns", total,
                                total - saved, {"blocksRemoved": count}))
