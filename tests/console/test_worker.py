"""The console's worker process (console/worker.py): pages are built in another process, at a lower
priority than the gateway's, on its own connection to the store, and a worker that dies is replaced."""

from __future__ import annotations

import asyncio
import os
import signal

from anyray.console import data, pages
from anyray.console.worker import Worker
from anyray.store import SpendRecord, open_store


def where(store, _: object = None) -> tuple[int, int, int]:
    """(pid, niceness, records) as the worker sees them."""
    with store._transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM spend_records")
        return os.getpid(), os.nice(0), int(cur.fetchone()[0])


def policy(_store) -> int:
    return os.sched_getscheduler(0)


def test_the_worker_runs_at_sched_idle_by_default(sqlite_url, monkeypatch):
    monkeypatch.delenv("ANYRAY_CONSOLE_NICE", raising=False)
    open_store(sqlite_url).migrate()
    worker = Worker(sqlite_url)
    try:
        assert asyncio.run(worker.run(policy)) == os.SCHED_IDLE
        assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the gateway's own process is left as it was
    finally:
        worker.close()


def test_pages_are_built_in_a_lower_priority_process_that_is_replaced_when_it_dies(store_url, monkeypatch):
    monkeypatch.setenv("ANYRAY_CONSOLE_NICE", "17")
    store = open_store(store_url)
    store.migrate()
    store.insert([SpendRecord(ts_ms=1_790_000_000_000 + i, request_id=f"w{i}", dialect="anthropic",
                              endpoint="/v1/messages", model_asked="m-a", status=200, user_name="ada", cost_micros=7)
                  for i in range(5)])
    store.close()
    worker = Worker(store_url)

    async def scenario() -> None:
        pid, niceness, count = await worker.run(where)
        assert pid != os.getpid() and niceness >= 17 and count == 5
        rng = data.TimeRange("custom", 1_790_000_000_000 - 86_400_000, 1_790_000_000_000 + 86_400_000, 3_600_000)
        csv = await worker.run(pages.table_csv, rng, "user", "cost_micros", True, {})
        assert csv.splitlines()[1].split(",")[:2] == ["ada", "5"]
        os.kill(pid, signal.SIGKILL)
        again, _, count = await worker.run(where)  # the page is built by a new worker
        assert again != pid and count == 5

    try:
        asyncio.run(scenario())
    finally:
        worker.close()
