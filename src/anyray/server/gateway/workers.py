"""`anyray serve gateway --workers N`: what each gateway worker holds, and what the workers share.

The supervisor (server/supervisor.py) binds the port and forks; each worker is a whole gateway, built after
the fork, exactly as `anyray serve gateway` builds one. What that means for each piece of state (the same
answer as for replicas behind a load balancer; docs/performance.md, "Workers"):

- gateway keys: in the store; every worker's key ring re-reads it every `auth.refresh_s`, so a key created
  or revoked anywhere (`anyray keys`, the console, another worker) holds in every worker within that;
- spend records: each worker has its own writer thread and its own connection. SQLite takes them in WAL
  mode, each batch one `BEGIN IMMEDIATE` transaction, waiting up to 30 s for another's (`timeout=30`);
  request ids are unique, so nothing is lost or written twice. Each worker's spill file is its own (flock);
- budgets: each worker counts the store's sums plus its own calls not yet stored, never another's: the
  same bound as replicas (docs/budgets.md), with N workers' calls in flight instead of one's;
- rate limits: in Redis (`rate_limits.redis_url`, or a redis:// `cache.url`) one count for all; without
  Redis each worker counts its own calls, so N workers admit up to N times an allowance (warned at start);
- circuit breaker and the Vertex betas learned from refusals: per worker, as per replica. A worker learns
  an optimizer outage after `breaker_failures` of its own calls (at most N times that many wait the budget
  in all), and a beta Vertex refuses after one refused (and retried, so never failed) call of its own;
- the in-process optimizer (no `optimizer.url`): one per worker, with its own memos; its response cache
  and stash are shared only through a shared `cache.url` (sqlite:/// or redis://; memory:// is per worker);
- /metrics: merged across workers (metrics_share.py); in-process limits (`gateway.limits.*`, e.g.
  max_connections) are per worker;
- the console: its session cookies are signed with ANYRAY_CONSOLE_SECRET, made once here when unset, so a
  login served by one worker holds on all; a logout revokes the session on the worker that served it, the
  others honour the cookie until it expires (30 minutes), as replicas do (console/auth.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from anyray.config import Config
from anyray.server.gateway.metrics_share import FLUSH_S, SharedMetrics, retire
from anyray.server.runner import run, serve_stack
from anyray.server.supervisor import Supervisor, listen_sockets

log = logging.getLogger("anyray.workers")

WORKERS_ENV = "ANYRAY_WORKERS"
CONSOLE_SECRET_ENV = "ANYRAY_CONSOLE_SECRET"


def prepare(config: Config) -> list[str]:
    """What the workers would otherwise race to do at once, done once before they start; and what an operator
    should know about per-worker state (returned as warnings)."""
    if config.store.url:
        from anyray.store import StoreError, open_store

        try:
            store = open_store(config.store.url, lazy=True)
            try:
                store.migrate()  # one process migrates; the workers find nothing left to do
            finally:
                store.close()
        except StoreError as exc:  # the workers' writers ride out a store that is down, as one gateway does
            log.warning("spend store not migrated before the workers start: %s", exc)
    if not os.environ.get(CONSOLE_SECRET_ENV):
        # the console signs its session cookies with a secret made per process unless this is set: made here
        # once, every worker accepts the cookie another issued (never printed, never logged)
        os.environ[CONSOLE_SECRET_ENV] = secrets.token_urlsafe(32)
    in_process = config.optimizer.enabled and not config.optimizer.url
    warnings = []
    if in_process and urlparse(config.cache.url).scheme != "memory":
        from anyray.server.optimizer.engine import _cache_key

        _cache_key(config.cache)  # a key file made once, not by N workers racing to create it
    elif in_process:
        warnings.append("cache.url is memory://: each worker's optimizer keeps its own response cache and "
                        "stash; a sqlite:/// or redis:// cache.url shares them")
    from anyray.server.gateway.ratelimit import redis_url_of

    if config.rate_limits.any and redis_url_of(config) is None:
        warnings.append("rate limits are counted per worker without Redis: N workers admit up to N times each "
                        "allowance; set rate_limits.redis_url to count once")
    return warnings


def serve_workers(config: Config, n: int, announce: Callable[[list[int]], None]) -> int:
    """Run `n` gateway workers on config.gateway's address until SIGTERM/SIGINT; the exit status."""
    settings = config.gateway
    sockets = listen_sockets(settings.host, settings.port, n)
    for warning in prepare(config):
        log.warning("%s", warning)
    metrics_dir = Path(tempfile.mkdtemp(prefix="anyray-metrics-"))
    try:
        supervisor = Supervisor(sockets, _worker(config, metrics_dir), on_ready=announce,
                                on_exit=lambda pid: retire(metrics_dir, pid))
        return supervisor.run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _worker(config: Config, metrics_dir: Path) -> Callable[[int, socket.socket, int], int]:
    def main(index: int, sock: socket.socket, ready_fd: int) -> int:
        from anyray.server.gateway.app import create_gateway_app
        from anyray.server.gateway.gateway import Gateway, default_optimizer_client

        gateway = Gateway(config, optimizer_client=default_optimizer_client(config, None))
        app = create_gateway_app(config, gateway)
        shared = gateway.metrics.shared = SharedMetrics(metrics_dir)
        tasks: list[asyncio.Task[Any]] = []

        async def started() -> None:
            os.write(ready_fd, b"1")
            os.close(ready_fd)
            tasks.append(asyncio.create_task(_flush(shared, gateway.metrics.registry)))
            await gateway.warm()

        settings = config.gateway
        run(serve_stack([(app, settings.host, settings.port)], on_started=started, sockets=[sock],
                        signals=(signal.SIGTERM,)))
        shared.write(gateway.metrics.registry)  # the last calls' counts, after they finished
        return 0

    return main


async def _flush(shared: SharedMetrics, registry: Any) -> None:
    while True:
        shared.write(registry)
        await asyncio.sleep(FLUSH_S)
