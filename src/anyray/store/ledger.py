"""The one read budgets need: spend since a moment, per team and per gateway key.

One grouped query over the spend records' `ts_ms` index, the same SQL on SQLite and PostgreSQL. A gateway
runs it every `budgets.refresh_s` from a thread, never per call (server/gateway/budgets.py). Calls
without a price (cost_micros NULL) count as nothing: docs/budgets.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from anyray.store.base import SpendStore


@dataclass(slots=True)
class SpendSince:
    """Micro-dollars spent since `since_ms`, by team and by key id (calls without either are left out)."""

    since_ms: int
    teams: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)


def spend_since(store: SpendStore, since_ms: int) -> SpendSince:
    sql = store._sql(
        "SELECT team, key_id, SUM(COALESCE(cost_micros, 0)) FROM spend_records WHERE ts_ms >= ?"
        " AND (team IS NOT NULL OR key_id IS NOT NULL) GROUP BY team, key_id"
    )
    with store._transaction() as cur:
        cur.execute(sql, (since_ms,))
        rows = cur.fetchall()
    out = SpendSince(since_ms)
    for team, key_id, micros in rows:
        spent = int(micros or 0)
        if team is not None:
            out.teams[team] = out.teams.get(team, 0) + spent
        if key_id is not None:
            out.keys[key_id] = out.keys.get(key_id, 0) + spent
    return out
