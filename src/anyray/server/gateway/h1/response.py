"""An upstream's answer: its status and headers at once, its body read whole or relayed as it arrives."""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from anyray.server.gateway.h1.wire import HIGH_WATER, BadResponse, expire

if TYPE_CHECKING:
    from anyray.server.gateway.h1.connection import Connection

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

    def __init__(self, conn: Connection, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers
        self._conn: Connection | None = conn
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
        timer = loop.call_later(conn.read_timeout_s, expire, waiter, "no data from {} for {:g}s", conn)
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
