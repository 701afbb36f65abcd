"""The console's queries and page rendering in a worker process that yields the CPU to the gateway.

In a thread of the gateway's process a page's work still takes the interpreter's lock and a core from
the calls the gateway is serving: someone reloading the 30-day overview raised the gateway's p95 by half
(`benchmarks/console_load.py`). In its own process the page's work holds no lock the gateway needs. At
Linux's SCHED_IDLE (the default) the kernel treats a core running only the worker as idle when it
places the gateway's wakeups, and gives the worker a share of 3 against a normal process's 1024 when
both want the CPU (so a page still loads on a saturated machine, slowly). Measured beside 4 connections
of calls: p95 +14% with the worker at SCHED_IDLE, +43% at nice 19, +46% in a thread (same run).

One process, started on the first page (a gateway whose console is never opened never starts it), with
its own connection to the store; it is replaced if it dies. `ANYRAY_CONSOLE_WORKER=thread` keeps the old
way (a thread of the gateway's process), e.g. where a second process's ~60 MB matter more;
`ANYRAY_CONSOLE_NICE=N` runs the worker at niceness N instead of SCHED_IDLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from anyray.store import SpendStore, open_store

NICENESS = 19  # where SCHED_IDLE is not available (not Linux)
_store: SpendStore | None = None
_store_url: str | None = None


def use_process() -> bool:
    return os.environ.get("ANYRAY_CONSOLE_WORKER", "process").strip().lower() != "thread"


def priority() -> str:
    """`ANYRAY_CONSOLE_NICE`: `idle` (the default: SCHED_IDLE), or a niceness 0-19."""
    return os.environ.get("ANYRAY_CONSOLE_NICE", "idle").strip().lower()


def _start(store_url: str, level: str) -> None:
    global _store_url
    _store_url = store_url
    if level == "idle":
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (AttributeError, OSError):
            level = str(NICENESS)
    with contextlib.suppress(OSError, ValueError):
        os.nice(max(0, min(19, int(level))))


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """In the worker: `fn(store, *args)` on the worker's own store, opened (and brought up to date) once."""
    global _store
    if _store is None:
        from anyray.console.app import up_to_date

        assert _store_url is not None
        store = open_store(_store_url)
        up_to_date(store)
        _store = store
    return fn(_store, *args)


class Worker:
    """A one-process pool for `fn(store, *args)` calls; `fn` must be a module-level function (pickled by name)."""

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start, initargs=(self.store_url, priority()))
            return self._pool

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(store, *args)` in the worker; a worker found dead (killed, out of memory) is replaced once."""
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return await asyncio.get_running_loop().run_in_executor(pool, _call, fn, args)
            except BrokenProcessPool:
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
