"""The gateway's upstream HTTP/1.1 client (anyray.server.gateway.h1) against raw servers on loopback.

Each test's server is a plain asyncio server that writes exactly the bytes under test (chunked bodies,
bodies that end with the connection, gzip, a keep-alive connection closed while idle, a body cut short,
TLS from a throwaway CA), so what the client does with each wire shape is seen directly. The provider
fakes exercise the same client end to end in every other gateway test.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import Awaitable, Callable

import pytest
import trustme

from anyray.server.gateway.h1 import ConnectError, ConnectionPool, ResponseCut, request_head, split_url

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """Counts connections; the handler gets each one's reader and writer."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl = ssl_context
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> Server:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=self.ssl)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if self.ssl else 'http'}://127.0.0.1:{port}/v1/messages"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length)
        self.requests.append(head + body)
        return body


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


def test_a_kept_alive_connection_serves_every_request_and_the_request_is_sent_as_given():
    async def main() -> None:
        async def answer(reader, writer):
            while True:
                body = await server.read_request(reader)
                writer.write(ok(b'{"echo":' + body + b"}"))

        async with Server(answer) as server:
            pool = ConnectionPool()
            for i in range(5):
                headers = {"x-api-key": "k", "content-type": "application/json"}
                response = await pool.request("POST", server.url, headers, b'{"n":%d}' % i)
                assert response.status == 200
                assert response.headers["content-type"] == "application/json"
                assert await response.read() == b'{"echo":{"n":%d}}' % i
                response.release()
            assert server.connections == 1
            assert (pool.idle(), pool.in_use()) == (1, 0)
            first = server.requests[0].decode()
            assert first.startswith("POST /v1/messages HTTP/1.1\r\n")
            assert f"host: {server.url.split('/')[2]}\r\n" in first and "x-api-key: k\r\n" in first
            assert "content-length: 7\r\n" in first and first.endswith('{"n":0}')
            await pool.close()

    run(main())


def test_a_chunked_stream_reaches_the_caller_piece_by_piece_before_it_ends():
    async def main() -> None:
        release = asyncio.Event()

        async def answer(reader, writer):
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            writer.write(b"6\r\nfirst\n\r\n")
            await writer.drain()
            await release.wait()  # the second piece only once the caller has the first
            writer.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
            await writer.drain()
            await reader.read()

        async with Server(answer) as server:
            pool = ConnectionPool()
            response = await pool.request("POST", server.url, {}, b"{}")
            seen = []
            async for chunk in response.iter_chunks():
                seen.append(chunk)
                release.set()
            response.release()
            assert b"".join(seen) == b"first\nsecond\n" and seen[0] == b"first\n"
            assert pool.idle() == 1  # read to its end: kept
            await pool.close()

    run(main())


def test_a_body_without_length_ends_with_the_connection_and_that_connection_is_not_kept():
    async def main() -> None:
        async def answer(reader, writer):
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nall of it")
            await writer.drain()

        async with Server(answer) as server:
            pool = ConnectionPool()
            response = await pool.request("GET", server.url, {})
            assert await response.read() == b"all of it"
            response.release()
            assert (pool.idle(), pool.in_use()) == (0, 0)
            await pool.close()

    run(main())


def test_a_gzipped_answer_is_decoded():
    async def main() -> None:
        payload = b'{"type":"message","text":"' + b"z" * 5000 + b'"}'

        async def answer(reader, writer):
            await server.read_request(reader)
            writer.write(ok(gzip.compress(payload), b"content-encoding: gzip\r\n"))

        async with Server(answer) as server:
            pool = ConnectionPool()
            response = await pool.request("POST", server.url, {}, b"{}")
            assert await response.read() == payload
            response.release()
            await pool.close()

    run(main())


def test_an_idle_connection_the_upstream_closed_is_replaced_without_the_caller_seeing_it():
    async def main() -> None:
        async def answer_once_then_hang_up(reader, writer):
            await server.read_request(reader)
            writer.write(ok(b"{}"))
            await writer.drain()
            # an upstream's keep-alive timeout: the connection closes while the client holds it idle

        async with Server(answer_once_then_hang_up) as server:
            pool = ConnectionPool()
            for _ in range(3):
                response = await pool.request("POST", server.url, {}, b"{}")
                assert await response.read() == b"{}"
                response.release()
                await asyncio.sleep(0.05)
            assert server.connections == 3
            await pool.close()

    run(main())


def test_a_kept_connection_closed_as_the_next_request_goes_out_is_retried_once_on_a_fresh_one():
    async def main() -> None:
        async def first_connection_hangs_up_on_its_second_request(reader, writer):
            number = server.connections
            await server.read_request(reader)
            writer.write(ok(b'{"n":1}'))
            await writer.drain()
            if number == 1:
                await server.read_request(reader)  # the race: closed before a byte of the answer
                return
            while True:
                await server.read_request(reader)
                writer.write(ok(b'{"n":2}'))

        async with Server(first_connection_hangs_up_on_its_second_request) as server:
            pool = ConnectionPool()
            response = await pool.request("POST", server.url, {}, b"{}")
            assert await response.read() == b'{"n":1}'
            response.release()
            response = await pool.request("POST", server.url, {}, b"{}")  # on the kept connection, which drops
            assert await response.read() == b'{"n":1}'  # the fresh connection's first answer
            response.release()
            assert server.connections == 2 and len(server.requests) == 3
            await pool.close()

    run(main())


def test_a_body_cut_short_is_an_error_and_its_connection_is_dropped():
    async def main() -> None:
        async def answer(reader, writer):
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly some")
            await writer.drain()

        async with Server(answer) as server:
            pool = ConnectionPool()
            response = await pool.request("POST", server.url, {}, b"{}")
            with pytest.raises(ResponseCut, match="before the answer was complete"):
                await response.read()
            response.release()
            assert (pool.idle(), pool.in_use()) == (0, 0)
            await pool.close()

    run(main())


def test_refused_and_silent_upstreams_fail_within_their_timeouts():
    async def main() -> None:
        async with Server(lambda r, w: asyncio.sleep(0)) as server:
            closed_url = server.url
        pool = ConnectionPool(read_timeout_s=0.2)
        with pytest.raises(ConnectError, match="cannot connect"):
            await pool.request("POST", closed_url, {}, b"{}")

        async def never_answer(reader, writer):
            await server.read_request(reader)
            await asyncio.sleep(5)

        async with Server(never_answer) as server:
            with pytest.raises(TimeoutError, match="no answer"):
                await pool.request("POST", server.url, {}, b"{}")
            assert (pool.idle(), pool.in_use()) == (0, 0)
        await pool.close()

    run(main())


def test_a_caller_that_gives_up_while_waiting_leaves_no_connection_behind():
    async def main() -> None:
        async def slow(reader, writer):
            await server.read_request(reader)
            await asyncio.sleep(5)

        async with Server(slow) as server:
            pool = ConnectionPool()
            task = asyncio.create_task(pool.request("POST", server.url, {}, b"{}"))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (pool.idle(), pool.in_use()) == (0, 0)
            await pool.close()

    run(main())


def test_a_large_stream_read_slowly_arrives_whole():
    async def main() -> None:
        block = bytes(range(256)) * 256  # 64 KiB

        async def answer(reader, writer):
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (len(block) * 64))
            for _ in range(64):
                writer.write(block)
                await writer.drain()
            await reader.read()

        async with Server(answer) as server:
            pool = ConnectionPool()
            response = await pool.request("POST", server.url, {}, b"{}")
            got = bytearray()
            async for chunk in response.iter_chunks():
                got += chunk
                await asyncio.sleep(0)  # a slow reader: the connection pauses past the high-water mark
            response.release()
            assert bytes(got) == block * 64
            assert pool.idle() == 1
            await pool.close()

    run(main())


def test_tls_to_a_trusted_upstream_works_and_to_an_untrusted_one_is_refused():
    authority = trustme.CA()
    served = authority.issue_cert("127.0.0.1")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.configure_cert(server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)

    async def main() -> None:
        async def answer(reader, writer):
            while True:
                await server.read_request(reader)
                writer.write(ok(b'{"tls":true}'))

        async with Server(answer, server_context) as server:
            pool = ConnectionPool(ssl_context=trusting)
            for _ in range(2):
                response = await pool.request("POST", server.url, {}, b"{}")
                assert await response.read() == b'{"tls":true}'
                response.release()
            assert server.connections == 1
            await pool.close()
            with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await ConnectionPool().request("POST", server.url, {}, b"{}")  # the system's CAs only

    run(main())


def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent():
    origin, target = split_url("https://api.example.com/v1/messages?beta=true")
    assert (origin.host_header, target) == ("api.example.com", "/v1/messages?beta=true")
    with pytest.raises(ValueError, match="line break"):
        request_head("POST", origin, target, {"x-api-key": "key\r\nx-injected: 1"}, b"{}")


def test_calls_past_the_per_origin_cap_wait_for_a_connection_instead_of_opening_more():
    async def main() -> None:
        gate = asyncio.Event()

        async def held_until_the_gate_opens(reader, writer):
            while True:
                await server.read_request(reader)
                await gate.wait()
                writer.write(ok(b"{}"))

        async with Server(held_until_the_gate_opens) as server:
            pool = ConnectionPool(max_per_origin=2)

            async def call() -> bytes:
                response = await pool.request("POST", server.url, {}, b"{}")
                try:
                    return await response.read()
                finally:
                    response.release()

            calls = [asyncio.create_task(call()) for _ in range(6)]
            await asyncio.sleep(0.2)
            assert server.connections == 2 and len(server.requests) == 2  # four wait, no third socket
            assert pool.open_to(server.url) == 2
            gate.set()
            assert await asyncio.gather(*calls) == [b"{}"] * 6
            assert server.connections == 2  # the waiting calls were handed the two connections in turn
            assert (pool.idle(), pool.in_use()) == (2, 0)
            await pool.close()

    run(main())


def test_a_call_waiting_at_the_cap_fails_within_the_connect_timeout_and_a_freed_slot_goes_to_the_next():
    async def main() -> None:
        async def hang_up_after_a_while(reader, writer):
            await server.read_request(reader)
            await asyncio.sleep(0.6)  # then the connection closes without an answer: its slot frees

        async with Server(hang_up_after_a_while) as server:
            pool = ConnectionPool(connect_timeout_s=0.3, max_per_origin=1)
            first = asyncio.create_task(pool.request("POST", server.url, {}, b"{}"))
            await asyncio.sleep(0.05)
            started = asyncio.get_running_loop().time()
            with pytest.raises(ConnectError, match="all 1 connections to it are busy"):
                await pool.request("POST", server.url, {}, b"{}")
            assert 0.25 < asyncio.get_running_loop().time() - started < 0.6
            gives_up = asyncio.create_task(pool.request("POST", server.url, {}, b"{}"))
            await asyncio.sleep(0.05)
            gives_up.cancel()  # a caller that leaves while waiting takes no slot with it
            pool.connect_timeout_s = 2.0
            waiting = asyncio.create_task(pool.request("POST", server.url, {}, b"{}"))
            with pytest.raises(ResponseCut):
                await first  # the upstream hung up: the slot goes to the call still waiting
            with pytest.raises(ResponseCut):
                await waiting
            assert server.connections == 2 and pool.open_to(server.url) == 0
            await pool.close()

    run(main())
