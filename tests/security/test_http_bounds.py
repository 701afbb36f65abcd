"""The HTTP server's bounds on a client, each attack from the adversarial review replayed over a raw socket
(issue 22 items 3, 4 and 6): head cap, deadlines, connection cap, pipelining, half-close."""

from __future__ import annotations

import socket
import threading
import time

from tests.security.wire import (
    Answers,
    closed_by_peer,
    connect,
    error_of,
    get,
    send_quietly,
    serving,
)

MiB = 1024 * 1024


def _healthz_latency(server) -> float:
    started = time.monotonic()
    with connect(server) as sock:
        sock.sendall(get("/healthz"))
        [(status, _, _)] = Answers(sock).read()
    assert status == 200
    return time.monotonic() - started


def _attack_while_timing_healthz(server, attack: bytes) -> tuple[list, float]:
    """Send `attack` on one connection while another asks /healthz; the answers to both."""
    answers: list = []

    def attacker() -> None:
        with connect(server, timeout=10) as sock:
            send_quietly(sock, attack)
            answers.extend(Answers(sock).read())

    thread = threading.Thread(target=attacker)
    thread.start()
    time.sleep(0.05)
    worst = max(_healthz_latency(server) for _ in range(5))
    thread.join(15)
    assert not thread.is_alive()
    return answers, worst


def test_blank_lines_before_the_request_line_do_not_lift_the_head_cap():
    """Attack: `\\r\\n\\r\\n` first (the old cap stopped counting at the first blank line), then a 100 MiB
    head. Here 4 MiB: past the 1 MiB cap it must be a 431, and /healthz must not stall meanwhile."""
    attack = b"\r\n\r\nGET /v1/models HTTP/1.1\r\nhost: x\r\nx-pad: " + b"p" * (4 * MiB) + b"\r\n\r\n"
    with serving() as server:
        answers, worst = _attack_while_timing_healthz(server, attack)
    assert [status for status, _, _ in answers] == [431]
    assert error_of(answers[0][2])["code"] == "headers_too_large"
    assert worst < 1.0


def test_only_blank_lines_count_toward_the_head_cap_too():
    """Any bytes before the head ends count: 2 MiB of empty lines and no request line at all."""
    with serving() as server, connect(server, timeout=10) as sock:
        send_quietly(sock, b"\r\n" * MiB)
        answers = Answers(sock).read()
    assert [status for status, _, _ in answers] == [431]


def test_a_head_under_the_cap_after_blank_lines_is_still_served():
    with serving() as server, connect(server) as sock:
        sock.sendall(b"\r\n\r\n" + b"GET /ok HTTP/1.1\r\nhost: x\r\nx-pad: " + b"p" * 200_000 + b"\r\n\r\n")
        [(status, _, body)] = Answers(sock).read()
    assert (status, body) == (200, b"GET /ok 0")


def test_a_head_sent_a_byte_at_a_time_gets_a_408_at_its_deadline():
    """Slowloris: one byte, then one more every 100 ms, never finishing the head."""
    with serving(head_timeout_s=0.5) as server, connect(server) as sock:
        started = time.monotonic()
        sock.settimeout(0.1)
        answers = Answers(sock)
        for byte in b"GET /slow HTTP/1.1\r\nhost: x\r\nx-a: " + b"a" * 100:
            send_quietly(sock, bytes([byte]))
            try:
                answers._recv()
            except TimeoutError:
                continue
            break
        sock.settimeout(5)
        [(status, headers, body)] = answers.read()
        took = time.monotonic() - started
    assert status == 408 and headers[b"connection"] == b"close"
    assert error_of(body)["code"] == "request_timeout"
    assert 0.45 < took < 2.0


def test_a_connection_that_never_sends_a_byte_is_closed_after_the_keep_alive_timeout():
    with serving(keep_alive_s=0.5) as server, connect(server) as sock:
        started = time.monotonic()
        assert closed_by_peer(sock)
        assert 0.45 < time.monotonic() - started < 2.0


def test_a_body_that_trickles_in_gets_a_408_at_its_deadline():
    with serving(body_timeout_s=0.5) as server, connect(server) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n")
        started = time.monotonic()
        sock.settimeout(0.1)
        answers = Answers(sock)
        for _ in range(40):  # a byte every 100 ms: 4 s, far past the deadline
            send_quietly(sock, b"x")
            try:
                answers._recv()
            except TimeoutError:
                continue
            break
        sock.settimeout(5)
        [(status, _, body)] = answers.read()
        took = time.monotonic() - started
    assert status == 408 and error_of(body)["code"] == "request_timeout"
    assert 0.45 < took < 2.0


def test_the_body_deadline_does_not_count_time_the_app_holds_reading_back():
    """A large body the app reads slowly: reading pauses (back-pressure), which is not the client's delay."""
    import asyncio

    async def slow_reader(scope, receive, send):
        from tests.kit.server import answer_lifespan

        if scope["type"] == "lifespan":
            return await answer_lifespan(receive, send)
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            await asyncio.sleep(0.1)
            if not message.get("more_body"):
                break
        answer = b"%d" % size
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(answer))]})
        await send({"type": "http.response.body", "body": answer})

    payload = b"x" * (4 * MiB)
    with serving(slow_reader, body_timeout_s=0.5) as server, connect(server, timeout=20) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(payload) + payload)
        [(status, _, body)] = Answers(sock).read()
    assert (status, body) == (200, b"%d" % len(payload))


def test_connections_past_the_cap_get_a_503_at_once_and_the_cap_frees_up():
    """Slowloris holding every connection the server takes: the next one is refused clearly, at once."""
    with serving(max_connections=4, head_timeout_s=30) as server:
        holders = [connect(server) for _ in range(4)]
        for sock in holders:
            sock.sendall(b"G")
        time.sleep(0.1)
        started = time.monotonic()
        with connect(server) as sock:
            send_quietly(sock, get("/refused"))
            [(status, headers, body)] = Answers(sock).read()
        assert time.monotonic() - started < 1.0
        assert status == 503 and headers[b"connection"] == b"close" and headers[b"retry-after"] == b"1"
        assert error_of(body)["type"] == "overloaded_error"
        holders.pop().close()
        time.sleep(0.3)
        with connect(server) as sock:
            sock.sendall(get("/after"))
            [(status, _, _)] = Answers(sock).read()
        assert status == 200
        for sock in holders:
            sock.close()


def test_pipelined_requests_past_the_bound_end_the_connection():
    """5,000 requests of 29 bytes in one send: the old server queued every one (~4 MB per 256 KiB).
    Here at most `max_pipelined` wait behind the first; the last of them ends the connection."""
    with serving(max_pipelined=16) as server, connect(server, timeout=10) as sock:
        send_quietly(sock, get("/p") * 5000)
        answers = Answers(sock).read_all()
    assert 2 <= len(answers) <= 17
    assert all(status == 200 for status, _, _ in answers)
    assert answers[-1][1][b"connection"] == b"close"


def test_a_few_pipelined_requests_are_all_answered():
    with serving(max_pipelined=16) as server, connect(server) as sock:
        sock.sendall(get("/a") * 10)
        answers = Answers(sock).read(10)
    assert [body for _, _, body in answers] == [b"GET /a 0"] * 10


def test_a_half_closed_client_gets_its_answer():
    """The client sends its request, then shuts its write side (`shutdown(SHUT_WR)`), and reads."""
    with serving() as server, connect(server) as sock:
        sock.sendall(b"POST /half HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello")
        sock.shutdown(socket.SHUT_WR)
        answers = Answers(sock).read_all()
    assert [(status, body) for status, _, body in answers] == [(200, b"POST /half 5")]


def test_a_half_closed_client_gets_every_pipelined_answer():
    with serving() as server, connect(server) as sock:
        sock.sendall(get("/one") + get("/two"))
        sock.shutdown(socket.SHUT_WR)
        answers = Answers(sock).read_all()
    assert [body for _, _, body in answers] == [b"GET /one 0", b"GET /two 0"]
