"""Spend records written in batches, off the request path.

The gateway's listener only puts a record on a bounded queue (never blocks: a full queue drops the
record and counts it, because a slow database must not slow requests). One thread drains the queue in
batches, one transaction per batch, and `close` flushes what is left at shutdown.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from anyray.store.base import SpendStore
from anyray.store.records import SpendRecord

log = logging.getLogger("anyray.store")

_STOP = object()


class SpendWriter:
    def __init__(self, store: SpendStore, max_queue: int = 10_000, max_batch: int = 500) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.Queue[object] = queue.Queue(max_queue)
        self._thread = threading.Thread(target=self._run, name="anyray-spend-writer", daemon=True)
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self._last_drop_log = 0.0

    def start(self) -> None:
        """Apply migrations, then start writing. Blocking: call it from a thread at startup."""
        applied = self.store.migrate()
        if applied:
            log.info("spend store %s: applied migrations %s", type(self.store).__name__, applied)
        self._thread.start()

    def submit(self, record: SpendRecord) -> bool:
        try:
            self._queue.put_nowait(record)
            return True
        except queue.Full:
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log > 10:
                self._last_drop_log = now
                log.warning("spend store is behind: %d record(s) dropped so far", self.dropped)
            return False

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (tests, shutdown)."""
        if not self._thread.is_alive():
            return self._queue.empty()
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        self.store.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[SpendRecord] = []
            markers: list[threading.Event] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                elif isinstance(item, SpendRecord):
                    batch.append(item)
                if stop or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._write(batch)
            for marker in markers:
                marker.set()
            if stop:
                return

    def _write(self, batch: list[SpendRecord]) -> None:
        if not batch:
            return
        for attempt in (1, 2):
            try:
                self.store.insert(batch)
                self.written += len(batch)
                return
            except Exception as exc:
                if attempt == 2:
                    self.failed += len(batch)
                    log.error("spend store write failed; %d record(s) lost: %s", len(batch), exc)
                else:
                    time.sleep(0.5)
