"""Read queries for the console: spend over time by model, and the optimizer's decisions per day.

Same SQL on SQLite and PostgreSQL (only `day_expr` differs, and the backends already provide it).
Decisions are stored as a JSON text column; the two databases parse JSON differently, so the rows are
fetched with plain SQL and their (small, content-free) decision lists are aggregated in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from anyray.store.base import SpendStore, StoreError
from anyray.store.records import decision_saved_micros, decision_tokens_saved

UNATTRIBUTED = "(unattributed)"


@dataclass(slots=True, frozen=True)
class SeriesPoint:
    """Spend of one model in one time bucket (bucket = its start, epoch ms, UTC-aligned)."""

    bucket_ms: int
    model: str
    requests: int
    cost_micros: int


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
        SELECT {start} AS b, {model} AS m, COUNT(*), SUM(COALESCE(cost_micros, 0))
        FROM spend_records{where} GROUP BY {start}, {model} ORDER BY 1, 2
    """
    with store._transaction() as cur:
        cur.execute(store._sql(sql), params)
        rows = cur.fetchall()
    return [SeriesPoint(int(b), str(m), int(n), int(c or 0)) for b, m, n, c in rows]


def split_savings(decisions: list[dict[str, Any]], savings_micros: int) -> list[int]:
    """A record's `savings_micros`, shared out over its decisions so the parts add up to it exactly.

    Mirrors how the gateway computed the total (gateway/spend.py): a decision that states its saving in
    micro-dollars owns that amount; the rest is shared by input tokens saved (largest remainder, so
    integer parts still sum to the stored total). Whatever no decision can claim is left over.
    """
    parts = [0] * len(decisions)
    left = max(int(savings_micros or 0), 0)
    weights = [0] * len(decisions)
    for i, d in enumerate(decisions):
        explicit = decision_saved_micros(d)
        if explicit is not None:
            parts[i] = min(max(explicit, 0), left)
            left -= parts[i]
            continue
        weights[i] = decision_tokens_saved(d) or 0
    total_w = sum(weights)
    if left and total_w:
        shares = [(left * w // total_w, (left * w) % total_w, i) for i, w in enumerate(weights)]
        for share, _, i in shares:
            parts[i] += share
        rest = left - sum(s for s, _, _ in shares)
        for _, _, i in sorted(shares, key=lambda s: (-s[1], s[2]))[:rest]:
            parts[i] += 1
    return parts


def policy_effects(store: SpendStore, since_ms: int | None, until_ms: int | None) -> list[PolicyEffect]:
    """Per UTC day and decision kind: decisions, requests touched, input tokens saved, estimated saving."""
    where, params = store._where(since_ms, until_ms)
    cond = "decisions <> '[]'"
    where = f"{where} AND {cond}" if where else f" WHERE {cond}"
    sql = f"SELECT {store.day_expr()}, decisions, savings_micros FROM spend_records{where} ORDER BY ts_ms, id"
    with store._transaction() as cur:
        cur.execute(store._sql(sql), params)
        rows = cur.fetchall()
    out: dict[tuple[str, str], PolicyEffect] = {}
    for day, raw, savings in rows:
        decisions = [d for d in orjson.loads(raw) if isinstance(d, dict) and isinstance(d.get("kind"), str)]
        parts = split_savings(decisions, savings)
        seen: set[str] = set()
        for d, part in zip(decisions, parts, strict=True):
            effect = out.setdefault((str(day), d["kind"]), PolicyEffect(str(day), d["kind"]))
            effect.decisions += 1
            if d["kind"] not in seen:
                effect.requests += 1
                seen.add(d["kind"])
            effect.tokens_saved += decision_tokens_saved(d) or 0
            effect.savings_micros += part
        if (rest := max(int(savings or 0), 0) - sum(parts)) > 0:
            # a saving no decision accounts for (e.g. older records): shown, never dropped
            out.setdefault((str(day), UNATTRIBUTED), PolicyEffect(str(day), UNATTRIBUTED)).savings_micros += rest
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
