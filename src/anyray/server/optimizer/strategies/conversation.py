"""Shared by the conversation strategies: where turns begin, what a change costs in cache terms.

A conversation strategy changes bytes that an earlier turn already sent, and so breaks the provider's
prompt cache from the first changed byte on: the request after the change pays a cache *write*
(1.25x the input price) for everything behind that point instead of a *read* (0.1x). Two rules keep
that from ever making a session dearer:

- Steps, not drift. What a strategy changes is a function of the history up to a boundary that moves in
  large steps (every N turns, or once), computed by replaying the history from the start. Every later
  turn recomputes the same bytes; the prefix changes only on the turn a boundary moves.
- A step must pay for itself, or risk almost nothing. Moving a boundary that saves S tokens out of a
  tail of R tokens (from the first changed byte to the end of the request on the turn the boundary
  moves) costs 1.25(R - S) written instead of 0.1R read, and then saves 0.1S on every later turn. A
  step is taken when it has paid back within `max_payback_turns` turns (the default, 1, needs S >= ~85 %
  of R: a few large outputs dominate the tail), or when what it has not yet paid back, added to what
  earlier steps have not yet paid back, stays within `max_session_share` (1 %) of what the session has
  cost so far (estimated as if every earlier turn had read its prefix from cache, the cheapest it can
  have been). A session that ends right after a step is then at most that share dearer; one that goes
  on is cheaper a few turns later.

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
        1.0, ge=0, description="take a step (break the cached prefix) if it pays back within this many turns"
    )
    max_session_share: float = Field(
        0.01, ge=0, le=0.02, description="... or if what steps have not paid back yet stays within this share "
        "of the session's cost so far",
    )


def extra_cost(saved: int, tail: int) -> float:
    """What a step costs on its turn: write the smaller tail instead of reading the whole one."""
    return WRITE * (tail - saved) - READ * tail


def pays_off(saved: int, tail: int, max_payback_turns: float) -> bool:
    """Whether saving `saved` of a `tail` that must be re-written pays back within the given turns."""
    return saved > 0 and extra_cost(saved, tail) <= READ * saved * max_payback_turns


class Ledger:
    """Replays a session's steps: what they have not paid back yet, and the session's cost so far (both in
    units of the base input price), so a step can be allowed on a small share of what was spent."""

    def __init__(self, params: StepParams, fixed: int) -> None:
        self.params = params
        self.fixed = fixed  # tools + system: read from cache on every turn
        self.sent = 0  # message tokens of the previous replayed request
        self.spent = 0.0
        self.debt = 0.0
        self.rate = 0.0  # what the steps taken save per turn

    def turn(self, message_tokens: int) -> None:
        """One more replayed request, `message_tokens` long in its messages."""
        if self.sent == 0:
            self.spent += WRITE * (self.fixed + message_tokens)
        else:
            self.spent += READ * (self.fixed + self.sent) + WRITE * max(message_tokens - self.sent, 0)
        self.sent = message_tokens
        self.debt = max(self.debt - self.rate, 0.0)

    def allow(self, saved: int, tail: int) -> bool:
        if saved <= 0:
            return False
        if pays_off(saved, tail, self.params.max_payback_turns):
            return True
        return self.debt + extra_cost(saved, tail) <= self.params.max_session_share * self.spent

    def take(self, saved: int, tail: int) -> None:
        self.debt += max(extra_cost(saved, tail), 0.0)
        self.rate += READ * saved


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
    """Every tool the history called, in either dialect (Anthropic tool_use blocks, OpenAI tool_calls)."""
    used = set()
    for m in messages:
        if isinstance(m, dict) and m.get("role") == "assistant":
            used |= {str(b.get("name")) for b in blocks(m) if b.get("type") in ("tool_use", "server_tool_use")}
            used |= {str((c.get("function") or {}).get("name")) for c in m.get("tool_calls") or ()
                     if isinstance(c, dict)}
    return used


def tool_name(tool: Any) -> str:
    """A tool definition's name: Anthropic's `name`, OpenAI's `function.name`."""
    if not isinstance(tool, dict):
        return ""
    return str(tool.get("name") or (tool.get("function") or {}).get("name") or "")


def client_tool(tool: Any) -> bool:
    """A tool the client runs (Anthropic custom, OpenAI function), not one the provider runs itself."""
    return isinstance(tool, dict) and tool.get("type") in (None, "custom", "function")


def has_messages(request: dict[str, Any]) -> bool:
    return isinstance(request.get("messages"), list) and bool(request["messages"])


anthropic_only = has_messages  # the name it had when only Anthropic histories were read


def rounds(messages: list[Any]) -> list[int]:
    """Where each client round ends, one request per round, in either dialect: an Anthropic user message (a
    prompt, or the results of the tools the last turn called), an OpenAI user message, or the last `tool`
    message of a run (the results the client sends back in one request)."""
    out = []
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        nxt = messages[i + 1].get("role") if i + 1 < len(messages) and isinstance(messages[i + 1], dict) else None
        if role == "user" or (role == "tool" and nxt != "tool"):
            out.append(i)
    return out


def tool_results(messages: list[Any], start: int, end: int) -> list[tuple[int, int | None, Any]]:
    """The tool results in messages [start, end] as (message, block or None, content): Anthropic
    tool_result blocks, OpenAI `tool` messages (block None)."""
    out: list[tuple[int, int | None, Any]] = []
    for mi in range(start, end + 1):
        m = messages[mi]
        if not isinstance(m, dict):
            continue
        if m.get("role") == "tool":
            out.append((mi, None, m.get("content")))
        elif m.get("role") == "user":
            content = m.get("content")
            for bi, b in enumerate(content if isinstance(content, list) else ()):
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    out.append((mi, bi, b.get("content")))
    return out
