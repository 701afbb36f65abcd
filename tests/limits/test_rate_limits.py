"""Rate limits end to end: the real Anthropic and OpenAI SDKs back off on the gateway's 429 and their retry
gets through in the next window; two replicas share one count through a real Redis; tokens count too."""

from __future__ import annotations

import socket
import time
import uuid

import anthropic
import httpx
import openai
import pytest

from tests.conftest import vertex_and_anthropic_config
from tests.limits.conftest import ASK, CHAT, at_window_start, create_key, wait_for

WINDOW_S = 2


def upstream_calls(fake) -> int:
    return len([r for r in fake.received if r.path != "/token"])


def limited_gateway(fake, sa_key_file, start_gateway, url, **overrides):
    overrides.setdefault("rate_limits__window_s", WINDOW_S)
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=url, optimizer__enabled=False, **overrides)
    return start_gateway(config)


@pytest.fixture
def redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


def test_both_sdks_back_off_on_the_429_and_their_retry_succeeds_in_the_next_window(
    fake, sa_key_file, start_gateway, sqlite_url
):
    key = create_key(sqlite_url, "search")
    # 30 a minute is one per 2 s window
    gw = limited_gateway(fake, sa_key_file, start_gateway, sqlite_url, rate_limits__keys={key["id"]: {"rpm": 30}})

    at_window_start(WINDOW_S)
    strict = anthropic.Anthropic(base_url=gw.url, api_key=key["secret"], max_retries=0)
    assert strict.messages.create(**ASK).content[0].text
    with pytest.raises(anthropic.RateLimitError) as refused:
        strict.messages.create(**ASK)
    assert refused.value.body["error"]["type"] == "rate_limit_error"
    assert refused.value.body["error"]["message"].startswith(f"gateway key {key['id']} reached its rate limit of "
                                                             f"1 requests per {WINDOW_S}s")
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= WINDOW_S

    at_window_start(WINDOW_S)
    before = upstream_calls(fake)
    patient = anthropic.Anthropic(base_url=gw.url, api_key=key["secret"], max_retries=2)
    assert patient.messages.create(**ASK).content[0].text
    started = time.monotonic()
    assert patient.messages.create(**ASK).content[0].text  # refused, waited retry-after, retried: answered
    assert time.monotonic() - started >= 1.0
    assert upstream_calls(fake) == before + 2  # the refused attempt never reached an upstream

    at_window_start(WINDOW_S)
    gpt = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key["secret"], max_retries=2)
    assert gpt.chat.completions.create(**CHAT).choices[0].message.content
    started = time.monotonic()
    raw = gpt.chat.completions.with_raw_response.create(**CHAT)
    assert raw.retries_taken == 1 and raw.parse().choices[0].message.content
    assert time.monotonic() - started >= 1.0
    with pytest.raises(openai.RateLimitError) as refused_oa:
        openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key["secret"], max_retries=0).chat.completions.create(**CHAT)
    assert refused_oa.value.code == "rate_limit_exceeded" and refused_oa.value.type == "requests"
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert f'anyray_rate_limited_total{{kind="requests",name="{key["id"]}",scope="key"}} 4.0' in metrics


def test_two_replicas_share_one_count_in_redis_and_would_not_without_it(
    fake, sa_key_file, start_gateway, sqlite_url, redis_url
):
    team = f"team-{uuid.uuid4().hex[:8]}"  # the counters live in a shared Redis: a name no other run uses
    key = create_key(sqlite_url, team)
    limits = {"rate_limits__teams": {team: {"rpm": 90}}}  # 3 per 2 s window
    shared = [limited_gateway(fake, sa_key_file, start_gateway, sqlite_url, rate_limits__redis_url=redis_url,
                              **limits) for _ in range(2)]
    apart = [limited_gateway(fake, sa_key_file, start_gateway, sqlite_url, **limits) for _ in range(2)]
    clients = [anthropic.Anthropic(base_url=gw.url, api_key=key["secret"], max_retries=0) for gw in shared + apart]

    at_window_start(WINDOW_S)
    for client in (clients[0], clients[1], clients[0]):
        client.messages.create(**ASK)
    with pytest.raises(anthropic.RateLimitError) as refused:
        clients[1].messages.create(**ASK)  # the fourth call of the window, on the replica that made only one
    assert f"team {team!r} reached its rate limit of 3 requests" in refused.value.body["error"]["message"]

    at_window_start(WINDOW_S)
    for client in (clients[2], clients[3], clients[2], clients[3]):  # each replica counts alone: 2 each
        client.messages.create(**ASK)


def test_tokens_per_minute_count_input_and_output_once_the_call_ends(fake, sa_key_file, start_gateway, sqlite_url):
    key = create_key(sqlite_url, "search")
    # an hour's window (the test never straddles its edge): tpm 1 is 60 tokens in it
    gw = limited_gateway(fake, sa_key_file, start_gateway, sqlite_url, rate_limits__window_s=3600,
                         rate_limits__teams={"search": {"tpm": 1}})
    gpt = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key["secret"], max_retries=0)
    long = {**CHAT, "messages": [{"role": "user", "content": "tell me about rate limits " * 40}]}
    answer = gpt.chat.completions.create(**long)
    assert answer.usage.total_tokens > 60
    limiter = gw.gateway.rate_limits  # its listener runs after the last byte
    wait_for(lambda: any(name.endswith(":t") for name in limiter._counts))
    with pytest.raises(openai.RateLimitError) as refused:
        gpt.chat.completions.create(**CHAT)
    assert refused.value.type == "tokens"
    assert "team 'search' reached its rate limit of 60 input and output tokens per 3600s" in refused.value.message


def test_tokens_one_replica_spent_count_on_the_other_through_redis(
    fake, sa_key_file, start_gateway, sqlite_url, redis_url
):
    import redis

    team = f"team-{uuid.uuid4().hex[:8]}"
    key = create_key(sqlite_url, team)
    replicas = [limited_gateway(fake, sa_key_file, start_gateway, sqlite_url, rate_limits__redis_url=redis_url,
                                rate_limits__window_s=3600, rate_limits__teams={team: {"tpm": 1}})
                for _ in range(2)]
    long = {**ASK, "messages": [{"role": "user", "content": "tell me about rate limits " * 40}]}
    first = anthropic.Anthropic(base_url=replicas[0].url, api_key=key["secret"], max_retries=0)
    answer = first.messages.create(**long)
    assert answer.usage.input_tokens + answer.usage.output_tokens > 60
    counted = redis.Redis.from_url(redis_url)
    tokens_key = f"anyray:rl:3600:{int(time.time() // 3600)}:team:{team}:t"
    wait_for(lambda: int(counted.get(tokens_key) or 0) > 60)
    assert counted.ttl(tokens_key) > 3600  # expires on its own, a window after its own
    with pytest.raises(anthropic.RateLimitError) as refused:
        anthropic.Anthropic(base_url=replicas[1].url, api_key=key["secret"], max_retries=0).messages.create(**ASK)
    assert "60 input and output tokens per 3600s" in refused.value.body["error"]["message"]
