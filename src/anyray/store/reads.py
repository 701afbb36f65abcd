"""Read queries for the console: spend over time by model, and the optimizer's decisions per day.

Same SQL on SQLite and PostgreSQL (only `day_expr` differs, and the backends already provide it).
Decisions are stored as a JSON text column; the two databases parse JSON differently, so the rows are
fetched with plain SQL and their (small, content-free) decision lists are aggregated in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from anyray.store.base import SpendStore, StoreError
from anyray.store.effects import UNATTRIBUTED, record_effects, split_savings

__all__ = ["UNATTRIBUTED", "PolicyEffect", "SeriesPoint", "policy_effects", "savings_by_policy", "spend_series",
           "split_savings"]


@dataclass(slots=True, frozen=True)
class SeriesPoint:
    """Spend of one model in one time bucket (bucket = its start, epoch ms, UTC-aligned)."""

    bucket_ms: int
    model: str
    requests: int
    cost_micros: int
    unpriced: int = 0  # requests of a model with no price: their cost is unknown, not $0


@dataclass(slots=True)
class PolicyEffect:
    """What one optimizer policy (decision kind) did on one UTC day."""

    day: str
    kind: str
    decisions: int = 0
    requests: int = 0
    tokens_saved: int = 0
    savings_micros: int = 0


def spend_series(
    store: SpendStore, since_ms: int | None, until_ms: int | None, bucket_ms: int
) -> list[SeriesPoint]:
    """Cost and requests per (bucket, model), buckets aligned to multiples of `bucket_ms` since the epoch."""
    bucket = int(bucket_ms)
    if bucket <= 0:
        raise StoreError("bucket must be a positive number of milliseconds")
    model = store._group_expr("model")
    where, params = store._where(since_ms, until_ms)
    # integer division on BIGINT truncates toward zero in both databases; ts_ms is never negative
    start = f"(ts_ms / {bucket}) * {bucket}"
    sql = f"""
        SELECT {start} AS b, {model} AS m, COUNT(*), SUM(COALESCE(cost_micros, 0)),
               SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END)
        FROM spend_records{where} GROUP BY {start}, {model} ORDER BY 1, 2
    """
    with store._transaction() as cur:
        cur.execute(store._sql(sql), params)
        rows = cur.fetchall()
    return [SeriesPoint(int(b), str(m), int(n), int(c or 0), int(u or 0)) for b, m, n, c, u in rows]


def policy_effects(
    store: SpendStore, since_ms: int | None, until_ms: int | None, filters: Mapping[str, str] | None = None
) -> list[PolicyEffect]:
    """Per UTC day and decision kind: decisions, requests touched, input tokens saved, estimated saving.

    `filters`: only the records of this team / app / model / provider (the console's drill-down)."""
    where, params = store._where(since_ms, until_ms)
    cond = "decisions <> '[]'"
    for key, value in sorted((filters or {}).items()):
        cond += f" AND {store._group_expr(key)} = ?"
        params = (*params, value)
    where = f"{where} AND {cond}" if where else f" WHERE {cond}"
    sql = f"SELECT {store.day_expr()}, decisions, savings_micros FROM spend_records{where} ORDER BY ts_ms, id"
    with store._transaction() as cur:
        cur.execute(store._sql(sql), params)
        rows = cur.fetchall()
    out: dict[tuple[str, str], PolicyEffect] = {}
    for day, raw, savings in rows:
        for kind, (decisions, requests, tokens, saved) in record_effects(orjson.loads(raw), savings).items():
            effect = out.setdefault((str(day), kind), PolicyEffect(str(day), kind))
            effect.decisions += decisions
            effect.requests += requests
            effect.tokens_saved += tokens
            effect.savings_micros += saved
    return sorted(out.values(), key=lambda e: (e.day, -e.savings_micros, e.kind))


def savings_by_policy(effects: list[PolicyEffect]) -> list[PolicyEffect]:
    """The per-day effects folded into one row per policy (day = '' ), biggest saving first."""
    totals: dict[str, PolicyEffect] = defaultdict(lambda: PolicyEffect("", ""))
    for e in effects:
        t = totals[e.kind]
        t.kind = e.kind
        t.decisions += e.decisions
        t.requests += e.requests
        t.tokens_saved += e.tokens_saved
        t.savings_micros += e.savings_micros
    return sorted(totals.values(), key=lambda e: (-e.savings_micros, -e.decisions, e.kind))
