"""Reading token usage from an answer as it passes, without holding or re-emitting it."""

from __future__ import annotations

import orjson

from anyray.server.gateway.call import Usage


class AnthropicStreamUsage:
    """Watches an Anthropic SSE stream for `message_start` / `message_delta` usage.

    Only `data:` lines that mention usage are parsed, so text deltas cost a substring search.
    """

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self._tail = b""
        self.complete = False

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            if line.startswith(b"data:") and (b'"usage"' in line or b"message_stop" in line):
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
