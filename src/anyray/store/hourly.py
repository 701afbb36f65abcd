"""The console's reads, from the hourly roll-ups (`rollup.py`) plus the records of the range's partial hours.

A range's whole hours are read from `spend_hourly` / `spend_hourly_policy` (a month is a few thousand
rows however busy the gateway is); the part before its first whole hour and after its last one (a
range ending now ends inside the current hour) is read from `spend_records` through the ts_ms index,
both in one SQL statement, so the sums are exact. Latency percentiles are exact (from the records) when
the range holds at most `EXACT_LATENCY_LIMIT` calls, and read from the roll-up's histogram above that
(`Summary.latency_estimated`, within ~12%): exact ones would mean sorting every latency of the month.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from anyray.store.base import SpendStore, StoreError, Summary, percentile
from anyray.store.reads import PolicyEffect, SeriesPoint, policy_effects
from anyray.store.rollup import HOUR_MS, LATENCY_COLUMNS, MEASURES, SUMMARY_MEASURES, latency_percentile

EXACT_LATENCY_LIMIT = 100_000
GROUPS = ("team", "app", "model", "provider")
# a group or filter's column in the roll-up ('' there is NULL in the records)
_ROLLED = {"team": "NULLIF(team, '')", "app": "NULLIF(app, '')", "model": "model", "provider": "NULLIF(provider, '')"}


def span(since_ms: int, until_ms: int, period_ms: int = HOUR_MS) -> tuple[int, int, list[tuple[int, int]]]:
    """The whole periods (hours, days) [lo, hi) inside the range, and the partial edges left to the records."""
    lo = -(-since_ms // period_ms) * period_ms
    hi = until_ms // period_ms * period_ms
    if lo >= hi:
        return lo, lo, [(since_ms, until_ms)]
    return lo, hi, [(a, b) for a, b in ((since_ms, lo), (hi, until_ms)) if a < b]


def filters_clause(store: SpendStore, filters: Mapping[str, str] | None) -> tuple[str, str, tuple[str, ...]]:
    """AND-clauses on the roll-up and on the records for team/app/model/provider filters, and their values."""
    rolled, raw, values = [], [], []
    for key, value in sorted((filters or {}).items()):
        if key not in _ROLLED:
            raise StoreError(f"cannot filter by {key!r}; expected one of {', '.join(_ROLLED)}")
        rolled.append(f" AND {_ROLLED[key]} = ?")
        raw.append(f" AND {store._group_expr(key)} = ?")
        values.append(value)
    return "".join(rolled), "".join(raw), tuple(values)


def _union(store: SpendStore, since_ms: int, until_ms: int, filters: Mapping[str, str] | None,
           rolled_select: str, raw_select: str, group: str) -> tuple[str, tuple[Any, ...]]:
    """`rolled_select` over the whole hours UNION ALL `raw_select` over each partial edge."""
    lo, hi, edges = span(since_ms, until_ms)
    rolled_where, raw_where, values = filters_clause(store, filters)
    parts, params = [], []
    if lo < hi:
        parts.append(f"{rolled_select} FROM spend_hourly WHERE hour_ms >= ? AND hour_ms < ?{rolled_where}{group}")
        params += [lo, hi, *values]
    for a, b in edges:
        parts.append(f"{raw_select} FROM spend_records WHERE ts_ms >= ? AND ts_ms < ?{raw_where}{group}")
        params += [a, b, *values]
    return " UNION ALL ".join(parts), tuple(params)


def totals(store: SpendStore, since_ms: int, until_ms: int, by: str | None = None,
           filters: Mapping[str, str] | None = None, exact_limit: int = EXACT_LATENCY_LIMIT,
           fold: Callable[[str], str] | None = None) -> list[Summary]:
    """`SpendStore.summarize`'s rows (by None, team, app, model or provider), busiest spend first.

    `fold`: groups mapped to one name are one row (a model's dated ids into its family): the sums and the
    latency histograms add up, and exact percentiles are taken over the merged latencies."""
    if by is not None and by not in GROUPS:
        raise StoreError(f"cannot group by {by!r} here; expected one of {', '.join(GROUPS)}")
    columns = [c for c, _ in MEASURES]
    rolled = f"SELECT {_ROLLED[by] if by else 'NULL'} AS g, " + ", ".join(f"SUM({c}) AS {c}" for c in columns)
    raw = f"SELECT {store._group_expr(by)} AS g, " + ", ".join(f"SUM({e}) AS {c}" for c, e in MEASURES)
    union, params = _union(store, since_ms, until_ms, filters, rolled, raw, " GROUP BY 1" if by else "")
    sql = f"SELECT g, {', '.join(f'SUM({c})' for c in columns)} FROM ({union}) parts GROUP BY g"
    with store._transaction() as cur:
        cur.execute(store._sql(sql), params)
        rows = cur.fetchall()
    merged: dict[str | None, list[int]] = {}
    for row in rows:
        numbers = [int(v or 0) for v in row[1:]]
        if not numbers[0]:
            continue  # no record in range (an aggregate without GROUP BY still answers one row)
        group = _folded(row[0], fold)
        if (seen := merged.get(group)) is None:
            merged[group] = numbers
        else:
            merged[group] = [a + b for a, b in zip(seen, numbers, strict=True)]
    out = []
    for group, numbers in merged.items():
        s = Summary(group, *numbers[:SUMMARY_MEASURES])
        histogram = numbers[SUMMARY_MEASURES:SUMMARY_MEASURES + len(LATENCY_COLUMNS)]
        s.p50_ms, s.p95_ms = latency_percentile(histogram, 50), latency_percentile(histogram, 95)
        s.latency_estimated = s.p50_ms is not None
        out.append(s)
    if sum(s.requests for s in out) <= exact_limit:
        exact_latencies(store, since_ms, until_ms, by, filters, out, fold)
    out.sort(key=lambda s: (-s.cost_micros, -s.requests, s.group or ""))
    return out


def _folded(group: Any, fold: Callable[[str], str] | None) -> str | None:
    if group is None:
        return None
    return fold(str(group)) if fold is not None else str(group)


def exact_latencies(store: SpendStore, since_ms: int, until_ms: int, by: str | None,
                     filters: Mapping[str, str] | None, rows: list[Summary],
                     fold: Callable[[str], str] | None = None) -> None:
    """Nearest-rank p50/p95 from the records themselves (a range small enough to sort)."""
    group = store._group_expr(by)
    _, raw_where, values = filters_clause(store, filters)
    sql = (f"SELECT {group}, latency_ms FROM spend_records WHERE ts_ms >= ? AND ts_ms < ? AND latency_ms IS NOT NULL"
           f"{raw_where} ORDER BY {'2' if by is None else '1, 2'}")
    with store._transaction() as cur:
        cur.execute(store._sql(sql), (since_ms, until_ms, *values))
        found = cur.fetchall()
    by_group: dict[Any, list[float]] = {}
    for g, ms in found:
        by_group.setdefault(_folded(g, fold), []).append(float(ms))
    for s in rows:
        values_ms = sorted(by_group.get(s.group, []))
        s.p50_ms, s.p95_ms = percentile(values_ms, 50), percentile(values_ms, 95)
        s.latency_estimated = False


def series(store: SpendStore, since_ms: int, until_ms: int, bucket_ms: int,
           filters: Mapping[str, str] | None = None) -> list[SeriesPoint]:
    """`reads.spend_series`: cost and requests per (bucket, model); buckets a whole number of hours."""
    bucket = int(bucket_ms)
    if bucket <= 0 or bucket % HOUR_MS:
        raise StoreError("bucket must be a positive whole number of hours")
    rolled = (f"SELECT (hour_ms / {bucket}) * {bucket} AS b, model AS m, SUM(requests) AS n, SUM(cost_micros) AS c, "
              "SUM(unpriced) AS u")
    raw = (f"SELECT (ts_ms / {bucket}) * {bucket} AS b, {store._group_expr('model')} AS m, COUNT(*) AS n, "
           "SUM(COALESCE(cost_micros, 0)) AS c, SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END) AS u")
    union, params = _union(store, since_ms, until_ms, filters, rolled, raw, " GROUP BY 1, 2")
    sql = f"SELECT b, m, SUM(n), SUM(c), SUM(u) FROM ({union}) parts GROUP BY b, m ORDER BY 1, 2"
    with store._transaction() as cur:
        cur.execute(store._sql(sql), params)
        rows = cur.fetchall()
    return [SeriesPoint(int(b), str(m), int(n), int(c or 0), int(u or 0)) for b, m, n, c, u in rows]


def effects(store: SpendStore, since_ms: int, until_ms: int,
            filters: Mapping[str, str] | None = None) -> list[PolicyEffect]:
    """`reads.policy_effects`: per UTC day and decision kind (the policy roll-up has no team, app or model,
    so a filtered view reads the records)."""
    if filters:
        return policy_effects(store, since_ms, until_ms, filters)
    lo, hi, edges = span(since_ms, until_ms)
    out: dict[tuple[str, str], PolicyEffect] = {}
    if lo < hi:
        with store._transaction() as cur:
            cur.execute(store._sql("SELECT hour_ms, kind, decisions, requests, tokens_saved, savings_micros "
                                   "FROM spend_hourly_policy WHERE hour_ms >= ? AND hour_ms < ?"), (lo, hi))
            rows = cur.fetchall()
        for hour, kind, decisions, requests, tokens, saved in rows:
            day = datetime.fromtimestamp(int(hour) / 1000, UTC).strftime("%Y-%m-%d")
            _add(out, PolicyEffect(day, str(kind), int(decisions), int(requests), int(tokens), int(saved)))
    for a, b in edges:
        for effect in policy_effects(store, a, b):
            _add(out, effect)
    return sorted(out.values(), key=lambda e: (e.day, -e.savings_micros, e.kind))


def _add(out: dict[tuple[str, str], PolicyEffect], e: PolicyEffect) -> None:
    total = out.setdefault((e.day, e.kind), PolicyEffect(e.day, e.kind))
    total.decisions += e.decisions
    total.requests += e.requests
    total.tokens_saved += e.tokens_saved
    total.savings_micros += e.savings_micros
