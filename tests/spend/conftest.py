"""Spend-store fixtures: a fresh SQLite file per test, and a throwaway PostgreSQL schema when a server answers.

PostgreSQL at 127.0.0.1:5432 (database `test`, user postgres or root, trust auth) is used when its port
is open: a closed port is a skip with that reason; an open port that refuses us is a failure, so a
broken CI database can never pass silently.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pg_base_url() -> str:
    import psycopg

    errors = []
    for user in (os.environ.get("ANYRAY_TEST_PG_USER"), "postgres", "root"):
        if not user:
            continue
        url = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DB}"
        try:
            with psycopg.connect(url, connect_timeout=5):
                return url
        except psycopg.Error as exc:
            errors.append(f"{user}: {exc}")
    pytest.fail(f"PostgreSQL answers on {PG_HOST}:{PG_PORT} but refused every test user: {errors}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL whose tables live in a schema made for this test and dropped after it."""
    if not _port_open(PG_HOST, PG_PORT):
        pytest.skip(f"no PostgreSQL server on {PG_HOST}:{PG_PORT} (port closed)")
    import psycopg

    base = _pg_base_url()
    schema = f"anyray_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'spend.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def wait_written(gw, n: int) -> None:
    """The listener runs after the last byte, which can trail the SDK's return by a moment."""
    writer = gw.gateway.spend.writer
    deadline = time.monotonic() + 10
    while writer.written < n and time.monotonic() < deadline:
        writer.flush(1)
        time.sleep(0.02)
    assert writer.written == n, f"expected {n} records written, got {writer.written} (dropped {writer.dropped})"
