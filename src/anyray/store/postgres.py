"""PostgreSQL spend store, shared by several gateway replicas (Cloud SQL in a cluster).

psycopg 3 with a small connection pool; writes arrive in batches from one writer thread per replica,
so a handful of connections is plenty. Replicas starting together serialize their migrations on an
advisory lock. The schema follows the connection's search_path, so `?options=-csearch_path%3Dname`
in the URL puts the tables in a schema of your choice.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from anyray.store.base import SpendStore, StoreError

_MIGRATION_LOCK = 0x616E79726179  # "anyray"


def redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _custom_plans(conn: Any) -> None:
    """Plan every read for its own parameters. psycopg prepares a statement on its fifth run, and after five
    custom plans PostgreSQL may switch to a generic one that knows neither the time range nor the filter:
    the console's 30-day session table went from ~200 ms to ~660 ms on its eleventh load, for good
    (`tests/spend/test_postgres_plans.py`). Planning a read costs well under a millisecond. A batch's
    writes keep the generic plans (`_writing`): their roll-up upserts cost 40 us a record more to plan each
    time (77 -> 116 us a record in batches of 100, measured)."""
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.commit()


class PostgresStore(SpendStore):
    placeholder = "%s"
    id_type = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def __init__(
        self, url: str, min_size: int = 1, max_size: int = 4, timeout_s: float = 5.0, lazy: bool = False
    ) -> None:
        super().__init__(url)
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise StoreError("a postgresql:// store needs psycopg: pip install 'anyray[postgres]'") from None
        self._psycopg = psycopg
        if not lazy:
            # one plain connection first: a refused or unknown server fails in a second with libpq's own
            # reason ("Connection refused", "password authentication failed"), not a pool timeout
            try:
                psycopg.connect(url, connect_timeout=max(1, int(timeout_s))).close()
            except Exception as exc:
                raise StoreError(f"cannot connect to spend store {redact(url)}: {str(exc).strip()}") from None
        try:
            # check: a connection left over from before a server restart is found dead and replaced when
            # it is taken, not when a batch fails on it; timeout: a down server costs the writer thread
            # seconds per attempt, not the pool's default 30 s (records keep queueing meanwhile)
            self._pool = ConnectionPool(
                url,
                min_size=min_size,
                max_size=max_size,
                open=False,
                timeout=timeout_s,
                check=ConnectionPool.check_connection,
                configure=_custom_plans,
                kwargs={"connect_timeout": max(1, int(timeout_s))},
            )
            # lazy (the gateway): a server that is down now is an outage the writer rides out, so the
            # pool keeps connecting in the background; eager (the CLI): say at once why it cannot connect
            self._pool.open(wait=not lazy, timeout=10)
        except Exception as exc:
            raise StoreError(f"cannot connect to spend store {redact(url)}: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        with self._transaction() as cur:
            cur.execute("SET LOCAL plan_cache_mode = auto")
            yield cur

    def _executemany_returning(self, cur: Any, sql: str, rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
        # still one pipelined round trip for the batch; each statement's RETURNING is its own result set
        cur.executemany(sql, rows, returning=True)
        out = []
        while True:
            out.extend(cur.fetchall())
            if not cur.nextset():
                return out

    def _ids_clause(self, ids: list[int]) -> tuple[str, tuple[Any, ...]]:
        return "id = ANY(?)", (ids,)

    def _lock_migrations(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def tag_expr(self, name: str) -> str:
        return f"(tags::jsonb ->> '{name}')"

    def joined_expr(self, text: str) -> str:
        return f"string_agg({text}, ',')"

    def day_expr(self) -> str:
        return "to_char(to_timestamp(ts_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    def close(self) -> None:
        self._pool.close()
