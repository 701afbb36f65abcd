"""The console's read queries on both backends: the series and policy effects add up to the store's totals."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from anyray.store import SpendRecord, open_store
from anyray.store.reads import policy_effects, savings_by_policy, spend_series, split_savings

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_790_000_000_000 - (1_790_000_000_000 % DAY)  # a UTC midnight


def _records(n: int, seed: int = 7) -> list[SpendRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        decisions = []
        if rng.random() < 0.7:
            before = rng.randint(100, 5000)
            decisions.append({"kind": "param_tuning", "tokensBefore": before, "tokensAfter": before // 2})
        if rng.random() < 0.4:
            decisions.append({"kind": "prompt_cache", "savedMicros": rng.randint(0, 500)})
        if rng.random() < 0.3:
            decisions.append({"kind": "context_dedupe", "tokensBefore": 900, "tokensAfter": 300})
        out.append(SpendRecord(
            ts_ms=T0 + rng.randint(0, 3 * DAY - 1), request_id=f"r{i}", dialect="anthropic",
            endpoint="/v1/messages", model_asked=rng.choice(["m-a", "m-b", "m-c"]), status=200,
            model_used=rng.choice([None, "m-x"]) if i % 5 == 0 else None,
            cost_micros=None if i % 11 == 0 else rng.randint(1, 90_000),
            savings_micros=rng.randint(0, 3000) if decisions else 0, decisions=decisions,
        ))
    return out


def test_series_and_policy_effects_add_up(store_url):
    records = _records(300)
    store = open_store(store_url)
    try:
        store.migrate()
        store.insert(records)
        since, until = T0 + HOUR, T0 + 2 * DAY + 5 * HOUR
        series = spend_series(store, since, until, HOUR)
        effects = policy_effects(store, since, until)
        total = store.summarize(since, None, until)[0]
    finally:
        store.close()
    inside = [r for r in records if since <= r.ts_ms < until]
    assert len(inside) < len(records)  # the range does cut
    assert sum(p.requests for p in series) == len(inside) == total.requests
    assert sum(p.cost_micros for p in series) == sum(r.cost_micros or 0 for r in inside) == total.cost_micros
    for p in series:
        assert p.bucket_ms % HOUR == 0
        expected = [r for r in inside if r.ts_ms - r.ts_ms % HOUR == p.bucket_ms
                    and (r.model_used or r.model_asked) == p.model]
        assert p.requests == len(expected) and p.cost_micros == sum(r.cost_micros or 0 for r in expected)
    assert {p.model for p in series} == {r.model_used or r.model_asked for r in inside}

    assert sum(e.savings_micros for e in effects) == sum(r.savings_micros for r in inside) == total.savings_micros
    days = {datetime.fromtimestamp(r.ts_ms / 1000, UTC).strftime("%Y-%m-%d") for r in inside if r.decisions}
    assert {e.day for e in effects} == days and len(days) == 3
    per_kind = {e.kind: e for e in savings_by_policy(effects)}
    for kind in ("param_tuning", "context_dedupe"):
        want = sum(d["tokensBefore"] - d["tokensAfter"] for r in inside for d in r.decisions if d["kind"] == kind)
        assert per_kind[kind].tokens_saved == want
        assert per_kind[kind].decisions == sum(d["kind"] == kind for r in inside for d in r.decisions)


def test_split_savings_is_exact_and_explicit_first():
    decisions = [{"kind": "a", "savedMicros": 40}, {"kind": "b", "tokensBefore": 3, "tokensAfter": 0},
                 {"kind": "c", "tokensBefore": 3, "tokensAfter": 1}, {"kind": "d"}]
    parts = split_savings(decisions, 101)
    assert parts[0] == 40 and parts[3] == 0 and sum(parts) == 101
    assert parts[1] > parts[2]  # 3 tokens saved vs 2
    assert split_savings(decisions, 10) == [10, 0, 0, 0]
