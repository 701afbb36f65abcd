"""A gateway on loopback for the reliability tests: all three providers on the fake upstream, a SQLite
spend store, fast retries, and the means to look inside (records, retries, connections, tasks).

Retries are made fast (10 ms base) so the tests run quickly; nothing here asserts timing.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

from anyray.store import open_store
from tests.conftest import RunningGateway
from tests.openai_dialect.conftest import OPENAI_KEY, all_providers_config

FAST_RETRY = {"attempts": 2, "base_ms": 10, "max_ms": 50, "budget_s": 5}


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_config(fake, sa_key_file: Path, store_url: str, **gateway: Any) -> dict[str, Any]:
    fake.openai_key = OPENAI_KEY
    config = all_providers_config(fake, sa_key_file)
    config["store"] = {"url": store_url}
    config["gateway"] = {"retry": dict(FAST_RETRY), **gateway}
    # Anthropic first, Vertex as the fallback: the reverse of claude-opus-4-1
    config["models"] = {
        "claude-flaky": {
            "provider": "anthropic",
            "model": "claude-haiku-4-5-20251001",
            "fallbacks": [{"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}],
        },
        **config["models"],
    }
    return config


def wait_until(condition, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Stack:
    """A started gateway, the calls it finished (as its listeners saw them) and its store's URL."""

    def __init__(self, gw: RunningGateway, store_url: str) -> None:
        self.gw = gw
        self.url = gw.url
        self.store_url = store_url
        self.calls: list[Any] = []
        gw.gateway.listeners.append(self.calls.append)

    def wait_calls(self, n: int) -> list[Any]:
        """A streamed call is recorded after its last byte left, which can trail the client by a moment."""
        wait_until(lambda: len(self.calls) >= n, what=f"{n} finished calls (have {len(self.calls)})")
        return self.calls

    def records(self, expected: int, calls: int | None = None) -> list[dict[str, Any]]:
        """Stop the gateway (its shutdown flushes the spend queue), then read the store with its own URL.
        `calls`: how many finished calls to wait for first, when not every record is one (a refusal is not)."""
        self.wait_calls(expected if calls is None else calls)
        self.gw.server.stop()
        store = open_store(self.store_url)
        try:
            records = store.fetch()
        finally:
            store.close()
        assert len(records) == expected, records
        return sorted(records, key=lambda r: r["ts_ms"])


def retries(gw: RunningGateway, provider: str, reason: str) -> float:
    value = gw.gateway.metrics.registry.get_sample_value(
        "anyray_upstream_retries_total", {"provider": provider, "reason": reason}
    )
    return value or 0.0


def loop_tasks(gw: RunningGateway) -> int:
    """Tasks alive on the gateway's event loop, other than the one counting them."""

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    assert gw.server.loop is not None
    return asyncio.run_coroutine_threadsafe(count(), gw.server.loop).result(5)
