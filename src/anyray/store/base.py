"""The spend store interface and the SQL both backends share.

One interface, chosen by `store.url`: SQLite for a laptop (`anyray up`), PostgreSQL for several
gateway replicas. The gateway only ever calls `insert` (from the batch writer's thread) and the CLI only
`summarize`; both are plain blocking DB-API code, never run on the event loop.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from anyray.store import drill, people, rollup
from anyray.store.migrations import MIGRATIONS, MIGRATIONS_TABLE
from anyray.store.records import COLUMNS, SpendRecord

GROUPS = ("team", "app", "model", "provider", "day", "user")
TAG_GROUP = re.compile(r"tag:([A-Za-z0-9_.-]{1,64})")  # `tag:session`: by one tag's value (a name, never SQL)


def valid_group(by: str | None) -> bool:
    """A grouping `summarize` knows: one of GROUPS, or `tag:NAME`."""
    return by is None or by in GROUPS or TAG_GROUP.fullmatch(by) is not None


class StoreError(Exception):
    """The store cannot be opened or used; the message names the URL (without its password)."""


@dataclass(slots=True)
class Summary:
    """One row of `anyray spend`: totals for a group (or for everything)."""

    group: str | None
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_micros: int = 0
    unpriced: int = 0
    savings_micros: int = 0
    cache_hits: int = 0
    fail_open: int = 0
    estimated: int = 0  # requests priced as a related model (priced_as)
    cache_savings_micros: int = 0  # the part of savings_micros that cache hits saved
    p50_ms: float | None = None
    p95_ms: float | None = None
    latency_estimated: bool = False  # p50/p95 read from the hourly histogram (a big range), not sorted

    @property
    def cache_hit_rate(self) -> float:
        return self.cache_hits / self.requests if self.requests else 0.0

    @property
    def cached_input_ratio(self) -> float:
        """The share of input tokens served from the provider's prompt cache."""
        total = self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
        return self.cache_read_tokens / total if total else 0.0


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


ROWS_PER_SLICE = 32


def _rows(records: Sequence[SpendRecord]) -> list[tuple[Any, ...]]:
    """The batch's rows, made in slices with the GIL let go between them.

    The writer runs on a thread beside the event loop. Made in one go, a few hundred rows held the GIL
    for a millisecond or more, and every request the loop was serving meanwhile waited that long: that
    was most of the gateway's one-connection p99 (docs/performance.md). A slice is ~0.2 ms.
    """
    rows = []
    for start in range(0, len(records), ROWS_PER_SLICE):
        if start:
            time.sleep(0)
        rows.extend(record_row(r) for r in records[start:start + ROWS_PER_SLICE])
    return rows


@functools.lru_cache(maxsize=32)
def _insert_statement(placeholder: str, rows: int) -> str:
    marks = "(" + ", ".join(placeholder for _ in COLUMNS) + ")"
    return (f"INSERT INTO spend_records ({', '.join(COLUMNS)}) VALUES {', '.join([marks] * rows)}"
            " ON CONFLICT (request_id) DO NOTHING RETURNING id, request_id")


def _statement_sizes(rows: int, most: int) -> Iterator[int]:
    """Rows per statement for a batch: `most` at a time, then powers of two. A few fixed shapes, so SQLite's
    statement cache keeps each one compiled; a statement per batch size cost more than executemany."""
    while rows >= most:
        yield most
        rows -= most
    size = most
    while rows:
        while size > rows:
            size //= 2
        yield size
        rows -= size


_VALUES = operator.attrgetter(*COLUMNS)  # every column's value in one C call
_JSON_AT = tuple(COLUMNS.index(name) for name in ("tags", "decisions"))


def record_row(record: SpendRecord) -> tuple[Any, ...]:
    """The record as an INSERT's values: JSON columns as text, booleans as 0/1 (SMALLINT on PostgreSQL)."""
    row = [int(value) if value is True or value is False else value for value in _VALUES(record)]
    for at in _JSON_AT:
        row[at] = orjson.dumps(row[at], option=orjson.OPT_SORT_KEYS).decode()
    return tuple(row)


class SpendStore(ABC):
    """SQL shared by the backends; subclasses provide connections and the dialect's few differences."""

    placeholder = "?"
    id_type = "INTEGER PRIMARY KEY"
    bool_type = "SMALLINT"
    float_type = "DOUBLE PRECISION"

    def __init__(self, url: str) -> None:
        self.url = url

    # ------------------------------------------------------------------ backend hooks
    @abstractmethod
    def _transaction(self) -> Any:
        """A context manager yielding a DB-API cursor inside one transaction."""

    def _writing(self) -> Any:
        """The transaction of a batch of records (a backend may tune it for the same statements run often)."""
        return self._transaction()

    @abstractmethod
    def _lock_migrations(self, cur: Any) -> None:
        """Serialize migrations between processes starting at once."""

    @abstractmethod
    def day_expr(self) -> str:
        """SQL for the UTC day (YYYY-MM-DD) of `ts_ms`."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""

    # ------------------------------------------------------------------ schema
    def migrate(self) -> list[int]:
        """Apply the migrations this database has not seen; returns the versions applied now."""
        applied_now = []
        with self._transaction() as cur:
            self._lock_migrations(cur)
            cur.execute(MIGRATIONS_TABLE)
            cur.execute("SELECT version FROM anyray_migrations")
            done = {int(r[0]) for r in cur.fetchall()}
            for version, name, statements in MIGRATIONS:
                if version in done:
                    continue
                for step in statements:
                    if callable(step):  # a data step (e.g. filling a roll-up from the records)
                        step(self, cur)
                    else:
                        cur.execute(step.format(id=self.id_type, bool=self.bool_type, float=self.float_type))
                cur.execute(
                    self._sql("INSERT INTO anyray_migrations (version, name, applied_ms) VALUES (?, ?, ?)"),
                    (version, name, int(time.time() * 1000)),
                )
                applied_now.append(version)
        return applied_now

    def schema_version(self) -> int:
        with self._transaction() as cur:
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM anyray_migrations")
            return int(cur.fetchone()[0])

    # ------------------------------------------------------------------ writes and reads
    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    # rows per INSERT statement: one (executemany) unless a backend says a multi-row VALUES is cheaper
    rows_per_statement = 1

    def insert(self, records: Sequence[SpendRecord]) -> None:
        """Write a batch in one transaction; a request id already stored is skipped (replays are idempotent)."""
        if not records:
            return
        rows = _rows(records)
        with self._writing() as cur:
            if self.rows_per_statement == 1:
                inserted = self._executemany_returning(cur, _insert_statement(self.placeholder, 1), rows)
            else:
                inserted, start = [], 0
                for size in _statement_sizes(len(rows), self.rows_per_statement):
                    chunk = rows[start:start + size]
                    cur.execute(_insert_statement(self.placeholder, size), [value for row in chunk for value in row])
                    inserted.extend(cur.fetchall())
                    start += size
            rollup.add(self, cur, inserted, records)
            people.add(self, cur, inserted)
            drill.add(self, cur, inserted)

    def _executemany_returning(self, cur: Any, sql: str, rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
        """executemany, collecting every statement's RETURNING rows (a backend whose driver can)."""
        out = []
        for row in rows:
            cur.execute(sql, row)
            out.extend(cur.fetchall())
        return out

    def _ids_clause(self, ids: list[int]) -> tuple[str, tuple[Any, ...]]:
        """SQL matching the rows with these ids, and its parameters (a backend may do it in one parameter)."""
        return "id IN (" + ", ".join("?" for _ in ids) + ")", tuple(ids)

    def fetch(self, since_ms: int | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        """Raw records, oldest first (tests and exports)."""
        where, params = self._where(since_ms)
        sql = self._sql(f"SELECT {', '.join(COLUMNS)} FROM spend_records{where} ORDER BY ts_ms, id LIMIT ?")
        with self._transaction() as cur:
            cur.execute(sql, (*params, limit))
            rows = cur.fetchall()
        out = []
        for row in rows:
            item = dict(zip(COLUMNS, row, strict=True))
            item["tags"] = orjson.loads(item["tags"])
            item["decisions"] = orjson.loads(item["decisions"])
            for flag in ("streamed", "cache_hit", "fail_open", "partial"):
                item[flag] = bool(item[flag])
            out.append(item)
        return out

    def _where(self, since_ms: int | None, until_ms: int | None = None) -> tuple[str, tuple[Any, ...]]:
        clauses, params = [], []
        if since_ms is not None:
            clauses.append("ts_ms >= ?")
            params.append(since_ms)
        if until_ms is not None:
            clauses.append("ts_ms < ?")
            params.append(until_ms)
        return (" WHERE " + " AND ".join(clauses) if clauses else "", tuple(params))

    def _group_expr(self, by: str | None) -> str:
        if by is None:
            return "NULL"
        if (tag := TAG_GROUP.fullmatch(by)) is not None:
            return self.tag_expr(tag.group(1))
        if by not in GROUPS:
            raise StoreError(f"cannot group by {by!r}; expected one of {', '.join(GROUPS)} or tag:NAME")
        return {
            "team": "team",
            "app": "app",
            "provider": "provider",
            "user": "user_name",
            "model": "COALESCE(model_used, model_asked)",
            "day": self.day_expr(),
        }[by]

    def joined_expr(self, text: str) -> str:
        """SQL aggregate: a group's values of the text expression `text`, joined by commas."""
        return f"group_concat({text}, ',')"

    def tag_expr(self, name: str) -> str:
        """SQL for one tag's value (NULL when a record has no such tag); `name` matched TAG_GROUP."""
        return f"json_extract(tags, '$.\"{name}\"')"

    def _filtered(self, where: str, params: tuple[Any, ...], filters: Mapping[str, str] | None
                  ) -> tuple[str, tuple[Any, ...]]:
        """`where` narrowed to records whose team / app / model / ... equals each filter's value."""
        for key, value in sorted((filters or {}).items()):
            where += f"{' AND' if where else ' WHERE'} {self._group_expr(key)} = ?"
            params = (*params, value)
        return where, params

    def summarize(
        self, since_ms: int | None = None, by: str | None = None, until_ms: int | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> list[Summary]:
        """Totals per group (one row with group None when `by` is None), busiest spend first.

        `by`: one of GROUPS or `tag:NAME`; `filters`: only records whose team / app / model ... is this."""
        group = self._group_expr(by)
        where, params = self._filtered(*self._where(since_ms, until_ms), filters)
        sums = f"""
            SELECT {group} AS g, COUNT(*),
                   SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END),
                   SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens), SUM(cache_read_tokens),
                   SUM(cost_micros), SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END),
                   SUM(savings_micros), SUM(cache_hit), SUM(fail_open),
                   SUM(CASE WHEN priced_as IS NOT NULL THEN 1 ELSE 0 END), SUM(cache_hit * savings_micros)
            FROM spend_records{where}{"" if by is None else f" GROUP BY {group}"}
        """
        latencies = f"""
            SELECT {group} AS g, latency_ms FROM spend_records{where}
            {"AND" if where else "WHERE"} latency_ms IS NOT NULL ORDER BY {"2" if by is None else "1, 2"}
        """
        with self._transaction() as cur:
            cur.execute(self._sql(sums), params)
            rows = cur.fetchall()
            cur.execute(self._sql(latencies), params)
            lat_rows = cur.fetchall()
        by_group: dict[Any, list[float]] = {}
        for g, ms in lat_rows:
            by_group.setdefault(g, []).append(float(ms))
        out = []
        for row in rows:
            g, numbers = row[0], [int(v or 0) for v in row[1:]]
            s = Summary(None if g is None else str(g), *numbers)
            values = sorted(by_group.get(g, []))
            s.p50_ms, s.p95_ms = percentile(values, 50), percentile(values, 95)
            out.append(s)
        out.sort(key=lambda s: (-s.cost_micros, -s.requests, s.group or ""))
        return out
