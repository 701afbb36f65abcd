"""Run an ASGI app on a real loopback socket in a background thread.

Tests and demos need real HTTP (the SDKs talk TCP, not ASGI), but a port chosen by the kernel so
parallel runs never collide; the socket is bound before the thread starts, so `url` is valid at once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn


class ServerThread:
    """One uvicorn server for `app`, serving on 127.0.0.1:<free port> from a daemon thread."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0,
                 production: bool = False) -> None:
        """`production`: serve as `anyray up` does (uvloop, its own HTTP/1.1 protocol: the head cap, coalesced
        writes), for the gateway under test; the provider fakes keep plain h11 on asyncio."""
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self.production = production
        self._server: Any
        if production:
            from anyray.server.runner import http_server

            self._server = http_server(app)
        else:
            config = uvicorn.Config(app, log_level="warning", lifespan="on", loop="asyncio", http="h11")
            self._server = uvicorn.Server(config)
            self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._run, name=f"server:{self.port}", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        if self.production:
            import uvloop

            self.loop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        finally:
            self.loop.close()

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            deadline.wait(0.01)
        raise RuntimeError(f"server for {self.app!r} did not start within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def answer_lifespan(receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """For a bare ASGI app under test: say yes to startup and shutdown (servers here run lifespan "on")."""
    while (message := await receive())["type"] != "lifespan.shutdown":
        await send({"type": message["type"] + ".complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def whole_body(receive: Callable[..., Any]) -> bytes:
    """A bare ASGI app's request body, every `http.request` message of it."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
