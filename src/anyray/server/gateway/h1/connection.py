"""One keep-alive connection to an upstream (or through a proxy to it): at most one request in flight."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httptools

from anyray.server.gateway.h1.proxy import Route
from anyray.server.gateway.h1.response import UpstreamResponse
from anyray.server.gateway.h1.wire import BadResponse, ResponseCut, UpstreamError, expire

if TYPE_CHECKING:
    from anyray.server.gateway.h1.pool import ConnectionPool

class Connection(asyncio.Protocol):
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
        # the answer's header names and values, alternating, while its head is parsed (None between heads: a
        # connection lives as long as the stream it carries, and an idle list is one more tracked object)
        self._head_fields: list[bytes] | None = None
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
        fields = self._head_fields
        if fields is None:
            self._head_fields = [name, value]
        else:
            fields += (name, value)

    def on_headers_complete(self) -> None:
        headers: dict[str, str] = {}
        fields, self._head_fields = self._head_fields or (), None
        for i in range(0, len(fields), 2):
            name, value = fields[i].decode("latin-1").lower(), fields[i + 1].decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
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
        timer = loop.call_later(self.read_timeout_s, expire, head_future, "no answer from {} within {:g}s", self)
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
