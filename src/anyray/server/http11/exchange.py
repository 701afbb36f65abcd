"""One request and its response on a connection: the ASGI `receive` and `send` an app is given."""

from __future__ import annotations

import asyncio
import http
import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anyray.server.http11.protocol import Http11Protocol

log = logging.getLogger("anyray.http")

BODY_HIGH_WATER = 64 * 1024  # request bytes buffered before reading pauses (the app reads slower than we get)

_BAD_NAME = re.compile(rb'[\x00-\x1f\x7f()<>@,;:\\\[\]={} \t"]').search
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]").search


def _status_line(code: int) -> bytes:
    try:
        phrase = http.HTTPStatus(code).phrase.encode()
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (code, phrase)


STATUS_LINES = {code: _status_line(code) for code in range(100, 600)}


class ClientLeft(BaseException):
    """Raised by an app that finds its client gone (e.g. mid-body): the request ends here, with one log line.

    A BaseException so that the app's own `except Exception` handlers (which log a traceback and try to
    answer a 500 nobody will read) let it through to the server, which logs it once, without a traceback.
    """


class Exchange:
    """One request and its response: the ASGI receive and send callables, and where each stands."""

    __slots__ = ("body", "buffered", "chunked", "complete", "conn", "continue_wanted", "disconnected",
                 "handed_over", "keep_alive", "left", "method", "responded", "scope", "started", "waiter")

    def __init__(self, conn: Http11Protocol, scope: dict[str, Any], keep_alive: bool, continue_wanted: bool) -> None:
        self.conn = conn
        self.scope = scope
        self.method = scope["method"]
        self.keep_alive = keep_alive
        self.continue_wanted = continue_wanted
        self.body: list[bytes] | None = None  # arrived, not yet handed to the app (no list until a byte came)
        self.buffered = 0
        self.complete = False  # the request's body has all arrived
        self.handed_over = False  # ...and the app has it all
        self.disconnected = False
        self.started = False  # the response's head was sent
        self.responded = False  # the response's last byte was sent
        self.chunked = False
        self.left = -1  # content-length bytes still to send; -1: not counted
        self.waiter: asyncio.Future[None] | None = None

    def arrived(self, chunk: bytes) -> None:
        if self.body is None:
            self.body = [chunk]
        else:
            self.body.append(chunk)
        self.buffered += len(chunk)
        if self.buffered > BODY_HIGH_WATER:
            self.conn.pause_reading()
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def run(self, app: Any) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except ClientLeft as left:
            log.info("client left before the request of %s %s was whole (%s)", self.method, self.scope["path"][:200],
                     left or "disconnected")
            self.conn.close()
        except Exception as exc:
            if self.disconnected:  # the client left (or was let go) mid-request: the app's error is that
                log.info("client left before the answer of %s %s was complete (%s)", self.method,
                         self.scope["path"][:200], type(exc).__name__)
            else:
                log.error("Exception in ASGI application", exc_info=exc)
            if not self.started and not self.disconnected:
                self.keep_alive = False
                await self._answer_500()
            else:
                self.conn.close()
        except BaseException:  # cancelled (a forced shutdown): nothing more will be written
            self.conn.close()
            raise
        else:
            if not self.started and not self.disconnected:
                log.error("ASGI callable returned without starting response.")
                self.keep_alive = False
                await self._answer_500()
            elif not self.responded and not self.disconnected:
                log.error("ASGI callable returned without completing response.")
                self.conn.close()

    async def _answer_500(self) -> None:
        await self.send({"type": "http.response.start", "status": 500, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")]})
        await self.send({"type": "http.response.body", "body": b"Internal Server Error"})

    async def receive(self) -> dict[str, Any]:
        """The body as it arrives; once the app has all of it, wait until the client leaves or the
        response is done, then `http.disconnect` (what a stream's watcher waits for)."""
        conn = self.conn
        if self.continue_wanted:
            self.continue_wanted = False
            if not self.started:
                conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        while not (self.disconnected or self.responded):
            if not self.handed_over and (self.body or self.complete):
                chunks = self.body
                body = b"" if not chunks else chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self.body, self.buffered = None, 0
                self.handed_over = self.complete
                conn.resume_reading()
                return {"type": "http.request", "body": body, "more_body": not self.complete}
            conn.resume_reading()
            self.waiter = conn.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        conn = self.conn
        if conn.write_paused and not self.disconnected:
            await conn.drained()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{kind}'.")
            head = self._head(message["status"], message.get("headers", ()))  # raises before anything is sent
            self.started = True
            self.continue_wanted = False
            conn.write(head)
        elif not self.responded:
            if kind != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if self.chunked:
                if body:
                    conn.write(b"%x\r\n%s\r\n" % (len(body), body))
                if not more:
                    conn.write(b"0\r\n\r\n")
            elif self.method != "HEAD":  # a HEAD answer is its headers only, whatever the app sends
                if self.left >= 0:
                    self.left -= len(body)
                    if self.left < 0:
                        raise RuntimeError("Response content longer than Content-Length")
                if body:
                    conn.write(body)
            if not more:
                if self.left > 0:
                    raise RuntimeError("Response content shorter than Content-Length")
                self.responded = True
                self.wake()
                conn.responded(self)
        else:
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response already completed.")

    def _head(self, status: int, headers: Any) -> bytes:
        """The status line and headers; how the body will be framed is settled only once it is valid."""
        lines = [STATUS_LINES[status]]
        left, chunked, keep_alive, closing = -1, False, self.keep_alive, False
        headers = list(headers)
        # every name, then every value, checked in one pass each: a forbidden byte anywhere in them stays
        # one in their concatenation (a line break in a relayed value would split the answer)
        if _BAD_NAME(b"".join([name for name, _ in headers])):
            raise RuntimeError("Invalid HTTP header name.")
        if _BAD_VALUE(b"".join([value for _, value in headers])):
            raise RuntimeError("Invalid HTTP header value.")
        if not self.complete:  # answered before the request's body was read: the connection cannot go on
            keep_alive = False
        for name, value in (*self.conn.state.default_headers, *headers):  # the server's date: well formed
            name = name.lower()
            if name == b"content-length":
                if left < 0 and not chunked:
                    left = int(value)
            elif name == b"transfer-encoding":
                if value.lower() == b"chunked":
                    chunked, left = True, -1
            elif name == b"connection" and b"close" in [t.strip() for t in value.lower().split(b",")]:
                keep_alive, closing = False, True
            lines += (name, b": ", value, b"\r\n")
        if not keep_alive and not closing:
            lines.append(b"connection: close\r\n")
        if self.method == "HEAD":
            left, chunked = -1, False
        elif left < 0 and not chunked and status not in (204, 304):
            chunked = True
            lines.append(b"transfer-encoding: chunked\r\n")
        lines.append(b"\r\n")
        self.left, self.chunked, self.keep_alive = left, chunked, keep_alive
        return b"".join(lines)


