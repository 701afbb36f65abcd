"""The connection: parses requests with httptools, runs one exchange at a time, writes coalesced."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import unquote

import httptools
import orjson

from anyray.server.http11.exchange import Exchange

HEAD_HARD_CAP_BYTES = 1024 * 1024  # the gateway's own, lower and configurable limit answers in its dialect
SWEEP_EVERY_S = 1.0


class Http11Protocol(asyncio.Protocol):
    """An asyncio protocol uvicorn.Server can run (`uvicorn.Config(http=Http11Protocol)`); see the module doc."""

    max_head_bytes = HEAD_HARD_CAP_BYTES

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not config.loaded:
            config.load()
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.app_state = app_state
        self.root_path: str = config.root_path
        self.keep_alive_s: float = config.timeout_keep_alive
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.scheme = "http"
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.closing = False
        self.current: Exchange | None = None
        self.waiting: deque[Exchange] = deque()  # pipelined requests, in order
        self.idle_since: float | None = None
        self.reading_paused = False
        self.write_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._out: list[bytes] = []
        # per request head, while it is parsed
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._continue = False
        self._head_bytes: int | None = 0
        self._head_tail = b""

    # -------------------------------------------------------------------------- the transport's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server_state.connections.add(self)
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        self.idle_since = self.loop.time()
        _Sweeper.watch(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server_state.connections.discard(self)
        for exchange in (self.current, *self.waiting):
            if exchange is not None and not exchange.responded:
                exchange.disconnected = True
                exchange.wake()
        self.waiting.clear()
        self._out.clear()
        _Sweeper.stop_if_idle(self)
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def eof_received(self) -> bool | None:
        return None  # close once the client has: nothing more can arrive

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
        self.idle_since = None
        if self._head_bytes is not None and not self._head_fits(data):
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.pause_reading()  # no upgrades here (no WebSockets): answer the request, then close
            if self.current is not None:
                self.current.keep_alive = False
        except httptools.HttpParserError:
            self._refuse(400, b"Bad Request", "Invalid HTTP request received.")

    def _head_fits(self, data: bytes) -> bool:
        """Count the request head's bytes before the parser buffers them; a 431 past the cap."""
        joined = self._head_tail + data
        end = joined.find(b"\r\n\r\n")
        seen = self._head_bytes + (len(data) if end < 0 else end - len(self._head_tail))  # type: ignore[operator]
        if seen > self.max_head_bytes:
            message = f"request headers exceed the server's hard limit of {self.max_head_bytes} bytes"
            self._refuse(431, b"Request Header Fields Too Large", message, "headers_too_large")
            return False
        if end < 0:
            self._head_bytes, self._head_tail = seen, joined[-3:]
        else:
            self._head_bytes, self._head_tail = None, b""
        return True

    def _refuse(self, status: int, reason: bytes, message: str, code: str = "bad_request") -> None:
        # readable by both SDKs: Anthropic's {type, error{type, message}} and OpenAI's error{message, code}
        body = orjson.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": message,
                                                        "param": None, "code": code}})
        self._head_bytes = None
        self.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
                   b"content-length: %d\r\n\r\n%s" % (status, reason, len(body), body))
        self.close()

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
        parser = self.parser
        version = parser.get_http_version()
        url = httptools.parse_url(self._url)
        raw_path = url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": parser.get_method().decode("ascii"),
            "root_path": self.root_path,
            "path": self.root_path + path,
            "raw_path": self.root_path.encode("ascii") + raw_path if self.root_path else raw_path,
            "query_string": url.query or b"",
            "headers": self._headers,
            "state": self.app_state.copy(),
        }
        exchange = Exchange(self, scope, version != "1.0" and parser.should_keep_alive(), self._continue)
        if self.current is None:
            self._start(exchange)
        else:  # pipelined: its turn comes when the one before it has answered
            self.waiting.append(exchange)
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        exchange = self.waiting[-1] if self.waiting else self.current
        if exchange is not None and not exchange.responded:
            exchange.arrived(body)

    def on_message_complete(self) -> None:
        self._head_bytes, self._head_tail = 0, b""  # a kept-alive connection's next request starts a new head
        exchange = self.waiting[-1] if self.waiting else self.current
        if exchange is None or exchange.responded:
            return
        exchange.complete = True
        exchange.wake()

    # ---------------------------------------------------------------------------------- exchanges
    def _start(self, exchange: Exchange) -> None:
        self.current = exchange
        task = self.loop.create_task(exchange.run(self.app))
        tasks = self.server_state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def responded(self, exchange: Exchange) -> None:
        """The response's last byte is written: the next request's turn, or the keep-alive wait."""
        self.server_state.total_requests += 1
        if not exchange.keep_alive:
            self.close()
            return
        self.current = None
        if self.waiting:
            self._start(self.waiting.popleft())
            if not self.waiting:
                self.resume_reading()
        else:
            self.idle_since = self.loop.time()
            self.resume_reading()

    def shutdown(self) -> None:
        """uvicorn.Server's graceful stop: close if idle, else after the answer in progress."""
        if self.current is None or self.current.responded:
            self.close()
        else:
            self.current.keep_alive = False

    # --------------------------------------------------------------------------------- the wire
    def write(self, data: bytes) -> None:
        """Buffered until the end of this loop iteration, then one send() (see the module doc)."""
        if self.closing:
            return
        if not self._out:
            self.loop.call_soon(self._flush)
        self._out.append(data)

    def _flush(self) -> None:
        out = self._out
        if out and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        out.clear()

    def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._flush()
        self.closing = True
        self.transport.close()

    def pause_reading(self) -> None:
        if not self.reading_paused and not self.closing:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and not self.closing:
            self.reading_paused = False
            self.transport.resume_reading()


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple | list) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class _Sweeper:
    """Closes keep-alive connections idle past their timeout: one task per server, not a timer per answer.
    It runs while the server has connections and is kept on uvicorn's ServerState."""

    ATTRIBUTE = "anyray_keepalive_sweeper"

    @classmethod
    def watch(cls, conn: Http11Protocol) -> None:
        state = conn.server_state
        task = getattr(state, cls.ATTRIBUTE, None)
        if task is None or task.done():
            setattr(state, cls.ATTRIBUTE, conn.loop.create_task(cls._sweep(state, conn.loop)))

    @classmethod
    def stop_if_idle(cls, conn: Http11Protocol) -> None:
        state = conn.server_state
        task = getattr(state, cls.ATTRIBUTE, None)
        if task is not None and not state.connections:
            task.cancel()
            setattr(state, cls.ATTRIBUTE, None)

    @staticmethod
    async def _sweep(state: Any, loop: asyncio.AbstractEventLoop) -> None:
        while state.connections:
            await asyncio.sleep(SWEEP_EVERY_S)
            now = loop.time()
            for conn in list(state.connections):
                since = getattr(conn, "idle_since", None)
                if since is not None and now - since > conn.keep_alive_s:
                    conn.close()
