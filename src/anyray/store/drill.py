"""The user and session tables under a drill-down filter (team, app, model): a weekly roll-up per person,
team, app and model.

`spend_people_drill`: per dimension (`people.DIMENSIONS`), week (7 days from the epoch, as `people.py`'s),
person, team, app and model, the same sums and latency histogram as the other roll-ups, kept in the
insert's transaction and filled from the records by migration 9. A filtered range reads its whole weeks
here (through the filter) and the days outside them from the records (`people.filtered`): a 30-day range
is 3 or 4 weeks and 2 to 9 days of records.

Why weeks alone: the key is the person crossed with team, app and model, which shrinks only where people
keep to a few apps and models (Claude Code's traffic: a person, one or two apps, two models, sessions of
hours). On `benchmarks/console_scale.py`'s data, where each of 300 users calls all 24 apps, a day of 33k
records is 16k (day, user, app, model) rows and a week of 233k is 22k: a day tier would be half the
records again, a week tier is a tenth (sizes and write cost: `benchmarks/people_rollup.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from anyray.store.people import DIMENSIONS
from anyray.store.rollup import LATENCY_COLUMNS, MEASURES, SUMMARY_MEASURES, upsert

if TYPE_CHECKING:
    from anyray.store.base import SpendStore

WEEK_MS = 7 * 86_400_000
FILTERS = {"team": "team", "app": "app", "model": "model"}  # a filter -> its column here ('' is NULL)

SCHEMA = [
    "CREATE TABLE spend_people_drill (dim TEXT NOT NULL, start_ms BIGINT NOT NULL, who TEXT NOT NULL, "
    "team TEXT NOT NULL, app TEXT NOT NULL, model TEXT NOT NULL, "
    + ", ".join(f"{column} BIGINT NOT NULL DEFAULT 0" for column, _ in MEASURES) + ")",
    "CREATE UNIQUE INDEX spend_people_drill_key ON spend_people_drill (dim, team, app, model, start_ms, who)",
]


def _add(store: SpendStore, dim: str, where: str) -> str:
    keys = [("dim", f"'{dim}'"), ("start_ms", f"(ts_ms / {WEEK_MS}) * {WEEK_MS}"),
            ("who", f"COALESCE({store._group_expr(DIMENSIONS[dim])}, '')"),
            ("team", "COALESCE(team, '')"), ("app", "COALESCE(app, '')"), ("model", store._group_expr("model"))]
    return upsert("spend_people_drill", keys, where)


def add(store: SpendStore, cur: Any, inserted: Sequence[tuple[int, str]]) -> None:
    """Add the rows a batch really inserted (their (id, request_id)), whatever week they were written for."""
    if inserted:
        clause, params = store._ids_clause([row_id for row_id, _ in inserted])
        for dim in DIMENSIONS:
            cur.execute(store._sql(_add(store, dim, clause)), params)


def rebuild(store: SpendStore, cur: Any) -> None:
    """Recomputed from every record (migration 9; after a bulk load that bypassed insert)."""
    cur.execute("DELETE FROM spend_people_drill")
    for dim in DIMENSIONS:
        cur.execute(_add(store, dim, "1 = 1"))


def covers(filters: Mapping[str, str]) -> bool:
    """Whether this roll-up can answer these filters (it keys team, app and model, not provider)."""
    return bool(filters) and all(key in FILTERS for key in filters)


def weeks(store: SpendStore, dim: str, lo: int, hi: int, filters: Mapping[str, str], histograms: bool = False,
          only: list[str] | None = None) -> list[tuple[Any, ...]]:
    """(person or None, the 13 sums) per person over the whole weeks [lo, hi); `histograms`: (person, the 57
    latency counts) instead; `only`: just these people ('' is the calls without one)."""
    sql, values = weeks_query(store, dim, lo, hi, filters, histograms, only)
    with store._transaction() as cur:
        cur.execute(store._sql(sql), values)
        return list(cur.fetchall())


def weeks_query(store: SpendStore, dim: str, lo: int, hi: int, filters: Mapping[str, str], histograms: bool = False,
                only: list[str] | None = None) -> tuple[str, tuple[Any, ...]]:
    """`weeks`' statement and its parameters, for a caller that reads it inside a larger one."""
    from anyray.store.people import among

    clauses = "".join(f" AND {FILTERS[key]} = ?" for key in sorted(filters))
    values: list[Any] = [filters[key] for key in sorted(filters)]
    if only is not None:
        match, listed = among(store, only)
        clauses += match.format("who")
        values += listed
    columns = list(LATENCY_COLUMNS) if histograms else [c for c, _ in MEASURES[:SUMMARY_MEASURES]]
    sql = (f"SELECT NULLIF(who, '') AS g, {', '.join(f'SUM({c}) AS {c}' for c in columns)} FROM spend_people_drill "
           f"WHERE dim = ? AND start_ms >= ? AND start_ms < ?{clauses} GROUP BY who")
    return sql, (dim, lo, hi, *values)
