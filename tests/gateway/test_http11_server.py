"""The gateway's HTTP/1.1 server protocol (server/http11.py), over raw loopback sockets.

The rest of the suite drives it through the SDKs (every gateway under test is served by it); these
tests reach the parts of HTTP/1.1 that the SDKs seldom use: pipelining, `Expect: 100-continue`,
chunked request bodies, HEAD, HTTP/1.0, malformed requests, a client leaving, idle keep-alive.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import httptools
import pytest

from anyray.server import http11
from tests.kit.server import ServerThread, answer_lifespan, whole_body


async def app(scope, receive, send):
    """Echoes what it was sent; a few paths misbehave on purpose."""
    if scope["type"] == "lifespan":
        return await answer_lifespan(receive, send)
    path = scope["path"]
    body = await whole_body(receive)
    if path.startswith("/slow"):
        await asyncio.sleep(0.2)
    if path == "/boom":
        raise ValueError("a bug before the answer")
    if path == "/bad-header":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-injected", b"a\r\nset-cookie: b")]})
        return
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/wait-for-leave":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        LEFT.append((await receive())["type"])
        return
    answer = b"%s %s %d %s" % (scope["method"].encode(), path.encode(), len(body), body[:16])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))]})
    await send({"type": "http.response.body", "body": answer})


LEFT: list[str] = []


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    thread = ServerThread(app, production=True)
    assert isinstance(thread._server, http11.Server)
    thread._server.limits.keep_alive_s = 2
    thread.start()
    yield thread
    thread.stop()


class Answers:
    """Reads HTTP/1.1 responses off a raw socket with httptools' response parser."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.parser = httptools.HttpResponseParser(self)
        self.done: list[tuple[int, dict[bytes, bytes], bytes]] = []
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
        while len(self.done) < count:
            data = self.sock.recv(65536)
            if not data:
                break
            self.parser.feed_data(data)
        taken, self.done = self.done[:count], self.done[count:]
        return taken


def connect(server: ServerThread) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=5)
    return sock


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n%s\r\n%s" % (path.encode(), len(body), extra, body)


def test_keep_alive_then_pipelined_requests_are_answered_in_order(server):
    with connect(server) as sock:
        answers = Answers(sock)
        sock.sendall(post("/a", b"hello"))
        [(status, headers, body)] = answers.read()
        assert (status, body) == (200, b"POST /a 5 hello")
        assert b"date" in headers and b"server" not in headers
        # the first is the slowest: answered first all the same, one at a time
        sock.sendall(post("/slow-b", b"x" * 10) + post("/c", b"y") + b"GET /d HTTP/1.1\r\nhost: x\r\n\r\n")
        got = answers.read(3)
        assert [body for _, _, body in got] == [b"POST /slow-b 10 xxxxxxxxxx", b"POST /c 1 y", b"GET /d 0 "]


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    with connect(server) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"data")
        [(status, _, body)] = Answers(sock).read()
        assert (status, body) == (200, b"POST /e 4 data")


def test_a_chunked_request_body_reaches_the_app_whole(server):
    with connect(server) as sock:
        sock.sendall(b"POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
                     b"3\r\nabc\r\n")
        time.sleep(0.05)  # the rest later: the app must wait for it
        sock.sendall(b"4\r\ndefg\r\n0\r\n\r\n")
        [(status, _, body)] = Answers(sock).read()
        assert (status, body) == (200, b"POST /chunked 7 abcdefg")


def test_a_large_body_arrives_whole_through_read_pauses(server):
    payload = bytes(range(256)) * 4096  # 1 MiB, well past the pause threshold
    with connect(server) as sock:
        sock.sendall(post("/big", payload))
        [(status, _, body)] = Answers(sock).read()
        assert status == 200 and body.startswith(b"POST /big %d " % len(payload))


def test_an_answer_without_a_length_goes_out_chunked(server):
    with connect(server) as sock:
        sock.sendall(post("/stream", b""))
        [(status, headers, body)] = Answers(sock).read()
        assert headers[b"transfer-encoding"] == b"chunked"
        assert (status, body) == (200, b"one two three")


def test_head_has_headers_and_no_body(server):
    with connect(server) as sock:
        sock.sendall(b"HEAD /h HTTP/1.1\r\nhost: x\r\n\r\n" + post("/after-head", b"z"))
        raw = b""
        while b"POST /after-head 1 z" not in raw:
            chunk = sock.recv(65536)
            assert chunk
            raw += chunk
        head_answer, _, rest = raw.partition(b"\r\n\r\n")
        assert head_answer.startswith(b"HTTP/1.1 200 OK") and b"content-length: 10" in head_answer
        assert rest.startswith(b"HTTP/1.1 200 OK"), "nothing may follow a HEAD answer's headers"


def test_http_1_0_is_answered_then_closed(server):
    with connect(server) as sock:
        sock.sendall(b"POST /old HTTP/1.0\r\ncontent-length: 2\r\n\r\nhi")
        [(status, headers, body)] = Answers(sock).read()
        assert (status, body, headers[b"connection"]) == (200, b"POST /old 2 hi", b"close")
        assert closed_by_peer(sock)


def test_malformed_http_gets_a_400_and_the_connection_closes(server):
    with connect(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        [(status, headers, body)] = Answers(sock).read()
        assert status == 400 and headers[b"content-type"] == b"application/json"
        assert b"Invalid HTTP request" in body
        assert closed_by_peer(sock)


def test_an_app_bug_is_a_500_and_the_connection_closes(server):
    with connect(server) as sock:
        sock.sendall(post("/boom", b""))
        [(status, headers, body)] = Answers(sock).read()
        assert (status, body, headers[b"connection"]) == (500, b"Internal Server Error", b"close")
        assert closed_by_peer(sock)


def test_a_header_that_would_split_the_answer_is_never_sent(server):
    with connect(server) as sock:
        sock.sendall(post("/bad-header", b""))
        [(status, headers, _)] = Answers(sock).read()
        assert status == 500 and b"set-cookie" not in headers and b"x-injected" not in headers


def test_a_client_that_leaves_mid_answer_is_seen_by_the_app(server):
    LEFT.clear()
    with connect(server) as sock:
        sock.sendall(post("/wait-for-leave", b""))
        assert b"first" in sock.recv(1000)
    deadline = time.monotonic() + 5
    while not LEFT and time.monotonic() < deadline:
        time.sleep(0.01)
    assert LEFT == ["http.disconnect"]


def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout(server):
    with connect(server) as sock:
        sock.sendall(post("/idle", b""))
        assert Answers(sock).read()[0][0] == 200
        sock.settimeout(10)
        started = time.monotonic()
        assert closed_by_peer(sock)
        assert time.monotonic() - started >= 1.9  # not before the 2 s keep-alive timeout (checked every 0.25 s)


def test_a_busy_connection_is_not_swept(server):
    with connect(server) as sock:
        answers = Answers(sock)
        for i in range(4):  # 4 requests over ~3 s, each gap under the keep-alive timeout
            sock.sendall(post(f"/busy{i}", b""))
            assert answers.read()[0][0] == 200
            time.sleep(0.8)


def test_graceful_shutdown_finishes_the_answer_in_progress():
    async def slow(scope, receive, send):
        if scope["type"] == "lifespan":
            return await answer_lifespan(receive, send)
        await receive()
        await asyncio.sleep(0.5)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        await send({"type": "http.response.body", "body": b"done"})

    thread = ServerThread(slow, production=True).start()
    with connect(thread) as sock:
        sock.sendall(post("/slow", b""))
        time.sleep(0.1)
        thread._server.should_exit = True
        [(status, headers, body)] = Answers(sock).read()
        assert (status, body, headers[b"connection"]) == (200, b"done", b"close")
    thread.stop()


def test_an_upgrade_request_is_answered_as_plain_http_then_closed(server):
    with connect(server) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
        [(status, headers, body)] = Answers(sock).read()
        assert (status, body, headers[b"connection"]) == (200, b"GET /ws 0 ", b"close")
        assert closed_by_peer(sock)
