"""Reading token usage from an answer as it passes, without holding or re-emitting it."""

from __future__ import annotations

import orjson

from anyray.pricing import fold_openai_usage
from anyray.server.gateway.call import Usage


class AnthropicStreamUsage:
    """Watches an Anthropic SSE stream for `message_start` / `message_delta` usage.

    Only `data:` lines that mention usage are parsed, so text deltas cost a substring search.
    """

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self._tail = b""
        self.complete = False
        self.errored = False  # the upstream itself ended the stream with an `event: error`

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            if line.startswith(b"event:") and line[6:].strip() == b"error":
                self.errored = True
            elif line.startswith(b"data:") and (b'"usage"' in line or b"message_stop" in line):
                try:
                    event = orjson.loads(line[5:])
                except orjson.JSONDecodeError:
                    continue
                kind = event.get("type")
                if kind == "message_start":
                    self.usage.update((event.get("message") or {}).get("usage"))
                elif kind == "message_delta":
                    self.usage.update(event.get("usage"))
                elif kind == "message_stop":
                    self.complete = True


class OpenAIStreamTap:
    """Reads usage from the final usage chunk as the stream passes; optionally hides that chunk.

    Without hiding, chunks pass through byte for byte. With it, the stream is cut at event boundaries
    (`\\n\\n`) so the usage-only chunk the gateway asked for can be left out; every other event is sent
    the moment it is complete.
    """

    def __init__(self, usage: Usage, hide_usage_chunk: bool) -> None:
        self.usage = usage
        self.hide = hide_usage_chunk
        self.complete = False
        self.errored = False  # the upstream sent its own `{"error": ...}` event
        self._tail = b""

    def _inspect(self, event: bytes) -> bool:
        """Look at one event; False if it must not reach the client."""
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                self.complete = True
            elif data.startswith(b'{"error"'):
                self.errored = True
            elif b'"usage":{' in data or b'"usage": {' in data:
                try:
                    chunk = orjson.loads(data)
                except orjson.JSONDecodeError:
                    return True
                if isinstance(chunk, dict) and isinstance(chunk.get("usage"), dict):
                    fold_openai_usage(chunk["usage"], self.usage)
                    if self.hide and not chunk.get("choices"):
                        return False
        return True

    def feed(self, chunk: bytes) -> bytes:
        data = (self._tail + chunk).replace(b"\r\n", b"\n")
        events = data.split(b"\n\n")
        self._tail = events.pop()
        if not self.hide:
            for event in events:
                self._inspect(event)
            return chunk
        return b"".join(event + b"\n\n" for event in events if self._inspect(event))

    def flush(self) -> bytes:
        tail, self._tail = self._tail, b""
        if tail.strip():
            keep = self._inspect(tail)
            return tail if self.hide and keep else b""
        return b""


class TailUsage:
    """The usage a forwarded answer reports (embeddings, the Responses API, whatever comes next), read from
    its last `TAIL` bytes: every OpenAI and Anthropic answer puts `usage` after its content, in a JSON body
    and in a stream's final event (`response.completed`) alike, so nothing but the tail is ever kept.

    `openai`: the OpenAI dialect's meaning (its input counts include cached input; Anthropic's do not).
    """

    TAIL = 1 << 16

    def __init__(self, openai: bool) -> None:
        self.openai = openai
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        self._tail = (self._tail + chunk)[-self.TAIL:]

    def fold_into(self, usage: Usage) -> bool:
        """Fold the last well-formed `"usage": {...}` of the tail into `usage`; False when there is none."""
        data, end = self._tail, len(self._tail)
        while (at := data.rfind(b'"usage"', 0, end)) >= 0:
            end = at
            start = data.find(b"{", at + 7, at + 32)
            if start < 0 or data[at + 7:start].strip() != b":":
                continue
            raw = _one_object(data, start)
            if isinstance(raw, dict):
                _fold(raw, usage, self.openai)
                return True
        return False


def _one_object(data: bytes, start: int) -> object:
    """The JSON object starting at `start` (its closing brace found by depth, strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, min(len(data), start + 4096)):
        c = data[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                try:
                    return orjson.loads(data[start:i + 1])
                except orjson.JSONDecodeError:
                    return None
    return None


def _fold(raw: dict, usage: Usage, openai: bool) -> None:
    if "prompt_tokens" in raw or "completion_tokens" in raw:  # chat completions, embeddings
        fold_openai_usage(raw, usage)
    elif openai:  # the Responses API: input_tokens include input_tokens_details.cached_tokens
        inp, out = raw.get("input_tokens"), raw.get("output_tokens")
        details = raw.get("input_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        cached = cached if isinstance(cached, int) and cached > 0 else 0
        if isinstance(inp, int):
            usage.input_tokens, usage.cache_read_input_tokens = max(0, inp - cached), cached
        if isinstance(out, int):
            usage.output_tokens = max(0, out)
    else:
        usage.update(raw)
