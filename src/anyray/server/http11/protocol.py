"""The connection: parses requests with httptools, runs one exchange at a time, writes coalesced, and
holds the client to its deadlines and bounds (see the package doc and docs/reliability.md)."""

from __future__ import annotations

import asyncio
from collections import deque
from urllib.parse import unquote

import httptools
import orjson

from anyray.server.http11.exchange import Exchange
from anyray.server.http11.server import ServerState

# What the connection waits for from the client; each has its own deadline (ServerLimits).
IDLE, HEAD, BODY, BUSY = "idle", "head", "body", "busy"  # BUSY: the app's turn; no deadline for the client
LINGER = "linger"  # refused: our side is shut, the client's bytes are dropped until it closes
LINGER_S = 1.0


class Http11Protocol(asyncio.Protocol):
    """One client connection; made by `Server` (server.py) for every accepted socket."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.limits = state.limits
        self.app = state.app
        self.loop = state.loop
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.scheme = "http"
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.proxied = False  # the peer is a trusted proxy: its X-Forwarded-* name the client and scheme
        self.closing = False
        self.current: Exchange | None = None
        self.waiting: deque[Exchange] = deque()  # pipelined requests, in order
        self.parsing: Exchange | None = None  # the request whose body the parser is reading
        self.phase = IDLE
        self.deadline: float | None = None  # when the client must have sent what `phase` waits for
        self.paused_at: float | None = None  # reading paused by us: no client deadline runs meanwhile
        self.reading_paused = False
        self.write_paused = False
        self.client_done = False  # the client shut its write side: answer what it asked, then close
        self.no_more = False  # past max_pipelined: what follows is not read; the queued ones end the connection
        self._drain: asyncio.Future[None] | None = None
        self._out: list[bytes] | None = None  # written this loop iteration (no list while there is none)
        self._written = 0  # bytes handed to the transport; minus what it still buffers: what the client took
        self._sent_mark = 0  # ...as last seen by the deadline check, and when it last moved
        self._sent_at = 0.0
        # per request head, while it is parsed
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._continue = False
        self._head_left: int | None = self.limits.max_head_bytes  # None: not in a head
        self._heads = 0  # request heads parsed on this connection

    # -------------------------------------------------------------------------- the transport's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        state = self.state
        state.connections.add(self)
        if len(state.connections) > state.max_connections:
            state.refused_one()
            self._refuse(503, b"Service Unavailable", "the server has too many open connections; retry shortly",
                         "overloaded", b"retry-after: 1\r\n")
            return
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        forwarded = state.forwarded
        self.proxied = forwarded is not None and forwarded.trusts(self.client)
        self._wait_for(IDLE, self.limits.keep_alive_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.deadline = None
        self.state.connections.discard(self)
        for exchange in (self.current, *self.waiting):
            if exchange is not None and not exchange.responded:
                exchange.disconnected = True
                exchange.wake()
        self.waiting.clear()
        self._out = None
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def eof_received(self) -> bool | None:
        """The client shut its write side. After a whole request whose answer has not started yet, the
        answer is still wanted (a half-closed client, `shutdown(SHUT_WR)`, reads on): keep writing and close
        after it. A client that closed outright is then seen at the first write (a reset). Once the answer
        has started, the end of the client's input means it left, as before: a stream's watcher sees the
        `http.disconnect` at once, not at the next chunk."""
        self._flush()  # an answer written in this loop iteration still leaves before the transport closes
        if self.phase == LINGER:
            return None
        exchange = self.current
        if exchange is not None and exchange.complete and not exchange.started:
            self.client_done = True
            self.deadline = None
            for queued in self.waiting:  # requests cut short by the close will never be whole: not answered
                if not queued.complete:
                    queued.keep_alive = False
            return True
        return None

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    async def drained(self) -> None:
        if self._drain is None or self._drain.done():
            self._drain = self.loop.create_future()
        await self._drain

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # lingering after a refusal: what the client still sends is read and dropped
        if self.phase == IDLE:
            self._wait_for(HEAD, self.limits.head_timeout_s)
        while True:
            left = self._head_left
            if left is None or len(data) <= left:
                if left is not None:
                    self._head_left = left - len(data)
                self._feed(data)
                return
            # more than the head may still hold: parse only that much; within it the head must end
            heads = self._heads
            if not self._feed(data[:left]):
                return
            if self._heads == heads:
                self._refuse(431, b"Request Header Fields Too Large", "request head exceeds the server's "
                             f"hard limit of {self.limits.max_head_bytes} bytes", "headers_too_large")
                return
            data = data[left:]

    def _feed(self, data: bytes) -> bool:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.pause_reading()  # no upgrades here (no WebSockets): answer the request, then close
            if self.current is not None:
                self.current.keep_alive = False
            return False
        except httptools.HttpParserError:
            self._refuse(400, b"Bad Request", "Invalid HTTP request received.")
            return False
        return not self.closing

    def _refuse(self, status: int, reason: bytes, message: str, code: str = "bad_request",
                extra: bytes = b"") -> None:
        """Answer without the app, then end the connection (lingering: see `_linger`)."""
        # readable by both SDKs: Anthropic's {type, error{type, message}} and OpenAI's error{message, code}
        kind = "overloaded_error" if status == 503 else "timeout_error" if status == 408 else "invalid_request_error"
        body = orjson.dumps({"type": "error", "error": {"type": kind, "message": message, "param": None,
                                                        "code": code}})
        self._head_left = None
        self.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n%s"
                   b"content-length: %d\r\n\r\n%s" % (status, reason, extra, len(body), body))
        self._linger()

    def _linger(self) -> None:
        """Send what is written, shut our side, and drop what the client still sends until it closes or
        `LINGER_S` passed. Closing at once with unread request bytes would make the kernel send a reset,
        and a client's TCP stack may then discard the answer before the client reads it."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._flush()
        self.closing = True  # nothing more is written or parsed
        for exchange in (self.current, *self.waiting):
            if exchange is not None and not exchange.responded:
                exchange.disconnected = True
                exchange.wake()
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.phase, self.deadline = LINGER, self.loop.time() + LINGER_S
        if self.reading_paused:
            self.reading_paused = False
            transport.resume_reading()

    # ----------------------------------------------------------------------------- deadlines
    def _wait_for(self, phase: str, within_s: float | None) -> None:
        self.phase = phase
        self.deadline = None if within_s is None else self.loop.time() + within_s

    def check_deadline(self, now: float) -> None:
        """Called each tick by the server: a client that did not send in time is let go, and one that does not
        read what it was sent is cut."""
        if self._write_stalled(now):
            return
        deadline = self.deadline
        if deadline is None or now <= deadline:
            return
        if self.phase == LINGER:
            self.transport.close()
            return
        if self.reading_paused or self.closing:
            return
        self.state.timed_out += 1
        if self.phase == IDLE:
            self.close()
        elif self.phase == HEAD and self.current is None:
            self._refuse(408, b"Request Timeout", f"request head not received within "
                         f"{self.limits.head_timeout_s:g}s", "request_timeout")
        elif self.phase == BODY and (exchange := self.parsing) is not None and not exchange.started:
            exchange.disconnected = True  # the app's receive() ends; nothing it sends now goes out
            exchange.wake()
            self._refuse(408, b"Request Timeout", f"request body not received within "
                         f"{self.limits.body_timeout_s:g}s", "request_timeout")
        else:
            self.close()

    def _write_stalled(self, now: float) -> bool:
        """Whether the client left bytes of its answer unread for `write_timeout_s` (nothing the transport holds
        left it since), in any phase: then the connection is aborted. Not closed: a close waits to send what
        is buffered, which a client that does not read never takes, so the descriptor would stay. The abort
        ends the exchange as a hang-up does (the app's stream sees `http.disconnect`, lets its upstream go and
        records the call as the client leaving)."""
        transport = self.transport
        if transport is None:
            return False
        buffered = transport.get_write_buffer_size()
        sent = self._written - buffered
        if not buffered or sent != self._sent_mark:
            self._sent_mark, self._sent_at = sent, now
            return False
        if now - self._sent_at <= self.limits.write_timeout_s:
            return False
        self.state.stalled_one()
        self.closing = True
        self.deadline = None
        transport.abort()
        return True

    # ----------------------------------------------------------------------------- parser callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._continue = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace, which is not part of a value
        if name == b"expect" and value.lower() == b"100-continue":
            self._continue = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._head_left = None
        self._heads += 1
        if self.no_more:
            self.parsing = None
            return
        parser = self.parser
        version = parser.get_http_version()
        url = httptools.parse_url(self._url)
        raw_path = url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        root_path = self.state.root_path
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": parser.get_method().decode("ascii"),
            "root_path": root_path,
            "path": root_path + path,
            "raw_path": root_path.encode("ascii") + raw_path if root_path else raw_path,
            "query_string": url.query or b"",
            "headers": self._headers,
            "state": self.state.app_state.copy(),
        }
        if self.proxied:
            self.state.forwarded.rewrite(scope)  # type: ignore[union-attr]
        exchange = self.parsing = Exchange(self, scope, version != "1.0" and parser.should_keep_alive(),
                                           self._continue)
        if self.current is None:
            self._wait_for(BODY, self.limits.body_timeout_s)
            self._start(exchange)
        else:  # pipelined: its turn comes when the one before it has answered
            self.waiting.append(exchange)
            self.pause_reading()
            if len(self.waiting) >= self.limits.max_pipelined:
                # enough queued: this one is the last answered, and nothing after it is parsed (it would
                # be held in memory for its turn, a few KB a request however small its bytes)
                exchange.keep_alive = False
                self.no_more = True

    def on_body(self, body: bytes) -> None:
        exchange = self.parsing
        if exchange is not None and not exchange.responded:
            exchange.arrived(body)

    def on_message_complete(self) -> None:
        self._head_left = self.limits.max_head_bytes  # a kept-alive connection's next request starts a new head
        exchange, self.parsing = self.parsing, None
        if exchange is self.current and self.phase == BODY:
            self._wait_for(BUSY, None)
        if self.no_more:
            self.pause_reading()  # the last request answered here is whole: nothing after it is read
        if exchange is None or exchange.responded:
            return
        exchange.complete = True
        exchange.wake()

    # ---------------------------------------------------------------------------------- exchanges
    def _start(self, exchange: Exchange) -> None:
        self.current = exchange
        task = self.loop.create_task(exchange.run(self.app))
        tasks = self.state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def responded(self, exchange: Exchange) -> None:
        """The response's last byte is written: the next request's turn, or the keep-alive wait."""
        self.state.total_requests += 1
        self.current = None
        if not exchange.keep_alive:
            self._linger() if not exchange.complete else self.close()  # unread request bytes: see _linger
            return
        if self.waiting:
            nxt = self.waiting.popleft()
            if self.client_done and not nxt.complete:
                self.close()
                return
            self._wait_for(BUSY, None) if nxt.complete else self._wait_for(BODY, self.limits.body_timeout_s)
            self._start(nxt)
            if not self.waiting and (not self.no_more or not nxt.complete):
                self.resume_reading()
        elif self.client_done:
            self.close()
        else:
            # bytes of the next head already read: its deadline runs from now; else the keep-alive wait
            started = self._head_left != self.limits.max_head_bytes
            self._wait_for(HEAD, self.limits.head_timeout_s) if started else self._wait_for(
                IDLE, self.limits.keep_alive_s)
            self.resume_reading()

    def shutdown(self) -> None:
        """The server's graceful stop: close if idle, else after the answer in progress."""
        if self.current is None or self.current.responded:
            self.close()
        else:
            self.current.keep_alive = False

    # --------------------------------------------------------------------------------- the wire
    def write(self, data: bytes) -> None:
        """Buffered until the end of this loop iteration, then one send() (see the module doc)."""
        if self.closing:
            return
        out = self._out
        if out is None:
            self._out = [data]
            self.loop.call_soon(self._flush)
        else:
            out.append(data)

    def _flush(self) -> None:
        out = self._out
        if out is None:
            return
        self._out = None
        if not self.transport.is_closing():
            data = out[0] if len(out) == 1 else b"".join(out)
            self._written += len(data)
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._flush()
        self.closing = True
        self.deadline = None
        self.transport.close()

    def pause_reading(self) -> None:
        if not self.reading_paused and not self.closing:
            self.reading_paused = True
            self.paused_at = self.loop.time()
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and not self.closing:
            self.reading_paused = False
            if self.deadline is not None and self.paused_at is not None:
                self.deadline += self.loop.time() - self.paused_at  # the pause was ours, not the client's
            self.paused_at = None
            self.transport.resume_reading()


def _address(value: object) -> tuple[str, int] | None:
    if isinstance(value, tuple | list) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None
