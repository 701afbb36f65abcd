"""The per-user and per-session roll-up (store/people.py) on both backends: the user and session tables'
fast reads give the records' own sums.

Each read is compared with `SpendStore.summarize` (which scans the records) on ranges that start and end
inside an hour and a day, span whole weeks and days, after a replayed batch and a batch written for
hours long past, and on a store whose roll-up migration 8 filled from records written before it.
"""

from __future__ import annotations

import dataclasses
import random

from anyray.console import data
from anyray.store import SpendRecord, hourly, open_store, people
from anyray.store.rollup import LATENCY_RATIO

DAY = 86_400_000
HOUR = 3_600_000
WEEK = 7 * DAY
T0 = 1_790_000_000_000 - (1_790_000_000_000 % WEEK)  # the start of a roll-up week
SPAN = 24 * DAY
RANGES = [  # (since, until): inside one hour; across a midnight; days and whole weeks with partial ends
    (T0 + 3 * DAY + 10 * HOUR + 5, T0 + 3 * DAY + 10 * HOUR + 40 * 60_000),
    (T0 + 2 * DAY + 20 * HOUR + 17_000, T0 + 3 * DAY + 5 * HOUR + 1),
    (T0 + 5 * DAY + HOUR + 3, T0 + 22 * DAY + 7 * HOUR + 11),
    (T0 - DAY, T0 + SPAN + DAY),
    (T0 + 7 * DAY, T0 + 14 * DAY),
]


def _records(n: int, seed: int, prefix: str = "p") -> list[SpendRecord]:
    rng = random.Random(seed)
    users = [None, *(f"user{i}@example.com" for i in range(7))]
    out = []
    for i in range(n):
        status = rng.choice([200] * 12 + [400, 429, 500])
        tags = {"session": f"s{rng.randrange(12)}"} if rng.random() < 0.6 else {}
        if rng.random() < 0.1:
            tags["other"] = "x"
        out.append(SpendRecord(
            ts_ms=T0 + rng.randint(0, SPAN - 1), request_id=f"{prefix}{i}", dialect="anthropic",
            endpoint="/v1/messages", model_asked=rng.choice(["m-a", "m-b"]), status=status,
            team=rng.choice([None, "search", "infra"]), app=rng.choice(["bot", "agent"]),
            user_name=rng.choice(users), tags=tags, provider="anthropic",
            input_tokens=rng.randint(0, 9000), output_tokens=rng.randint(0, 900),
            cache_read_tokens=rng.randint(0, 3000), cache_write_tokens=rng.randint(0, 300),
            cost_micros=None if i % 11 == 0 else rng.randint(1, 90_000), priced_as="x" if i % 13 == 0 else None,
            savings_micros=rng.randint(0, 3000) if status == 200 else 0,
            latency_ms=None if status == 400 else rng.lognormvariate(6, 1), cache_hit=rng.random() < 0.1,
            fail_open=rng.random() < 0.05,
        ))
    return out


def _sums(rows: list) -> dict:
    skip = ("p50_ms", "p95_ms", "latency_estimated")
    return {s.group: {k: v for k, v in dataclasses.asdict(s).items() if k not in skip} for s in rows}


def _check(store, since: int, until: int) -> None:
    for dim, by in people.DIMENSIONS.items():
        slow = [s for s in store.summarize(since, by, until) if s.requests]
        exact = people.totals(store, since, until, dim, exact_limit=10**9)
        assert _sums(exact) == _sums(slow), (dim, since, until)
        # exact percentiles: the records' own (nearest rank), as summarize computes them
        assert {s.group: (s.p50_ms, s.p95_ms) for s in exact} == {s.group: (s.p50_ms, s.p95_ms) for s in slow}
        estimated = people.totals(store, since, until, dim, exact_limit=0)
        assert _sums(estimated) == _sums(slow)
        by_group = {s.group: s for s in slow}
        for s in estimated:
            truth = by_group[s.group]
            if truth.p50_ms is None:
                assert s.p50_ms is None
                continue
            assert s.latency_estimated
            for mine, real in ((s.p50_ms, truth.p50_ms), (s.p95_ms, truth.p95_ms)):
                assert real / LATENCY_RATIO ** 0.5 <= mine <= real * LATENCY_RATIO ** 0.5


def test_people_rollup_sums_equal_the_records(store_url):
    records = _records(900, seed=3)
    late = _records(150, seed=4, prefix="late")  # written after newer ones, for days and weeks long past
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(sorted(records[:600], key=lambda r: r.ts_ms))
        store.insert(records[500:])  # a replay: 100 request ids already stored are skipped, not counted twice
        store.insert(late)
        assert len(store.fetch(limit=10_000)) == 1050
        for since, until in RANGES:
            _check(store, since, until)
        pieces, edges = people.tiers(*RANGES[2])
        assert {span for span, _, _ in pieces} == {DAY, WEEK} and len(edges) == 2  # every tier is exercised
    finally:
        store.close()


def test_the_migration_fills_the_people_rollup_from_records_already_stored(store_url):
    records = _records(400, seed=9)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(records)
        with store._transaction() as cur:  # back to a version-7 store holding these records
            cur.execute("DROP TABLE spend_people")
            cur.execute("DELETE FROM anyray_migrations WHERE version = 8")
        assert store.migrate() == [8]
        with store._transaction() as cur:
            sql = "SELECT COUNT(*), SUM(requests) FROM spend_people WHERE dim = 'user' AND span_ms = ?"
            cur.execute(store._sql(sql), (DAY,))
            rows, requests = cur.fetchone()
        assert 0 < rows < len(records) and requests == len(records)
        for since, until in RANGES:
            _check(store, since, until)
    finally:
        store.close()


def test_a_page_reads_the_latencies_of_its_rows_and_the_csv_of_all(store_url, monkeypatch):
    """Above the exact limit a table page reads the latency histograms of the rows it shows only; every row's
    sums are there, and the CSV (no limit) has every row's percentiles."""
    monkeypatch.setattr(hourly, "EXACT_LATENCY_LIMIT", 0)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(_records(700, seed=21))
        rng = data.TimeRange("custom", T0, T0 + SPAN, DAY)
        slow = {s.group: s for s in store.summarize(T0, "tag:session", T0 + SPAN)}
        shown = data.group_table(store, rng, "session", "cost_micros", True, limit=3)
        assert _sums(shown) == _sums(list(slow.values()))
        assert [s.group for s in shown] == [s.group for s in data.sort_rows(list(slow.values()), "cost_micros", True)]
        assert [s.latency_estimated for s in shown] == [True] * 3 + [False] * (len(shown) - 3)
        every = data.group_table(store, rng, "session", "cost_micros", True)
        assert all(s.latency_estimated for s in every if slow[s.group].p50_ms is not None)
        csv_rows = data.table_csv(every, "session").splitlines()[1:]
        assert len(csv_rows) == len(slow)
        assert sum(int(line.split(",")[7]) for line in csv_rows) == sum(s.cost_micros for s in slow.values())
        # a drill-down filter reads the records: still the records' sums
        filtered = data.group_table(store, rng, "user", "cost_micros", True, {"team": "search", "model": "m-a"})
        assert _sums(filtered) == _sums([s for s in store.summarize(T0, "user", T0 + SPAN,
                                                                     {"team": "search", "model": "m-a"})])
    finally:
        store.close()


FILTERS = [{"team": "search"}, {"team": "search", "app": "bot"}, {"model": "m-a"}, {"team": "infra", "model": "m-b"},
           {"app": "agent", "provider": "anthropic"}]  # the last: a provider filter the drill-down roll-up has not


def test_a_filtered_table_gives_the_records_own_sums_and_latencies(store_url):
    """A drill-down filter (team -> app -> model): the user table's whole weeks come from the drill-down
    roll-up (store/drill.py), the session table and the rest of the range from the records; every sum is
    the records' own, every percentile exact below the limit and within a bucket above it."""
    records = _records(900, seed=5)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(sorted(records[:700], key=lambda r: r.ts_ms))
        store.insert(records[600:])  # 100 replayed request ids: skipped, not counted twice
        with store._transaction() as cur:
            cur.execute("SELECT dim, COUNT(*), SUM(requests) FROM spend_people_drill GROUP BY dim ORDER BY dim")
            counted = cur.fetchall()
        assert [(dim, requests) for dim, _, requests in counted] == [("session", 900), ("user", 900)]
        assert all(0 < rows < 900 for _, rows, _ in counted)
        for since, until in RANGES:
            for filters in FILTERS:
                for dim, by in people.DIMENSIONS.items():
                    slow = [s for s in store.summarize(since, by, until, filters) if s.requests]
                    exact = people.filtered(store, since, until, dim, filters, exact_limit=10**9)
                    assert _sums(exact) == _sums(slow), (dim, filters, since, until)
                    assert {s.group: (s.p50_ms, s.p95_ms) for s in exact} == {s.group: (s.p50_ms, s.p95_ms)
                                                                              for s in slow}
                    estimated = {s.group: s for s in people.filtered(store, since, until, dim, filters, 0)}
                    assert _sums(list(estimated.values())) == _sums(slow)
                    for truth in slow:
                        mine = estimated[truth.group]
                        assert (mine.p50_ms is None) == (truth.p50_ms is None)
                        if truth.p50_ms is not None:
                            assert mine.latency_estimated
                            width = LATENCY_RATIO ** 0.5
                            assert truth.p95_ms / width <= mine.p95_ms <= truth.p95_ms * width
    finally:
        store.close()


def test_the_migration_fills_the_drill_down_rollup_and_the_page_reads_it(store_url, monkeypatch):
    """Migration 9 fills `spend_people_drill` from the records already stored; a filtered user page over whole
    weeks then reads its weeks there, for users and sessions: with the roll-up's rows doubled behind the
    store's back, the pages' sums double too (the records alone would not have moved)."""
    records = _records(500, seed=13)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(records)
        with store._transaction() as cur:  # back to a version-8 store holding these records
            cur.execute("DROP TABLE spend_people_drill")
            cur.execute("DELETE FROM anyray_migrations WHERE version = 9")
        assert store.migrate() == [9]
        rng = data.TimeRange("custom", T0 + WEEK, T0 + 3 * WEEK, DAY)
        filters = {"team": "search"}
        slow = {by: [s for s in store.summarize(rng.since_ms, data_by, rng.until_ms, filters) if s.requests]
                for by, data_by in people.DIMENSIONS.items()}
        for by in people.DIMENSIONS:
            page = data.group_table(store, rng, by, "cost_micros", True, filters, limit=200)
            assert _sums(page) == _sums(slow[by]) and page
        with store._transaction() as cur:
            cur.execute("UPDATE spend_people_drill SET requests = 2 * requests, cost_micros = 2 * cost_micros")
        for by in people.DIMENSIONS:
            doubled = {s.group: s for s in data.group_table(store, rng, by, "cost_micros", True, filters)}
            for s in slow[by]:
                assert (doubled[s.group].requests, doubled[s.group].cost_micros) == (2 * s.requests, 2 * s.cost_micros)
    finally:
        store.close()
