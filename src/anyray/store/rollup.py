"""Hourly roll-ups of the spend records: the console reads thousands of rows for a month, not millions.

Two tables, kept in the same transaction as the records they count (`SpendStore.insert`), so they can
never disagree with them:
- `spend_hourly`: per UTC hour, team, app, model and provider, the sums `anyray spend` shows and a
  latency histogram (buckets 1.25x apart, so a percentile read from it is within ~12% of the exact one);
- `spend_hourly_policy`: per UTC hour and decision kind, what the optimizer did (`effects.record_effects`).

Only rows a batch really inserted are added (`RETURNING id`: a replayed request id is skipped by the
INSERT and so by the roll-up). Both tables are derived data: `rebuild` recomputes them from the records,
which is also how migration 7 fills them for a store that already holds records. NULL labels are stored
as '' (unique keys treat NULLs as distinct) and read back as NULL; a label is never empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from anyray.store.effects import record_effects
from anyray.store.records import SpendRecord

if TYPE_CHECKING:
    from anyray.store.base import SpendStore

HOUR_MS = 3_600_000
LATENCY_RATIO = 1.25
# bucket 0: under 1 ms; bucket i: [1.25^(i-1), 1.25^i) ms; the last: from 1.25^55 ms (~3.6 min) up
LATENCY_BOUNDS = tuple(LATENCY_RATIO ** i for i in range(56))
LATENCY_COLUMNS = tuple(f"lat_{i:02d}" for i in range(len(LATENCY_BOUNDS) + 1))

KEYS = ("hour_ms", "team", "app", "model", "provider")
_KEY_EXPRS = (f"(ts_ms / {HOUR_MS}) * {HOUR_MS}", "COALESCE(team, '')", "COALESCE(app, '')",
              "COALESCE(model_used, model_asked)", "COALESCE(provider, '')")


def _latency_case(i: int) -> str:
    low = f"latency_ms >= {LATENCY_BOUNDS[i - 1]!r}" if i else ""
    high = f"latency_ms < {LATENCY_BOUNDS[i]!r}" if i < len(LATENCY_BOUNDS) else ""
    return f"CASE WHEN {' AND '.join(c for c in (low, high) if c)} THEN 1 ELSE 0 END"


# (column, its value for one record); the first thirteen are Summary's numbers, in Summary's order
MEASURES: tuple[tuple[str, str], ...] = (
    ("requests", "1"),
    ("errors", "CASE WHEN status >= 400 THEN 1 ELSE 0 END"),
    ("input_tokens", "input_tokens"),
    ("output_tokens", "output_tokens"),
    ("cache_write_tokens", "cache_write_tokens"),
    ("cache_read_tokens", "cache_read_tokens"),
    ("cost_micros", "COALESCE(cost_micros, 0)"),
    ("unpriced", "CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END"),
    ("savings_micros", "savings_micros"),
    ("cache_hits", "cache_hit"),
    ("fail_open", "fail_open"),
    ("estimated", "CASE WHEN priced_as IS NOT NULL THEN 1 ELSE 0 END"),
    ("cache_savings_micros", "cache_hit * savings_micros"),
    *((column, _latency_case(i)) for i, column in enumerate(LATENCY_COLUMNS)),
)
SUMMARY_MEASURES = 13

SCHEMA = [
    "CREATE TABLE spend_hourly (hour_ms BIGINT NOT NULL, team TEXT NOT NULL, app TEXT NOT NULL, "
    "model TEXT NOT NULL, provider TEXT NOT NULL, "
    + ", ".join(f"{column} BIGINT NOT NULL DEFAULT 0" for column, _ in MEASURES) + ")",
    "CREATE UNIQUE INDEX spend_hourly_key ON spend_hourly (hour_ms, team, app, model, provider)",
    "CREATE TABLE spend_hourly_policy (hour_ms BIGINT NOT NULL, kind TEXT NOT NULL, "
    "decisions BIGINT NOT NULL DEFAULT 0, requests BIGINT NOT NULL DEFAULT 0, "
    "tokens_saved BIGINT NOT NULL DEFAULT 0, savings_micros BIGINT NOT NULL DEFAULT 0)",
    "CREATE UNIQUE INDEX spend_hourly_policy_key ON spend_hourly_policy (hour_ms, kind)",
]


def latency_bucket(lo: int = 0, hi: int = len(LATENCY_BOUNDS)) -> str:
    """SQL for a record's latency bucket (bisect_right over the bounds) as a binary search of nested CASEs:
    6 comparisons a record; NULL without a latency."""
    if lo == hi:
        return str(lo)
    mid = (lo + hi) // 2
    below, above = latency_bucket(lo, mid), latency_bucket(mid + 1, hi)
    inner = f"CASE WHEN latency_ms < {LATENCY_BOUNDS[mid]!r} THEN {below} ELSE {above} END"
    return inner if lo or hi != len(LATENCY_BOUNDS) else f"CASE WHEN latency_ms IS NULL THEN NULL ELSE {inner} END"


def upsert(table: str, keys: Sequence[tuple[str, str]], where: str) -> str:
    """Add the records matching `where` to `table`'s rows, one per `keys` (column, its SQL over a record).

    In two steps: the records grouped by key and latency bucket with their sums, then those groups into
    one row per key, the histogram pivoted from the few groups rather than 57 aggregates over every
    record. With many records a key (a person's calls in a batch) that is 40% cheaper; with ~1 a key it
    costs ~10% more (benchmarks/people_rollup.py's two distributions). ORDER BY: concurrent upserts of
    the same keys take their row locks in one order, so PostgreSQL replicas cannot deadlock each other."""
    sums = MEASURES[:SUMMARY_MEASURES]
    names = [f"k{i}" for i in range(len(keys))]
    named = ", ".join(f"{e} AS {n}" for (_, e), n in zip(keys, names, strict=True))
    inner = (f"SELECT {named}, {latency_bucket()} AS b, "
             f"COUNT(*) AS n, {', '.join(f'SUM({e}) AS {c}' for c, e in sums)} "
             f"FROM spend_records WHERE {where} GROUP BY {', '.join(str(i + 1) for i in range(len(keys) + 1))}")
    outer = ", ".join([*(f"SUM({c})" for c, _ in sums),
                       *(f"SUM(CASE WHEN b = {i} THEN n ELSE 0 END)" for i in range(len(LATENCY_COLUMNS)))])
    columns = ", ".join(c for c, _ in MEASURES)
    key_columns = ", ".join(c for c, _ in keys)
    return (
        f"INSERT INTO {table} ({key_columns}, {columns}) "
        f"SELECT {', '.join(names)}, {outer} FROM ({inner}) grouped "
        f"GROUP BY {', '.join(names)} ORDER BY {', '.join(names)} "
        f"ON CONFLICT ({key_columns}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c, _ in MEASURES)
    )


def _add_hourly(where: str) -> str:
    """Roll the records matching `where` into spend_hourly (ORDER BY: replicas upserting the same keys at
    once take their row locks in one order, so PostgreSQL cannot deadlock them). One step, not `upsert`'s
    two: with ~3 records a key in a batch the second grouping costs more than it saves (measured)."""
    keys = ", ".join(KEYS)
    return (
        f"INSERT INTO spend_hourly ({keys}, {', '.join(c for c, _ in MEASURES)}) "
        f"SELECT {', '.join(_KEY_EXPRS)}, {', '.join(f'SUM({e})' for _, e in MEASURES)} "
        f"FROM spend_records WHERE {where} GROUP BY {', '.join(_KEY_EXPRS)} ORDER BY {', '.join(_KEY_EXPRS)} "
        f"ON CONFLICT ({keys}) DO UPDATE SET "
        + ", ".join(f"{c} = spend_hourly.{c} + excluded.{c}" for c, _ in MEASURES)
    )


_ADD_POLICY = (
    "INSERT INTO spend_hourly_policy (hour_ms, kind, decisions, requests, tokens_saved, savings_micros) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hour_ms, kind) DO UPDATE SET "
    "decisions = spend_hourly_policy.decisions + excluded.decisions, "
    "requests = spend_hourly_policy.requests + excluded.requests, "
    "tokens_saved = spend_hourly_policy.tokens_saved + excluded.tokens_saved, "
    "savings_micros = spend_hourly_policy.savings_micros + excluded.savings_micros"
)


def policy_rows(items: Any) -> list[tuple[int, str, int, int, int, int]]:
    """(hour, kind, decisions, requests, tokens saved, saving) from (ts_ms, decisions, savings) triples."""
    out: dict[tuple[int, str], list[int]] = {}
    for ts_ms, decisions, savings in items:
        if not decisions:
            continue
        hour = ts_ms - ts_ms % HOUR_MS
        for kind, numbers in record_effects(decisions, savings).items():
            total = out.setdefault((hour, kind), [0, 0, 0, 0])
            for i, n in enumerate(numbers):
                total[i] += n
    return [(hour, kind, *numbers) for (hour, kind), numbers in sorted(out.items())]  # type: ignore[misc]


def add(store: SpendStore, cur: Any, inserted: Sequence[tuple[int, str]], records: Sequence[SpendRecord]) -> None:
    """Add the rows a batch inserted (`inserted`: their (id, request_id)) to both roll-ups."""
    if not inserted:
        return
    clause, params = store._ids_clause([row_id for row_id, _ in inserted])
    cur.execute(store._sql(_add_hourly(clause)), params)
    new = {request_id for _, request_id in inserted}
    rows = policy_rows((r.ts_ms, r.decisions, r.savings_micros) for r in records if r.request_id in new)
    if rows:
        cur.executemany(store._sql(_ADD_POLICY), rows)


def rebuild(store: SpendStore, cur: Any) -> None:
    """Both roll-ups recomputed from every record (migration 7; after a bulk load that bypassed insert)."""
    cur.execute("DELETE FROM spend_hourly")
    cur.execute("DELETE FROM spend_hourly_policy")
    cur.execute(_add_hourly("1 = 1"))
    last = -1
    while True:  # in slices by id, so a big store is never held in memory at once
        cur.execute(store._sql("SELECT id, ts_ms, decisions, savings_micros FROM spend_records "
                               "WHERE id > ? AND decisions <> '[]' ORDER BY id LIMIT 20000"), (last,))
        chunk = cur.fetchall()
        if not chunk:
            return
        last = chunk[-1][0]
        # a later slice may hold the same hour and kind again: the upsert adds it up
        if rows := policy_rows((ts, orjson.loads(raw), savings) for _, ts, raw, savings in chunk):
            cur.executemany(store._sql(_ADD_POLICY), rows)


def latency_percentile(counts: Sequence[int], q: float) -> float | None:
    """The nearest-rank percentile's bucket, as the bucket's geometric middle (within ~12% of exact)."""
    n = sum(counts)
    if not n:
        return None
    rank = max(1, math.ceil(q / 100 * n))
    seen = 0
    for i, count in enumerate(counts):
        seen += count
        if seen >= rank:
            if i == 0:
                return LATENCY_BOUNDS[0] / 2
            if i == len(LATENCY_BOUNDS):
                return LATENCY_BOUNDS[-1]
            return math.sqrt(LATENCY_BOUNDS[i - 1] * LATENCY_BOUNDS[i])
    return LATENCY_BOUNDS[-1]  # unreachable: the counts add up to n
