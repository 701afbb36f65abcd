"""Streams: Anthropic SSE events -> chat.completion.chunk SSE, and whole answers <-> chunk sequences.

`ChatStreamTranslator` is fed the upstream's bytes as they arrive and returns the client's bytes at
once, event by event: nothing waits for the end of the answer. `completion_to_chunks` and
`chunks_to_completion` turn a stored answer into the stream a client would have seen, and back.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from anyray.translate.response import chat_usage, completion_id, finish_reason

DONE = b"data: [DONE]\n\n"


def sse(data: Any) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


def sse_bytes(chunks: list[dict[str, Any]]) -> bytes:
    """A chunk sequence as the body of a streamed response, `data: [DONE]` included."""
    return b"".join(sse(c) for c in chunks) + DONE


def stream_error(message: str, kind: str = "server_error", code: str | None = None) -> bytes:
    """An error inside a stream, the way OpenAI sends one: the SDKs raise it as an APIError."""
    return sse({"error": {"message": message, "type": kind, "param": None, "code": code}})


class ChatStreamTranslator:
    """One Anthropic Messages stream in, one chat.completion.chunk stream out."""

    def __init__(
        self, *, model: str, include_usage: bool = False, json_tool: str | None = None, created: int | None = None
    ) -> None:
        self.model = model
        self.include_usage = include_usage
        self.json_tool = json_tool
        self.created = created if created is not None else int(time.time())
        self.id = completion_id(None)
        self.usage: dict[str, int] = {}  # Anthropic usage, as message_start and message_delta report it
        self.complete = False
        self.errored = False
        self._tail = b""
        self._tool_index: dict[int, int] = {}  # Anthropic content block index -> OpenAI tool_calls index
        self._json_blocks: set[int] = set()
        self._finished = False

    def feed(self, chunk: bytes) -> bytes:
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        out = []
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            try:
                event = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict):
                out.append(self._event(event))
        return b"".join(out)

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        data: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            data["usage"] = None  # as OpenAI does: every chunk but the last says usage: null
        return sse(data)

    def _add_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            for name, value in usage.items():
                if isinstance(value, int) and value:
                    self.usage[name] = value

    def _event(self, event: dict[str, Any]) -> bytes:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.id = completion_id(message.get("id"))
            self._add_usage(message.get("usage"))
            return self._chunk({"role": "assistant", "content": "", "refusal": None})
        if kind == "content_block_start":
            return self._block_start(event.get("index"), event.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(event.get("index"), event.get("delta") or {})
        if kind == "message_delta":
            self._add_usage(event.get("usage"))
            reason = (event.get("delta") or {}).get("stop_reason")
            return self._finish(reason)
        if kind == "message_stop":
            self.complete = True
            out = self._finish("end_turn") if not self._finished else b""
            if self.include_usage:
                final = {
                    "id": self.id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "system_fingerprint": None,
                    "choices": [],
                    "usage": chat_usage(self.usage),
                }
                out += sse(final)
            return out + DONE
        if kind == "error":
            self.errored = True
            err = event.get("error") if isinstance(event.get("error"), dict) else {}
            return stream_error(str(err.get("message") or "upstream error"), code=err.get("type"))
        return b""  # ping, content_block_stop, and whatever a newer API adds

    def _finish(self, stop_reason: Any) -> bytes:
        if self._finished:
            return b""
        self._finished = True
        reason = finish_reason(stop_reason, json_tool=self.json_tool is not None)
        if reason == "tool_calls" and not self._tool_index:
            reason = "stop"
        return self._chunk({}, reason)

    def _block_start(self, index: Any, block: dict[str, Any]) -> bytes:
        kind = block.get("type")
        if kind == "tool_use" and self.json_tool is not None and block.get("name") == self.json_tool:
            self._json_blocks.add(index)
            return b""
        if kind == "tool_use":
            position = self._tool_index[index] = len(self._tool_index)
            call = {
                "index": position,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            return self._chunk({"tool_calls": [call]})
        if kind == "text" and block.get("text"):
            return self._chunk({"content": block["text"]})
        return b""

    def _block_delta(self, index: Any, delta: dict[str, Any]) -> bytes:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return self._chunk({"content": delta["text"]})
        if kind == "input_json_delta" and delta.get("partial_json"):
            if index in self._json_blocks:
                return self._chunk({"content": delta["partial_json"]})
            if index in self._tool_index:
                fragment = {"index": self._tool_index[index], "function": {"arguments": delta["partial_json"]}}
                return self._chunk({"tool_calls": [fragment]})
        return b""  # thinking and signature deltas are not part of an OpenAI answer


# ---------------------------------------------------------------------------------------------- whole answers


def completion_to_chunks(completion: dict[str, Any], *, include_usage: bool = True) -> list[dict[str, Any]]:
    """The chat.completion.chunk sequence a stream would have carried for this chat.completion.

    Per choice: the role, the content, the refusal, each tool call whole, then the finish reason; then,
    if the completion has usage and `include_usage`, a final usage chunk with no choices.
    """
    usage = completion.get("usage") if include_usage else None
    base = {
        "id": completion.get("id"),
        "object": "chat.completion.chunk",
        "created": completion.get("created", int(time.time())),
        "model": completion.get("model"),
        "system_fingerprint": completion.get("system_fingerprint"),
    }

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if usage is not None:
            out["usage"] = None
        return out

    chunks = []
    for position, choice in enumerate(completion.get("choices") or ()):
        index = choice.get("index", position)
        message = choice.get("message") or {}
        chunks.append(chunk(index, {"role": message.get("role", "assistant"), "content": "", "refusal": None}))
        if message.get("content"):
            chunks.append(chunk(index, {"content": message["content"]}))
        if message.get("refusal"):
            chunks.append(chunk(index, {"refusal": message["refusal"]}))
        for i, call in enumerate(message.get("tool_calls") or ()):
            fn = call.get("function") or {}
            whole = {
                "index": i,
                "id": call.get("id"),
                "type": call.get("type", "function"),
                "function": {"name": fn.get("name"), "arguments": fn.get("arguments", "")},
            }
            chunks.append(chunk(index, {"tool_calls": [whole]}))
        chunks.append(chunk(index, {}, choice.get("finish_reason") or "stop"))
    if usage is not None:
        chunks.append({**base, "choices": [], "usage": usage})
    return chunks


def chunks_to_completion(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Reassemble a streamed answer into the chat.completion the same request would have returned."""
    first = next((c for c in chunks if isinstance(c, dict)), {})
    choices: dict[int, dict[str, Any]] = {}
    usage = None
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            state = choices.setdefault(
                choice.get("index", 0), {"role": "assistant", "content": [], "refusal": [], "tools": {}, "finish": None}
            )
            delta = choice.get("delta") or {}
            if delta.get("role"):
                state["role"] = delta["role"]
            if delta.get("content"):
                state["content"].append(delta["content"])
            if delta.get("refusal"):
                state["refusal"].append(delta["refusal"])
            for call in delta.get("tool_calls") or ():
                slot = state["tools"].setdefault(
                    call.get("index", 0), {"id": None, "type": "function", "name": None, "arguments": []}
                )
                slot["id"] = call.get("id") or slot["id"]
                slot["type"] = call.get("type") or slot["type"]
                fn = call.get("function") or {}
                slot["name"] = fn.get("name") or slot["name"]
                if fn.get("arguments"):
                    slot["arguments"].append(fn["arguments"])
            if choice.get("finish_reason"):
                state["finish"] = choice["finish_reason"]
    out_choices = []
    for index in sorted(choices):
        state = choices[index]
        message: dict[str, Any] = {
            "role": state["role"],
            "content": "".join(state["content"]) if state["content"] else None,
            "refusal": "".join(state["refusal"]) if state["refusal"] else None,
        }
        if state["tools"]:
            message["tool_calls"] = [
                {
                    "id": slot["id"],
                    "type": slot["type"],
                    "function": {"name": slot["name"], "arguments": "".join(slot["arguments"])},
                }
                for _, slot in sorted(state["tools"].items())
            ]
        out_choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": state["finish"]})
    completion: dict[str, Any] = {
        "id": first.get("id"),
        "object": "chat.completion",
        "created": first.get("created"),
        "model": first.get("model"),
        "choices": out_choices,
        "system_fingerprint": first.get("system_fingerprint"),
    }
    if usage is not None:
        completion["usage"] = usage
    return completion
