"""The gateway's upstream HTTP/1.1 client: pooled keep-alive connections on asyncio, parsed by httptools.

Why not aiohttp's client, which the gateway used before: measured against the lean fake upstream on
the benchmark machine, aiohttp spends ~90 us of CPU per request (its session machinery: timers,
tracing hooks, cookies, URL objects, multidicts, a payload registry), this ~15 us, and that difference
was a fifth of the gateway's whole per-request cost (docs/performance.md). The gateway needs a small
part of HTTP: one request at a time per connection, a body it already holds as bytes, an answer relayed
as it arrives. That part is here. Parsing is httptools (llhttp, Node.js's parser), TLS the standard
library's, so what is hand-written is the pool and the bookkeeping, not the protocol.

Outbound proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, unless `trust_env=False`) are in proxy.py: each
origin's way there is decided once, as a `Route` that also holds its idle connections.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools

from anyray.server.gateway.proxy import EnvironmentProxies, Route

HIGH_WATER = 256 * 1024  # bytes of an answer buffered before the connection stops reading (a slow client)
MAX_IDLE_PER_ORIGIN = 128


class UpstreamError(Exception):
    """The upstream could not be reached, or broke its answer: a 502 to the client, retried like one."""


class ConnectError(UpstreamError):
    pass


class ResponseCut(UpstreamError):
    """The connection ended before the answer was complete."""


class BadResponse(UpstreamError):
    """What came back is not HTTP/1.1 this client understands."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@functools.lru_cache(maxsize=1024)
def split_url(url: str) -> tuple[Origin, str]:
    """(origin, request target); cached because the gateway sends to a handful of URLs over and over."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.scheme, parts.hostname, port), target


def request_head(method: str, origin: Origin, target: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\nhost: {origin.host_header}\r\n"]
    for name, value in headers.items():
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name or ":" in name:
            raise ValueError(f"header {name!r} has a line break or a colon in its name: refused, not sent")
        lines.append(f"{name}: {value}\r\n")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(body) if body else 0}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


class UpstreamResponse:
    """An answer whose status and headers arrived; its body is read whole (`read`) or relayed (`iter_chunks`).

    `headers` is a plain dict with lower-case names (repeated headers joined with ", ").
    Every response ends with `release` (the connection goes back to the pool when the answer was read to
    its end) or `close` (the connection is dropped, so an upstream still generating stops).
    """

    __slots__ = (
        "_buffered",
        "_chunks",
        "_complete",
        "_conn",
        "_decoder",
        "_error",
        "_finished",
        "_waiter",
        "headers",
        "status",
    )

    def __init__(self, conn: _Connection, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers
        self._conn: _Connection | None = conn
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._finished = False
        encoding = headers.get("content-encoding", "").strip().lower()
        self._decoder = (zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip"
                         else zlib.decompressobj() if encoding == "deflate" else None)

    # -- fed by the connection
    def _feed(self, data: bytes) -> None:
        if self._decoder is not None:
            try:
                data = self._decoder.decompress(data)
            except zlib.error as exc:
                self._fail(BadResponse(f"undecodable {self.headers.get('content-encoding')} body: {exc}"))
                return
            if not data:
                return
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and self._conn is not None:
            self._conn.pause()
        self._wake()

    def _end(self) -> None:
        if self._decoder is not None and (tail := self._decoder.flush()):
            self._chunks.append(tail)
        self._complete = True
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if not self._complete and self._error is None:
            self._error = error
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _more(self) -> None:
        """Wait for the next piece of the body, within the connection's read timeout."""
        conn = self._conn
        assert conn is not None
        if conn.paused:
            conn.resume()
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(conn.read_timeout_s, _expire, waiter, "no data from {} for {:g}s", conn)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    # -- for the gateway
    async def read(self) -> bytes:
        """The whole body (the connection goes back to the pool when the caller releases)."""
        while not self._complete:
            if self._error is not None:
                raise self._error
            await self._more()
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Each piece of the body as it arrives."""
        while True:
            while self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                yield chunk
            if self._complete:
                return
            if self._error is not None:
                raise self._error
            await self._more()

    def release(self) -> None:
        """Done with this answer: a connection that finished it cleanly is kept for the next request."""
        self._let_go(self._complete and self._error is None)

    def close(self) -> None:
        """Drop the connection unless the answer already ended (a no-op after `release`)."""
        self._let_go(False)

    def _let_go(self, reusable: bool) -> None:
        if self._finished:
            return
        self._finished = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.finished(reusable)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one request in flight."""

    def __init__(self, pool: ConnectionPool, route: Route) -> None:
        self.pool = pool
        self.route = route
        self.origin = route.origin
        self.read_timeout_s = pool.read_timeout_s
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.paused = False
        self.idle_since = 0.0
        self.uses = 0
        self._names: list[bytes] = []
        self._values: list[bytes] = []
        self._head: asyncio.Future[UpstreamResponse] | None = None
        self._response: UpstreamResponse | None = None
        self._busy = False
        self._got_bytes = False
        self._keep_alive = False

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self._busy:  # bytes nobody asked for: this connection is out of step, drop it
            self._drop()
            return
        self._got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._lost(BadResponse(f"malformed answer from {self.origin.host}: {exc}"))
            self._drop()

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost says what it meant

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response = self._response
        if response is not None and not response._complete and self._until_eof():
            response._end()  # no length given: the answer ends where the connection does
        else:
            reason = f": {exc}" if exc else ""
            self._lost(ResponseCut(f"{self.origin.host} closed the connection before the answer was complete{reason}"))
        self.pool.forget(self)

    # -- httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._names.append(name)
        self._values.append(value)

    def on_headers_complete(self) -> None:
        headers: dict[str, str] = {}
        for raw_name, raw_value in zip(self._names, self._values, strict=True):
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self._names.clear()
        self._values.clear()
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (we never send Expect): the real one follows
            return
        response = self._response = UpstreamResponse(self, status, headers)
        head = self._head
        if head is not None and not head.done():
            head.set_result(response)

    def on_body(self, body: bytes) -> None:
        if self._response is not None:
            self._response._feed(body)

    def on_message_complete(self) -> None:
        self._keep_alive = self.parser.should_keep_alive()  # llhttp forgets it once the message is done
        if self._response is not None:
            self._response._end()

    # -- the pool's side
    async def send(self, head: bytes, body: bytes | None) -> UpstreamResponse:
        assert self.transport is not None
        self._busy, self._got_bytes, self._keep_alive, self._response = True, False, False, None
        self.uses += 1
        loop = asyncio.get_running_loop()
        head_future = self._head = loop.create_future()
        self.transport.write(head + body if body else head)
        timer = loop.call_later(self.read_timeout_s, _expire, head_future, "no answer from {} within {:g}s", self)
        try:
            return await head_future
        finally:
            timer.cancel()
            self._head = None

    def _lost(self, error: UpstreamError) -> None:
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
        if self._response is not None:
            self._response._fail(error)

    def _until_eof(self) -> bool:
        response = self._response
        if response is None:
            return False
        return "content-length" not in response.headers and "chunked" not in response.headers.get(
            "transfer-encoding", "").lower()

    @property
    def stale_drop(self) -> bool:
        """Reused, and lost before a byte of the answer: the upstream closed an idle connection as we sent."""
        return self.uses > 1 and not self._got_bytes

    def pause(self) -> None:
        if not self.paused and self.transport is not None and not self.closed:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None and not self.closed:
            self.paused = False
            self.transport.resume_reading()

    def finished(self, reusable: bool) -> None:
        """The caller is done with the current answer."""
        self._busy = False
        self._response = None
        if reusable and not self.closed and self._keep_alive:
            self.resume()
            self.pool.give_back(self)
        else:
            self._drop()

    def _drop(self) -> None:
        self._busy = False
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()
        self.pool.forget(self)


def _expire(future: asyncio.Future[Any], message: str, conn: _Connection) -> None:
    """A read timeout: the waiting caller gets a TimeoutError, unless what it waited for came first.
    The message is made only here, not for every request that sets the timer."""
    if not future.done():
        future.set_exception(TimeoutError(message.format(conn.origin.host, conn.read_timeout_s)))


class ConnectionPool:
    """Keep-alive connections per origin, most recently used first; idle ones expire after `keepalive_s`.

    `trust_env`: go through the proxies the environment names (read here, once; a proxy this client cannot
    use is a `ProxyConfigError` here, not at the first request). False for in-cluster services, which a
    company's egress proxy must never see.
    """

    def __init__(self, connect_timeout_s: float = 10.0, read_timeout_s: float = 600.0, keepalive_s: float = 60.0,
                 ssl_context: ssl.SSLContext | None = None, trust_env: bool = True) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.keepalive_s = keepalive_s
        self._ssl = ssl_context
        self._proxies = EnvironmentProxies.read() if trust_env else None
        self._routes: dict[Origin, Route] = {}
        self._lent: set[_Connection] = set()
        self._closed = False

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def in_use(self) -> int:
        return len(self._lent)

    def idle(self) -> int:
        return sum(len(route.idle) for route in self._routes.values())

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> UpstreamResponse:
        """Send, and return once the answer's status and headers arrived."""
        origin, target = split_url(url)
        route = self._routes.get(origin) or self._route(origin)
        if route.forward:  # plain http through a proxy
            target, headers = route.forwarded(target, headers)
        head = request_head(method, origin, target, headers, body)
        conn = self._take(route)
        if conn is not None:
            try:
                return await self._send(conn, head, body)
            except ResponseCut:
                if not conn.stale_drop:
                    raise
                # an idle connection the upstream closed as we wrote: it never saw the request; once more, fresh
        return await self._send(await self._connect(route), head, body)

    def _route(self, origin: Origin) -> Route:
        """The first request to an origin decides how every later one gets there."""
        proxies = self._proxies
        route = self._routes[origin] = Route(
            origin, proxies.proxy_for(origin.scheme, origin.host, origin.port) if proxies else None)
        return route

    async def _send(self, conn: _Connection, head: bytes, body: bytes | None) -> UpstreamResponse:
        self._lent.add(conn)
        try:
            response = await conn.send(head, body)
        except BaseException:  # failed, timed out, or the client went away while we waited: never reuse it
            conn.finished(False)
            raise
        if response.status == 407 and conn.route.forward:  # the proxy refused us: not the upstream's answer
            response.close()
            raise ConnectError(f"cannot connect to {conn.route.describe()}: the proxy answered 407 "
                               "Proxy Authentication Required")
        return response

    def _take(self, route: Route) -> _Connection | None:
        idle = route.idle
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_s:
                return conn
            conn._drop()
        return None

    async def _connect(self, route: Route) -> _Connection:
        if self._closed:
            raise ConnectError("the upstream client is closed")
        loop = asyncio.get_running_loop()
        origin = route.origin
        context = self.ssl_context if origin.tls else None
        try:
            async with asyncio.timeout(self.connect_timeout_s):  # with a proxy: TCP, CONNECT and TLS together
                if route.tunnel:
                    assert context is not None
                    return await route.open_tunnel(lambda: _Connection(self, route), context)
                _, conn = await loop.create_connection(
                    lambda: _Connection(self, route), *route.address, ssl=context,
                    server_hostname=origin.host if context else None,
                )
        except TimeoutError:
            raise ConnectError(f"cannot connect to {route.describe()}: no answer within "
                               f"{self.connect_timeout_s:g}s") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError), a proxy's refusal
            raise ConnectError(f"cannot connect to {route.describe()}: {exc}") from None
        return conn

    def give_back(self, conn: _Connection) -> None:
        self._lent.discard(conn)
        idle = conn.route.idle
        if self._closed or len(idle) >= MAX_IDLE_PER_ORIGIN:
            conn._drop()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def forget(self, conn: _Connection) -> None:
        self._lent.discard(conn)
        idle = conn.route.idle
        if conn in idle:
            idle.remove(conn)

    async def close(self) -> None:
        self._closed = True
        for route in list(self._routes.values()):
            for conn in list(route.idle):
                conn._drop()
        for conn in list(self._lent):
            conn._drop()
        await asyncio.sleep(0)  # let the transports' connection_lost run

    def __repr__(self) -> str:
        return f"ConnectionPool(idle={self.idle()}, in_use={self.in_use()})"

