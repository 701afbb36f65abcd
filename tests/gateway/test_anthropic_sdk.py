"""The real `anthropic` SDK through the gateway, to the fake Vertex AI and the fake Anthropic API.

Fakes: anyray.testing.FakeUpstream (Vertex rawPredict/streamRawPredict, Anthropic Messages, Google token
endpoint). Assertions are on what the SDK parsed and on what the fake upstream received.
"""

from __future__ import annotations

import time

import anthropic
import pytest

from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY, vertex_and_anthropic_config

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"],
    },
}


def client(gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)


def last_call(fake, contains: str):
    calls = [r for r in fake.received if contains in r.path]
    assert calls, f"the fake never received a call to {contains!r}: {[r.path for r in fake.received]}"
    return calls[-1]


def test_non_streaming_to_vertex_is_signed_and_shaped_as_vertex_requires(gateway, fake):
    message = client(gateway).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "What is the capital of Peru?"}],
    )
    assert message.content[0].type == "text"
    assert "What is the capital of Peru?" in message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0

    seen = last_call(fake, ":rawPredict")
    assert seen.path == (
        "/v1/projects/test-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    )
    assert "model" not in seen.body
    assert seen.body["anthropic_version"] == "vertex-2023-10-16"
    bearer = seen.headers["authorization"].removeprefix("Bearer ")
    assert bearer in {t.token for t in fake.tokens_issued}
    assert "x-api-key" not in seen.headers  # the client's key never leaves the gateway
    assert CLIENT_KEY not in str(seen.headers)


def test_streaming_with_a_forced_tool_to_vertex(gateway, fake):
    with client(gateway).messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=256,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Lima?"}],
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start" and "input_json" in events
    tool_use = next(b for b in final.content if b.type == "tool_use")
    assert tool_use.name == "get_weather"
    assert isinstance(tool_use.input["city"], str)
    assert final.stop_reason == "tool_use"
    seen = last_call(fake, ":streamRawPredict")
    assert seen.body["tools"][0]["name"] == "get_weather"
    assert "model" not in seen.body

    # the tool-result round trip: the fake quotes the tool result it was given
    reply = client(gateway).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "Weather in Lima?"},
            {"role": "assistant", "content": [tool_use.model_dump()]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "19 degrees, fog"}],
            },
        ],
    )
    assert "19 degrees, fog" in reply.content[0].text


def test_streaming_text_arrives_in_order(gateway):
    with client(gateway).messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "Tell me about streaming please"}],
    ) as stream:
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(deltas) > 1
    assert "".join(deltas) == final.content[0].text
    assert "Tell me about streaming please" in final.content[0].text


def test_anthropic_provider_gets_the_gateway_key_and_the_clients_betas(gateway, fake):
    message = client(gateway).messages.create(
        model="claude-haiku-4-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "hi there"}],
        extra_headers={"anthropic-beta": "prompt-caching-scope-2026-01-05"},
    )
    assert "hi there" in message.content[0].text
    seen = last_call(fake, "/v1/messages")
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == ANTHROPIC_KEY
    assert seen.body["model"] == "claude-haiku-4-5-20251001"
    assert seen.headers["anthropic-beta"] == "prompt-caching-scope-2026-01-05"


def test_count_tokens_through_vertex_puts_the_model_in_the_body_and_no_beta(gateway, fake):
    count = client(gateway).messages.count_tokens(
        model="claude-sonnet-4-5",
        messages=[{"role": "user", "content": "count me " * 50}],
        extra_headers={"anthropic-beta": "token-efficient-tools-2025-02-19"},
    )
    assert count.input_tokens > 10
    seen = last_call(fake, "count-tokens:rawPredict")
    assert seen.path.endswith("/publishers/anthropic/models/count-tokens:rawPredict")
    assert seen.body["model"] == "claude-sonnet-4-5@20250929"
    assert "anthropic-beta" not in seen.headers


def test_dated_anthropic_ids_are_respelled_for_vertex(gateway, fake):
    client(gateway).messages.create(
        model="claude-3-7-sonnet-20250219", max_tokens=16, messages=[{"role": "user", "content": "x"}]
    )
    assert last_call(fake, ":rawPredict").path.endswith("/models/claude-3-7-sonnet@20250219:rawPredict")


def test_upstream_errors_reach_the_sdk_with_status_and_anthropic_shape(gateway, fake):
    fake.inject(status=400, times=1, body=None)
    with pytest.raises(anthropic.BadRequestError) as info:
        client(gateway).messages.create(
            model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 400
    assert info.value.body["type"] == "error"


def test_fallback_to_anthropic_when_vertex_is_overloaded(gateway, fake):
    fake.inject(status=529, times=3, path_contains=":rawPredict", retry_after_ms=1)  # the first try and 2 retries
    response = client(gateway).messages.with_raw_response.create(
        model="claude-opus-4-1", max_tokens=16, messages=[{"role": "user", "content": "fall back"}]
    )
    assert response.headers["x-anyray-provider"] == "anthropic"
    assert response.headers["x-anyray-model"] == "claude-opus-4-1-20250805"
    assert "fall back" in response.parse().content[0].text


def test_models_and_batches_are_proxied_to_anthropic(gateway, fake):
    models = client(gateway).models.list()
    assert len(models.data) > 0
    seen = last_call(fake, "/v1/models")
    assert seen.headers["x-api-key"] == ANTHROPIC_KEY
    batch = client(gateway).messages.batches.create(
        requests=[
            {
                "custom_id": "one",
                "params": {
                    "model": "claude-haiku-4-5",
                    "max_tokens": 8,
                    "messages": [{"role": "user", "content": "x"}],
                },
            }
        ]
    )
    assert batch.id
    assert client(gateway).messages.batches.retrieve(batch.id).id == batch.id


def test_vertex_shaped_clients_are_served_too(gateway, fake):
    """A client in Vertex mode (CLAUDE_CODE_USE_VERTEX=1) points ANTHROPIC_VERTEX_BASE_URL at the gateway."""
    vertex_client = anthropic.AnthropicVertex(
        base_url=f"{gateway.url}/v1", region="us-east5", project_id="client-side-project", access_token="unused"
    )
    message = vertex_client.messages.create(
        model="claude-sonnet-4-5@20250929", max_tokens=32, messages=[{"role": "user", "content": "via vertex"}]
    )
    assert "via vertex" in message.content[0].text
    seen = last_call(fake, ":rawPredict")
    # the gateway's own project and credentials are used, not the client's
    assert "/projects/test-proj/" in seen.path
    assert seen.headers["authorization"] != "Bearer unused"


def test_each_finished_call_carries_the_upstream_usage_streamed_or_not(gateway):
    finished = []
    gateway.gateway.listeners.append(finished.append)
    sdk = client(gateway)
    plain = sdk.messages.create(model="claude-sonnet-4-5", max_tokens=32, messages=[{"role": "user", "content": "a"}])
    with sdk.messages.stream(
        model="claude-sonnet-4-5", max_tokens=32, messages=[{"role": "user", "content": "b"}]
    ) as stream:
        streamed = stream.get_final_message()
    deadline = time.monotonic() + 10  # the listener runs after the last byte, which can trail the SDK's return
    while len(finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [c.stream for c in finished] == [False, True]
    for call, message in zip(finished, (plain, streamed), strict=True):
        assert call.status == 200 and not call.partial
        assert call.usage.input_tokens == message.usage.input_tokens
        assert call.usage.output_tokens == message.usage.output_tokens
        assert call.target.provider == "vertex" and call.upstream_model == "claude-sonnet-4-5@20250929"
        assert call.first_byte_s is not None and call.duration_s >= call.first_byte_s


def test_a_stream_cut_upstream_ends_with_an_error_event_and_a_partial_call(gateway, fake):
    finished = []
    gateway.gateway.listeners.append(finished.append)
    fake.cut_stream_after(5)
    stream = client(gateway).messages.stream(
        model="claude-sonnet-4-5", max_tokens=32, messages=[{"role": "user", "content": "one two three four"}]
    )
    with pytest.raises(anthropic.APIStatusError, match="ended before the message was complete"), stream as events:
        for _ in events:
            pass
    for _ in range(100):  # the record is made just after the error event left, which can trail the SDK
        if finished:
            break
        time.sleep(0.05)
    assert finished[-1].partial and finished[-1].status == 502
    assert finished[-1].usage.input_tokens > 0  # what message_start said before the cut
    # and the gateway is fine afterwards
    assert (
        client(gateway)
        .messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": "after"}])
        .content[0]
        .text
    )


def test_a_stream_is_relayed_as_it_arrives_not_buffered(gateway, fake):
    """The upstream pauses mid-answer until the client has read its first text: a buffering hop deadlocks."""
    gate = fake.hold_stream_after(4)  # message_start, content_block_start, ping, first text delta
    with client(gateway).messages.stream(
        model="claude-sonnet-4-5", max_tokens=32, messages=[{"role": "user", "content": "one two three four five"}]
    ) as stream:
        first = next(iter(stream.text_stream))
        assert not gate.is_set()
        assert first.startswith("Hello")
        gate.set()
        rest = "".join(stream.text_stream)
    assert (first + rest).endswith("one two three four five.")


def test_a_client_that_leaves_mid_stream_closes_the_upstream_call(gateway, fake):
    finished = []
    gateway.gateway.listeners.append(finished.append)
    gate = fake.hold_stream_after(4)
    with client(gateway).messages.stream(
        model="claude-sonnet-4-5", max_tokens=32, messages=[{"role": "user", "content": "leave early"}]
    ) as stream:
        next(iter(stream.text_stream))
    # the client closed its connection while the upstream was still mid-answer
    for _ in range(100):
        if finished:
            break
        time.sleep(0.05)
    gate.set()
    assert finished and finished[0].status == 499 and finished[0].partial


def test_a_provider_key_with_a_trailing_newline_is_sent_without_it(fake, sa_key_file, start_gateway):
    """`echo $KEY | base64` into a Kubernetes Secret leaves a newline no header may carry: it is trimmed."""
    config = vertex_and_anthropic_config(fake, sa_key_file)
    config["providers"]["anthropic"]["api_key"] = "${PASTED_KEY}"
    gw = start_gateway(config, env={"PASTED_KEY": ANTHROPIC_KEY + "\n"})
    message = client(gw).messages.create(
        model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi there"}]
    )
    assert "hi there" in message.content[0].text
    assert last_call(fake, "/v1/messages").headers["x-api-key"] == ANTHROPIC_KEY
