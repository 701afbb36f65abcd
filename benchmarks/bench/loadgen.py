"""The built-in load generator: raw asyncio + httptools, keep-alive, one request in flight per connection.

aiohttp's client costs ~150 us a request in Python, enough to become the bottleneck against a fast
upstream; this one parses responses with httptools (C) and does nothing else, so it reaches about
half of what wrk does on the same machine. Unlike wrk it sees the first body byte, so it is what
measures time to first byte on streams. Bounded by a request count, not a duration, so a CI smoke run
is deterministic.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

from benchmarks.bench.big import NONCE


@dataclass(slots=True)
class Sample:
    total_s: float
    ttfb_s: float


@dataclass(slots=True)
class LoadResult:
    requests: int
    elapsed_s: float
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    samples: list[Sample] = field(default_factory=list)


class _Client(asyncio.Protocol):
    """One keep-alive connection: send, wait for the whole response, repeat."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.first_body: float = 0.0
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or ConnectionResetError("connection closed")
        if self.done is not None and not self.done.done():
            self.done.set_exception(self.lost)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.done is not None and not self.done.done():
                self.done.set_exception(exc)

    def on_body(self, _: bytes) -> None:
        if not self.first_body:
            self.first_body = time.perf_counter()

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    def send(self, request: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.first_body = 0.0
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.done


def build_request(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    lines = [f"POST {parts.path or '/'} HTTP/1.1", f"host: {parts.netloc}", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connect(host: str, port: int) -> _Client:
    _, client = await asyncio.get_running_loop().create_connection(_Client, host, port)
    return client


async def timed_send(client: _Client, request: bytes, host: str, port: int, result: LoadResult) -> _Client:
    """One request on `client`, its time and status counted in `result`. A connection that breaks is an error
    and is replaced: the connection to use next is returned."""
    started = time.perf_counter()
    try:
        status = await client.send(request)
    except (OSError, httptools.HttpParserError):
        result.errors += 1
        if client.transport is not None:
            client.transport.close()
        return await _connect(host, port)
    ended = time.perf_counter()
    result.statuses[status] += 1
    result.samples.append(Sample(ended - started, (client.first_body or ended) - started))
    return client


async def drive(url: str, body: bytes, headers: dict[str, str], requests: int, connections: int,
                fresh: bool = False) -> LoadResult:
    """Send `requests` POSTs over `connections` keep-alive connections; every one is measured. `fresh`: the
    body's NONCE becomes each request's own number (big.py), so no two requests are the same."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raw = build_request(url, body, headers)
    result = LoadResult(requests=0, elapsed_s=0.0)
    remaining = requests
    sent = itertools.count(int(time.time() * 1000) % 10**8 * 1000)  # unlike any earlier run's numbers

    async def worker() -> None:
        nonlocal remaining
        client = await _connect(host, port)
        try:
            while remaining > 0:
                remaining -= 1
                request = raw.replace(NONCE, b"%012d" % next(sent)) if fresh else raw
                client = await timed_send(client, request, host, port, result)
        finally:
            if client.transport is not None:
                client.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed_s = time.perf_counter() - started
    result.requests = sum(result.statuses.values()) + result.errors
    return result
