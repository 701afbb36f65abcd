"""Spend records written in batches, off the request path.

The gateway's listener only appends a record to a bounded deque (never blocks: a full one drops the
record and counts it, because a slow database must not slow requests). One thread wakes every
`linger_s` (or at once for a flush or close), takes what accumulated, and writes it in batches, one
transaction per batch; `close` flushes what is left at shutdown.

Why a deque and a timer rather than a queue.Queue: under load a Queue wakes the writer for every
record (a lock, a condition notify and a GIL hand-off on the event loop's thread, and a one-row
transaction per request); measured, that was ~15% of the gateway's CPU. A deque append is atomic
under the GIL and costs the loop nothing else; the writer then commits hundreds of rows at a time.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

from anyray.store.base import SpendStore
from anyray.store.records import SpendRecord

log = logging.getLogger("anyray.store")


class SpendWriter:
    def __init__(
        self, store: SpendStore, max_queue: int = 10_000, max_batch: int = 500, linger_s: float = 0.05
    ) -> None:
        self.store = store
        self.max_queue = max_queue
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._pending: collections.deque[SpendRecord] = collections.deque()
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="anyray-spend-writer", daemon=True)
        self.submitted = 0
        self.processed = 0  # written or failed: what flush() waits for
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
        if len(self._pending) >= self.max_queue:
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log > 10:
                self._last_drop_log = now
                log.warning("spend store is behind: %d record(s) dropped so far", self.dropped)
            return False
        self._pending.append(record)
        self.submitted += 1
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (tests, shutdown)."""
        if not self._thread.is_alive():
            return not self._pending
        target = self.submitted
        self._wake.set()
        with self._done:
            return self._done.wait_for(lambda: self.processed >= target, timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout)
        self.store.close()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.linger_s)
            self._wake.clear()
            stopping = self._stopping  # read before draining: whatever was submitted before close() is written
            while self._pending:
                batch = []
                while self._pending and len(batch) < self.max_batch:
                    batch.append(self._pending.popleft())
                self._write(batch)
                with self._done:
                    self.processed += len(batch)
                    self._done.notify_all()
            if stopping:
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
