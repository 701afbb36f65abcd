"""Outbound HTTP proxies for the upstream client (h1): which origin goes through which proxy, and the tunnel.

Why: companies often allow egress only through a proxy named in the environment, so the gateway reads
`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case) as curl, requests and httpx do,
through the standard library's own readers (`urllib.request.getproxies_environment` and
`proxy_bypass_environment`) rather than a parser of ours.

Why a `Route` per origin: the pool serves thousands of requests a second at ~18 us of CPU each, so the
environment is read once, when the pool is made, and matched against an origin once, the first time that
origin is used. The answer, and that route's idle connections, are kept in a `Route`: a direct route and
a proxied one never share a connection, and the hot path pays one dict lookup, as it did before.

An https:// origin goes through `CONNECT host:port` and TLS to the real host inside the tunnel; an http://
origin is sent to the proxy in absolute form (`POST http://host/path`). Proxy credentials become a
`Proxy-Authorization` header and nothing else: they are kept out of every repr and every message.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import ssl
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

import httptools

if TYPE_CHECKING:
    from anyray.server.gateway.h1.connection import Connection
    from anyray.server.gateway.h1.wire import Origin

MAX_ANSWER_HEAD = 64 * 1024  # a proxy's answer to CONNECT longer than this is not one
P = TypeVar("P", bound=asyncio.Protocol)


class ProxyConfigError(ValueError):
    """A proxy in the environment this client cannot use: refused when the pool is made, not at the first call."""


class ProxyRefused(ConnectionError):
    """The proxy would not open the tunnel. An OSError, so the pool words it like any other failed connect."""


@dataclass(frozen=True, slots=True)
class Proxy:
    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)  # "Basic ...", never shown

    @property
    def address(self) -> str:
        return f"{_bracketed(self.host)}:{self.port}"


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_proxy_url(url: str, source: str) -> Proxy:
    """`http://host:port` or `http://user:pass@host:port` (percent-encoded credentials decoded).

    `source` names where the URL came from, for the error; the error shows the URL without its credentials.
    """
    if "://" not in url:  # "proxy.corp:3128", as curl and requests take it
        url = f"http://{url}"
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    if parts.scheme != "http":
        raise ProxyConfigError(
            f"{source}={shown}: only http:// proxies are supported (a {parts.scheme}:// proxy is not: TLS to the "
            "proxy itself and SOCKS are not implemented); https:// upstreams still get TLS end to end via CONNECT. "
            "Point it at an http:// proxy, or unset it, or set NO_PROXY to the upstream hosts (or *)")
    try:
        port = parts.port or 80
    except ValueError:
        raise ProxyConfigError(f"{source}={shown}: not a valid port") from None
    if not parts.hostname:
        raise ProxyConfigError(f"{source}={shown}: no host")
    authorization = None
    if parts.username is not None:
        userpass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(userpass.encode("utf-8")).decode("ascii")
    return Proxy(parts.hostname, port, authorization)


class EnvironmentProxies:
    """The proxy settings of the environment, read once (at pool creation), matched per origin on demand."""

    __slots__ = ("_found", "http", "https")

    def __init__(self, found: Mapping[str, str]) -> None:
        self._found = dict(found)  # NO_PROXY is matched against this copy, never re-read from os.environ
        if found.get("no", "").strip() == "*":  # nothing goes through a proxy: whichever it is does not matter
            self.https = self.http = None
            return
        https = found.get("https") or found.get("all")
        http = found.get("http") or found.get("all")
        self.https = parse_proxy_url(https, "HTTPS_PROXY (or ALL_PROXY)") if https else None
        self.http = parse_proxy_url(http, "HTTP_PROXY (or ALL_PROXY)") if http else None

    @classmethod
    def read(cls, env: Mapping[str, str] | None = None) -> EnvironmentProxies:
        """This process's environment (the standard library's reader), or `env` read the same way."""
        return cls(getproxies_environment() if env is None else proxies_in(env))

    def proxy_for(self, scheme: str, host: str, port: int) -> Proxy | None:
        proxy = self.https if scheme == "https" else self.http
        if proxy is None or self.bypassed(host, port):
            return None
        return proxy

    def bypassed(self, host: str, port: int) -> bool:
        """NO_PROXY as the standard library matches it (`*`, hosts, domain suffixes, host:port), plus CIDR
        ranges (`10.0.0.0/8`, which curl and requests accept and Kubernetes clusters set)."""
        found = self._found
        if proxy_bypass_environment(f"{_bracketed(host)}:{port}", found):
            return True
        if ":" in host and proxy_bypass_environment(host, found):  # an IPv6 literal written without brackets
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        for entry in found.get("no", "").split(","):
            if "/" in entry:
                try:
                    if address in ipaddress.ip_network(entry.strip(), strict=False):
                        return True
                except ValueError:
                    continue
        return False


def proxies_in(env: Mapping[str, str]) -> dict[str, str]:
    """`getproxies_environment` for any mapping (`anyray doctor` checks the environment it was given):
    `<scheme>_proxy` in either case, the lower-case one winning; `HTTP_PROXY` ignored under CGI."""
    found: dict[str, str] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            found[name.lower()[:-6]] = value
    if "REQUEST_METHOD" in env:
        found.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):  # lower case (or mixed) spelled: it decides, even when empty
            if value:
                found[name.lower()[:-6]] = value
            else:
                found.pop(name.lower()[:-6], None)
    return found


class Route:
    """How one origin is reached, decided once: directly, or through a proxy; and that way's idle connections.

    `forward`: plain http through a proxy (absolute-form target, the proxy's credentials on every request).
    `tunnel`: https through a proxy (CONNECT, then TLS to the origin inside the tunnel).
    Hashed by identity: the pool keys nothing by it, it is found through its origin.
    """

    __slots__ = ("_connect", "_forward_headers", "_prefix", "connecting", "forward", "idle", "live", "origin", "proxy",
                 "tunnel", "waiters")

    def __init__(self, origin: Origin, proxy: Proxy | None) -> None:
        self.origin = origin
        self.proxy = proxy
        self.idle: list[Connection] = []
        self.live: set[Connection] = set()  # every open connection to the origin, idle or lent (the pool's cap)
        self.connecting = 0  # connections being made, counted against the cap too
        self.waiters: deque[asyncio.Future[Connection | None]] = deque()  # callers waiting for one, in order
        self.tunnel = proxy is not None and origin.tls
        self.forward = proxy is not None and not origin.tls
        self._prefix = f"http://{origin.host_header}"
        self._forward_headers = {"proxy-authorization": proxy.authorization} if proxy and proxy.authorization else {}
        authority = f"{_bracketed(origin.host)}:{origin.port}"
        credentials = f"proxy-authorization: {proxy.authorization}\r\n" if proxy and proxy.authorization else ""
        self._connect = f"CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n{credentials}\r\n".encode()

    @property
    def address(self) -> tuple[str, int]:
        """Where the TCP connection goes: the proxy, or the origin itself."""
        if self.proxy is not None:
            return self.proxy.host, self.proxy.port
        return self.origin.host, self.origin.port

    def describe(self) -> str:
        where = f"{_bracketed(self.origin.host)}:{self.origin.port}"
        return f"{where} through proxy {self.proxy.address}" if self.proxy else where

    def forwarded(self, target: str, headers: Mapping[str, str]) -> tuple[str, Mapping[str, str]]:
        """The request target and headers for a plain http request sent to the proxy."""
        return self._prefix + target, ({**headers, **self._forward_headers} if self._forward_headers else headers)

    async def open_tunnel(self, factory: Callable[[], P], context: ssl.SSLContext) -> P:
        """TCP to the proxy, CONNECT, TLS to the origin over the tunnel: the protocol `factory` made, on it.

        The caller's timeout covers all three; a transport left half-way is closed here.
        """
        assert self.proxy is not None
        loop = asyncio.get_running_loop()
        transport, answer = await loop.create_connection(lambda: _ConnectAnswer(self.proxy), *self.address)
        try:
            transport.write(self._connect)
            status = await answer.status
            if not 200 <= status < 300:
                raise ProxyRefused(f"the proxy answered CONNECT with {_status_line(status)}")
            protocol = factory()
            tls = await loop.start_tls(transport, protocol, context, server_hostname=self.origin.host)
        except BaseException:
            transport.abort()
            raise
        protocol.connection_made(tls)  # start_tls hands over a transport; it does not announce it
        return protocol


class _ConnectAnswer(asyncio.Protocol):
    """Reads the proxy's answer to CONNECT up to the end of its head (httptools parses it)."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._parser = httptools.HttpResponseParser(self)
        self._seen = 0

    def data_received(self, data: bytes) -> None:
        if self.status.done():
            return
        self._seen += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(f"the proxy's answer to CONNECT is not HTTP: {exc}")
            return
        if self._seen > MAX_ANSWER_HEAD:
            self._fail(f"the proxy's answer to CONNECT has no end of its head within {MAX_ANSWER_HEAD} bytes")

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status >= 200 and not self.status.done():  # 1xx: an interim answer, the real one follows
            self.status.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail("the proxy closed the connection before answering CONNECT")

    def _fail(self, message: str) -> None:
        if not self.status.done():
            self.status.set_exception(ProxyRefused(message))
