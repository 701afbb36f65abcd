"""`anyray up`: the gateway and the optimizer as two servers on one event loop.

The servers are the gateway's own (server/http11/), which install no signal handlers: one handler here
tells every server to finish its in-flight requests and stop; a second signal stops them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from anyray.server.http11 import HEAD_HARD_CAP_BYTES, Server, ServerLimits

__all__ = ["HEAD_HARD_CAP_BYTES", "ListenRefused", "PortInUse", "Server", "ServerLimits", "bind", "check_listen",
           "http_server", "run", "serve_stack", "server_limits", "tune_gc"]


class PortInUse(OSError):
    """An address the stack cannot listen on (taken, not permitted, or refused: see `ListenRefused`)."""


class ListenRefused(PortInUse):
    """An app that must not listen where it was told to. A subclass of PortInUse so that every entry point
    reports it as it reports any address it cannot listen on: one line, exit status 1."""


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def check_listen(app: Any, host: str, port: int) -> None:
    """An app marked `loopback_only` (the optimizer without a service token: anyone reaching it could ask it
    anything, and nothing tells the gateway from any other caller) listens on loopback or not at all."""
    state = getattr(app, "state", None)
    if getattr(state, "loopback_only", False) and host not in LOOPBACK and not host.startswith("127."):
        raise ListenRefused(
            f"cannot listen on {host}:{port}: the optimizer has no service token, so it serves loopback only. "
            "Set ANYRAY_OPTIMIZER_TOKEN (a long random string, the same for the gateway and any LiteLLM "
            "adapter), or listen on 127.0.0.1"
        )


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """Bind before starting anything, so a taken port is one clear error instead of a half-started stack.
    `reuse_port`: one of several sockets on the port that the kernel balances (gateway workers, Linux)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def server_limits(app: Any) -> ServerLimits:
    """The connection limits for `app`: the gateway's from its config (`gateway.limits`), else defaults
    (the optimizer: internal, credential-free, but it must not be starved of descriptors either)."""
    gateway = getattr(getattr(app, "state", None), "gateway", None)
    config = getattr(gateway, "config", None)
    limits = getattr(getattr(config, "gateway", None), "limits", None)
    if limits is None:
        return ServerLimits()
    return ServerLimits(
        keep_alive_s=limits.keepalive_timeout_s, head_timeout_s=limits.header_timeout_s,
        body_timeout_s=limits.body_timeout_s, max_connections=limits.max_connections,
        write_timeout_s=limits.write_timeout_s,
    )


def http_server(app: Any, limits: ServerLimits | None = None) -> Server:
    """How `anyray up` and `anyray serve` run an app (and the tests run the gateway): the gateway's own
    HTTP/1.1 server (server/http11/), with the app's limits."""
    return Server(app, limits or server_limits(app))


def _server(app: Any, host: str, port: int) -> Server:  # the (app, host, port) shape serve_stack is given
    return http_server(app)


async def serve_stack(
    servers: list[tuple[Any, str, int]], on_started: Callable[[], Awaitable[None]] | None = None,
    sockets: list[socket.socket] | None = None, signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> None:
    """Run every (app, host, port) until one of `signals`, then shut all of them down gracefully.

    `sockets`: already bound, one per server (a gateway worker serves the socket its supervisor bound);
    `signals`: a worker stops on SIGTERM only, which its supervisor sends (a terminal's Ctrl-C reaches
    every process of the group, and must count once, not as the second signal that cuts answers short)."""
    for app, host, port in servers:
        check_listen(app, host, port)
    if sockets is None:
        sockets = []
        try:
            for _, host, port in servers:
                sockets.append(bind(host, port))
        except PortInUse:
            for sock in sockets:
                sock.close()
            raise
    running = [_server(app, host, port) for app, host, port in servers]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for s in running:
            if s.should_exit:  # a second signal: do not wait for the answers in progress
                s.force_exit = True
            s.should_exit = True

    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in zip(running, sockets, strict=True)]
    while not all(s.started for s in running):
        if any(t.done() for t in tasks):
            stop()
            break
        await asyncio.sleep(0.02)
    else:
        tune_gc()
        if on_started is not None:
            await on_started()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            raise r


def tune_gc() -> None:
    """Once everything is imported and started: move what exists to the permanent generation, and collect
    the young generation less often.

    Why: the gateway process holds a few hundred thousand long-lived objects (its imports: Starlette,
    pydantic, google-auth, requests, prometheus-client...). Every full collection walked them all, ~60 ms
    on the benchmark machine, several times a second under load: measured, that was the whole of the p99
    (70 ms -> under 10 ms with the collector off) and a third of the throughput. Frozen objects are
    never scanned again; requests' own garbage is still collected, just in larger, rarer batches.
    ANYRAY_GC_FREEZE=0 leaves the collector as Python sets it; ANYRAY_GC_THRESHOLD sets generation 0 (20000).
    """
    if os.environ.get("ANYRAY_GC_FREEZE", "1") == "0":
        return
    gc.collect()
    gc.freeze()
    threshold = int(os.environ.get("ANYRAY_GC_THRESHOLD", "20000") or 0)
    if threshold:
        gc.set_threshold(threshold, *gc.get_threshold()[1:])


def run(main: Awaitable[None]) -> None:
    """Run on uvloop when it is installed (it is, on Linux and macOS)."""
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - Windows
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)  # type: ignore[arg-type]
