"""The hourly roll-ups on both backends: the console's fast reads give the records' own numbers.

Each read is compared with the reads that scan the records (`summarize`, `spend_series`,
`policy_effects`), on ranges that start and end inside an hour, after a replayed batch, and on a store
whose roll-ups were filled by migration 7 from records written before it.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from anyray.store import SpendRecord, hourly, open_store
from anyray.store.reads import policy_effects, spend_series
from anyray.store.rollup import LATENCY_RATIO

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_790_000_000_000 - (1_790_000_000_000 % DAY)  # a UTC midnight


def _records(n: int, seed: int = 11) -> list[SpendRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        decisions: list[dict] = []
        if rng.random() < 0.5:
            before = rng.randint(100, 5000)
            decisions.append({"kind": "param_tuning", "tokensBefore": before, "tokensAfter": before // 3})
        if rng.random() < 0.3:
            decisions.append({"kind": "prompt_cache", "savedMicros": rng.randint(0, 400)})
        status = rng.choice([200] * 12 + [400, 429, 500])
        if status == 400:
            decisions = [{"kind": "refused", "reason": "unknown_model"}]
        out.append(SpendRecord(
            ts_ms=T0 + rng.randint(0, 3 * DAY - 1), request_id=f"h{i}", dialect="anthropic",
            endpoint="/v1/messages", model_asked=rng.choice(["m-a", "m-b", "m-c"]), status=status,
            team=rng.choice([None, "search", "infra"]), app=rng.choice([None, "bot", "agent"]),
            provider=rng.choice([None, "anthropic", "vertex"]),
            model_used=rng.choice([None, "m-x"]) if i % 5 == 0 else None,
            input_tokens=rng.randint(0, 9000), output_tokens=rng.randint(0, 900),
            cache_read_tokens=rng.randint(0, 3000), cache_write_tokens=rng.randint(0, 300),
            cost_micros=None if i % 11 == 0 else rng.randint(1, 90_000), priced_as="x" if i % 13 == 0 else None,
            savings_micros=rng.randint(0, 3000) if decisions and status == 200 else 0, decisions=decisions,
            latency_ms=None if status == 400 else rng.lognormvariate(6, 1), cache_hit=rng.random() < 0.1,
            fail_open=rng.random() < 0.05,
        ))
    return out


def _same(fast: list, slow: list) -> None:
    """Every sum equal; the estimated percentiles within the histogram's half-bucket of the exact ones."""
    assert [s.group for s in fast] == [s.group for s in slow]
    for f, s in zip(fast, slow, strict=True):
        numbers = {k: v for k, v in dataclasses.asdict(f).items() if k not in ("p50_ms", "p95_ms", "latency_estimated")}
        assert numbers == {k: v for k, v in dataclasses.asdict(s).items() if k in numbers}
        for mine, exact in ((f.p50_ms, s.p50_ms), (f.p95_ms, s.p95_ms)):
            assert exact is not None and mine is not None
            assert exact / LATENCY_RATIO ** 0.5 <= mine <= exact * LATENCY_RATIO ** 0.5


RANGES = [(T0 + HOUR + 17_000, T0 + 2 * DAY + 5 * HOUR + 1), (T0 + 10 * HOUR, T0 + 12 * HOUR),
          (T0 + 30 * 60_000, T0 + 50 * 60_000), (T0 - DAY, T0 + 4 * DAY)]


def test_rollup_reads_equal_the_records(store_url):
    records = _records(600)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(records[:400])
        store.insert(records[300:])  # a replay: 100 request ids already stored are skipped, not counted twice
        for since, until in RANGES:
            for by in (None, "team", "app", "model", "provider"):
                slow = [s for s in store.summarize(since, by, until) if s.requests]
                estimated = hourly.totals(store, since, until, by, exact_limit=0)
                _same(estimated, slow)
                exact = hourly.totals(store, since, until, by)
                assert [(s.p50_ms, s.p95_ms) for s in exact] == [(s.p50_ms, s.p95_ms) for s in slow]
                assert not any(s.latency_estimated for s in exact)
                assert all(s.latency_estimated for s in estimated)
            assert hourly.series(store, since, until, HOUR) == spend_series(store, since, until, HOUR)
            assert hourly.series(store, since, until, 6 * HOUR) == spend_series(store, since, until, 6 * HOUR)
            fast_effects = hourly.effects(store, since, until)
            assert fast_effects == policy_effects(store, since, until)
            assert "refused" not in {e.kind for e in fast_effects}
            drill = {"team": "search", "model": "m-a"}
            filtered = hourly.totals(store, since, until, "app", drill)
            inside = [r for r in records if since <= r.ts_ms < until and r.team == "search"
                      and (r.model_used or r.model_asked) == "m-a"]
            assert sum(s.requests for s in filtered) == len(inside)
            assert sum(s.cost_micros for s in filtered) == sum(r.cost_micros or 0 for r in inside)
        wide = hourly.totals(store, T0, T0 + 3 * DAY)[0]
        assert wide.requests == 600 and wide.unpriced == sum(r.cost_micros is None for r in records)
        assert wide.errors == sum(r.status >= 400 for r in records)
    finally:
        store.close()


def test_the_rollup_migration_fills_the_rollups_from_records_already_stored(store_url):
    records = _records(300, seed=5)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(records)
        with store._transaction() as cur:  # back to a version-6 store holding these records
            cur.execute("DROP TABLE spend_hourly")
            cur.execute("DROP TABLE spend_hourly_policy")
            cur.execute("DELETE FROM anyray_migrations WHERE version = 7")
        assert store.migrate() == [7]
        since, until = T0, T0 + 3 * DAY
        _same(hourly.totals(store, since, until, "team", exact_limit=0), store.summarize(since, "team", until))
        assert hourly.effects(store, since, until) == policy_effects(store, since, until)
        assert sum(e.savings_micros for e in hourly.effects(store, since, until)) == sum(
            r.savings_micros for r in records)
    finally:
        store.close()


def test_a_bad_group_or_filter_is_refused(sqlite_url):
    store = open_store(sqlite_url)
    try:
        store.migrate()
        with pytest.raises(Exception, match="cannot group by 'user_name'"):
            hourly.totals(store, T0, T0 + DAY, "user_name")
        with pytest.raises(Exception, match="cannot filter by 'tags'"):
            hourly.totals(store, T0, T0 + DAY, None, {"tags": "x"})
    finally:
        store.close()
