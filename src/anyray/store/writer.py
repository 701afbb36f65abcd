"""Spend records written in batches, off the request path, surviving store outages.

The gateway's listener only puts a record on a bounded queue (never blocks: a slow database must not
slow requests). One thread drains the queue in batches, one transaction per batch. When the store
fails, records wait: first in memory (up to `max_pending`), then in this writer's spill file (up to
`spill_max_bytes`, see `spill.py`), while the thread retries with exponential backoff. When the store
answers again, memory is written first, then the spill is replayed; inserts are idempotent on the
request id, so a replay repeated after a crash writes nothing twice. At shutdown what is left goes to
the store, or to the spill when the store is down; the next start replays spills left by gone processes.

The bound: queue + memory + spill. Past it a record is lost, and every loss is counted (`lost`, the
`on_lost` callback behind `anyray_spend_records_lost_total`) and logged, never silent.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from anyray.store.base import SpendStore
from anyray.store.records import SpendRecord
from anyray.store.spill import Spill, orphans, read_batches

log = logging.getLogger("anyray.store")

_STOP = object()
_LOG_EVERY_S = 10.0


class SpendWriter:
    def __init__(
        self,
        store: SpendStore,
        max_queue: int = 10_000,
        max_batch: int = 500,
        *,
        max_pending: int | None = None,
        spill_dir: Path | None = None,
        spill_max_bytes: int = 64 * 1024 * 1024,
        retry_min_s: float = 0.5,
        retry_max_s: float = 30.0,
        on_lost: Callable[[int], None] | None = None,
        linger_s: float = 0.05,
        on_written: Callable[[list[SpendRecord]], None] | None = None,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.max_pending = max_queue if max_pending is None else max_pending
        self.spill = Spill(spill_dir, spill_max_bytes) if spill_dir is not None else None
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.on_lost = on_lost
        # told of each batch the store committed (from the writer thread): the budget ledger stops counting
        # its own records separately once the store's sums include them
        self.on_written = on_written
        self.linger_s = linger_s
        self._queue: queue.Queue[object] = queue.Queue(max_queue)
        self._pending: deque[SpendRecord] = deque()
        self._thread = threading.Thread(target=self._run, name="anyray-spend-writer", daemon=True)
        self.written = 0  # records the store has (including replays)
        self.dropped = 0  # lost at submit: the queue was full
        self.spilled = 0  # records that went to the spill file
        self.replayed = 0  # records written from a spill file (this writer's or a gone process's)
        self.lost = 0  # every record lost, whatever the reason (dropped included)
        self.failures = 0  # failed store writes (each retried)
        self.store_down = False
        self._needs_migrate = False
        self._delay = retry_min_s
        self._next_try = 0.0
        self._last_log: dict[str, float] = {}

    # ------------------------------------------------------------------ the request side
    def start(self) -> None:
        """Apply migrations, then start writing. Blocking: call it from a thread at startup.

        A store that cannot be reached now is an outage like any other, not a reason to refuse traffic:
        records wait (memory, spill) and the migrations are applied before the first write that works.
        """
        try:
            self._migrate()
        except Exception as exc:
            self._needs_migrate = True
            self._down(exc, "spend store unreachable at start; serving anyway, keeping records until it answers")
        self._thread.start()

    def _migrate(self) -> None:
        applied = self.store.migrate()
        self._needs_migrate = False
        if applied:
            log.info("spend store %s: applied migrations %s", type(self.store).__name__, applied)

    def submit(self, record: SpendRecord) -> bool:
        try:
            self._queue.put_nowait(record)
            return True
        except queue.Full:
            self.dropped += 1
            self._lose(1, "the writer's queue is full")
            return False

    @property
    def backlog(self) -> int:
        """Records accepted but not yet in the store (queued, in memory, in the spill)."""
        return self._queue.qsize() + len(self._pending) + (self.spill.records if self.spill else 0)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far was handled: written, or kept (memory, spill) if the store is down."""
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

    # ------------------------------------------------------------------ the writer thread
    def _lose(self, n: int, why: str) -> None:
        if n <= 0:
            return
        self.lost += n
        if self.on_lost is not None:
            self.on_lost(n)
        self._log_every("lost", logging.ERROR, "spend records lost (%s): %d now, %d in total", why, n, self.lost)

    def _log_every(self, key: str, level: int, msg: str, *args: object) -> None:
        """At most one line per kind every few seconds: an outage must not flood the log."""
        now = time.monotonic()
        if now - self._last_log.get(key, -_LOG_EVERY_S) >= _LOG_EVERY_S:
            self._last_log[key] = now
            log.log(level, msg, *args)

    def _run(self) -> None:
        self._replay_orphans()
        while True:
            timeout = None
            if self._pending or (self.spill and self.spill.records):
                timeout = max(0.0, self._next_try - time.monotonic()) if self.store_down else 0.0
            try:
                item = self._queue.get(timeout=timeout) if timeout != 0.0 else self._queue.get_nowait()
            except queue.Empty:
                item = None
            if isinstance(item, SpendRecord) and self.linger_s and not self.store_down:
                # Let a burst gather: one transaction for many requests, and while this thread sleeps
                # (instead of waiting on the queue) a submit's notify wakes nobody. Woken per record, the
                # writer cost the gateway ~15% of its CPU under load (docs/performance.md).
                time.sleep(self.linger_s)
            markers: list[threading.Event] = []
            stop = False
            while item is not None:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                elif isinstance(item, SpendRecord):
                    self._pending.append(item)
                if stop or len(self._pending) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if stop:
                self._shutdown()
                for marker in markers:
                    marker.set()
                return
            if not self.store_down or time.monotonic() >= self._next_try:
                self._write_all(replay_batches=1)
            if self.store_down:
                self._overflow(self.max_pending)
            for marker in markers:
                marker.set()

    def _down(self, exc: Exception, first_words: str) -> None:
        self.failures += 1
        if not self.store_down:
            log.error("%s: %s", first_words, str(exc)[:300])
        self.store_down = True
        self._next_try = time.monotonic() + self._delay
        self._delay = min(self._delay * 2, self.retry_max_s)
        self._log_every("down", logging.WARNING, "spend store still unreachable; %d record(s) waiting", self.backlog)

    def _insert(self, batch: list[SpendRecord]) -> bool:
        try:
            if self._needs_migrate:
                self._migrate()
            self.store.insert(batch)
        except Exception as exc:
            self._down(exc, "spend store unreachable, keeping records and retrying")
            return False
        if self.store_down:
            log.warning("spend store reachable again; writing the %d record(s) kept meanwhile", self.backlog)
        self.store_down = False
        self._delay = self.retry_min_s
        self.written += len(batch)
        if self.on_written is not None:
            try:
                self.on_written(batch)
            except Exception:  # a listener's bug must not make a committed batch look failed
                log.exception("on_written listener failed")
        return True

    def _write_all(self, replay_batches: int | None = None) -> None:
        """Memory first, then this writer's spill; stops at the first failure (the backoff decides when next).

        `replay_batches` bounds how much of the spill one pass replays: the loop drains the queue between
        passes. Replayed in one go, tens of thousands of records kept through an outage took long enough
        (on a busy machine) for live traffic to fill the queue behind them, and those records were lost."""
        while self._pending:
            batch = [self._pending[i] for i in range(min(self.max_batch, len(self._pending)))]
            if not self._insert(batch):
                return
            for _ in batch:
                self._pending.popleft()
        if self.spill is None or self.spill.records == 0:
            return
        try:
            for n, (batch, offset, bad) in enumerate(self.spill.batches(self.max_batch)):
                if replay_batches is not None and n >= replay_batches:
                    return
                if batch and not self._insert(batch):
                    return
                self.replayed += len(batch)
                self._lose(bad, "unreadable lines in the spill file")
                self.spill.mark_replayed(offset, len(batch) + bad)
        except OSError as exc:
            log.error("cannot read the spill file %s: %s", self.spill.path, exc)
            self._lose(self.spill.records, "the spill file cannot be read")
            self.spill.mark_replayed(self.spill.size, self.spill.records)

    def _overflow(self, keep: int) -> None:
        """While the store is down, memory beyond `keep` records goes to the spill file (oldest first)."""
        extra = len(self._pending) - keep
        if extra <= 0:
            return
        batch = [self._pending.popleft() for _ in range(extra)]
        if self.spill is None:
            self._lose(len(batch), "the store is down, memory is full and no spill directory is set")
            return
        self._to_spill(batch)

    def _to_spill(self, batch: list[SpendRecord]) -> None:
        assert self.spill is not None
        try:
            did_not_fit = self.spill.append(batch)
        except OSError as exc:
            log.error("cannot write the spill file %s: %s", self.spill.path, exc)
            did_not_fit = len(batch)
        self.spilled += len(batch) - did_not_fit
        self._lose(did_not_fit, f"the spill file is full ({self.spill.max_bytes} bytes)")

    def _shutdown(self) -> None:
        """One last try at the store (not when it failed moments ago: a shutdown must not wait out another
        connect timeout); what it does not take goes to the spill for the next start."""
        backing_off = self.store_down and time.monotonic() < self._next_try
        if (self._pending or (self.spill and self.spill.records)) and not backing_off:
            self._write_all()
        if self.store_down:
            self._overflow(0)
        if self.spill is not None:
            if self.spill.records:
                log.warning(
                    "spend store unreachable at shutdown: %d record(s) kept in %s for the next start",
                    self.spill.records,
                    self.spill.path,
                )
            self.spill.close()

    def _replay_orphans(self) -> None:
        """Spills left by processes that are gone (a crash, a shutdown while the store was down)."""
        if self.spill is None:
            return
        for path, fh in orphans(self.spill.directory, self.spill.path):
            with fh:
                done = True
                count = 0
                for batch, _offset, bad in read_batches(fh, self.max_batch):
                    self._lose(bad, "unreadable lines in a spill file")
                    if batch and not self._insert(batch):
                        done = False
                        self._to_spill(batch)
                        break
                    count += len(batch)
                if not done:
                    # keep them: the failed batch and what is left go into our own spill, retried with the rest
                    self._adopt(fh)
                self.replayed += count
                path.unlink(missing_ok=True)
                log.info("replayed %d spend record(s) from %s", count, path.name)

    def _adopt(self, fh) -> None:  # type: ignore[no-untyped-def]
        assert self.spill is not None
        for batch, _offset, bad in read_batches(fh, self.max_batch):
            self._lose(bad, "unreadable lines in a spill file")
            self._to_spill(batch)
