"""Raw-socket helpers for the security suite: replay attack bytes on 127.0.0.1, read what comes back.

Every read is bounded by a socket timeout, so a server that never answers fails a test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httptools
import orjson

from anyray.server.http11 import ServerLimits
from tests.kit.server import ServerThread, answer_lifespan, whole_body


class Answers:
    """HTTP/1.1 responses read off a raw socket with httptools' response parser."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.parser = httptools.HttpResponseParser(self)
        self.done: list[tuple[int, dict[bytes, bytes], bytes]] = []
        self.closed = False
        self._headers: dict[bytes, bytes] = {}
        self._body = b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        self.done.append((self.parser.get_status_code(), self._headers, self._body))
        self._headers, self._body = {}, b""

    def read(self, count: int = 1) -> list[tuple[int, dict[bytes, bytes], bytes]]:
        """Up to `count` answers; fewer when the server closed first."""
        while len(self.done) < count and not self.closed:
            self._recv()
        taken, self.done = self.done[:count], self.done[count:]
        return taken

    def read_all(self) -> list[tuple[int, dict[bytes, bytes], bytes]]:
        """Every answer until the server closes the connection."""
        while not self.closed:
            self._recv()
        taken, self.done = self.done, []
        return taken

    def _recv(self) -> None:
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return
        self.parser.feed_data(data)


def error_of(body: bytes) -> dict[str, Any]:
    """The server's own refusal, as both SDKs read it."""
    data = orjson.loads(body)
    assert data["type"] == "error"
    return data["error"]


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send what the server takes; it may close mid-way (that is what the tests want of it)."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers `<method> <path> <body length>`; the bare ASGI app the server-level tests run behind."""
    if scope["type"] == "lifespan":
        return await answer_lifespan(receive, send)
    body = await whole_body(receive)
    answer = b"%s %s %d" % (scope["method"].encode(), scope["path"].encode(), len(body))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))]})
    await send({"type": "http.response.body", "body": answer})


@contextlib.contextmanager
def serving(app: Any = echo_app, **limits: Any) -> Iterator[ServerThread]:
    """The gateway's HTTP server on a kernel-chosen loopback port, with these `ServerLimits`."""
    thread = ServerThread(app, production=True)
    thread._server.limits = ServerLimits(**limits)
    with thread:
        yield thread


def connect(server: ServerThread, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=timeout)


def get(path: str = "/") -> bytes:
    return b"GET %s HTTP/1.1\r\nhost: x\r\n\r\n" % path.encode()
