"""Budgets end to end: real SDKs through the gateway to the fake upstreams, spend from the real store.

A soft limit adds anyray-budget-warning and counts; a hard limit refuses in the caller's dialect before
the optimizer or any upstream is asked; spend other replicas recorded counts after a refresh, the
gateway's own at once; last period's spend does not count."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anthropic
import httpx
import openai
import pytest

from anyray.config import ConfigError, load_config
from anyray.server.gateway.budgets import WARNING_HEADER, period_bounds
from tests.conftest import vertex_and_anthropic_config
from tests.limits.conftest import ASK, CHAT, create_key, seed_spend, wait_for


def upstream_calls(fake) -> int:
    return len([r for r in fake.received if r.path != "/token"])


def budget_gateway(fake, sa_key_file, start_gateway, url, **overrides):
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=url, auth__refresh_s=0.1,
                                         optimizer__enabled=False, **overrides)
    return start_gateway(config)


def test_soft_limit_warns_and_hard_limit_refuses_in_each_dialect_before_any_upstream(
    fake, sa_key_file, start_gateway, store_url
):
    key = create_key(store_url, "search")
    seed_spend(store_url, 6_000_000, team="search")  # $6 of a $10 budget, soft at $5
    gw = budget_gateway(fake, sa_key_file, start_gateway, store_url, budgets__refresh_s=0.1,
                        budgets__teams={"search": {"limit_usd": 10, "soft_usd": 5}})
    claude = anthropic.Anthropic(base_url=gw.url, api_key=key["secret"], max_retries=0)
    gpt = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key["secret"], max_retries=0)

    raw = claude.messages.with_raw_response.create(**ASK)
    warning = raw.headers[WARNING_HEADER]
    assert warning.startswith("team search: $6.00 of its monthly $10.00 spent (soft limit $5.00")
    assert raw.parse().content[0].text
    raw_oa = gpt.chat.completions.with_raw_response.create(**CHAT)
    assert raw_oa.headers[WARNING_HEADER].startswith("team search: $6.")
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert 'anyray_budget_warnings_total{name="search",scope="team"} 2.0' in metrics
    assert 'anyray_budget_used_ratio{name="search",period="month",scope="team"} 0.6' in metrics

    seed_spend(store_url, 4_000_000, team="search")  # another replica spent the rest
    wait_for(lambda: gw.gateway.budgets.check("search", None).over is not None)
    before = upstream_calls(fake)
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(**ASK)
    error = refused.value.body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("team 'search' has reached its monthly budget of $10.00 (spent $10.")
    _, end = period_bounds("month", datetime.now(UTC))
    assert f"refused until {end:%Y-%m-%d} 00:00 UTC" in error["message"]
    assert refused.value.response.headers["x-should-retry"] == "false"
    retry_after = int(refused.value.response.headers["retry-after"])
    assert abs(retry_after - (end - datetime.now(UTC)).total_seconds()) < 5

    with pytest.raises(openai.RateLimitError) as refused_oa:
        gpt.chat.completions.create(**CHAT)
    assert refused_oa.value.code == "insufficient_quota" and refused_oa.value.type == "insufficient_quota"
    assert "monthly budget of $10.00" in refused_oa.value.message
    assert upstream_calls(fake) == before  # nothing reached an upstream
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert 'anyray_budget_refused_total{name="search",scope="team"} 2.0' in metrics
    assert 'anyray_limit_refused_total{limit="budget"} 2.0' in metrics

    other = create_key(store_url, "docs")  # another team is not affected
    wait_for(lambda: gw.gateway.keys.verify(other["secret"]) is not None)
    assert anthropic.Anthropic(base_url=gw.url, api_key=other["secret"], max_retries=0).messages.create(**ASK)


def test_the_gateways_own_calls_count_at_once_and_last_months_spend_not_at_all(
    fake, sa_key_file, start_gateway, sqlite_url
):
    key = create_key(sqlite_url, "search")
    start, _ = period_bounds("month", datetime.now(UTC))
    seed_spend(sqlite_url, 50_000_000, key_id=key["id"], ts_ms=int(start.timestamp() * 1000) - 1)  # last month
    seed_spend(sqlite_url, 999_999, key_id=key["id"])  # one micro-dollar short of $1
    # refresh_s is long: only the gateway's own bookkeeping can see the call it just made
    gw = budget_gateway(fake, sa_key_file, start_gateway, sqlite_url, budgets__refresh_s=300,
                        budgets__keys={key["id"]: {"limit_usd": 1}})
    claude = anthropic.Anthropic(base_url=gw.url, api_key=key["secret"], max_retries=0)
    assert claude.messages.create(**ASK).content[0].text  # $0.999999 spent: under the limit
    wait_for(lambda: gw.gateway.budgets.check("search", key["id"]).over is not None, timeout=2)
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(**ASK)
    assert refused.value.body["error"]["message"].startswith(f"gateway key {key['id']} has reached its monthly")
    records = gw.gateway.spend.writer
    records.flush(5)
    rows = records.store.fetch()
    mine = [r for r in rows if r["request_id"] and r["key_id"] == key["id"] and r["status"] == 200 and r["team"]]
    assert len(mine) == 1 and mine[0]["cost_micros"] > 0
    refusal = [r for r in rows if r["status"] == 400]
    assert refusal[0]["key_id"] == key["id"] and refusal[0]["decisions"] == [{"kind": "refused", "reason": "budget"}]


def test_a_soft_limit_above_the_hard_one_and_a_budget_for_no_key_id_are_config_errors(tmp_path):
    with pytest.raises(ConfigError) as bad:
        load_config(env={"ANYRAY_BUDGETS__TEAMS": "{search: {limit_usd: 10, soft_usd: 12}}"})
    assert "soft_usd (12.0) is above limit_usd (10.0)" in str(bad.value)
    with pytest.raises(ConfigError) as bad_key:
        load_config(env={"ANYRAY_BUDGETS__KEYS": "{ark_secret: {limit_usd: 1}}"})
    assert "'ark_secret' is not a key id" in str(bad_key.value)


@pytest.mark.parametrize(("period", "now", "start", "end"), [
    ("day", "2026-03-15T13:00", "2026-03-15", "2026-03-16"),
    ("week", "2026-03-15T13:00", "2026-03-09", "2026-03-16"),  # a Sunday: the week began on Monday
    ("month", "2026-12-31T23:59", "2026-12-01", "2027-01-01"),
])
def test_periods_are_utc_calendar_periods(period, now, start, end):
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    got = period_bounds(period, moment)
    assert [d.strftime("%Y-%m-%d") for d in got] == [start, end]
    assert time.time() > 0


def test_a_new_period_starts_from_zero_and_counts_its_own_calls():
    from prometheus_client import CollectorRegistry

    from anyray.config import BudgetSettings
    from anyray.server.gateway.budgets import BudgetLedger
    from anyray.store import SpendRecord

    now = [datetime(2026, 3, 15, 23, 59, 58, tzinfo=UTC).timestamp()]
    ledger = BudgetLedger(BudgetSettings(teams={"search": {"limit_usd": 1, "period": "day"}}), None,
                          CollectorRegistry(), clock=lambda: now[0])

    def spend(micros: int) -> None:
        ledger.note(SpendRecord(ts_ms=int(now[0] * 1000), request_id=str(now[0]), dialect="anthropic",
                                endpoint="messages", model_asked="m", status=200, team="search", cost_micros=micros))

    spend(1_500_000)
    over = ledger.check("search", None).over
    assert over is not None and over.resets == datetime(2026, 3, 16, tzinfo=UTC)
    now[0] += 3  # past midnight UTC
    assert ledger.check("search", None).over is None
    spend(600_000)
    spend(500_000)
    assert ledger.check("search", None).over.spent_micros == 1_100_000
    assert [ratio for *_, ratio in ledger.used()] == [1.1]
