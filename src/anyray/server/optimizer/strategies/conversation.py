"""Shared by the conversation strategies: where turns begin, what a change costs in cache terms.

A conversation strategy changes bytes that an earlier turn already sent, and so breaks the provider's
prompt cache from the first changed byte on: the request after the change pays a cache *write*
(1.25x the input price) for everything behind that point instead of a *read* (0.1x). Two rules keep
that from ever making a session dearer:

- Steps, not drift. What a strategy changes is a function of the history up to a boundary that moves in
  large steps (every N turns, or once), computed by replaying the history from the start. Every later
  turn recomputes the same bytes; the prefix changes only on the turn a boundary moves.
- A step must pay for itself. Moving a boundary that saves S tokens out of a tail of R tokens (from the
  first changed byte to the end of the request on the turn the boundary moves) costs 1.25(R - S) written
  instead of 0.1R read, and then saves 0.1S on every later turn. The step is taken only when it has
  paid back within `max_payback_turns` turns; the default (1) needs S >= ~85 % of R, which is what
  happens when a few large tool outputs dominate the tail, and makes a short session never dearer.

Everything here reads only the request, so the answer is the same in every process.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Params

WRITE, READ = 1.25, 0.1  # cache write and read prices, as multiples of the base input price


class StepParams(Params):
    max_payback_turns: float = Field(
        1.0, ge=0, description="take a step (break the cached prefix) only if it pays back within this many turns"
    )


def pays_off(saved: int, tail: int, max_payback_turns: float) -> bool:
    """Whether saving `saved` of a `tail` that must be re-written pays back within the given turns."""
    if saved <= 0:
        return False
    extra = WRITE * (tail - saved) - READ * tail  # this turn: write the smaller tail instead of reading it
    return extra <= READ * saved * max_payback_turns


def message_sizes(messages: list[Any]) -> list[int]:
    return [tokens.estimate(m) for m in messages]


def blocks(message: Any) -> list[dict[str, Any]]:
    content = message.get("content") if isinstance(message, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def has_tool_result(message: Any) -> bool:
    return any(b.get("type") == "tool_result" for b in blocks(message))


def _is_user(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") == "user"


def prompt_indexes(messages: list[Any]) -> list[int]:
    """Where a new turn starts in the API's sense: a run of consecutive user messages (the API merges
    them into one) that carries no tool_result. After it, earlier turns' thinking is no longer required.
    A text-only user message right after a tool_result message (Claude Code's reminders) is not one."""
    out = []
    i = 0
    while i < len(messages):
        if not _is_user(messages[i]):
            i += 1
            continue
        j = i
        while j < len(messages) and _is_user(messages[j]):
            j += 1
        if not any(has_tool_result(m) for m in messages[i:j]):
            out.append(i)
        i = j
    return out


def user_indexes(messages: list[Any]) -> list[int]:
    return [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"]


def tool_names_used(messages: list[Any]) -> set[str]:
    return {str(b.get("name")) for m in messages if isinstance(m, dict) and m.get("role") == "assistant"
            for b in blocks(m) if b.get("type") in ("tool_use", "server_tool_use")}


def anthropic_only(request: dict[str, Any]) -> bool:
    return isinstance(request.get("messages"), list) and bool(request["messages"])
