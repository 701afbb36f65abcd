"""Roll-ups per user and per Claude Code session, by UTC day and by week, for the console's user and
session tables.

`spend_people`: per dimension (`user`, or `session`: the `session` tag Claude Code's hooks set), period
(a UTC day, and a week: 7 days from the epoch) and person, the same sums and latency histogram as
`spend_hourly`, kept in the same transaction as the records (`SpendStore.insert`) and filled from the
records already stored by migration 8. A range reads its whole weeks, then its whole days outside them,
then the records of its partial days (24 hours together for the presets, which end now), in one
statement, so every sum is still the records' own.

Why by person alone, and by day and week, not hour: the tables group a month by who; crossed with the
hourly roll-up's team, app and model a user shrinks nothing when people use several apps and models
(on `benchmarks/console_scale.py`'s data (hour, user, team, app, model, provider) is 950k rows for 1M
records, (hour, user) 207k, (day, user) 9.3k). The week tier is for sessions that run for weeks (that
benchmark's 5,000 sessions each span the month: 140k session-days, 25k session-weeks). A drill-down
filter (team, app, model) is not in this key: a filtered table reads its whole weeks from `drill.py`'s
roll-up and the rest from the records (`filtered`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from anyray.store.rollup import (
    LATENCY_COLUMNS,
    MEASURES,
    SUMMARY_MEASURES,
    latency_bucket,
    latency_percentile,
    upsert,
)

if TYPE_CHECKING:
    from anyray.store.base import SpendStore, Summary

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
SPANS = (DAY_MS, WEEK_MS)
DIMENSIONS = {"user": "user", "session": "tag:session"}  # a table's name -> the store's grouping
_EMPTY = "''"  # the roll-up's key for records without the person (NULL would not be unique)

SCHEMA = [
    "CREATE TABLE spend_people (dim TEXT NOT NULL, span_ms BIGINT NOT NULL, start_ms BIGINT NOT NULL, "
    "who TEXT NOT NULL, " + ", ".join(f"{column} BIGINT NOT NULL DEFAULT 0" for column, _ in MEASURES) + ")",
    "CREATE UNIQUE INDEX spend_people_key ON spend_people (dim, span_ms, start_ms, who)",
]


def _add(store: SpendStore, dim: str, span_ms: int, where: str) -> str:
    """Roll the records matching `where` into one dimension's rows of one period."""
    keys = [("dim", f"'{dim}'"), ("span_ms", str(span_ms)), ("start_ms", f"(ts_ms / {span_ms}) * {span_ms}"),
            ("who", f"COALESCE({store._group_expr(DIMENSIONS[dim])}, '')")]
    return upsert("spend_people", keys, where)


def add(store: SpendStore, cur: Any, inserted: Sequence[tuple[int, str]]) -> None:
    """Add the rows a batch really inserted (their (id, request_id)), whatever day they were written for."""
    if not inserted:
        return
    clause, params = store._ids_clause([row_id for row_id, _ in inserted])
    for dim in DIMENSIONS:
        for span_ms in SPANS:
            cur.execute(store._sql(_add(store, dim, span_ms, clause)), params)


def rebuild(store: SpendStore, cur: Any) -> None:
    """Recomputed from every record (migration 8; after a bulk load that bypassed insert)."""
    cur.execute("DELETE FROM spend_people")
    for dim in DIMENSIONS:
        for span_ms in SPANS:
            cur.execute(_add(store, dim, span_ms, "1 = 1"))


def tiers(since_ms: int, until_ms: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """The range as (span, from, to) pieces of whole weeks and whole days, and the partial days left over."""
    from anyray.store.hourly import span

    lo, hi, edges = span(since_ms, until_ms, DAY_MS)
    if lo >= hi:
        return [], edges
    wlo, whi, _ = span(lo, hi, WEEK_MS)
    if wlo >= whi:
        return [(DAY_MS, lo, hi)], edges
    pieces = [(WEEK_MS, wlo, whi), *((DAY_MS, a, b) for a, b in ((lo, wlo), (whi, hi)) if a < b)]
    return pieces, edges


def totals(store: SpendStore, since_ms: int, until_ms: int, dim: str, exact_limit: int,
           pick: Callable[[list[Summary]], list[Summary]] | None = None) -> list[Summary]:
    """The user or session table's rows (unfiltered): whole weeks and days from the roll-up, the rest from
    the records.

    The sums come first (13 columns, every row); p50/p95 after, exact from the records for a range of at
    most `exact_limit` calls, else from the histograms of the rows `pick` chooses (a page's top rows; None:
    all). Summing 57 histogram columns costs 4x the sums, and a month has a row per session and day."""
    from anyray.store import hourly
    from anyray.store.base import Summary

    sums = [c for c, _ in MEASURES[:SUMMARY_MEASURES]]
    rows = _read(store, since_ms, until_ms, dim, sums, [e for _, e in MEASURES[:SUMMARY_MEASURES]])
    out = [Summary(g, *numbers) for g, numbers in rows.items() if numbers[0]]
    if sum(s.requests for s in out) <= exact_limit:
        hourly.exact_latencies(store, since_ms, until_ms, DIMENSIONS[dim], None, out)
        return out
    wanted = out if pick is None else pick(out)
    if wanted:
        _histograms(store, since_ms, until_ms, dim, wanted)
    return out


def filtered(store: SpendStore, since_ms: int, until_ms: int, dim: str, filters: Mapping[str, str],
             exact_limit: int, pick: Callable[[list[Summary]], list[Summary]] | None = None) -> list[Summary]:
    """The user or session table of the records matching a drill-down filter (team, app, model).

    The whole weeks come from the drill-down roll-up (`drill.py`); the days outside them from the records,
    read once in the same statement, grouped by person and latency bucket. p50/p95 exact from the records
    for a range of at most `exact_limit` calls, as everywhere else; above it from the histograms of the
    rows `pick` chooses (as in `totals`: a team's month is 5,000 session rows, and their 57 histogram
    columns cost 3x the sums). It was `SpendStore.summarize`, which loaded and sorted every latency of the
    range in Python: 650 ms on SQLite and 1.06 s on PostgreSQL for one team's month of a 1M-record store
    (docs/console.md)."""
    from anyray.store import drill, hourly
    from anyray.store.base import Summary

    pieces, weeks, parts, params = [(since_ms, until_ms)], (0, 0), [], []
    if drill.covers(filters):
        lo, hi, pieces = hourly.span(since_ms, until_ms, drill.WEEK_MS)
        if lo < hi:
            weeks = (lo, hi)
            sql, values = drill.weeks_query(store, dim, lo, hi, filters)
            parts.append(sql)
            params += values
    sums, counted = _filtered_sums(store, dim, filters, pieces or [(0, 0)], parts, params)  # (0, 0): none
    out = [Summary(g, *numbers) for g, numbers in sums.items() if numbers[0]]
    if sum(s.requests for s in out) <= exact_limit:
        hourly.exact_latencies(store, since_ms, until_ms, DIMENSIONS[dim], filters, out)
        return out
    wanted = out if pick is None else pick(out)
    histograms = {s.group: latency_counts(counted.get(s.group)) for s in wanted}
    if wanted and weeks[0] < weeks[1]:
        only = None if wanted is out else [s.group or "" for s in wanted]
        for who, *counts in drill.weeks(store, dim, *weeks, filters, histograms=True, only=only):
            histogram = histograms.setdefault(None if who is None else str(who), [0] * len(LATENCY_COLUMNS))
            for i, n in enumerate(counts):
                histogram[i] += int(n or 0)
    for s in wanted:
        histogram = histograms.get(s.group) or [0] * len(LATENCY_COLUMNS)
        s.p50_ms, s.p95_ms = latency_percentile(histogram, 50), latency_percentile(histogram, 95)
        s.latency_estimated = s.p50_ms is not None
    return out


def _filtered_sums(store: SpendStore, dim: str, filters: Mapping[str, str], pieces: list[tuple[int, int]],
                   parts: list[str], params: list[Any]) -> tuple[dict[str | None, list[int]], dict[str | None, str]]:
    """Per person, the sums of the roll-up's `parts` and of the records in `pieces`, and the records' latency
    counts per bucket (`latency_counts`' text), in one statement: the records are read once (grouped by
    person and bucket), and the database adds them to the roll-up's rows. Summing 20,000 rows of 13 columns
    in Python cost a fifth of the 30-day page on `console_scale.py`'s data; fetching the counts as a row per
    person and bucket, 14,000 rows, cost another tenth, and only a page's 200 rows need them."""
    from anyray.store import hourly

    group = store._group_expr(DIMENSIONS[dim])
    _, where, values = hourly.filters_clause(store, filters)
    columns = [c for c, _ in MEASURES[:SUMMARY_MEASURES]]
    sums = ", ".join(f"CAST(SUM({e}) AS BIGINT) AS {c}" for c, e in MEASURES[:SUMMARY_MEASURES])
    edges = " UNION ALL ".join(f"SELECT {group} AS g, {latency_bucket()} AS b, {sums} FROM spend_records "
                               f"WHERE ts_ms >= ? AND ts_ms < ?{where} GROUP BY 1, 2" for _ in pieces)
    person = " UNION ALL ".join([*parts, f"SELECT g, {', '.join(columns)} FROM edges"])
    counts = store.joined_expr("b || ':' || requests")
    sql = (f"WITH edges AS MATERIALIZED ({edges}) "
           f"SELECT p.*, h.counts FROM (SELECT g, {', '.join(f'SUM({c})' for c in columns)} FROM ({person}) p0 "
           f"GROUP BY g) p LEFT JOIN (SELECT COALESCE(g, '') AS k, {counts} AS counts FROM edges WHERE b IS NOT NULL "
           "GROUP BY 1) h ON h.k = COALESCE(p.g, '')")
    bound = [value for a, b in pieces for value in (a, b, *values)]
    with store._transaction() as cur:
        cur.execute(store._sql(sql), (*bound, *params))
        found = cur.fetchall()
    by_person: dict[str | None, list[int]] = {}
    histograms: dict[str | None, str] = {}
    for g, *numbers, text in found:
        who = None if g is None else str(g)
        by_person[who] = [int(n or 0) for n in numbers]
        if text:
            histograms[who] = text
    return by_person, histograms


def latency_counts(text: str | None) -> list[int]:
    """A histogram from `bucket:count,bucket:count,...` (a bucket may come more than once)."""
    histogram = [0] * len(LATENCY_COLUMNS)
    for pair in text.split(",") if text else ():
        bucket, _, count = pair.partition(":")
        histogram[int(bucket)] += int(count)
    return histogram


def _histograms(store: SpendStore, since_ms: int, until_ms: int, dim: str, wanted: list[Summary]) -> None:
    """p50/p95 of these rows from the roll-up's histograms plus their edge records counted per latency
    bucket (a binary search in SQL: the records without a session are most of a day's records)."""
    only = [s.group or "" for s in wanted]
    found = _read(store, since_ms, until_ms, dim, list(LATENCY_COLUMNS), [], only, edges=False)
    group = store._group_expr(DIMENSIONS[dim])
    match, values = among(store, only)
    for a, b in tiers(since_ms, until_ms)[1]:
        with store._transaction() as cur:
            cur.execute(store._sql(f"SELECT {group}, {latency_bucket()}, COUNT(*) FROM spend_records "
                                   f"WHERE ts_ms >= ? AND ts_ms < ? AND latency_ms IS NOT NULL"
                                   f"{match.format(f'COALESCE({group}, {_EMPTY})')} GROUP BY 1, 2"), (a, b, *values))
            counted = cur.fetchall()
        for g, bucket, n in counted:
            histogram = found.setdefault(None if g is None else str(g), [0] * len(LATENCY_COLUMNS))
            histogram[int(bucket)] += int(n)
    for s in wanted:
        histogram = found.get(s.group) or [0] * len(LATENCY_COLUMNS)
        s.p50_ms, s.p95_ms = latency_percentile(histogram, 50), latency_percentile(histogram, 95)
        s.latency_estimated = s.p50_ms is not None


def _read(store: SpendStore, since_ms: int, until_ms: int, dim: str, columns: list[str], exprs: list[str],
          only: list[str] | None = None, edges: bool = True) -> dict[str | None, list[int]]:
    """`columns` summed per person over the range: the roll-up's weeks and days UNION ALL the edges' records
    (`exprs`: each column's value for one record; `edges` False: the roll-up's part alone); `only`: just
    these people ('' is the records without one)."""
    pieces, partial = tiers(since_ms, until_ms)
    group = store._group_expr(DIMENSIONS[dim])
    match, values = ("", ()) if only is None else among(store, only)
    parts, params = [], []
    for span_ms, a, b in pieces:  # each piece through the key's index (one OR'ed scan became a seq scan)
        parts.append(f"SELECT NULLIF(who, '') AS g, {', '.join(f'CAST(SUM({c}) AS BIGINT) AS {c}' for c in columns)} "
                     f"FROM spend_people WHERE dim = ? AND span_ms = ? AND start_ms >= ? AND start_ms < ?"
                     f"{match.format('who')} GROUP BY who")
        params += [dim, span_ms, a, b, *values]
    for a, b in partial if edges else ():
        sums = ", ".join(f"CAST(SUM({e}) AS BIGINT) AS {c}" for c, e in zip(columns, exprs, strict=True))
        parts.append(f"SELECT {group} AS g, {sums} FROM spend_records WHERE ts_ms >= ? AND ts_ms < ?"
                     f"{match.format(f'COALESCE({group}, {_EMPTY})')} GROUP BY {group}")
        params += [a, b, *values]
    if not parts:
        return {}
    sql = f"SELECT g, {', '.join(f'SUM({c})' for c in columns)} FROM ({' UNION ALL '.join(parts)}) parts GROUP BY g"
    with store._transaction() as cur:
        cur.execute(store._sql(sql), tuple(params))
        return {None if g is None else str(g): [int(v or 0) for v in numbers] for g, *numbers in cur.fetchall()}


def among(store: SpendStore, values: list[str]) -> tuple[str, tuple[Any, ...]]:
    """` AND {} IN (values)` in one parameter, whatever their number (SQLite binds at most 32,766)."""
    if store.placeholder == "?":
        return " AND {} IN (SELECT value FROM json_each(?))", (orjson.dumps(values).decode(),)
    return " AND {} IN (SELECT unnest(?::text[]))", (values,)  # hashed; = ANY(array) compares with each
