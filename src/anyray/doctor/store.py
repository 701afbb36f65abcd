"""The spend store: does it answer, is its schema this version's, and are records waiting on disk.

Records wait in spill files while the store is down (see store/writer.py); files left by a stopped
gateway are replayed by the next one that starts. A doctor run is where someone first looks after an
outage, so it says how many records are still waiting and where.
"""

from __future__ import annotations

import os
from pathlib import Path

from anyray.doctor import Result, Situation
from anyray.store import StoreError, default_spill_dir, default_store_url, open_store
from anyray.store.migrations import LATEST
from anyray.store.spill import PATTERN
from anyray.store.sqlite import sqlite_path

CHECK = "spend store"


def _writable(directory: Path) -> bool:
    """The directory, or the nearest existing parent the writer would create it under, takes files."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def _waiting(directory: Path) -> tuple[int, int]:
    """(files, records) in spill files: one JSON line a record."""
    files = records = 0
    for path in directory.glob(PATTERN) if directory.is_dir() else ():
        files += 1
        with path.open("rb") as fh:
            records += sum(1 for line in fh if line.strip())
    return files, records


def spend_store(s: Situation) -> list[Result]:
    if s.config is None:
        return []
    settings = s.config.store
    if not settings.enabled:
        return [Result(CHECK, "warn", "store.enabled is false: calls are priced in /metrics but not recorded",
                       "set store.enabled: true (and store.url) to keep spend records")]
    url = settings.url or default_store_url()
    results: list[Result] = []
    if url.startswith("sqlite:") and not sqlite_path(url).exists():
        results.append(Result(CHECK, "ok", f"{sqlite_path(url)} does not exist yet; the gateway creates it"))
    else:
        try:
            store = open_store(url)
            try:
                version = store.schema_version()
            finally:
                store.close()
        except Exception as exc:  # StoreError, or the driver's own error from the first query
            why = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {str(exc)[:200]}"
            results.append(Result(CHECK, "fail", f"the store does not answer: {why}",
                                  "check store.url and that the database is up; a running gateway keeps its "
                                  "records meanwhile (memory, then spill files) and writes them when it answers"))
            version = None
        if version is not None and version > LATEST:
            results.append(Result(CHECK, "fail", f"schema version {version} is newer than this anyray's ({LATEST})",
                                  "upgrade anyray to the version the gateways run"))
        elif version is not None and version < LATEST:
            results.append(Result(CHECK, "ok", f"answers; schema version {version}, {LATEST - version} migration(s) "
                                  "pending: the gateway applies them at start"))
        elif version is not None:
            results.append(Result(CHECK, "ok", f"answers; schema version {version}"))

    spill = settings.spill_dir or default_spill_dir(url)
    files, records = _waiting(spill)
    if files:
        results.append(Result(f"{CHECK} spill", "warn",
                              f"{records} record(s) wait in {files} spill file(s) in {spill}",
                              "they are written by the next gateway that starts with this spill directory "
                              "while the store answers (a running gateway writes its own file itself)"))
    elif not _writable(spill):
        results.append(Result(f"{CHECK} spill", "fail", f"{spill} cannot be written: records would be lost in "
                              "an outage once memory is full", "set store.spill_dir to a writable directory"))
    else:
        results.append(Result(f"{CHECK} spill", "ok", f"nothing waiting; {spill} is writable"))
    return results
