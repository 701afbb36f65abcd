"""uvicorn's httptools protocol, with a response's writes coalesced into one send per loop iteration.

uvicorn writes a response's status line and headers the moment the app sends `http.response.start`,
then the body on `http.response.body`: two send() syscalls and two TCP segments for every JSON answer.
On loopback under load each send costs as much as a good part of the gateway's Python work (the
kernel delivers the segment and wakes the peer right there). Here the transport buffers what is
written during one event-loop iteration and sends it in one call at the next; Starlette sends start
and body in the same iteration, so a JSON answer leaves in one segment. A stream's chunks still go
out as they come, at most one loop iteration later.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _CoalescingTransport:
    """Delegates everything to the real transport except write(), which it batches per loop iteration."""

    __slots__ = ("_buffer", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._buffer: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._buffer:
            self._loop.call_soon(self.flush)
        self._buffer.append(data)

    def flush(self) -> None:
        if not self._buffer:
            return
        data = self._buffer[0] if len(self._buffer) == 1 else b"".join(self._buffer)
        self._buffer.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()  # an upgrade hands the raw transport on: nothing may stay behind in the buffer
        self._transport.set_protocol(protocol)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(b) for b in self._buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingWrites:
    """Mixin for a uvicorn HttpToolsProtocol subclass: its transport coalesces writes (see the module doc)."""

    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[misc, arg-type]


class CoalescingHttpToolsProtocol(CoalescingWrites, HttpToolsProtocol):
    pass
