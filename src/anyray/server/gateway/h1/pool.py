"""Keep-alive connections per origin: taken, given back, expired, and made (directly, or through a proxy)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping

from anyray.server.gateway.h1.connection import Connection
from anyray.server.gateway.h1.proxy import EnvironmentProxies, Route
from anyray.server.gateway.h1.response import UpstreamResponse
from anyray.server.gateway.h1.wire import (
    MAX_IDLE_PER_ORIGIN,
    ConnectError,
    Origin,
    ResponseCut,
    request_head,
    split_url,
)

DEFAULT_MAX_PER_ORIGIN = 256


class ConnectionPool:
    """Keep-alive connections per origin, most recently used first; idle ones expire after `keepalive_s`.

    At most `max_per_origin` connections to one origin are open at once (gateway.limits.
    max_connections_per_upstream): a burst of calls, or clients that stall their streams, cannot open
    thousands of sockets to one upstream (the descriptors are the gateway's, the upstream may count them
    against its own limits). A call past the cap waits, in arrival order, for a connection to come back
    or to close, within the connect timeout; then it fails as a connection failure would (retried, or
    the route's fallback).

    `trust_env`: go through the proxies the environment names (read here, once; a proxy this client cannot
    use is a `ProxyConfigError` here, not at the first request). False for in-cluster services, which a
    company's egress proxy must never see.
    """

    def __init__(self, connect_timeout_s: float = 10.0, read_timeout_s: float = 600.0, keepalive_s: float = 60.0,
                 ssl_context: ssl.SSLContext | None = None, trust_env: bool = True,
                 max_per_origin: int = DEFAULT_MAX_PER_ORIGIN) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.max_per_origin = max_per_origin
        self.read_timeout_s = read_timeout_s
        self.keepalive_s = keepalive_s
        self._ssl = ssl_context
        self._proxies = EnvironmentProxies.read() if trust_env else None
        self._routes: dict[Origin, Route] = {}
        self._lent: set[Connection] = set()
        self._closed = False

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def in_use(self) -> int:
        return len(self._lent)

    def idle(self) -> int:
        return sum(len(route.idle) for route in self._routes.values())

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> UpstreamResponse:
        """Send, and return once the answer's status and headers arrived."""
        origin, target = split_url(url)
        route = self._routes.get(origin) or self._route(origin)
        if route.forward:  # plain http through a proxy
            target, headers = route.forwarded(target, headers)
        head = request_head(method, origin, target, headers, body)
        conn = await self._slot(route)
        if conn is not None:
            try:
                return await self._send(conn, head, body)
            except ResponseCut:
                if not conn.stale_drop:
                    raise
                # an idle connection the upstream closed as we wrote: it never saw the request; once more, fresh
                conn = await self._slot(route)
                if conn is not None:
                    return await self._send(conn, head, body)
        return await self._send(await self._connect(route), head, body)

    async def _slot(self, route: Route) -> Connection | None:
        """An idle connection to the origin, or None: a new one may be made (and is counted as being made).
        At the cap, wait for one to be given back (handed over directly) or to close."""
        conn = self._take(route)
        if conn is not None:
            return conn
        if len(route.live) + route.connecting < self.max_per_origin:
            route.connecting += 1
            return None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Connection | None] = loop.create_future()
        route.waiters.append(waiter)
        timer = loop.call_later(self.connect_timeout_s, _expire_waiter, waiter, route, self.max_per_origin,
                                self.connect_timeout_s)
        try:
            return await waiter
        except BaseException:  # timed out, or the caller went away: a connection handed over meanwhile goes on
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()
                if handed is None:
                    route.connecting -= 1
                    self._wake(route)
                else:
                    self.give_back(handed)
            raise
        finally:
            timer.cancel()
            if waiter in route.waiters:
                route.waiters.remove(waiter)

    def _wake(self, route: Route) -> bool:
        """A slot freed (a connection closed): the first caller still waiting may make a new connection."""
        while route.waiters:
            waiter = route.waiters.popleft()
            if not waiter.done():
                route.connecting += 1
                waiter.set_result(None)
                return True
        return False

    def _route(self, origin: Origin) -> Route:
        """The first request to an origin decides how every later one gets there."""
        proxies = self._proxies
        route = self._routes[origin] = Route(
            origin, proxies.proxy_for(origin.scheme, origin.host, origin.port) if proxies else None)
        return route

    async def _send(self, conn: Connection, head: bytes, body: bytes | None) -> UpstreamResponse:
        self._lent.add(conn)
        try:
            response = await conn.send(head, body)
        except BaseException:  # failed, timed out, or the client went away while we waited: never reuse it
            conn.finished(False)
            raise
        if response.status == 407 and conn.route.forward:  # the proxy refused us: not the upstream's answer
            response.close()
            raise ConnectError(f"cannot connect to {conn.route.describe()}: the proxy answered 407 "
                               "Proxy Authentication Required")
        return response

    def _take(self, route: Route) -> Connection | None:
        idle = route.idle
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_s:
                return conn
            conn._drop()
        return None

    async def _connect(self, route: Route) -> Connection:
        """A new connection, in a slot `_slot` counted as being made."""
        try:
            conn = await self._open(route)
        except BaseException:
            route.connecting -= 1
            self._wake(route)
            raise
        route.connecting -= 1
        route.live.add(conn)
        return conn

    async def _open(self, route: Route) -> Connection:
        if self._closed:
            raise ConnectError("the upstream client is closed")
        loop = asyncio.get_running_loop()
        origin = route.origin
        context = self.ssl_context if origin.tls else None
        try:
            async with asyncio.timeout(self.connect_timeout_s):  # with a proxy: TCP, CONNECT and TLS together
                if route.tunnel:
                    assert context is not None
                    return await route.open_tunnel(lambda: Connection(self, route), context)
                _, conn = await loop.create_connection(
                    lambda: Connection(self, route), *route.address, ssl=context,
                    server_hostname=origin.host if context else None,
                )
        except TimeoutError:
            raise ConnectError(f"cannot connect to {route.describe()}: no answer within "
                               f"{self.connect_timeout_s:g}s") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError), a proxy's refusal
            raise ConnectError(f"cannot connect to {route.describe()}: {exc}") from None
        return conn

    def give_back(self, conn: Connection) -> None:
        route = conn.route
        while route.waiters and not self._closed:  # a caller waits at the cap: straight to it, still lent
            waiter = route.waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._lent.discard(conn)
        idle = route.idle
        if self._closed or len(idle) >= MAX_IDLE_PER_ORIGIN:
            conn._drop()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def forget(self, conn: Connection) -> None:
        """The connection closed (either side): its slot is free."""
        self._lent.discard(conn)
        route = conn.route
        idle = route.idle
        if conn in idle:
            idle.remove(conn)
        if conn in route.live:
            route.live.discard(conn)
            self._wake(route)

    async def close(self) -> None:
        self._closed = True
        for route in list(self._routes.values()):
            for conn in list(route.idle):
                conn._drop()
        for conn in list(self._lent):
            conn._drop()
        await asyncio.sleep(0)  # let the transports' connection_lost run

    def open_to(self, url: str) -> int:
        """Connections open to the origin of `url`, idle or lent (what the cap counts)."""
        route = self._routes.get(split_url(url)[0])
        return len(route.live) + route.connecting if route is not None else 0

    def __repr__(self) -> str:
        return f"ConnectionPool(idle={self.idle()}, in_use={self.in_use()})"


def _expire_waiter(waiter: asyncio.Future[Connection | None], route: Route, cap: int, within_s: float) -> None:
    if not waiter.done():
        waiter.set_exception(ConnectError(
            f"cannot connect to {route.describe()}: all {cap} connections to it are busy and none was free "
            f"within {within_s:g}s (gateway.limits.max_connections_per_upstream)"))
