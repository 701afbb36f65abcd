"""Answers as streams and streams as answers, in the Anthropic dialect.

A cached answer is stored as one Messages API object; a client that asked to stream gets it back as
the exact SSE event sequence the API would have sent (message_start, per-block start/delta/stop,
message_delta, message_stop), which the SDKs' stream parsers accept. The reverse, assembling a streamed
answer into one object, is only done when the optimizer asked to cache that answer.
"""

from __future__ import annotations

from typing import Any

import orjson


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _block_start_and_deltas(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": ""}, [{"type": "text_delta", "text": block.get("text", "")}]
    if kind in ("tool_use", "server_tool_use"):
        start = {k: v for k, v in block.items() if k != "input"} | {"input": {}}
        return start, [{"type": "input_json_delta", "partial_json": orjson.dumps(block.get("input", {})).decode()}]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": block.get("thinking", "")}]
        if block.get("signature"):
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return {"type": "thinking", "thinking": "", "signature": ""}, deltas
    return block, []  # redacted_thinking and other whole blocks arrive complete in their start event


def anthropic_sse_from_message(message: dict[str, Any]) -> bytes:
    usage = dict(message.get("usage") or {})
    head = {k: v for k, v in message.items() if k not in ("content", "stop_reason", "stop_sequence", "usage")}
    head |= {"content": [], "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 0}}
    out = [_event("message_start", {"type": "message_start", "message": head})]
    for index, block in enumerate(message.get("content") or []):
        start, deltas = _block_start_and_deltas(block)
        out.append(_event("content_block_start", {"type": "content_block_start", "index": index,
                                                  "content_block": start}))
        out += [_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
                for d in deltas]
        out.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": message.get("stop_reason"), "stop_sequence": message.get("stop_sequence")}
    out.append(_event("message_delta", {"type": "message_delta", "delta": delta,
                                        "usage": {"output_tokens": usage.get("output_tokens", 0)}}))
    out.append(_event("message_stop", {"type": "message_stop"}))
    return b"".join(out)


class AnthropicMessageAssembler:
    """Rebuilds the Messages API object from SSE chunks; `message` is set once message_stop arrives."""

    def __init__(self) -> None:
        self._tail = b""
        self._message: dict[str, Any] | None = None
        self._json_parts: dict[int, list[str]] = {}
        self.message: dict[str, Any] | None = None
        self.broken = False

    @property
    def so_far(self) -> dict[str, Any] | None:
        """The message as far as the events went (its blocks complete once their content_block_stop came)."""
        return self._message

    def feed(self, chunk: bytes) -> None:
        if self.broken:
            return
        lines = (self._tail + chunk).split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            try:
                self._apply(orjson.loads(line[5:]))
            except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError):
                self.broken = True  # never cache what we could not follow
                return

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            self._message = dict(event["message"])
            self._message["content"] = []
        elif self._message is None:
            return
        elif kind == "content_block_start":
            block = dict(event["content_block"])
            if block.get("type") in ("tool_use", "server_tool_use"):
                self._json_parts[event["index"]] = []
            self._message["content"].append(block)
        elif kind == "content_block_delta":
            block, delta = self._message["content"][event["index"]], event["delta"]
            dtype = delta.get("type")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + delta["text"]
            elif dtype == "input_json_delta":
                self._json_parts[event["index"]].append(delta["partial_json"])
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta["thinking"]
            elif dtype == "signature_delta":
                block["signature"] = delta["signature"]
        elif kind == "content_block_stop":
            parts = self._json_parts.pop(event["index"], None)
            if parts is not None:
                self._message["content"][event["index"]]["input"] = orjson.loads("".join(parts) or "{}")
        elif kind == "message_delta":
            self._message.update(event.get("delta") or {})
            self._message["usage"] = {**(self._message.get("usage") or {}), **(event.get("usage") or {})}
        elif kind == "message_stop":
            self.message = self._message
        elif kind == "error":
            self.broken = True
