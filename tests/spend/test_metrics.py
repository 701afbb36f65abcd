"""GET /metrics after real SDK calls: request counts, latency histograms, tokens, cost, fail-opens, retries."""

from __future__ import annotations

import socket

import anthropic
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config
from tests.spend.conftest import wait_written


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_tokens_and_cost(fake, sa_key_file, start_gateway, sqlite_url):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    usages = []
    for _ in range(2):
        message = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "count me"}]
        )
        usages.append(message.usage)
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "stream me"}]
    ) as stream:
        stream.until_done()

    wait_written(gw, 3)
    records = {r["request_id"]: r for r in gw.gateway.spend.writer.store.fetch()}
    samples = scrape(gw.url)
    labels = {"dialect": "anthropic", "provider": "vertex", "model": "claude-sonnet-4-5", "status": "200"}
    assert value(samples, "anyray_requests_total", **labels) == 2
    assert value(samples, "anyray_request_duration_seconds_count", **labels) == 2
    assert value(samples, "anyray_request_duration_seconds_sum", **labels) > 0
    assert value(samples, "anyray_time_to_first_byte_seconds_count", dialect="anthropic", provider="vertex",
                 model="claude-sonnet-4-5") == 2  # fmt: skip
    used = {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}
    assert value(samples, "anyray_tokens_total", kind="input", **used) == sum(u.input_tokens for u in usages)
    assert value(samples, "anyray_tokens_total", kind="output", **used) == sum(u.output_tokens for u in usages)
    vertex_cost = sum(r["cost_micros"] for r in records.values() if r["provider"] == "vertex")
    assert vertex_cost > 0
    assert value(samples, "anyray_cost_micro_usd_total", **used) == vertex_cost
    haiku = {"dialect": "anthropic", "provider": "anthropic", "model": "claude-haiku-4-5", "status": "200"}
    assert value(samples, "anyray_requests_total", **haiku) == 1
    # every call waited for the (in-process) optimizer's decision: three answered, timed, none failed open
    assert value(samples, "anyray_optimizer_decision_seconds_count", outcome="answered") == 3
    assert 0 < value(samples, "anyray_optimizer_decision_seconds_sum", outcome="answered") < 3 * 0.8
    assert value(samples, "anyray_optimizer_decision_seconds_bucket", outcome="answered", le="+Inf") == 3
    assert value(samples, "anyray_optimizer_decision_seconds_count", outcome="fail_open") == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_count_fail_opens_and_upstream_fallbacks(fake, sa_key_file, start_gateway):
    config = vertex_and_anthropic_config(fake, sa_key_file)
    config["optimizer"] = {"url": f"http://127.0.0.1:{_closed_port()}", "budget_ms": 500}
    gw = start_gateway(config)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    # Vertex overloaded for the first try and both retries -> Anthropic fallback
    fake.inject(529, times=3, path_contains="claude-opus-4-1@20250805", retry_after_ms=1)
    message = client.messages.create(
        model="claude-opus-4-1", max_tokens=20, messages=[{"role": "user", "content": "fallback please"}]
    )
    assert message.content[0].text
    samples = scrape(gw.url)
    assert value(samples, "anyray_optimizer_fail_open_total", dialect="anthropic") == 1
    assert value(samples, "anyray_optimizer_decision_seconds_count", outcome="fail_open") == 1
    assert value(samples, "anyray_optimizer_decision_seconds_count", outcome="answered") == 0
    assert value(samples, "anyray_upstream_retries_total", provider="vertex", reason="retry_529") == 2
    assert value(samples, "anyray_upstream_retries_total", provider="vertex", reason="fallback_529") == 1
    labels = {"dialect": "anthropic", "provider": "anthropic", "model": "claude-opus-4-1", "status": "200"}
    assert value(samples, "anyray_requests_total", **labels) == 1


def test_each_gateway_has_its_own_registry(fake, sa_key_file, start_gateway):
    first = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    second = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    anthropic.Anthropic(base_url=first.url, api_key=CLIENT_KEY, max_retries=0).messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "one"}]
    )
    labels = {"dialect": "anthropic", "provider": "anthropic", "model": "claude-haiku-4-5", "status": "200"}
    assert value(scrape(first.url), "anyray_requests_total", **labels) == 1
    assert value(scrape(second.url), "anyray_requests_total", **labels) == 0


def test_model_calls_refused_before_any_provider_are_counted_by_reason(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    before = len(fake.received)  # what the gateway's start-up asked of the fake (a Vertex token)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    for _ in range(2):
        bad = httpx.post(f"{gw.url}/v1/messages", content=b'{"model": ', headers={"x-api-key": CLIENT_KEY})
        assert bad.status_code == 400
    chat = httpx.post(f"{gw.url}/v1/chat/completions", json={"model": "claude-haiku-4-5", "messages": []},
                      headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert chat.status_code == 400
    received = len(fake.received) - before
    samples = scrape(gw.url)
    assert value(samples, "anyray_refused_requests_total", dialect="anthropic", reason="unknown_model") == 1
    assert value(samples, "anyray_refused_requests_total", dialect="anthropic", reason="invalid_json") == 2
    assert value(samples, "anyray_refused_requests_total", dialect="openai", reason="invalid_request") == 1
    assert received == 0, "a refused call never reaches a provider"
    labels = {"dialect": "anthropic", "provider": "none", "model": "no-such-model", "status": "404"}
    assert value(samples, "anyray_requests_total", **labels) == 0  # finished requests are those sent on
