"""`anyray up`: the gateway and the optimizer as two uvicorn servers on one event loop.

uvicorn's own signal handling assumes one server per process, so it is switched off here and one
handler tells both servers to finish their in-flight requests and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from anyray.server.coalesce import CoalescingWrites

# httptools buffers a request head of any size (8 MB went through in a trial); this caps it in the
# protocol, before the app runs. Heads under the cap reach the app, whose own (configurable, lower)
# gateway.limits.max_header_bytes answers a 431 in the caller's dialect.
HEAD_HARD_CAP_BYTES = 1024 * 1024


class BoundedHeadHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head larger than `max_head_bytes` with a 431."""

    max_head_bytes = HEAD_HARD_CAP_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: int | None = 0  # bytes of the current request head so far; None once it is complete
        self._tail = b""

    def data_received(self, data: bytes) -> None:
        if self._head is not None:
            joined = self._tail + data
            end = joined.find(b"\r\n\r\n")
            seen = self._head + (len(data) if end < 0 else end - len(self._tail))
            if seen > self.max_head_bytes:
                self._refuse_head()
                return
            if end < 0:
                self._head, self._tail = seen, joined[-3:]
            else:
                self._head, self._tail = None, b""
        super().data_received(data)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head, self._tail = 0, b""  # a kept-alive connection's next request starts a new head

    def _refuse_head(self) -> None:
        message = f"request headers exceed the server's hard limit of {self.max_head_bytes} bytes"
        # readable by both SDKs: Anthropic's {type, error{type, message}} and OpenAI's error{message, code}
        body = orjson.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": message,
                                                        "param": None, "code": "headers_too_large"}})
        head = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n")
        self._head = None
        self.transport.write(head + body)
        self.transport.close()


class GatewayHttpProtocol(CoalescingWrites, BoundedHeadHttpTools):
    """What `anyray up` / `anyray serve` run: the bounded head, and one send() per response (coalesce.py)."""


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the runner owns the signals
        yield


class PortInUse(OSError):
    pass


def bind(host: str, port: int) -> socket.socket:
    """Bind before starting anything, so a taken port is one clear error instead of a half-started stack."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """How `anyray up` and `anyray serve` run an app (and the tests run the gateway)."""
    coalesce = os.environ.get("ANYRAY_COALESCE_WRITES", "1") != "0"
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on",
        http=GatewayHttpProtocol if coalesce else BoundedHeadHttpTools,
        access_log=False, server_header=False,  # no "server: uvicorn" on every answer
    )


def _server(app: Any, host: str, port: int) -> _QuietServer:
    return _QuietServer(server_config(app, host, port))


async def serve_stack(
    servers: list[tuple[Any, str, int]], on_started: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Run every (app, host, port) until SIGINT/SIGTERM, then shut all of them down gracefully."""
    sockets = []
    try:
        for _, host, port in servers:
            sockets.append(bind(host, port))
    except PortInUse:
        for sock in sockets:
            sock.close()
        raise
    running = [_server(app, host, port) for app, host, port in servers]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for s in running:
            s.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in zip(running, sockets, strict=True)]
    while not all(s.started for s in running):
        if any(t.done() for t in tasks):
            stop()
            break
        await asyncio.sleep(0.02)
    else:
        tune_gc()
        if on_started is not None:
            await on_started()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            raise r


def tune_gc() -> None:
    """Once everything is imported and started: move what exists to the permanent generation, and collect
    the young generation less often.

    Why: the gateway process holds a few hundred thousand long-lived objects (its imports: Starlette,
    aiohttp, pydantic, google-auth, kubernetes, rich...). Every full collection walked them all, ~60 ms
    on the benchmark machine, several times a second under load: measured, that was the whole of the p99
    (70 ms -> under 10 ms with the collector off) and a third of the throughput. Frozen objects are
    never scanned again; requests' own garbage is still collected, just in larger, rarer batches.
    ANYRAY_GC_FREEZE=0 leaves the collector as Python sets it; ANYRAY_GC_THRESHOLD sets generation 0 (20000).
    """
    if os.environ.get("ANYRAY_GC_FREEZE", "1") == "0":
        return
    gc.collect()
    gc.freeze()
    threshold = int(os.environ.get("ANYRAY_GC_THRESHOLD", "20000") or 0)
    if threshold:
        gc.set_threshold(threshold, *gc.get_threshold()[1:])


def run(main: Awaitable[None]) -> None:
    """Run on uvloop when it is installed (it is, on Linux and macOS)."""
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - Windows
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)  # type: ignore[arg-type]
