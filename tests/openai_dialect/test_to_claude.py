"""The real `openai` SDK through the gateway to Claude: on the fake Vertex AI, and on the fake Anthropic API.

Fakes: anyray.testing.FakeUpstream. Assertions are on what the SDK parsed (OpenAI shapes only) and on
what the fake upstream received (Anthropic Messages shapes, signed by the gateway).
"""

from __future__ import annotations

import asyncio
import base64
import json

import openai
import pytest

from tests.conftest import ANTHROPIC_KEY
from tests.openai_dialect.conftest import CLIENT_KEY, all_providers_config, last_call, record_calls, wait_for_calls

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city", "unit"],
        },
    },
}
FORCE_WEATHER = {"type": "function", "function": {"name": "get_weather"}}
# a 1x1 transparent PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
VERTEX_SONNET = "/publishers/anthropic/models/claude-sonnet-4-5@20250929"


def test_non_streaming_translates_the_request_and_the_answer(gw, client, fake_openai):
    raw = client.chat.completions.with_raw_response.create(
        model="claude-sonnet-4-5",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "content": "What is the capital of Peru?"},
        ],
        max_completion_tokens=77,
        temperature=1.5,
        top_p=0.9,
        stop=["\n\nHuman:", "END"],
        user="user-42",
    )
    completion = raw.parse()
    assert raw.headers["x-anyray-provider"] == "vertex"
    assert raw.headers["x-anyray-model"] == "claude-sonnet-4-5@20250929"
    assert completion.object == "chat.completion"
    assert completion.model == "claude-sonnet-4-5"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello from fake-vertex! You said: What is the capital of Peru?."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details.cached_tokens == 0

    seen = last_call(fake_openai, ":rawPredict")
    assert seen.path.endswith(VERTEX_SONNET + ":rawPredict")
    body = seen.body
    assert body["system"] == [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Answer in English."}]
    assert body["messages"] == [{"role": "user", "content": "What is the capital of Peru?"}]
    assert body["max_tokens"] == 77
    assert body["temperature"] == 1.0  # OpenAI's 0..2 clamped to Claude's 0..1
    assert body["top_p"] == 0.9
    assert body["stop_sequences"] == ["\n\nHuman:", "END"]
    assert body["metadata"] == {"user_id": "user-42"}
    assert body["anthropic_version"] == "vertex-2023-10-16"
    for openai_only in ("model", "max_completion_tokens", "stop", "user", "stream_options"):
        assert openai_only not in body
    assert seen.headers["authorization"].removeprefix("Bearer ") in {t.token for t in fake_openai.tokens_issued}
    assert CLIENT_KEY not in str(seen.headers)


def test_streaming_deltas_concatenate_to_the_upstream_text_and_usage_comes_last(gw, client, fake_openai):
    text = "Lima is the capital of Peru, on the Pacific coast, founded in 1535 by Francisco Pizarro."
    calls = record_calls(gw)
    fake_openai.script(text)
    stream = client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=[{"role": "user", "content": "Tell me about Lima"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) > 3
    assert "".join(deltas) == text
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert len({c.id for c in chunks}) == 1
    *before, last = chunks
    assert last.choices == [] and last.usage is not None
    assert all(c.usage is None for c in before)
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens

    # the same scripted answer, not streamed, reports the same usage
    fake_openai.script(text)
    whole = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "Tell me about Lima"}]
    )
    assert whole.choices[0].message.content == text
    assert whole.usage.prompt_tokens == last.usage.prompt_tokens
    assert whole.usage.completion_tokens == last.usage.completion_tokens
    assert last_call(fake_openai, "Predict").path.endswith(":rawPredict")
    assert any(r.path.endswith(VERTEX_SONNET + ":streamRawPredict") for r in fake_openai.received)

    # the gateway's content-free call records carry the same tokens
    streamed = next(c for c in wait_for_calls(calls, 2) if c.stream)
    assert streamed.dialect == "openai" and streamed.endpoint == "/v1/chat/completions" and streamed.stream
    assert streamed.status == 200 and not streamed.partial
    assert streamed.usage.input_tokens == last.usage.prompt_tokens
    assert streamed.usage.output_tokens == last.usage.completion_tokens


def test_without_include_usage_no_usage_chunk_is_sent(gw, client):
    chunks = list(
        client.chat.completions.create(
            model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hello"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from fake-vertex! You said: hello."


def test_streamed_tool_call_reassembles_and_the_tool_result_round_trips(gw, client, fake_openai):
    question = {"role": "user", "content": "Weather in Lima?"}
    chunks = list(
        client.chat.completions.create(
            model="claude-sonnet-4-5",
            messages=[question],
            tools=[WEATHER],
            tool_choice=FORCE_WEATHER,
            parallel_tool_calls=False,
            stream=True,
        )
    )
    fragments = [
        tc.function.arguments
        for c in chunks
        if c.choices
        for tc in c.choices[0].delta.tool_calls or ()
        if tc.function and tc.function.arguments
    ]
    assert len(fragments) > 1  # arguments arrive in pieces, as Claude streams input_json_delta
    first = next(tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or () if tc.id)
    assert first.index == 0 and first.type == "function" and first.function.name == "get_weather"
    arguments = json.loads("".join(fragments))
    assert set(arguments) == {"city", "unit"} and arguments["unit"] in ("c", "f")
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    sent = last_call(fake_openai, ":streamRawPredict").body
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": WEATHER["function"]["parameters"],
        }
    ]
    assert sent["tool_choice"] == {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}

    call = {"id": first.id, "type": "function", "function": {"name": "get_weather", "arguments": "".join(fragments)}}
    reply = client.chat.completions.create(
        model="claude-sonnet-4-5",
        tools=[WEATHER],
        messages=[
            question,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": first.id, "content": "19 degrees, fog"},
        ],
    )
    assert reply.choices[0].message.content == "Hello from fake-vertex! Tool result received: 19 degrees, fog"
    assert reply.choices[0].finish_reason == "stop"
    sent = last_call(fake_openai, ":rawPredict").body
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": first.id, "name": "get_weather", "input": arguments}],
    }
    assert sent["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": first.id, "content": "19 degrees, fog"}],
    }
    assert "tool_choice" not in sent  # the client asked for none: Claude's default (auto) applies


def test_non_streaming_tool_call(gw, client):
    completion = client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=[{"role": "user", "content": "Weather in Lima?"}],
        tools=[WEATHER],
        tool_choice="required",
    )
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    (call,) = message.tool_calls
    assert call.id.startswith("toolu_") and call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"city", "unit"}


def test_images_as_data_urls_and_http_urls(gw, client, fake_openai):
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    completion = client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ],
    )
    assert completion.choices[0].message.content == (
        "Hello from fake-vertex! You said: What is in these pictures?. I see 2 images."
    )
    content = last_call(fake_openai, ":rawPredict").body["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "What is in these pictures?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_async_client_streaming_and_not_to_the_anthropic_provider(gw, aclient, fake_openai):
    async def run():
        completion = await aclient.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "async hello"}], max_tokens=20
        )
        stream = await aclient.chat.completions.create(
            model="claude-haiku-4-5",
            messages=[{"role": "user", "content": "async stream"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
        return completion, chunks

    completion, chunks = asyncio.run(run())
    assert completion.choices[0].message.content == "Hello from fake-anthropic! You said: async hello."
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from fake-anthropic! You said: async stream."
    assert chunks[-1].usage.completion_tokens > 0
    seen = [r for r in fake_openai.received if r.path == "/v1/messages"]
    assert len(seen) == 2
    assert all(r.headers["x-api-key"] == ANTHROPIC_KEY for r in seen)
    assert [r.body["model"] for r in seen] == ["claude-haiku-4-5-20251001"] * 2
    assert seen[0].body["max_tokens"] == 20 and "stream" not in seen[0].body
    assert seen[1].body["stream"] is True and seen[1].body["max_tokens"] == 4096  # translate.default_max_tokens


def test_json_schema_is_honoured_with_a_forced_tool(gw, client, fake_openai):
    schema = {
        "type": "object",
        "properties": {"capital": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["capital", "population"],
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "country_facts", "schema": schema}}
    completion = client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=[{"role": "user", "content": "Facts about Peru"}],
        response_format=response_format,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.tool_calls is None
    assert set(json.loads(choice.message.content)) == {"capital", "population"}
    sent = last_call(fake_openai, ":rawPredict").body
    assert sent["tools"][0]["name"] == "country_facts" and sent["tools"][0]["input_schema"] == schema
    assert sent["tool_choice"] == {"type": "tool", "name": "country_facts"}

    chunks = list(
        client.chat.completions.create(
            model="claude-sonnet-4-5",
            messages=[{"role": "user", "content": "Facts about Peru"}],
            response_format=response_format,
            stream=True,
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(streamed) == json.loads(choice.message.content)
    assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_json_object_becomes_a_system_instruction(gw, client, fake_openai):
    client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=[{"role": "system", "content": "You list facts."}, {"role": "user", "content": "Peru"}],
        response_format={"type": "json_object"},
    )
    system = last_call(fake_openai, ":rawPredict").body["system"]
    assert system[0] == {"type": "text", "text": "You list facts."}
    assert "JSON object" in system[1]["text"]


def test_cache_reads_are_reported_as_cached_tokens(gw, client, fake_openai):
    manual = "Section. " * 1500  # well past Claude's 1024-token minimum for a cache breakpoint
    messages = [
        {"role": "system", "content": [{"type": "text", "text": manual, "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "Summarise the manual"},
    ]
    first = client.chat.completions.create(model="claude-sonnet-4-5", messages=messages)
    second = client.chat.completions.create(model="claude-sonnet-4-5", messages=messages)
    assert last_call(fake_openai, ":rawPredict").body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens > 1000
    assert second.usage.prompt_tokens == first.usage.prompt_tokens  # cached tokens are part of the prompt


def test_unmappable_parameters_are_refused_or_dropped_and_named(gw, client, fake_openai):
    ask = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**ask, seed=7, logit_bias={"50256": -100})
    error = info.value.body
    assert error["param"] in ("seed", "logit_bias") and error["code"] == "unsupported_parameter"
    assert "seed" in error["message"] and "logit_bias" in error["message"]
    assert not [r for r in fake_openai.received if "Predict" in r.path]

    raw = client.chat.completions.with_raw_response.create(
        **ask, seed=7, logit_bias={"50256": -100}, presence_penalty=0, extra_headers={"x-anyray-drop-params": "true"}
    )
    assert set(raw.headers["x-anyray-dropped-params"].split(",")) == {"seed", "logit_bias"}
    assert raw.parse().choices[0].message.content == "Hello from fake-vertex! You said: hi."
    sent = last_call(fake_openai, ":rawPredict").body
    assert not {"seed", "logit_bias", "presence_penalty"} & set(sent)


def test_drop_params_from_the_config(fake_openai, sa_key_file, start_gateway):
    gw = start_gateway(all_providers_config(fake_openai, sa_key_file, translate__drop_params=True))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}], frequency_penalty=0.5
    )
    assert raw.headers["x-anyray-dropped-params"] == "frequency_penalty"
    # a model served by OpenAI gets every parameter, untouched
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], frequency_penalty=0.5
    )
    assert "x-anyray-dropped-params" not in raw.headers
    assert last_call(fake_openai, "/chat/completions").body["frequency_penalty"] == 0.5


def test_n_greater_than_one_is_refused_clearly(gw, client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="claude-sonnet-4-5",
            messages=[{"role": "user", "content": "hi"}],
            n=3,
            extra_headers={"x-anyray-drop-params": "true"},  # dropping n would silently change the answer
        )
    assert info.value.body["param"] == "n"
    assert "n=3" in info.value.body["message"]
    ok = client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}], n=1)
    assert len(ok.choices) == 1


def test_upstream_errors_arrive_in_openai_shape(gw, client, fake_openai):
    fake_openai.inject(400, path_contains=":rawPredict")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}])
    body = info.value.body
    assert set(body) == {"message", "type", "param", "code"}
    assert body["type"] == "invalid_request_error" and body["code"] == "invalid_request_error"
    assert "injected fault 400" in body["message"] and body["message"].startswith("vertex:")

    fake_openai.inject(429, times=3, path_contains=":rawPredict", retry_after_ms=1)  # outlasts retries
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["type"] == "rate_limit_error"


def test_fallback_from_vertex_to_anthropic_translates_the_same_way(gw, client, fake_openai):
    fake_openai.inject(529, times=3, path_contains=":rawPredict", retry_after_ms=1)
    raw = client.chat.completions.with_raw_response.create(
        model="claude-opus-4-1", messages=[{"role": "user", "content": "fall back"}]
    )
    assert raw.headers["x-anyray-provider"] == "anthropic"
    assert raw.parse().choices[0].message.content == "Hello from fake-anthropic! You said: fall back."


def test_fallback_across_dialects_openai_to_claude(fake_openai, sa_key_file, start_gateway):
    config = all_providers_config(fake_openai, sa_key_file)
    config["models"]["gpt-resilient"] = {
        "provider": "openai",
        "model": "gpt-4o",
        "fallbacks": [{"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}],
    }
    gw = start_gateway(config)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    fake_openai.inject(503, times=3, path_contains="/chat/completions", retry_after_ms=1)
    chunks = list(
        client.chat.completions.with_raw_response.create(
            model="gpt-resilient", messages=[{"role": "user", "content": "either way"}], stream=True
        ).parse()
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from fake-vertex! You said: either way."
    paths = [r.path for r in fake_openai.received if "token" not in r.path]
    assert paths[:3] == ["/v1/chat/completions"] * 3  # the first try and two retries
    assert paths[3].endswith(":streamRawPredict")


def test_a_stream_cut_by_the_upstream_ends_with_an_error_the_sdk_raises(gw, client, fake_openai):
    calls = record_calls(gw)
    fake_openai.script("one two three four five six seven eight nine ten eleven twelve")
    fake_openai.cut_stream_after(5)
    stream = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "long answer"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "ended before the answer was complete" in info.value.message
    assert "".join(received).startswith("one two three")
    (cut,) = wait_for_calls(calls, 1)
    assert cut.status == 502 and cut.partial
    # and the gateway keeps serving
    again = client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "ok?"}])
    assert again.choices[0].message.content == "Hello from fake-vertex! You said: ok?."


def test_a_translated_stream_is_relayed_as_it_arrives(gw, client, fake_openai):
    """The upstream pauses mid-answer until the client has read its first text: a buffering hop deadlocks."""
    gate = fake_openai.hold_stream_after(4)  # message_start, content_block_start, ping, first text delta
    stream = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "one two three four five"}], stream=True
    )
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.role == "assistant"
    first = next(chunks).choices[0].delta.content
    assert not gate.is_set()
    assert first.startswith("Hello")
    gate.set()
    rest = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert (first + rest).endswith("one two three four five.")


def test_a_client_that_leaves_mid_stream_closes_the_upstream_call(gw, client, fake_openai):
    calls = record_calls(gw)
    gate = fake_openai.hold_stream_after(4)
    stream = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "leave early"}], stream=True
    )
    chunks = iter(stream)
    next(chunks), next(chunks)
    stream.close()  # the client leaves while the upstream is still mid-answer
    (left,) = wait_for_calls(calls, 1)
    gate.set()
    assert left.status == 499 and left.partial
    again = client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "back"}])
    assert again.choices[0].message.content == "Hello from fake-vertex! You said: back."


def test_the_optimizer_marks_an_openai_request_for_claude_so_the_next_turn_reads_the_cache(gw, client, fake_openai):
    """No cache_control from the client: prompt_cache places it in the OpenAI shape, the translation carries it,
    and the second turn reads the prefix the first one wrote (the fake bills by Anthropic's cache rules)."""
    manual = "Section of the manual. " * 1500
    messages = [{"role": "system", "content": manual}, {"role": "user", "content": "Summarise the manual"}]
    first = client.chat.completions.create(model="claude-sonnet-4-5", messages=messages)
    sent = last_call(fake_openai, ":rawPredict").body
    assert sent["system"][-1]["cache_control"] == {"type": "ephemeral"}
    messages += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": "And the second part?"}]
    second = client.chat.completions.create(model="claude-sonnet-4-5", messages=messages)
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens > 3000
