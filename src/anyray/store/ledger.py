"""The one read budgets need: spend since a moment, per team and per gateway key.

Grouped queries over the budgeted teams' and keys' own records, the same SQL on SQLite and PostgreSQL. A gateway
runs it every `budgets.refresh_s` from a thread, never per call (server/gateway/budgets.py). Calls
without a price (cost_micros NULL) count as nothing: docs/budgets.md says so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from anyray.store.base import SpendStore


@dataclass(slots=True)
class SpendSince:
    """Micro-dollars spent since `since_ms`, by team and by key id (calls without either are left out)."""

    since_ms: int
    teams: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)


def spend_since(store: SpendStore, since_ms: int, teams: Collection[str], keys: Collection[str]) -> SpendSince:
    """What these teams and keys spent since `since_ms`. Each is an index range scan ((team, ts_ms) and
    (key_id, ts_ms)) over the budgeted callers' own records, not a scan of everyone's month."""
    out = SpendSince(since_ms)
    for column, names, into in (("team", sorted(teams), out.teams), ("key_id", sorted(keys), out.keys)):
        if not names:
            continue
        marks = ", ".join("?" for _ in names)
        sql = store._sql(f"SELECT {column}, SUM(COALESCE(cost_micros, 0)) FROM spend_records"
                         f" WHERE {column} IN ({marks}) AND ts_ms >= ? GROUP BY {column}")
        with store._transaction() as cur:
            cur.execute(sql, (*names, since_ms))
            rows = cur.fetchall()
        into.update((name, int(micros or 0)) for name, micros in rows)
    return out
