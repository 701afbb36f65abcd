"""The spill file: spend records the store could not take yet, on disk, bounded in bytes.

When the store is unreachable the writer keeps a bounded number of records in memory and puts the
rest here, one JSON object per line (records are content-free: numbers, ids and short labels; see
`records.py`). Each writer owns one file, named after its process and held under an exclusive `flock`,
so replicas sharing a directory never write into each other's file. A file whose lock can be taken
belongs to a process that is gone: the next writer to start replays it into the store, then deletes it.
Replays are idempotent (one row per request id), so a replay cut short is simply run again.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson

from anyray.store.records import SpendRecord

log = logging.getLogger("anyray.store")

PATTERN = "spend-spill-*.jsonl"
_FIELDS = {f.name for f in dataclasses.fields(SpendRecord)}


def encode(record: SpendRecord) -> bytes:
    return orjson.dumps(dataclasses.asdict(record)) + b"\n"


def decode(line: bytes) -> SpendRecord | None:
    """A record from one line; None for a torn or foreign line (a crash mid-write leaves one at the end)."""
    try:
        data = orjson.loads(line)
        if not isinstance(data, dict):
            return None
        return SpendRecord(**{k: v for k, v in data.items() if k in _FIELDS})
    except (orjson.JSONDecodeError, TypeError):
        return None


def read_batches(fh: IO[bytes], size: int, start: int = 0) -> Iterator[tuple[list[SpendRecord], int, int]]:
    """(records, offset after them, unreadable lines) per `size` lines, from byte `start`."""
    fh.seek(start)
    batch: list[SpendRecord] = []
    bad = 0
    offset = start
    for line in fh:
        offset += len(line)
        if not line.strip():
            continue
        record = decode(line)
        if record is None:
            bad += 1
        else:
            batch.append(record)
        if len(batch) >= size:
            yield batch, offset, bad
            batch, bad = [], 0
    if batch or bad:
        yield batch, offset, bad


def _try_lock(fh: IO[bytes]) -> bool:
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class Spill:
    """This writer's own spill file, created on first use, never larger than `max_bytes`."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.path = directory / f"spend-spill-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self._fh: IO[bytes] | None = None
        self.size = 0  # bytes in the file
        self.records = 0  # records in the file not yet replayed
        self.replayed_to = 0  # byte offset up to which the store has the records

    def _open(self) -> IO[bytes]:
        if self._fh is None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fh = open(self.path, "a+b")  # noqa: SIM115 - held open (and locked) for the writer's life
            os.chmod(self.path, 0o600)
            if not _try_lock(fh):  # pragma: no cover - our name is unique
                fh.close()
                raise OSError(f"spill file {self.path} is locked by another process")
            self._fh = fh
        return self._fh

    def append(self, records: list[SpendRecord]) -> int:
        """Write what fits under the bound; returns how many records did not fit (the caller counts them lost)."""
        if not records:
            return 0
        fh = self._open()
        chunks = []
        size = self.size
        for record in records:
            line = encode(record)
            if size + len(line) > self.max_bytes:
                break
            chunks.append(line)
            size += len(line)
        if chunks:
            fh.seek(0, os.SEEK_END)
            fh.write(b"".join(chunks))
            fh.flush()
            os.fsync(fh.fileno())
            self.size = size
            self.records += len(chunks)
        return len(records) - len(chunks)

    def batches(self, size: int) -> Iterator[tuple[list[SpendRecord], int, int]]:
        if self._fh is None or self.records == 0:
            return iter(())
        return read_batches(self._fh, size, self.replayed_to)

    def mark_replayed(self, offset: int, count: int) -> None:
        self.replayed_to = offset
        self.records = max(0, self.records - count)
        if self.replayed_to >= self.size and self._fh is not None:
            self._fh.truncate(0)
            self._fh.flush()
            self.size = self.replayed_to = self.records = 0

    def close(self) -> None:
        """Release the file: deleted when empty, else left (unlocked) for the next start to replay."""
        if self._fh is None:
            return
        if self.records == 0:
            self.path.unlink(missing_ok=True)
        self._fh.close()
        self._fh = None


def orphans(directory: Path, own: Path | None = None) -> Iterator[tuple[Path, IO[bytes]]]:
    """Spill files left by processes that are gone, each opened and locked (the caller closes it)."""
    try:
        paths = sorted(directory.glob(PATTERN))
    except OSError:
        return
    for path in paths:
        if path == own:
            continue
        try:
            fh = open(path, "r+b")  # noqa: SIM115 - returned to the caller
        except OSError:
            continue
        if _try_lock(fh):
            yield path, fh
        else:
            fh.close()  # a live writer's file
