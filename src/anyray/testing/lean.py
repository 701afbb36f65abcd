"""A lean fake upstream for benchmarks: raw asyncio + httptools, no framework.

`FakeUpstream` (Starlette) is the fake tests use: it checks keys, scripts answers, accounts prompt
caching. That costs ~1 ms a request, which would make it the bottleneck of any benchmark of the
gateway. This one answers the same wire shapes with bytes built once per model: Anthropic Messages
(JSON and SSE, with usage), Vertex `rawPredict` / `streamRawPredict`, and OpenAI chat completions.
It reads the request body only to find `model` and `stream`; it checks nothing else.

    python -m anyray.testing.lean --port 9999 [--stream-seconds 60]

With `--stream-seconds S` a stream answers its head and `message_start` at once, then a `ping` event
every second for S seconds, then the rest: a model that takes its time, for holding many streams open.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
from typing import Any

import httptools
import orjson

from anyray.testing.anthropic_api import stream_events

_TEXT = "Hello from fake-lean! You said: benchmark me."
_USAGE = {"input_tokens": 12, "output_tokens": 9, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
_MODEL = re.compile(rb'"model"\s*:\s*"([^"]{1,200})"')
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_NOT_FOUND_BODY = b'{"type":"error","error":{"type":"not_found_error","message":"no such path on the lean fake"}}'
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(_NOT_FOUND_BODY)).encode() + b"\r\n\r\n" + _NOT_FOUND_BODY
)


def _message(model: str) -> dict[str, Any]:
    return {
        "id": "msg_lean0000000000000000000001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": _TEXT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": dict(_USAGE),
    }


def _completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-lean0000000000000001",
        "object": "chat.completion",
        "created": 1764547200,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": _TEXT}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
    }


def _fixed(body: bytes, content_type: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: " + content_type + b"\r\nrequest-id: req_lean\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


_SSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nrequest-id: req_lean\r\n"
             b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")
_END = b"0\r\n\r\n"


def _chunk(body: bytes) -> bytes:
    return f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n"


def _chunked(body: bytes) -> bytes:
    """One chunk and the terminator: how the API's SSE arrives (chunked, no content-length)."""
    return _SSE_HEAD + _chunk(body) + _END


_SLOW: set[asyncio.Future[None]] = set()
_PING = _chunk(b'event: ping\ndata: {"type": "ping"}\n\n')


class Answers:
    """Every response, as whole HTTP bytes, built once per (kind, model, stream)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes, bool], bytes] = {}

    def get(self, kind: str, model: bytes, stream: bool) -> bytes:
        key = (kind, model, stream)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._build(kind, model.decode(), stream)
        return found

    def slow(self, model: bytes) -> tuple[bytes, bytes]:
        """A stream in two parts: the head with `message_start`, and the rest with the terminator."""
        key = ("slow", model, True)
        found = self._cache.get(key)
        if found is None:
            events = stream_events(_message(model.decode()))
            found = self._cache[key] = _SSE_HEAD + _chunk(events[0]) + b"\0" + _chunk(b"".join(events[1:])) + _END
        first, _, rest = found.partition(b"\0")
        return first, rest

    @staticmethod
    def _build(kind: str, model: str, stream: bool) -> bytes:
        if kind == "openai":
            return _fixed(orjson.dumps(_completion(model)), b"application/json")
        message = _message(model)
        if stream:
            return _chunked(b"".join(stream_events(message)))
        return _fixed(orjson.dumps(message), b"application/json")


class _Connection(asyncio.Protocol):
    __slots__ = ("answers", "body", "counter", "parser", "stream_s", "transport", "url")

    def __init__(self, answers: Answers, counter: list[int], stream_s: float = 0.0) -> None:
        self.answers = answers
        self.counter = counter
        self.stream_s = stream_s
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.counter[0] += 1
        if self.stream_s > 0 and _STREAM.search(b"".join(self.body)):
            found = _MODEL.search(b"".join(self.body))
            task = asyncio.ensure_future(self._slowly(found.group(1) if found else b"claude-sonnet-4-5"))
            _SLOW.add(task)  # held until done (the loop keeps only a weak reference)
            task.add_done_callback(_SLOW.discard)
            return
        self.transport.write(self._answer())
        if not self.parser.should_keep_alive():
            self.transport.close()

    async def _slowly(self, model: bytes) -> None:
        first, rest = self.answers.slow(model)
        assert self.transport is not None
        self.transport.write(first)
        for _ in range(int(self.stream_s)):
            await asyncio.sleep(1.0)
            if self.transport.is_closing():
                return
            self.transport.write(_PING)
        self.transport.write(rest)

    def _answer(self) -> bytes:
        path = self.url.split(b"?", 1)[0]
        body = b"".join(self.body)
        found = _MODEL.search(body)
        model = found.group(1) if found else b"claude-sonnet-4-5"
        if path == b"/v1/messages":
            return self.answers.get("anthropic", model, _STREAM.search(body) is not None)
        if path == b"/v1/chat/completions":
            return self.answers.get("openai", model, False)
        if path.startswith(b"/v1/projects/") and b"/publishers/anthropic/models/" in path:
            name, _, verb = path.rpartition(b"/")[2].partition(b":")
            if verb in (b"rawPredict", b"streamRawPredict"):
                return self.answers.get("anthropic", name, verb == b"streamRawPredict")
        return _NOT_FOUND


class LeanUpstream:
    """Serve on a socket: `await LeanUpstream().serve(sock)`; `requests` counts the answered ones."""

    def __init__(self, stream_s: float = 0.0) -> None:
        self.answers = Answers()
        self._counter = [0]
        self.stream_s = stream_s

    @property
    def requests(self) -> int:
        return self._counter[0]

    async def serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(self.answers, self._counter, self.stream_s), sock=sock,
                                          backlog=4096)
        async with server:
            await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m anyray.testing.lean", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--stream-seconds", type=float, default=0.0, help="hold each stream open this long")
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    print(f"lean fake upstream on http://{args.host}:{args.port}", flush=True)
    try:
        import uvloop

        uvloop.run(LeanUpstream(args.stream_seconds).serve(sock))
    except ImportError:  # pragma: no cover - Windows
        asyncio.run(LeanUpstream(args.stream_seconds).serve(sock))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
