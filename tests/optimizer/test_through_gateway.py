"""The optimizer as the gateway uses it: real SDK clients, the gateway, and the fake Vertex/Anthropic
upstreams (anyray.testing.FakeUpstream). Covers credential isolation, fail-open and the breaker,
Claude Code's request shape, breakpoints, the response cache and measured prompt-cache savings."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import pytest

from anyray.testing.prompt_cache import count_breakpoints
from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY, vertex_and_anthropic_config
from tests.kit.shapes import claude_code_request
from tests.optimizer.conftest import SERVICE_TOKEN

OPENAI_KEY = "sk-proj-gatewayopenaikey000000000000000000000000000000000000"


def sdk(gateway, **headers: str) -> anthropic.Anthropic:
    # an explicit timeout lets the SDK send a non-streaming 64K max_tokens request, as Claude Code does
    return anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0, default_headers=headers,
                               timeout=60)


def upstream_calls(fake, contains: str = "Predict"):
    return [r for r in fake.received if contains in r.path]


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def http_optimizer_gateway(fake, sa_key_file, start_gateway, url: str, **overrides):
    config = vertex_and_anthropic_config(fake, sa_key_file, optimizer__url=url, **overrides)
    config["providers"]["openai"] = {"api_key": OPENAI_KEY, "base_url": f"{fake.url}/v1"}
    return start_gateway(config)


def test_the_optimizer_never_receives_a_credential(fake, sa_key_file, start_gateway, controllable_optimizer):
    recorder, url = controllable_optimizer
    gw = http_optimizer_gateway(fake, sa_key_file, start_gateway, url)
    client = sdk(gw, **{"x-goog-api-key": "AIzaSyClientSideKey0000000000000000000000", "cookie": "session=s3cr3t"})
    client.messages.create(model="claude-sonnet-4-5", max_tokens=64000, messages=[{"role": "user", "content": "a"}])
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=300,
                                messages=[{"role": "user", "content": "b"}]) as stream:
        stream.until_done()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=10, extra_body={"temperature": 0},
                           messages=[{"role": "user", "content": "c"}])
    client.messages.count_tokens(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "d"}])
    wait_for(lambda: any(path == "/v1/optimize-response" for path, _, _ in recorder.seen))

    paths = {path for path, _, _ in recorder.seen}
    assert {"/v1/optimize", "/v1/optimize-response", "/v1/cache"} <= paths
    secrets = [ANTHROPIC_KEY, CLIENT_KEY, OPENAI_KEY, "AIzaSyClientSideKey", "s3cr3t",
               json.loads(sa_key_file.read_text())["private_key"].splitlines()[1]]
    secrets += [t.token for t in fake.tokens_issued]
    assert fake.tokens_issued, "the Vertex path must have minted a Google token"
    for path, headers, body in recorder.seen:
        blob = json.dumps(headers) + body.decode()
        for secret in secrets:
            assert secret not in blob, f"a credential reached the optimizer on {path}"
        assert not {"x-api-key", "x-goog-api-key", "cookie"} & set(headers)
        # the one authorization it sees is its own service token, which every cache write-back needs
        assert headers["authorization"] == f"Bearer {SERVICE_TOKEN}"


@pytest.mark.parametrize("mode", ["stopped", "slow", "error", "garbage", "wrong-shape"])
def test_fail_open_forwards_the_request_untouched(fake, sa_key_file, start_gateway, controllable_optimizer, mode):
    recorder, url = controllable_optimizer
    recorder.mode = mode
    if mode == "stopped":
        url = "http://127.0.0.1:9"  # discard port: nothing listens
    gw = http_optimizer_gateway(fake, sa_key_file, start_gateway, url, optimizer__budget_ms=300)
    request = claude_code_request(stream=False)
    started = time.monotonic()
    response = httpx.post(f"{gw.url}/v1/messages", json=request, headers={"x-api-key": CLIENT_KEY}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"]
    assert time.monotonic() - started < 2.0, "a slow optimizer must cost at most the budget"
    sent = upstream_calls(fake)[-1].body
    assert sent["max_tokens"] == 64000 and sent["tools"] == request["tools"] and sent["system"] == request["system"]
    result = json.loads(response.headers["x-anyray-optimization-result"])
    assert result["status"] == "fail_open"
    assert sum(gw.gateway.optimizer.fail_open.values()) == 1


def test_the_breaker_opens_and_closes_again(fake, sa_key_file, start_gateway, controllable_optimizer):
    recorder, url = controllable_optimizer
    recorder.mode = "error"
    gw = http_optimizer_gateway(fake, sa_key_file, start_gateway, url, optimizer__breaker_failures=2,
                                optimizer__breaker_reset_s=0.5)
    client = sdk(gw)

    def ask() -> None:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=64000, messages=[{"role": "user", "content": "x"}])

    def optimize_calls() -> int:
        return sum(1 for path, _, _ in recorder.seen if path == "/v1/optimize")

    ask()
    ask()
    assert httpx.get(gw.url + "/healthz").json()["optimizer"]["breaker"] == "open"
    ask()  # open: the optimizer is not even asked
    assert optimize_calls() == 2 and gw.gateway.optimizer.fail_open["circuit_open"] == 1
    assert upstream_calls(fake)[-1].body["max_tokens"] == 64000

    recorder.mode = "ok"
    time.sleep(0.6)
    ask()  # the probe succeeds and closes the circuit
    assert optimize_calls() == 3
    assert httpx.get(gw.url + "/healthz").json()["optimizer"]["breaker"] == "closed"
    assert upstream_calls(fake)[-1].body["max_tokens"] == 32000


def test_claude_code_shape_capped_with_its_breakpoints_untouched(gateway, fake):
    request = claude_code_request()
    with httpx.stream("POST", f"{gateway.url}/v1/messages?beta=true", json=request,
                      headers={"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}) as response:
        assert response.status_code == 200
        body = response.read().decode()
        result = json.loads(response.headers["x-anyray-optimization-result"])
    assert "message_stop" in body
    sent = upstream_calls(fake)[-1].body
    assert sent["max_tokens"] == 32000
    assert sent["system"] == request["system"] and sent["tools"] == request["tools"]
    assert sent["messages"] == request["messages"]
    # the system prompt and tools are read, found to be instructions (nothing to elide), and left byte for byte
    assert result == {"status": "optimized", "applied": ["param_tuning"], "preserved": ["cache_control"],
                      "skipped": [{"kind": "context_compression", "reason": "would_not_pay_back"},
                                  {"kind": "prompt_cache", "reason": "client placed its own breakpoints"}]}


def test_per_request_headers_turn_the_optimizer_off_or_pick_kinds(gateway, fake):
    messages = [{"role": "user", "content": "tell me " * 800}]
    off = sdk(gateway, **{"x-anyray-optimize": "off"}).messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=64000, messages=messages)
    assert json.loads(off.headers["x-anyray-optimization-result"])["status"] == "off"
    assert upstream_calls(fake)[-1].body["max_tokens"] == 64000
    assert count_breakpoints(upstream_calls(fake)[-1].body) == 0

    only = sdk(gateway, **{"x-anyray-optimization-kinds": "prompt_cache"}).messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=64000, messages=messages)
    result = json.loads(only.headers["x-anyray-optimization-result"])
    assert result["applied"] == ["prompt_cache"]
    sent = upstream_calls(fake)[-1].body
    assert sent["max_tokens"] == 64000 and count_breakpoints(sent) == 1


def test_sdk_request_without_breakpoints_gets_valid_ones_that_the_upstream_caches(gateway, fake):
    client = sdk(gateway)
    system = "You answer questions about the company handbook. " * 200
    history = [{"role": "user", "content": "first question " * 50}]
    first = client.messages.create(model="claude-sonnet-4-5", max_tokens=512, system=system, messages=history)
    assert 1 <= count_breakpoints(upstream_calls(fake)[-1].body) <= 4
    assert first.usage.cache_creation_input_tokens > 0
    history += [{"role": "assistant", "content": first.content[0].text},
                {"role": "user", "content": "second question " * 50}]
    second = client.messages.create(model="claude-sonnet-4-5", max_tokens=512, system=system, messages=history)
    assert second.usage.cache_read_input_tokens >= first.usage.cache_creation_input_tokens


def cache_config(fake, sa_key_file):
    return vertex_and_anthropic_config(fake, sa_key_file,
                                       optimizer__strategies=[{"kind": "semantic_cache", "enabled": True}])


def test_repeated_deterministic_request_is_served_from_cache_json_and_sse(fake, sa_key_file, start_gateway):
    gw = start_gateway(cache_config(fake, sa_key_file))
    client = sdk(gw)
    # this SDK no longer takes sampling params as arguments; the wire format still does
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 200, "extra_body": {"temperature": 0},
           "messages": [{"role": "user", "content": "What is the capital of Peru?"}]}
    first = client.messages.create(**ask)
    optimizer = gw.gateway.optimizer.optimizer
    wait_for(lambda: optimizer.cache.stats.writes == 1)

    again = client.messages.with_raw_response.create(**ask)
    assert again.headers["x-anyray-cache"] == "hit"
    assert again.parse().content[0].text == first.content[0].text
    assert again.parse().usage.input_tokens == 0
    with client.messages.stream(**ask) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[0].text == first.content[0].text and streamed.stop_reason == first.stop_reason
    assert len(upstream_calls(fake)) == 1, "the upstream must have answered only once"

    # a streamed miss is assembled and cached too; a non-deterministic request never is
    stream_first = {**ask, "messages": [{"role": "user", "content": "And of Chile?"}]}
    with client.messages.stream(**stream_first) as stream:
        text = stream.get_final_text()
    wait_for(lambda: optimizer.cache.stats.writes == 2)
    assert client.messages.create(**stream_first).content[0].text == text
    warm = {**ask, "extra_body": {"temperature": 0.7}}
    client.messages.create(**warm)
    client.messages.create(**warm)
    assert len(upstream_calls(fake)) == 4


def test_tool_use_answers_replay_as_valid_sse(fake, sa_key_file, start_gateway):
    gw = start_gateway(cache_config(fake, sa_key_file))
    client = sdk(gw)
    tool = {"name": "get_weather", "description": "weather", "input_schema": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 200, "tools": [tool],
           "tool_choice": {"type": "tool", "name": "get_weather"},
           "messages": [{"role": "user", "content": "Weather in Lima?"}]}
    client = sdk(gw, **{"x-anyray-cache": "on"})  # opting in by header, without temperature 0
    first = client.messages.create(**ask)
    wait_for(lambda: gw.gateway.optimizer.optimizer.cache.stats.writes == 1)
    with client.messages.stream(**ask) as stream:
        replayed = stream.get_final_message()
    assert [b.type for b in replayed.content] == [b.type for b in first.content]
    assert replayed.content[-1].input == first.content[-1].input and replayed.stop_reason == "tool_use"
    assert len(upstream_calls(fake)) == 1


def test_prompt_cache_placement_lowers_the_input_cost_of_a_ten_turn_conversation(gateway, fake):
    """Input cost in units of the base input price, by Anthropic's published multipliers for the 5-minute
    cache: writes 1.25x, reads 0.1x. Usage is what the fake upstream accounted by the caching rules."""

    def conversation(client: anthropic.Anthropic, topic: str) -> float:
        system = f"You are a support agent for {topic}. " + "Follow the escalation policy carefully. " * 150
        history: list[dict] = []
        cost = 0.0
        for turn in range(10):
            history.append({"role": "user", "content": f"turn {turn}: " + "the customer says more. " * 60})
            reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=300, system=system,
                                           messages=history)
            u = reply.usage
            cost += u.input_tokens + 1.25 * u.cache_creation_input_tokens + 0.1 * u.cache_read_input_tokens
            history.append({"role": "assistant", "content": reply.content[0].text})
        return cost

    without = conversation(sdk(gateway, **{"x-anyray-optimize": "off"}), "billing")
    with_optimizer = conversation(sdk(gateway), "shipping")
    assert with_optimizer < 0.5 * without, (with_optimizer, without)


def test_without_gateway_keys_a_team_label_does_not_partition_the_cache(fake, sa_key_file, start_gateway):
    """Without gateway keys the gateway authenticates nobody: a team named in x-anyray-metadata is a label for
    spend, not an identity, so it scopes no cache entry (anyone could name any team). Every caller shares one
    scope; gateway keys give each team its own (tests/keys, tests/security/test_cache_poisoning.py)."""
    gw = start_gateway(cache_config(fake, sa_key_file))
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 200, "extra_body": {"temperature": 0},
           "messages": [{"role": "user", "content": "Quarterly numbers?"}]}
    team_a = sdk(gw, **{"x-anyray-metadata": '{"team": "finance"}'})
    team_b = sdk(gw, **{"x-anyray-metadata": "team=marketing;app=deck"})
    team_a.messages.create(**ask)
    wait_for(lambda: gw.gateway.optimizer.optimizer.cache.stats.writes == 1)
    assert team_a.messages.with_raw_response.create(**ask).headers["x-anyray-cache"] == "hit"
    assert team_b.messages.with_raw_response.create(**ask).headers["x-anyray-cache"] == "hit"
    assert set(gw.gateway.optimizer.optimizer.cache.stats.by_team) == {"_default"}
    assert len(upstream_calls(fake)) == 1


def test_openai_sdk_to_claude_is_served_from_cache_json_and_stream(fake, sa_key_file, start_gateway):
    import openai

    gw = start_gateway(cache_config(fake, sa_key_file))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-client-openai-key", max_retries=0)
    ask = {"model": "claude-sonnet-4-5", "temperature": 0, "max_tokens": 100,
           "messages": [{"role": "user", "content": "Name a prime number."}]}
    first = client.chat.completions.create(**ask)
    wait_for(lambda: gw.gateway.optimizer.optimizer.cache.stats.writes == 1)
    again = client.chat.completions.with_raw_response.create(**ask)
    assert again.headers["x-anyray-cache"] == "hit"
    assert again.parse().choices[0].message.content == first.choices[0].message.content
    stream = client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == first.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 0
    assert len(upstream_calls(fake)) == 1

    # a streamed miss is assembled from the Anthropic stream and cached as a chat.completion
    fresh = {**ask, "messages": [{"role": "user", "content": "Name an even number."}]}
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(**fresh, stream=True)
                       if c.choices)
    wait_for(lambda: gw.gateway.optimizer.optimizer.cache.stats.writes == 2)
    assert client.chat.completions.create(**fresh).choices[0].message.content == streamed
    assert len(upstream_calls(fake)) == 2


def test_bad_metadata_gets_an_openai_error(fake, sa_key_file, start_gateway):
    import openai

    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0,
                           default_headers={"x-anyray-metadata": "{not json"})
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["param"] == "x-anyray-metadata" and err.value.body["type"] == "invalid_request_error"
    assert not upstream_calls(fake)


def test_a_near_duplicate_question_is_answered_from_cache_through_the_gateways_embeddings(
    fake, sa_key_file, start_gateway
):
    fake.openai_key = OPENAI_KEY
    config = cache_config(fake, sa_key_file)
    config["providers"]["openai"] = {"api_key": OPENAI_KEY, "base_url": f"{fake.url}/v1"}
    config["cache"] = {"embeddings_url": "http://127.0.0.1:9/v1", "similarity_threshold": 0.9}
    gw = start_gateway(config)
    optimizer = gw.gateway.optimizer.optimizer
    optimizer.embedder.url = gw.url + "/v1/embeddings"  # the gateway's own port is known only once it listens
    client = sdk(gw)
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 200, "extra_body": {"temperature": 0},
           "system": "You answer questions about the travel policy.",
           "messages": [{"role": "user", "content": "What is the daily meal allowance in Paris for employees?"}]}
    first = client.messages.create(**ask)
    wait_for(lambda: optimizer.cache.stats.writes == 1)
    near = {**ask, "messages": [{"role": "user", "content": "what is the daily meal allowance in Paris for employees"}]}
    again = client.messages.with_raw_response.create(**near)
    assert again.headers["x-anyray-cache"] == "hit"
    assert again.parse().content[0].text == first.content[0].text
    different = {**ask, "messages": [{"role": "user", "content": "Which airlines may I book for trips to Tokyo?"}]}
    assert "x-anyray-cache" not in client.messages.with_raw_response.create(**different).headers
    other_scope = {**near, "system": "You answer questions about the security policy."}
    assert "x-anyray-cache" not in client.messages.with_raw_response.create(**other_scope).headers
    embeddings = [r for r in fake.received if r.path.endswith("/embeddings")]
    assert embeddings and all(r.headers["authorization"] == f"Bearer {OPENAI_KEY}" for r in embeddings)
    assert len(upstream_calls(fake)) == 3
