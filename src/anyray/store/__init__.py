"""Stores: spend records (SQLite for a laptop, PostgreSQL for several replicas), chosen by URL."""

from __future__ import annotations

import os
from pathlib import Path

from anyray.store.base import GROUPS, SpendStore, StoreError, Summary
from anyray.store.records import SpendRecord, sanitize_decisions
from anyray.store.writer import SpendWriter

__all__ = [
    "GROUPS",
    "SpendRecord",
    "SpendStore",
    "SpendWriter",
    "StoreError",
    "Summary",
    "default_store_url",
    "open_store",
    "sanitize_decisions",
]


def default_store_url() -> str:
    """Where `anyray up` keeps spend when the config names no store: $ANYRAY_HOME or ~/.anyray."""
    home = Path(os.environ.get("ANYRAY_HOME") or Path.home() / ".anyray")
    return f"sqlite:///{home / 'spend.db'}"


def open_store(url: str) -> SpendStore:
    if url.startswith("sqlite:"):
        from anyray.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from anyray.store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(f"unsupported store URL {url.split('://')[0]!r}: expected sqlite:///path or postgresql://...")
