"""Budget and rate-limit fixtures: the spend stores of tests/spend, and helpers to make keys and seed spend."""

from __future__ import annotations

import json
import time
import uuid

from typer.testing import CliRunner

from anyray.cli import app
from anyray.store import SpendRecord, open_store
from tests.spend.conftest import pg_url, sqlite_url, store_url  # noqa: F401

runner = CliRunner()
ASK = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hello there"}]}
CHAT = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hello there"}]}


def create_key(url: str, team: str, *extra: str) -> dict:
    result = runner.invoke(app, ["keys", "create", "--team", team, "--store", url, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def seed_spend(url: str, micros: int, *, team: str | None = None, key_id: str | None = None,
               ts_ms: int | None = None) -> None:
    """Spend another replica (or an earlier day) recorded: one priced record in the shared store."""
    store = open_store(url)
    store.migrate()
    store.insert([SpendRecord(ts_ms=ts_ms or int(time.time() * 1000), request_id=uuid.uuid4().hex,
                              dialect="anthropic", endpoint="messages", model_asked="claude-sonnet-4-5", status=200,
                              team=team, key_id=key_id, provider="vertex", cost_micros=micros)])
    store.close()


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def at_window_start(window_s: int) -> None:
    """Wait for a fresh rate-limit window, so the calls that follow share one (a test must not straddle an edge)."""
    time.sleep(window_s - time.time() % window_s + 0.05)
