"""What goes on the wire and what can go wrong: origins, request heads, the client's errors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

HIGH_WATER = 256 * 1024  # bytes of an answer buffered before the connection stops reading (a slow client)
MAX_IDLE_PER_ORIGIN = 128


class UpstreamError(Exception):
    """The upstream could not be reached, or broke its answer: a 502 to the client, retried like one."""


class ConnectError(UpstreamError):
    pass


class ResponseCut(UpstreamError):
    """The connection ended before the answer was complete."""


class BadResponse(UpstreamError):
    """What came back is not HTTP/1.1 this client understands."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@functools.lru_cache(maxsize=1024)
def split_url(url: str) -> tuple[Origin, str]:
    """(origin, request target); cached because the gateway sends to a handful of URLs over and over."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.scheme, parts.hostname, port), target


def request_head(method: str, origin: Origin, target: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\nhost: {origin.host_header}\r\n"]
    for name, value in headers.items():
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name or ":" in name:
            raise ValueError(f"header {name!r} has a line break or a colon in its name: refused, not sent")
        lines.append(f"{name}: {value}\r\n")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(body) if body else 0}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


def expire(future: asyncio.Future[Any], message: str, conn: Any) -> None:
    """A read timeout: the waiting caller gets a TimeoutError, unless what it waited for came first.
    The message is made only here, not for every request that sets the timer."""
    if not future.done():
        future.set_exception(TimeoutError(message.format(conn.origin.host, conn.read_timeout_s)))
