"""The listening side: accepts connections, runs the app's lifespan, enforces deadlines, stops gracefully.

Why its own and not `uvicorn.Server`: a protocol run by uvicorn.Server has to live off uvicorn's private
internals (its `ServerState`, `Config.loaded_app`, `capture_signals`, `server_state.default_headers`),
which no release promises to keep. What uvicorn.Server did for this protocol is small and is here:
the ASGI lifespan (lifespan.py), the `date` header, one listening server per socket, and a graceful stop
(stop accepting, let every answer in progress finish, then the lifespan's shutdown). Signals belong to
the caller (server/runner.py), which may run several servers on one loop.

One tick a `TICK_S` refreshes the date and checks every connection's deadline (idle keep-alive, request
head, request body), instead of a timer per connection and phase: a timer armed and cancelled per
request cost ~2 us under uvloop, and deadlines need no better precision than a tick.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from anyray.server.http11.forwarded import ForwardedHeaders
from anyray.server.http11.lifespan import Lifespan

if TYPE_CHECKING:
    from anyray.server.http11.protocol import Http11Protocol

log = logging.getLogger("anyray.http")

HEAD_HARD_CAP_BYTES = 1024 * 1024  # the gateway's own, lower and configurable limit answers in its dialect
TICK_S = 0.25
SHUTDOWN_POLL_S = 0.05


@dataclass(slots=True)
class ServerLimits:
    """What one client connection may cost the server, in bytes, time and count (docs/reliability.md)."""

    keep_alive_s: float = 5.0  # an idle kept-alive connection (or one that never sent a byte) is closed
    head_timeout_s: float = 10.0  # a request head must be whole this long after its first byte, or a 408
    body_timeout_s: float = 60.0  # ...and its body this long after the head (time the app holds reading back excepted)
    max_connections: int = 4096  # open client connections; past it, a 503 and close at once
    max_head_bytes: int = HEAD_HARD_CAP_BYTES  # every byte before a head's end, blank lines included
    max_pipelined: int = 16  # requests queued behind the one being answered; past it, the connection ends
    # an answer's bytes waiting to be sent must start leaving within this, or the connection is cut (a client
    # that stops reading would otherwise hold its connection, and a stream its upstream, forever)
    write_timeout_s: float = 30.0

    def effective_max_connections(self) -> int:
        """The cap, but at most half the process's file-descriptor limit: the other half is for upstream
        connections, the store and files, so that clients can never exhaust the descriptors."""
        try:
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        except (OSError, ValueError):  # pragma: no cover - no such limit on this platform
            return self.max_connections
        if soft == resource.RLIM_INFINITY or soft <= 0:
            return self.max_connections
        return max(1, min(self.max_connections, soft // 2))


@dataclass(slots=True)
class ServerState:
    """What every connection of one server shares."""

    app: Any
    limits: ServerLimits
    loop: asyncio.AbstractEventLoop
    root_path: str = ""
    max_connections: int = 0
    connections: set[Http11Protocol] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    app_state: dict[str, Any] = field(default_factory=dict)  # what the lifespan put in scope["state"]
    default_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    forwarded: ForwardedHeaders | None = None  # X-Forwarded-* from trusted proxies, applied to each scope
    total_requests: int = 0
    refused_connections: int = 0
    timed_out: int = 0
    stalled_cut: int = 0  # connections cut because their client read nothing within write_timeout_s
    _last_refusal_log: float = 0.0
    _last_stall_log: float = 0.0

    def refused_one(self) -> None:
        """Count a connection refused past the cap; say so at most once every ten seconds (a flood of
        them must not become a flood of log lines)."""
        self.refused_connections += 1
        now = time.monotonic()
        if now - self._last_refusal_log >= 10.0:
            self._last_refusal_log = now
            log.warning("refusing connections past max_connections=%d with a 503 (%d refused so far)",
                        self.max_connections, self.refused_connections)

    def stalled_one(self) -> None:
        """Count a connection cut for not reading its answer; say so at most once every ten seconds."""
        self.stalled_cut += 1
        now = time.monotonic()
        if now - self._last_stall_log >= 10.0:
            self._last_stall_log = now
            log.warning("cut a connection whose client read nothing of its answer for %gs (write_timeout_s; "
                        "%d cut so far)", self.limits.write_timeout_s, self.stalled_cut)


class Server:
    """Serves `app` with the gateway's HTTP/1.1 protocol on sockets the caller bound.

    The same small surface the runner and the tests use: `serve(sockets)`, `started`, `should_exit`
    (set it, from any thread, to stop gracefully), `force_exit` (stop without waiting for answers).
    """

    def __init__(self, app: Any, limits: ServerLimits | None = None, root_path: str = "",
                 forwarded_allow_ips: str | None = None) -> None:
        self.app = app
        self.forwarded = _behind_proxies(forwarded_allow_ips)
        self.limits = limits or ServerLimits()
        self.root_path = root_path
        self.started = False
        self.should_exit = False
        self.force_exit = False
        self.state: ServerState | None = None

    async def serve(self, sockets: list[Any]) -> None:
        from anyray.server.http11.protocol import Http11Protocol

        loop = asyncio.get_running_loop()
        state = self.state = ServerState(self.app, self.limits, loop, self.root_path,
                                         self.limits.effective_max_connections(), forwarded=self.forwarded)
        _refresh_date(state)
        lifespan = Lifespan(self.app, state.app_state)
        if not await lifespan.startup():
            return
        servers = []
        try:
            for sock in sockets:
                servers.append(await loop.create_server(lambda: Http11Protocol(state), sock=sock, backlog=2048))
            self.started = True
            await self._tick(state)
        finally:
            for server in servers:
                server.close()
            await self._finish(state)
            await lifespan.shutdown()

    async def _tick(self, state: ServerState) -> None:
        """Until told to stop: the date header once a second, every connection's deadline each tick."""
        second = int(time.time())
        while not self.should_exit:
            await asyncio.sleep(TICK_S)
            now_s = int(time.time())
            if now_s != second:
                second = now_s
                _refresh_date(state)
            if state.connections:
                now = state.loop.time()
                for conn in list(state.connections):
                    conn.check_deadline(now)

    async def _finish(self, state: ServerState) -> None:
        """Graceful: idle connections close now, busy ones after their answer; then wait for the apps."""
        for conn in list(state.connections):
            conn.shutdown()
        while (state.connections or state.tasks) and not self.force_exit:
            await asyncio.sleep(SHUTDOWN_POLL_S)
        for task in list(state.tasks):
            task.cancel()
        for conn in list(state.connections):
            conn.close()
        if state.tasks:
            await asyncio.gather(*state.tasks, return_exceptions=True)


def _refresh_date(state: ServerState) -> None:
    state.default_headers = [(b"date", formatdate(usegmt=True).encode())]


def _behind_proxies(forwarded_allow_ips: str | None) -> ForwardedHeaders:
    """X-Forwarded-For/-Proto from trusted proxies (127.0.0.1 unless FORWARDED_ALLOW_IPS says otherwise)
    become the scope's client and scheme, as uvicorn.Server did (forwarded.py); applied by the protocol as it
    builds each request's scope."""
    trusted = forwarded_allow_ips or os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    return ForwardedHeaders(None, trusted)
