"""A lean fake upstream for benchmarks: raw asyncio + httptools, no framework.

`FakeUpstream` (Starlette) is the fake tests use: it checks keys, scripts answers, accounts prompt
caching. That costs ~1 ms a request, which would make it the bottleneck of any benchmark of the
gateway. This one answers the same wire shapes with bytes built once per model: Anthropic Messages
(JSON and SSE, with usage), Vertex `rawPredict` / `streamRawPredict`, and OpenAI chat completions.
It reads the request body only to find `model` and `stream`; it checks nothing else.

    python -m anyray.testing.lean --port 9999
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


def _chunked(body: bytes) -> bytes:
    """One chunk and the terminator: how the API's SSE arrives (chunked, no content-length)."""
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nrequest-id: req_lean\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
        + f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    )


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

    @staticmethod
    def _build(kind: str, model: str, stream: bool) -> bytes:
        if kind == "openai":
            return _fixed(orjson.dumps(_completion(model)), b"application/json")
        message = _message(model)
        if stream:
            return _chunked(b"".join(stream_events(message)))
        return _fixed(orjson.dumps(message), b"application/json")


class _Connection(asyncio.Protocol):
    __slots__ = ("answers", "body", "counter", "parser", "transport", "url")

    def __init__(self, answers: Answers, counter: list[int]) -> None:
        self.answers = answers
        self.counter = counter
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
        self.transport.write(self._answer())
        if not self.parser.should_keep_alive():
            self.transport.close()

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

    def __init__(self) -> None:
        self.answers = Answers()
        self._counter = [0]

    @property
    def requests(self) -> int:
        return self._counter[0]

    async def serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(self.answers, self._counter), sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m anyray.testing.lean", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    print(f"lean fake upstream on http://{args.host}:{args.port}", flush=True)
    try:
        import uvloop

        uvloop.run(LeanUpstream().serve(sock))
    except ImportError:  # pragma: no cover - Windows
        asyncio.run(LeanUpstream().serve(sock))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
