"""tool_pruning: a long conversation stops carrying tool definitions it has never used.

Agents ship every tool on every call: Claude Code's definitions alone run to thousands of tokens, an
MCP server or two adds tens of thousands. Once a conversation has `min_turns` assistant turns, the
definitions of tools it has not called are dropped. Always kept: every tool the history calls, the tool
`tool_choice` names (the client requires it), tools named in `always_keep`, and server tools (a `type`
other than custom). The kept list keeps the client's order.

Prefix stability: the tools are the very first bytes of the prompt, so pruning is decided once, on the
turn the conversation reaches `min_turns`, and only if that step pays for itself in cache terms
(conversation.pays_off). After that the list is stable: only tools still offered can be called, so the
set of called tools (and with it the list) never changes again. A conversation whose first decision
did not pay never prunes.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Strategy
from anyray.server.optimizer.strategies.conversation import (
    Ledger,
    StepParams,
    client_tool,
    message_sizes,
    rounds,
    tool_name,
    tool_names_used,
)


class PruneParams(StepParams):
    min_turns: int = Field(20, ge=1, description="prune once the conversation has this many assistant turns")
    always_keep: list[str] = Field(default_factory=list, description="tool names never pruned")


def _required(request: dict[str, Any]) -> set[str]:
    """The tool `tool_choice` names (Anthropic `{"type": "tool", "name"}`, OpenAI `{"type": "function", ...}`)."""
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool" and choice.get("name"):
        return {str(choice["name"])}
    if isinstance(choice, dict) and choice.get("type") == "function" and (choice.get("function") or {}).get("name"):
        return {str(choice["function"]["name"])}
    return set()


class ToolPruning(Strategy):
    kind = "tool_pruning"
    default_enabled = False
    endpoints = ("/v1/messages", "/v1/chat/completions")
    Params = PruneParams
    summary = "drop tool definitions a long conversation never used (decided once, kept stable)"

    def apply(self, request: dict[str, Any], ctx: Context, params: PruneParams) -> Applied | NotApplied:
        tools = request.get("tools")
        messages = request.get("messages")
        if not isinstance(tools, list) or not tools or not isinstance(messages, list):
            return NotApplied("no tools", quiet=True)
        assistants = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
        if len(assistants) < params.min_turns:
            return NotApplied("conversation shorter than min_turns", quiet=True)
        choice = request.get("tool_choice")
        if (isinstance(choice, dict) and choice.get("type") == "any") or choice == "required":
            return NotApplied("tool_choice any: every tool may be required")
        keep = tool_names_used(messages) | _required(request) | set(params.always_keep)
        # The decision turn: the request that ended with the reply to the min_turns-th assistant turn.
        decided_at = assistants[params.min_turns - 1] + 2
        keep_then = tool_names_used(messages[:decided_at]) | _required(request) | set(params.always_keep)

        def kept(names: set[str]) -> list[Any]:
            return [t for t in tools if not isinstance(t, dict) or tool_name(t) in names or not client_tool(t)]

        dropped_then = [t for t in tools if t not in kept(keep_then)]
        fixed = tokens.estimate(tools) + tokens.estimate(request.get("system"))
        sizes = message_sizes(messages[:decided_at])
        ledger = Ledger(params, fixed)
        for i in rounds(messages[:decided_at]):  # the session's cost up to the decision turn
            ledger.turn(sum(sizes[: i + 1]))
        if not dropped_then or not ledger.allow(tokens.estimate(dropped_then), fixed + sum(sizes)):
            return NotApplied("pruning did not pay for itself when the conversation reached min_turns")
        new_tools = kept(keep)
        if len(new_tools) == len(tools):
            return NotApplied("every tool is used")
        before = tokens.estimate(request)
        saved = tokens.estimate(tools) - tokens.estimate(new_tools)
        return Applied({**request, "tools": new_tools},
                       Decision(self.kind, f"dropped {len(tools) - len(new_tools)} unused tool definition(s)",
                                before, before - saved, {"toolsDropped": len(tools) - len(new_tools)}))
