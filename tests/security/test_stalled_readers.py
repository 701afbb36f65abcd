"""A client that stops reading its stream no longer holds an upstream slot, and one team cannot take them all.

The review's replay: four clients started a stream each and never read it; with `max_concurrent_upstream: 4`
they held every slot for 70 s and more, and everyone else got 429s. Now the server cuts a connection whose
client takes none of its answer for `write_timeout_s`: the upstream is let go, the slot comes back, the call
is recorded as 499 partial. And `max_concurrent_upstream_per_team` caps what one team may hold, answered as a
429 with retry-after in the caller's dialect.
"""

from __future__ import annotations

import socket
import threading
import time

import anthropic
import openai
import orjson
import pytest

from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config
from tests.security.wire import closed_by_peer

LONG = "word " * 60_000  # ~20,000 stream events, ~3 MB


def small_send_buffers(gw) -> None:
    """The gateway's sockets to its clients get a 16 KB kernel send buffer (accepted sockets inherit it from the
    listening one), so that a client that does not read stalls the server's writes after ~100 KB instead of
    after the several MB loopback's autotuned buffers would take first."""
    gw.server._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
ASK = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hello"}]}


def stalled_stream(gw, team: str = "slowpoke") -> socket.socket:
    """A raw client that starts a stream, reads its first bytes, and never reads again (a small receive window,
    so the server's side fills quickly)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((gw.server.host, gw.server.port))
    body = orjson.dumps({**ASK, "stream": True})
    sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
                 b"anthropic-version: 2023-06-01\r\nx-api-key: %s\r\nx-anyray-metadata: team=%s\r\n"
                 b"content-length: %d\r\n\r\n%s" % (CLIENT_KEY.encode(), team.encode(), len(body), body))
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
    return sock


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def claude(gw, team: str | None = None) -> anthropic.Anthropic:
    headers = {"x-anyray-metadata": f"team={team}"} if team else {}
    return anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, default_headers=headers,
                               timeout=30)


def test_clients_that_stop_reading_are_cut_and_their_upstream_slots_come_back(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, gateway__limits={
        "max_concurrent_upstream": 2, "queue_timeout_s": 0.2, "write_timeout_s": 2}))
    small_send_buffers(gw)
    fake.chunk_delay_s = 0.001  # the upstream is still answering when the cut comes: it is let go mid-stream
    calls: list = []
    gw.gateway.listeners.append(calls.append)
    fake.script(LONG)
    fake.script(LONG)
    stalled = [stalled_stream(gw), stalled_stream(gw)]
    try:
        with pytest.raises(anthropic.RateLimitError):  # the two readers that read nothing hold both slots...
            claude(gw).messages.create(**ASK)
        # ...until the write deadline cuts them: each recorded as the client leaving, mid-answer
        wait_until(lambda: len([c for c in calls if c.status == 499]) == 2, 20, "both stalled calls to be cut")
        assert all(c.partial and c.stream for c in calls if c.status == 499)
        assert gw.gateway.slots.in_use == 0
        wait_until(lambda: fake.stream_endings.count("abandoned") == 2, 10, "the upstream streams to be let go")
        assert fake.streams_open == 0
        assert claude(gw).messages.create(**ASK).content  # a slot is free again
        for sock in stalled:  # the server dropped the connections, not just the calls
            assert closed_by_peer(sock)
        assert gw.server._server.state.stalled_cut == 2
    finally:
        for sock in stalled:
            sock.close()


def test_a_reader_that_keeps_reading_slowly_is_not_cut(fake, sa_key_file, start_gateway):
    # a 2 s deadline against a read every 0.1 s: twenty reads of margin (at 1 s, a busy CI machine once
    # stalled this client long enough to be cut)
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, gateway__limits={"write_timeout_s": 2}))
    small_send_buffers(gw)
    fake.script("word " * 4_000)  # ~230 KB, read in ~3 s: the server's buffer is never empty, never stuck
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(10)
        sock.connect((gw.server.host, gw.server.port))
        body = orjson.dumps({**ASK, "stream": True})
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
                     b"anthropic-version: 2023-06-01\r\nx-api-key: %s\r\ncontent-length: %d\r\n\r\n%s"
                     % (CLIENT_KEY.encode(), len(body), body))
        got = b""
        while b"message_stop" not in got[-400:]:  # 8 KB every 0.1 s: slow, but always taking some
            chunk = sock.recv(8192)
            assert chunk, "the server cut a client that was reading"
            got += chunk
            time.sleep(0.1)
    assert gw.server._server.state.stalled_cut == 0


def test_one_team_cannot_take_every_upstream_slot(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, gateway__limits={
        "max_concurrent_upstream": 4, "max_concurrent_upstream_per_team": 2, "queue_timeout_s": 0.2}))
    gate = fake.hold_stream_after(2)
    gate2 = fake.hold_stream_after(2)
    held: list[threading.Thread] = []

    def hold() -> None:
        with claude(gw, "batch").messages.stream(**ASK) as stream:
            stream.until_done()

    try:
        for _ in range(2):  # team batch fills its share: two streams held open upstream
            held.append(threading.Thread(target=hold, daemon=True))
            held[-1].start()
        wait_until(lambda: fake.streams_open == 2, 10, "two held streams")
        with pytest.raises(anthropic.RateLimitError) as info:  # a third for batch: its own cap, in its dialect
            claude(gw, "batch").messages.create(**ASK)
        assert info.value.response.headers["retry-after"] == "1"
        assert "'batch'" in info.value.message and "max_concurrent_upstream_per_team" in info.value.message
        with pytest.raises(openai.RateLimitError) as oinfo:  # the same cap, in OpenAI's shape
            openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0).chat.completions.create(
                model="claude-haiku-4-5", messages=ASK["messages"], extra_headers={"x-anyray-metadata": "team=batch"})
        assert oinfo.value.response.headers["retry-after"] == "1" and oinfo.value.body["code"] == "team_busy"
        assert claude(gw, "search").messages.create(**ASK).content  # the other teams still get slots
        assert claude(gw).messages.create(**ASK).content
    finally:
        gate.set()
        gate2.set()
        for thread in held:
            thread.join(10)
    assert claude(gw, "batch").messages.create(**ASK).content  # once its streams ended, batch gets slots again
    assert gw.gateway.slots.in_use == 0 and not gw.gateway.slots._teams
