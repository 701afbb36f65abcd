"""Upstream faults, as the real anthropic and openai SDKs see them through a gateway on loopback.

The SDKs run with max_retries=0, so every retry counted here is the gateway's own. Faults come from the
fake upstream (anyray.testing.FakeUpstream); the outcome is checked at the client, at the fake (what
reached it, how each stream ended), and in the spend store (read back after shutdown).
"""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.conftest import CLIENT_KEY
from tests.reliability.stack import FAST_RETRY, Stack, closed_port, loop_tasks, retries, stack_config, wait_until

HI = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def stack(fake, sa_key_file, start_gateway, tmp_path):
    def start(config_edit=None, **gateway) -> Stack:
        url = f"sqlite:///{tmp_path / 'spend.db'}"
        config = stack_config(fake, sa_key_file, url, **gateway)
        if config_edit is not None:
            config_edit(config)
        return Stack(start_gateway(config), url)

    return start


def claude(stack: Stack) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.url, api_key=CLIENT_KEY, max_retries=0)


def gpt(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=CLIENT_KEY, max_retries=0)


def sent(fake, contains: str) -> int:
    return sum(1 for r in fake.received if contains in r.path)


# ------------------------------------------------------------------------------------------ retried, then fine


def test_a_429_with_retry_after_is_waited_out_and_the_client_sees_one_success(stack, fake):
    s = stack()
    fake.inject(429, times=1, path_contains="/v1/messages", retry_after=1)  # retry-after in seconds
    message = claude(s).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert "hello there" in message.content[0].text
    assert sent(fake, "/v1/messages") == 2  # the refused try and the retry, both to the Anthropic API
    assert retries(s.gw, "anthropic", "retry_429") == 1

    (record,) = s.records(1)
    assert (record["provider"], record["status"], record["partial"]) == ("anthropic", 200, False)
    assert (record["input_tokens"], record["output_tokens"]) == (message.usage.input_tokens,
                                                                message.usage.output_tokens)


def test_retry_after_ms_is_honoured_for_openai_clients_too(stack, fake):
    s = stack()
    fake.inject(503, times=2, path_contains="/chat/completions", retry_after_ms=20)
    completion = gpt(s).chat.completions.create(model="gpt-4o", messages=HI)
    assert completion.choices[0].message.content
    assert sent(fake, "/chat/completions") == 3
    assert retries(s.gw, "openai", "retry_503") == 2

    (record,) = s.records(1)
    assert (record["provider"], record["status"], record["partial"]) == ("openai", 200, False)
    assert record["input_tokens"] == completion.usage.prompt_tokens > 0
    assert record["output_tokens"] == completion.usage.completion_tokens > 0


def test_a_529_that_outlasts_the_retries_falls_back_to_the_next_provider(stack, fake):
    s = stack()
    fake.inject(529, times=3, path_contains=":rawPredict")  # Vertex: the first try and both retries
    raw = claude(s).messages.with_raw_response.create(model="claude-opus-4-1", max_tokens=50, messages=HI)
    assert raw.headers["x-anyray-provider"] == "anthropic"
    assert "hello there" in raw.parse().content[0].text
    assert sent(fake, ":rawPredict") == 3 and sent(fake, "/v1/messages") == 1
    assert retries(s.gw, "vertex", "retry_529") == 2
    assert retries(s.gw, "vertex", "fallback_529") == 1

    (record,) = s.records(1)
    assert (record["provider"], record["model_used"]) == ("anthropic", "claude-opus-4-1-20250805")
    assert record["status"] == 200 and not record["partial"] and record["output_tokens"] > 0


def test_the_same_fallback_through_the_openai_dialect_with_a_stream(stack, fake):
    s = stack()
    fake.inject(529, times=3, path_contains=":streamRawPredict")
    chunks = list(gpt(s).chat.completions.create(model="claude-opus-4-1", messages=HI, stream=True))
    assert "hello there" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert sent(fake, ":streamRawPredict") == 3
    (record,) = s.records(1)
    assert (record["provider"], record["status"], record["partial"], record["streamed"]) == (
        "anthropic", 200, False, True)
    assert record["input_tokens"] > 0 and record["output_tokens"] > 0


# ------------------------------------------------------------------------------------------ nothing works


def test_when_every_target_fails_the_client_gets_the_upstream_error_in_its_dialect(stack, fake):
    s = stack()
    fake.inject(503, times=6)  # both targets of claude-opus-4-1, three tries each
    with pytest.raises(anthropic.InternalServerError) as info:
        claude(s).messages.create(model="claude-opus-4-1", max_tokens=50, messages=HI)
    assert info.value.status_code == 503
    assert info.value.body["type"] == "error" and info.value.body["error"]["type"] == "api_error"
    assert "injected fault 503" in info.value.body["error"]["message"]
    assert sent(fake, ":rawPredict") == 3 and sent(fake, "/v1/messages") == 3

    fake.inject(503, times=6)
    with pytest.raises(openai.InternalServerError) as oinfo:
        gpt(s).chat.completions.create(model="claude-opus-4-1", messages=HI)
    assert oinfo.value.status_code == 503
    assert set(oinfo.value.body) == {"message", "type", "param", "code"}
    assert oinfo.value.body["type"] == "server_error" and "injected fault 503" in oinfo.value.body["message"]

    records = s.records(2)
    assert [(r["dialect"], r["status"], r["input_tokens"], r["output_tokens"]) for r in records] == [
        ("anthropic", 503, 0, 0), ("openai", 503, 0, 0)]


def test_a_retry_after_beyond_the_budget_is_not_waited_for(stack, fake):
    """The upstream asks for 30 s; the budget is 5 s: no retry, the client hears 429 and the wait asked."""
    s = stack()
    fake.inject(429, times=1, path_contains="/v1/messages", retry_after=30)
    with pytest.raises(anthropic.RateLimitError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert info.value.body["error"]["type"] == "rate_limit_error"
    assert info.value.response.headers["retry-after"] == "30"
    assert sent(fake, "/v1/messages") == 1
    assert retries(s.gw, "anthropic", "retry_429") == 0
    (record,) = s.records(1)
    assert record["status"] == 429


def test_an_upstream_saying_x_should_retry_false_is_not_asked_again_but_the_fallback_is(stack, fake):
    s = stack()
    fake.inject(529, times=1, path_contains=":rawPredict", headers={"x-should-retry": "false"})
    raw = claude(s).messages.with_raw_response.create(model="claude-opus-4-1", max_tokens=50, messages=HI)
    assert raw.headers["x-anyray-provider"] == "anthropic"
    assert sent(fake, ":rawPredict") == 1 and retries(s.gw, "vertex", "retry_529") == 0


@pytest.mark.parametrize("final_for_clients", [True, False])
def test_the_clients_sdk_does_not_retry_what_the_gateway_already_retried(stack, fake, final_for_clients):
    """The SDKs retry twice by default; so does the gateway. Unless the gateway says the failure is final
    (gateway.retry.final_for_clients, off by default), their retries multiply: 3 tries become 9."""
    s = stack(retry={**FAST_RETRY, "final_for_clients": final_for_clients})
    fake.inject(529, times=20, path_contains="/v1/messages")
    sdk = anthropic.Anthropic(base_url=s.url, api_key=CLIENT_KEY, max_retries=2)  # the SDK's default
    sdk = sdk.with_options(timeout=30)
    with pytest.raises(anthropic.APIStatusError) as info:
        sdk.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert info.value.status_code == 529
    if final_for_clients:
        assert info.value.response.headers["x-should-retry"] == "false"
        assert sent(fake, "/v1/messages") == 3  # the gateway's try and its two retries; the SDK added none
    else:
        assert "x-should-retry" not in info.value.response.headers
        assert sent(fake, "/v1/messages") == 9


def test_a_failure_the_budget_cut_short_is_left_to_the_client_even_when_failures_are_final(stack, fake):
    s = stack(retry={**FAST_RETRY, "final_for_clients": True})
    fake.inject(429, times=1, path_contains="/v1/messages", retry_after=30)  # beyond the 5 s budget
    with pytest.raises(anthropic.RateLimitError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert "x-should-retry" not in info.value.response.headers  # the client may still wait the 30 s out
    assert info.value.response.headers["retry-after"] == "30"


def test_an_upstreams_own_x_should_retry_false_reaches_the_client(stack, fake):
    s = stack()  # final_for_clients off: the upstream's word is passed on all the same
    fake.inject(500, times=1, path_contains="/chat/completions", headers={"x-should-retry": "false"})
    with pytest.raises(openai.InternalServerError) as info:
        gpt(s).chat.completions.create(model="gpt-4o", messages=HI)
    assert info.value.response.headers["x-should-retry"] == "false"
    assert sent(fake, "/chat/completions") == 1


def test_a_provider_without_its_key_is_answered_by_the_gateway_and_its_fallback_still_tried(stack, fake):
    """No API key and the public API as upstream: the call could only be refused there (and an SDK would
    read the 401 as its own key's fault), so the gateway says what is missing, and tries the fallback."""

    def keyless_anthropic(config):
        config["providers"]["anthropic"] = {"api_key_env": "ANYRAY_TEST_NO_SUCH_KEY"}  # api.anthropic.com, no key
        config["models"]["claude-keyless"] = {
            "provider": "anthropic", "model": "claude-haiku-4-5-20251001",
            "fallbacks": [{"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}]}

    s = stack(config_edit=keyless_anthropic)
    before = len(fake.received)
    with pytest.raises(anthropic.InternalServerError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert info.value.status_code == 503
    assert "no API key for anthropic" in info.value.body["error"]["message"]
    assert "ANYRAY_TEST_NO_SUCH_KEY" in info.value.body["error"]["message"]
    assert info.value.response.headers["x-should-retry"] == "false"
    assert len(fake.received) == before, "nothing was sent anywhere"

    raw = claude(s).messages.with_raw_response.create(model="claude-keyless", max_tokens=50, messages=HI)
    assert raw.headers["x-anyray-provider"] == "vertex"
    assert "hello there" in raw.parse().content[0].text


def test_a_regional_capacity_error_falls_back_to_the_same_model_in_another_region(stack, fake):
    """Vertex's 529 on one region (the classic capacity error) is retried, then the route's fallback to the
    same provider in another region serves it: same project and credentials, that region's endpoint, and
    the record priced for that region."""

    def regions(config):
        config["models"]["claude-sonnet-4-5"] = {
            "provider": "vertex", "model": "claude-sonnet-4-5@20250929",
            "fallbacks": [{"provider": "vertex", "model": "claude-sonnet-4-5@20250929", "location": "europe-west1"},
                          {"provider": "vertex", "model": "claude-sonnet-4-5@20250929", "location": "global"}]}

    s = stack(config_edit=regions)
    fake.inject(529, times=3, path_contains="/locations/us-east5/")
    fake.inject(529, times=3, path_contains="/locations/europe-west1/")
    raw = claude(s).messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=50, messages=HI)
    assert raw.headers["x-anyray-provider"] == "vertex" and "hello there" in raw.parse().content[0].text
    served = "/projects/test-proj/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    assert sent(fake, "/locations/us-east5/") == 3 and sent(fake, "/locations/europe-west1/") == 3
    assert [r.path for r in fake.received if ":rawPredict" in r.path][-1] == "/v1" + served
    assert retries(s.gw, "vertex", "fallback_529") == 2
    assert sum(1 for r in fake.received if r.path == "/token") == 1  # one token, shared by every region

    (record,) = s.records(1)
    assert (record["provider"], record["model_used"], record["status"]) == ("vertex", "claude-sonnet-4-5@20250929", 200)
    assert record["cost_micros"] > 0  # priced: the region's instance reports provider vertex


def test_a_client_error_is_neither_retried_nor_sent_to_the_fallback(stack, fake):
    s = stack()
    fake.inject(400, times=1, path_contains=":rawPredict")
    with pytest.raises(anthropic.BadRequestError):
        claude(s).messages.create(model="claude-opus-4-1", max_tokens=50, messages=HI)
    assert sent(fake, ":rawPredict") == 1 and sent(fake, "/v1/messages") == 0


def test_an_upstream_that_refuses_connections_is_retried_then_falls_back(stack, fake):
    def refuse_anthropic(config):
        config["providers"]["anthropic"]["base_url"] = f"http://127.0.0.1:{closed_port()}"

    s = stack(refuse_anthropic)
    # claude-flaky: the Anthropic API (refusing) first, Vertex as its fallback
    raw = claude(s).messages.with_raw_response.create(model="claude-flaky", max_tokens=50, messages=HI)
    assert raw.headers["x-anyray-provider"] == "vertex"
    assert retries(s.gw, "anthropic", "connection") == 2
    # claude-haiku-4-5 has no fallback: a 502 in Anthropic's shape, naming the provider
    with pytest.raises(anthropic.APIStatusError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert info.value.status_code == 502 and info.value.body["error"]["type"] == "api_error"
    assert info.value.body["error"]["message"].startswith("anthropic: upstream unreachable")
    with pytest.raises(openai.APIStatusError) as oinfo:
        gpt(s).chat.completions.create(model="claude-haiku-4-5", messages=HI)
    assert oinfo.value.status_code == 502 and oinfo.value.body["type"] == "server_error"

    records = s.records(3)
    assert [(r["provider"], r["status"]) for r in records] == [("vertex", 200), (None, 502), (None, 502)]


# ------------------------------------------------------------------------------------------ streams cut


def test_an_anthropic_stream_cut_midway_ends_with_an_error_event_and_a_partial_record(stack, fake):
    s = stack()
    client = claude(s)
    prompt = [{"role": "user", "content": "one two three four five six"}]
    whole = client.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=prompt)
    fake.cut_stream_after(5)  # message_start, content_block_start, ping, two text deltas
    text = []
    stream = client.messages.stream(model="claude-sonnet-4-5", max_tokens=50, messages=prompt)
    cut_message = "ended before the message was complete"
    with pytest.raises(anthropic.APIStatusError, match=cut_message) as info, stream as events:
        text.extend(events.text_stream)
    assert info.value.body["type"] == "error" and info.value.body["error"]["type"] == "api_error"
    assert "".join(text) and whole.content[0].text.startswith("".join(text))
    assert sent(fake, ":streamRawPredict") == 1  # a started answer is never retried
    assert fake.stream_endings == ["cut"]

    _, cut = s.records(2)
    assert (cut["status"], cut["partial"], cut["streamed"]) == (502, True, True)
    assert cut["input_tokens"] == whole.usage.input_tokens  # message_start arrived before the cut
    assert cut["output_tokens"] < whole.usage.output_tokens  # the final count (message_delta) never did


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gpt-4o"])
def test_an_openai_dialect_stream_cut_midway_raises_in_the_sdk_and_is_recorded_partial(stack, fake, model):
    s = stack()
    fake.script("one two three four five six seven eight nine ten")
    fake.cut_stream_after(4)
    stream = gpt(s).chat.completions.create(model=model, messages=HI, stream=True)
    text = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            text.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    assert "ended before the answer was complete" in info.value.message
    assert info.value.body["type"] == "server_error"
    assert "".join(text)  # what came before the cut reached the client
    assert fake.stream_endings == ["cut"]

    (record,) = s.records(1)
    assert (record["status"], record["partial"], record["streamed"]) == (502, True, True)
    if model.startswith("claude"):
        assert record["input_tokens"] > 0  # Claude says the input count first; OpenAI only in its last chunk


# ------------------------------------------------------------------------------------------ client leaves


def test_a_client_leaving_mid_stream_cancels_the_upstream_call_and_leaks_nothing(stack, fake):
    s = stack()
    client = claude(s)
    client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)  # warm: pools, tasks
    s.wait_calls(1)
    wait_until(lambda: s.gw.gateway.upstream.connections_in_use() == 0, what="an idle pool after warm-up")
    tasks_before = loop_tasks(s.gw)

    gate = fake.hold_stream_after(4)  # the upstream stops mid-answer until released
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=50, messages=HI) as stream:
        assert next(iter(stream.text_stream))
        assert s.gw.gateway.upstream.connections_in_use() == 1
    # the client closed its connection; the gateway must close the upstream one
    wait_until(lambda: len(s.calls) == 2, what="the abandoned call's record")
    wait_until(lambda: s.gw.gateway.upstream.connections_in_use() == 0, what="the upstream connection let go")
    assert s.gw.gateway.upstream.pooled_connections() == 0  # closed, not parked half-read in the pool
    # the upstream was still mid-answer when the gateway hung up (the fake usually notices at once)
    assert fake.stream_endings in ([], ["abandoned"])
    gate.set()
    wait_until(lambda: loop_tasks(s.gw) <= tasks_before, what="no task left behind on the gateway's loop")

    _, left = s.records(2)
    assert (left["status"], left["partial"], left["streamed"]) == (499, True, True)
    assert left["input_tokens"] > 0


def test_an_openai_client_leaving_a_translated_stream_cancels_the_upstream_call(stack, fake):
    s = stack()
    gate = fake.hold_stream_after(4)
    stream = gpt(s).chat.completions.create(model="claude-sonnet-4-5", messages=HI, stream=True)
    chunks = iter(stream)
    next(chunks), next(chunks)
    stream.close()
    wait_until(lambda: len(s.calls) == 1, what="the abandoned call's record")
    wait_until(lambda: s.gw.gateway.upstream.connections_in_use() == 0, what="the upstream connection let go")
    assert s.gw.gateway.upstream.pooled_connections() == 0  # closed, not parked half-read in the pool
    # the upstream was still mid-answer when the gateway hung up (the fake usually notices at once)
    assert fake.stream_endings in ([], ["abandoned"])
    gate.set()
    (left,) = s.records(1)
    assert (left["status"], left["partial"]) == (499, True)


# ------------------------------------------------------------------------------------------ the policy itself


def test_retry_after_headers_are_read_in_every_form_the_apis_use():
    from anyray.server.gateway.retry import retry_after_s

    now = 1_700_000_000.0
    assert retry_after_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5  # the precise one wins
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after": "Tue, 14 Nov 2023 22:13:30 GMT"}, now=lambda: now) == 10.0
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({"retry-after": "-3"}) == 0.0
    assert retry_after_s({}) is None


def test_the_budget_bounds_retries_and_skips_waits_it_cannot_afford():
    from anyray.server.gateway.retry import RetryPolicy

    clock = [0.0]
    policy = RetryPolicy(attempts=3, base_s=1.0, max_s=4.0, budget_s=10.0, clock=lambda: clock[0], rand=lambda: 0.0)
    budget = policy.budget()
    assert [budget.wait_for(n, None) for n in range(4)] == [1.0, 2.0, 4.0, None]  # doubling, capped, bounded
    assert budget.wait_for(0, 9.0) == 9.0  # an upstream's retry-after beyond max_s, within the budget
    assert budget.wait_for(0, 10.5) is None  # beyond it: no wait at all
    clock[0] = 8.5
    assert budget.wait_for(0, None) == 1.0 and budget.wait_for(1, None) is None  # 8.5 + 2 > 10
    jittered = RetryPolicy(base_s=1.0, rand=lambda: 1.0).backoff(0)
    assert jittered == 0.75  # up to a quarter taken off
