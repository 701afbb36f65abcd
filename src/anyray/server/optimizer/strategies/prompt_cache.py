"""prompt_cache: place cache_control breakpoints where a client placed none.

Anthropic bills a cached prefix read at a tenth of the input price, but only for prefixes a request
marks. Most SDK apps mark nothing and pay full price for the same tools and system prompt every turn.
This strategy marks, at most four places, in prompt order (tools -> system -> messages):
- the end of the tools and the end of the system prompt (stable across a session);
- the last user message (written now, read next turn) and the user message one turn before it (what
  the previous request wrote, so this one reads it even when a turn added more than 20 blocks).
A mark is placed only where the prefix up to it reaches the model's minimum cacheable length: below
it the API ignores the mark and it would only cost a slot. A client that placed any breakpoint of its
own knows better: its request is left exactly as it is. Placement depends only on the request, so the
same conversation gets the same marks on every turn and in every process.

An OpenAI-shaped request bound for Claude (the route's `wire` is `anthropic`: the gateway translates it)
is marked the same way in its own shape, the convention Claude-aware OpenAI clients use: `cache_control`
on a tool and on a message's last text part (a string content becomes one part); the translation carries
the marks over. Bound for OpenAI, nothing is marked: OpenAI caches prefixes by itself.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import Field

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy

MAX_BREAKPOINTS = 4
# Minimum cacheable prefix by model family, from Anthropic's prompt-caching documentation (first match wins).
DEFAULT_MIN_TOKENS = {
    "claude-opus-5*": 512,
    "claude-sonnet-4-6*": 2048,
    "claude-opus-4-5*": 4096,
    "claude-opus-4-6*": 4096,
    "claude-opus-4-7*": 4096,
    "claude-haiku-4-5*": 4096,
    "claude-3-5-haiku*": 2048,
    "claude-3-haiku*": 2048,
    "*": 1024,
}
_MARKABLE = {"text", "image", "document", "tool_result", "tool_use"}


class PromptCacheParams(Params):
    ttl: str = Field("5m", pattern="^(5m|1h)$")
    min_tokens: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_MIN_TOKENS))
    conversation: bool = Field(True, description="also mark the conversation prefix, not only tools and system")


class PromptCache(Strategy):
    kind = "prompt_cache"
    default_enabled = True
    endpoints = ("/v1/messages", "/v1/chat/completions")
    Params = PromptCacheParams
    summary = "place cache_control breakpoints (at most 4) where the client placed none"

    def apply(self, request: dict[str, Any], ctx: Context, params: PromptCacheParams) -> Applied | NotApplied:
        if ctx.endpoint == "/v1/chat/completions":
            if ctx.route.get("wire") != "anthropic":
                return NotApplied("the upstream caches prefixes by itself", quiet=True)
            return _openai(request, ctx, params)
        if has_breakpoints(request):
            return NotApplied("client placed its own breakpoints", preserved=["cache_control"])
        at = _Placement(min_cacheable(ctx.model or str(request.get("model", "")), params.min_tokens), params.ttl)
        new = dict(request)
        prefix = at.tools(new, request.get("tools"))

        system = request.get("system")
        if system:
            prefix += tokens.estimate(system)
            if prefix >= at.minimum:
                if isinstance(system, str):
                    new["system"] = [{"type": "text", "text": system, "cache_control": at.mark}]
                    at.place("system", prefix)
                elif isinstance(system, list) and isinstance(system[-1], dict) and system[-1].get("type") == "text":
                    new["system"] = [*system[:-1], {**system[-1], "cache_control": at.mark}]
                    at.place("system", prefix)

        messages = request.get("messages")
        if params.conversation and isinstance(messages, list) and messages:
            sizes = [tokens.estimate(m) for m in messages]
            last = len(messages) - 1
            marked = list(messages)
            at.messages(marked, ((i, prefix + sum(sizes[: i + 1])) for i in (last - 2, last) if i >= 0),
                        _mark_message)
            if marked != messages:
                new["messages"] = marked

        return at.result(self.kind, new, lambda: prefix + (
            sum(tokens.estimate(m) for m in messages) if isinstance(messages, list) else 0))


class _Placement:
    """The breakpoints of one request as they are placed, in prompt order, at most MAX_BREAKPOINTS, each only
    where the prefix up to it reaches the model's minimum: the same bookkeeping for either API's shape."""

    def __init__(self, minimum: int, ttl: str) -> None:
        self.minimum = minimum
        self.mark = {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": "1h"}
        self.placed: list[str] = []
        self.cached_prefix = 0

    def place(self, where: str, upto: int) -> None:
        self.placed.append(where)
        self.cached_prefix = upto

    def tools(self, new: dict[str, Any], tools: Any) -> int:
        """The end of the tools marked when they alone reach the minimum; the prefix they make."""
        if not (isinstance(tools, list) and tools and isinstance(tools[-1], dict)):
            return 0
        prefix = tokens.estimate(tools)
        if prefix >= self.minimum:
            new["tools"] = [*tools[:-1], {**tools[-1], "cache_control": self.mark}]
            self.place("tools", prefix)
        return prefix

    def messages(self, marked: list[Any], candidates: Iterable[tuple[int, int]],
                 mark_one: Callable[[Any, dict[str, str]], dict[str, Any] | None]) -> None:
        """Each (index, prefix up to and with it) in turn, while slots remain, marked in `marked` in place."""
        for i, upto in candidates:
            if len(self.placed) >= MAX_BREAKPOINTS:
                break
            message = mark_one(marked[i], self.mark) if upto >= self.minimum else None
            if message is not None:
                marked[i] = message
                self.place(f"messages[{i - len(marked)}]", upto)

    def result(self, kind: str, new: dict[str, Any], total: Callable[[], int]) -> Applied | NotApplied:
        if not self.placed:
            return NotApplied(f"prefix shorter than the model's minimum cacheable length ({self.minimum} tokens)")
        size = total()
        return Applied(new, Decision(kind, f"placed {len(self.placed)} breakpoint(s): {', '.join(self.placed)}",
                                     size, size, {"breakpoints": len(self.placed),
                                                  "cacheablePrefixTokens": self.cached_prefix,
                                                  "minTokens": self.minimum}))


def has_breakpoints(request: dict[str, Any]) -> bool:
    """Any mark of the client's own, including the API's top-level (automatic caching) `cache_control`."""
    if "cache_control" in request:
        return True
    for tool in request.get("tools") or ():
        if isinstance(tool, dict) and "cache_control" in tool:
            return True
    system = request.get("system")
    if isinstance(system, list) and any(isinstance(b, dict) and "cache_control" in b for b in system):
        return True
    for message in request.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(b, dict) and "cache_control" in b for b in content):
            return True
    return False


_MINIMUMS: dict[tuple[str, int], tuple[dict[str, int], int]] = {}


def min_cacheable(model: str, table: dict[str, int]) -> int:
    """The model's minimum cacheable prefix; remembered per (model, table), since matching is glob by glob."""
    kept = _MINIMUMS.get((model, id(table)))
    if kept is not None and kept[0] is table:
        return kept[1]
    if len(_MINIMUMS) > 1024:
        _MINIMUMS.clear()
    minimum = _min_cacheable(model, table)
    _MINIMUMS[(model, id(table))] = (table, minimum)
    return minimum


def _min_cacheable(model: str, table: dict[str, int]) -> int:
    bare = model.split("@")[0]
    for pattern, minimum in table.items():
        if fnmatch.fnmatchcase(bare, pattern):
            return minimum
    return DEFAULT_MIN_TOKENS["*"]


def _mark_message(message: Any, mark: dict[str, str]) -> dict[str, Any] | None:
    if not isinstance(message, dict) or message.get("role") != "user":
        return None
    content = message.get("content")
    if isinstance(content, str) and content:
        return {**message, "content": [{"type": "text", "text": content, "cache_control": mark}]}
    if isinstance(content, list) and content and isinstance(content[-1], dict) and content[-1].get("type") in _MARKABLE:
        return {**message, "content": [*content[:-1], {**content[-1], "cache_control": mark}]}
    return None


# --------------------------------------------------------------------------- OpenAI-shaped, bound for Claude


def _openai(request: dict[str, Any], ctx: Context, params: PromptCacheParams) -> Applied | NotApplied:
    if _openai_has_breakpoints(request):
        return NotApplied("client placed its own breakpoints", preserved=["cache_control"])
    minimum = min_cacheable(ctx.model or str(request.get("model", "")), params.min_tokens)
    messages = request.get("messages")
    messages = messages if isinstance(messages, list) else []
    sizes = [tokens.estimate(m) for m in messages]
    tools = request.get("tools")
    if sum(sizes) + tokens.estimate(tools) < minimum:  # a short chat: no prefix can reach the minimum
        return NotApplied(f"prefix shorter than the model's minimum cacheable length ({minimum} tokens)")
    at = _Placement(minimum, params.ttl)
    new = dict(request)
    prefix = at.tools(new, tools)
    # Claude's system prompt is every system/developer message, in order: mark the last of them
    systems = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") in ("system", "developer")]
    marked = list(messages)
    if systems:
        prefix += sum(sizes[i] for i in systems)
        if prefix >= minimum and (m := _mark_part(messages[systems[-1]], at.mark)) is not None:
            marked[systems[-1]] = m
            at.place("system", prefix)
    rest = [i for i in range(len(messages)) if i not in set(systems)]
    asking = [i for i in rest if isinstance(messages[i], dict) and messages[i].get("role") in ("user", "tool")
              and (i + 1 == len(messages) or messages[i + 1].get("role") != "tool")]  # the ends of client rounds
    if params.conversation:
        ends = asking[-3::2][::-1] if len(asking) >= 3 else asking[-1:]  # this round's end, two rounds back
        at.messages(marked, ((i, prefix + sum(sizes[j] for j in rest if j <= i)) for i in ends), _mark_part)
    if marked != messages:
        new["messages"] = marked
    return at.result("prompt_cache", new, lambda: tokens.estimate(request))


def _mark_part(message: Any, mark: dict[str, str]) -> dict[str, Any] | None:
    """An OpenAI message with `cache_control` on its last text part (a string content becomes one part)."""
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, str) and content:
        return {**message, "content": [{"type": "text", "text": content, "cache_control": mark}]}
    if isinstance(content, list) and content and isinstance(content[-1], dict) and content[-1].get("type") == "text" \
            and content[-1].get("text"):
        return {**message, "content": [*content[:-1], {**content[-1], "cache_control": mark}]}
    return None


def _openai_has_breakpoints(request: dict[str, Any]) -> bool:
    if any(isinstance(t, dict) and "cache_control" in t for t in request.get("tools") or ()):
        return True
    for message in request.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(p, dict) and "cache_control" in p for p in content):
            return True
    return False
