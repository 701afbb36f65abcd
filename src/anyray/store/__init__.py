"""Stores: spend records (SQLite for a laptop, PostgreSQL for several replicas), chosen by URL."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from anyray.store import hourly
from anyray.store.base import GROUPS, SpendStore, StoreError, Summary, valid_group
from anyray.store.records import SpendRecord, sanitize_decisions
from anyray.store.writer import SpendWriter

__all__ = [
    "GROUPS",
    "SpendRecord",
    "SpendStore",
    "SpendWriter",
    "StoreError",
    "Summary",
    "default_spill_dir",
    "default_store_url",
    "hourly",
    "open_store",
    "sanitize_decisions",
    "valid_group",
]


def default_store_url() -> str:
    """Where `anyray up` keeps spend when the config names no store: $ANYRAY_HOME or ~/.anyray."""
    home = Path(os.environ.get("ANYRAY_HOME") or Path.home() / ".anyray")
    return f"sqlite:///{home / 'spend.db'}"


def default_spill_dir(url: str) -> Path:
    """Next to the SQLite file; for a server store, a folder of that store's own under the state directory
    ($ANYRAY_HOME/spill/<store>, ~/.anyray by default): a gateway replays the spills it finds into its store,
    so two gateways of one machine that write to different stores must never find each other's. The folder
    is named by a digest of the URL without its password."""
    if url.startswith("sqlite:"):
        from anyray.store.sqlite import sqlite_path

        return sqlite_path(url).parent / "spill"
    from anyray.store.postgres import redact

    store = hashlib.sha256(redact(url).encode()).hexdigest()[:16]
    return Path(os.environ.get("ANYRAY_HOME") or Path.home() / ".anyray") / "spill" / store


def open_store(url: str, lazy: bool = False) -> SpendStore:
    """The store for a URL. `lazy`: do not wait for a network store to answer (the gateway's writer
    rides out an outage, including one at start); a CLI wants the failure now, with its reason."""
    if url.startswith("sqlite:"):
        from anyray.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from anyray.store.postgres import PostgresStore

        return PostgresStore(url, lazy=lazy)
    raise StoreError(f"unsupported store URL {url.split('://')[0]!r}: expected sqlite:///path or postgresql://...")
