"""An Anthropic Message -> an OpenAI chat.completion, so the client never sees an Anthropic shape."""

from __future__ import annotations

import time
from typing import Any

import orjson

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: Any, *, json_tool: bool = False) -> str:
    """OpenAI's finish_reason for Claude's stop_reason; a response_format tool call is a plain stop."""
    reason = FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"
    return "stop" if json_tool and reason == "tool_calls" else reason


def chat_usage(usage: Any) -> dict[str, Any]:
    """Claude counts cache reads and writes apart from input_tokens; OpenAI's prompt_tokens includes them."""
    usage = usage if isinstance(usage, dict) else {}

    def n(name: str) -> int:
        value = usage.get(name)
        return value if isinstance(value, int) else 0

    cached = n("cache_read_input_tokens")
    prompt = n("input_tokens") + cached + n("cache_creation_input_tokens")
    completion = n("output_tokens")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def completion_id(message_id: Any) -> str:
    text = message_id if isinstance(message_id, str) and message_id else "anyray"
    return "chatcmpl-" + text.removeprefix("msg_")


def message_to_completion(
    message: dict[str, Any], *, model: str, json_tool: str | None = None, created: int | None = None
) -> dict[str, Any]:
    """The chat.completion for a complete Anthropic Message. Thinking blocks are not part of the answer."""
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use" and json_tool is not None and block.get("name") == json_tool:
            texts.append(orjson.dumps(block.get("input") or {}).decode())
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            tool_calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
    reply: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
    if tool_calls:
        reply["tool_calls"] = tool_calls
    reason = finish_reason(message.get("stop_reason"), json_tool=json_tool is not None)
    if reason == "tool_calls" and not tool_calls:
        reason = "stop"
    return {
        "id": completion_id(message.get("id")),
        "object": "chat.completion",
        "created": created if created is not None else int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": reply, "logprobs": None, "finish_reason": reason}],
        "usage": chat_usage(message.get("usage")),
        "system_fingerprint": None,
    }
