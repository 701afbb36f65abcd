"""The optimizer's own thread: strategy work on long texts runs here, not on the event loop that serves calls.

A Claude Code turn costs the strategies one to a few milliseconds and an agent turn of 300 KB of tool
output ten or more; on the event loop, that is time every other call in the process waits (the gateway
under `anyray up`, the optimizer service's health checks). Here it runs in one thread of its own, so the
loop goes on serving while it works and a caller's time budget can end the wait (the gateway then
forwards the request untouched; the work finishes and is dropped). One thread, so the renderings and
first-seen memos are only ever touched by one piece of strategy work at a time.

Python runs one thread at a time: while the strategies compute, the loop gets the interpreter back at the
next switch interval. The default 5 ms would add up to that to a small call's every wake-up, so the
interval is set to 1 ms once the thread exists (process-wide; it costs nothing while only one thread
has work; ANYRAY_SWITCH_INTERVAL_MS sets another). The queue is bounded: with `max_queued` jobs already
waiting, a request is not optimized at all (answered as it came) rather than waiting behind them past
any budget.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

SWITCH_INTERVAL_S = float(os.environ.get("ANYRAY_SWITCH_INTERVAL_MS", "1")) / 1000


class Busy(Exception):
    """`max_queued` jobs are already waiting for the thread."""


class Worker:
    def __init__(self, max_queued: int = 16) -> None:
        self._slots = threading.BoundedSemaphore(max_queued)
        self._pool: ThreadPoolExecutor | None = None
        self.busy_refused = 0

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in the optimizer's thread; raises Busy when the queue is full."""
        if not self._slots.acquire(blocking=False):
            self.busy_refused += 1
            raise Busy
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anyray-optimizer")
            if sys.getswitchinterval() > SWITCH_INTERVAL_S:
                sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            future = self._pool.submit(work)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())  # when the work ends, waited for or not
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
