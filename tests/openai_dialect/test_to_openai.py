"""The real `openai` SDK through the gateway to the fake OpenAI API: forwarded, not translated.

What the fake received is compared with what the client sent: the body byte for byte where the gateway
had no reason to change it, the gateway's key instead of the client's, the contract headers kept.
"""

from __future__ import annotations

import asyncio
import json

import anthropic
import httpx
import openai
import pytest

from tests.conftest import ANTHROPIC_KEY
from tests.openai_dialect.conftest import (
    CLIENT_KEY,
    OPENAI_KEY,
    all_providers_config,
    last_call,
    record_calls,
    wait_for_calls,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_a_chat_request_is_forwarded_as_the_exact_bytes_sent(gw, fake_openai):
    # odd spacing and key order: a re-serialised body could not keep them
    raw = b'{ "messages" : [ {"content": "hi there", "role": "user"} ],\n  "model": "gpt-4o", "seed": 7 }'
    headers = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
    response = httpx.post(gw.url + "/v1/chat/completions", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from fake-openai! You said: hi there."
    assert response.headers["x-anyray-provider"] == "openai"
    seen = last_call(fake_openai, "/chat/completions")
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["content-length"] == str(len(raw))
    assert seen.body == json.loads(raw)
    assert seen.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert CLIENT_KEY not in str(seen.headers)


def test_sdk_non_streaming_and_usage_recorded(gw, client, fake_openai):
    calls = record_calls(gw)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello openai"}], seed=3, n=1
    )
    assert completion.choices[0].message.content == "Hello from fake-openai! You said: hello openai."
    assert completion.system_fingerprint == "fp_fake"  # OpenAI's answer, untouched
    seen = last_call(fake_openai, "/chat/completions").body
    assert seen == {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello openai"}], "seed": 3, "n": 1}
    (call,) = wait_for_calls(calls, 1)
    assert call.target.provider == "openai" and call.status == 200
    assert call.usage.input_tokens == completion.usage.prompt_tokens
    assert call.usage.output_tokens == completion.usage.completion_tokens


def test_streaming_without_include_usage_hides_the_usage_the_gateway_asked_for(gw, client, fake_openai):
    calls = record_calls(gw)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "stream to me please"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)  # no usage-only chunk the client did not ask for
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Hello from fake-openai! You said: stream to me please."
    assert len(chunks) > 3
    # the gateway asked for usage upstream, for its own records
    assert last_call(fake_openai, "/chat/completions").body["stream_options"] == {"include_usage": True}
    (call,) = wait_for_calls(calls, 1)
    assert call.stream and call.status == 200 and not call.partial
    assert call.usage.input_tokens > 0 and call.usage.output_tokens > 0


def test_streaming_with_include_usage_passes_the_usage_chunk(gw, client, fake_openai):
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "count me"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens > 0
    whole = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "count me"}])
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole.choices[0].message.content


def test_streamed_tool_call_fragments_reassemble(gw, client):
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[WEATHER],
            tool_choice="required",
            stream=True,
        )
    )
    fragments = [
        tc.function.arguments
        for c in chunks
        for tc in c.choices[0].delta.tool_calls or ()
        if tc.function and tc.function.arguments
    ]
    assert len(fragments) > 1
    assert set(json.loads("".join(fragments))) == {"city"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_async_client(gw, aclient):
    async def run():
        completion = await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "async"}]
        )
        stream = await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "async stream"}], stream=True
        )
        return completion, [c async for c in stream]

    completion, chunks = asyncio.run(run())
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].message.content == "Hello from fake-openai! You said: async."
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from fake-openai! You said: async stream."
    )


def test_organization_and_project_headers(fake_openai, sa_key_file, start_gateway, gw):
    client = openai.OpenAI(
        base_url=gw.url + "/v1", api_key=CLIENT_KEY, organization="org-client", project="proj-client", max_retries=0
    )
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    seen = last_call(fake_openai, "/chat/completions").headers
    assert seen["openai-organization"] == "org-client" and seen["openai-project"] == "proj-client"

    config = all_providers_config(fake_openai, sa_key_file)
    config["providers"]["openai"].update(organization="org-gateway", project="proj-gateway")
    configured = start_gateway(config)
    client = openai.OpenAI(base_url=configured.url + "/v1", api_key=CLIENT_KEY, organization="org-client")
    client.embeddings.create(model="text-embedding-3-small", input="x")
    seen = last_call(fake_openai, "/embeddings").headers
    assert seen["openai-organization"] == "org-gateway" and seen["openai-project"] == "proj-gateway"


def test_embeddings_reach_the_upstream_unchanged(gw, client, fake_openai):
    result = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    assert [d.index for d in result.data] == [0, 1]
    assert len(result.data[0].embedding) == 64 and result.data[0].embedding != result.data[1].embedding
    seen = last_call(fake_openai, "/embeddings")
    assert seen.path == "/v1/embeddings"
    assert seen.body["input"] == ["alpha", "beta"] and seen.body["model"] == "text-embedding-3-small"
    assert seen.headers["authorization"] == f"Bearer {OPENAI_KEY}"

    raw = b'{"input":  "exact bytes",   "model": "text-embedding-3-small", "encoding_format": "float"}'
    headers = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
    response = httpx.post(gw.url + "/v1/embeddings", content=raw, headers=headers)
    assert response.status_code == 200
    seen = last_call(fake_openai, "/embeddings")
    assert seen.headers["content-length"] == str(len(raw)) and seen.body == json.loads(raw)


def test_other_openai_paths_are_proxied(gw, client, fake_openai):
    moderation = client.moderations.create(input="is this fine?")
    assert moderation.results[0].flagged is False
    assert last_call(fake_openai, "/moderations").body == {"input": "is this fine?"}

    uploaded = client.files.create(file=("batch.jsonl", b'{"custom_id": "1"}\n'), purpose="batch")
    assert uploaded.filename == "batch.jsonl" and uploaded.purpose == "batch"
    seen = last_call(fake_openai, "/v1/files")
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert '{"custom_id": "1"}' in seen.body
    assert seen.headers["authorization"] == f"Bearer {OPENAI_KEY}"

    # a path the upstream does not have: its own 404 comes back
    response = httpx.get(gw.url + "/v1/vector_stores/vs_1", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert response.status_code == 404 and response.text == "Not Found"  # the fake's own 404, not the gateway's


def test_models_lists_configured_and_upstream_models_and_anthropic_clients_still_reach_anthropic(
    gw, client, fake_openai
):
    listed = {m.id: m.owned_by for m in client.models.list()}
    # exact keys of the model map, and the OpenAI provider's models that `gpt-*` sends there
    assert listed == {
        "gpt-4o": "openai",
        "text-embedding-3-small": "openai",
        "claude-sonnet-4-5": "vertex",
        "claude-haiku-4-5": "anthropic",
        "claude-opus-4-1": "vertex",
        "gpt-4o-mini": "openai",
    }
    assert client.models.retrieve("claude-sonnet-4-5").owned_by == "vertex"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("llama-3")
    assert info.value.body["code"] == "model_not_found"

    # the same paths, from the Anthropic SDK (anthropic-version header): Anthropic's answer
    claude = anthropic.Anthropic(base_url=gw.url, api_key="sk-ant-client", max_retries=0)
    ids = [m.id for m in claude.models.list()]
    assert ids == ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
    seen = last_call(fake_openai, "/v1/models")
    assert seen.headers["x-api-key"] == ANTHROPIC_KEY and "anthropic-version" in seen.headers
    batch = claude.messages.batches.retrieve("msgbatch_01")
    assert batch.id == "msgbatch_01"


def test_a_forwarded_stream_is_relayed_as_it_arrives(gw, client, fake_openai):
    """The upstream pauses mid-answer until the client has read its first text: a buffering hop deadlocks."""
    gate = fake_openai.hold_stream_after(2)  # the role chunk and the first text chunk
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "one two three four five"}], stream=True
    )
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.role == "assistant"
    first = next(chunks).choices[0].delta.content
    assert not gate.is_set()
    assert first.startswith("Hello")
    gate.set()
    rest = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert (first + rest).endswith("one two three four five.")


def test_a_forwarded_stream_cut_by_the_upstream_ends_with_an_error(gw, client, fake_openai):
    calls = record_calls(gw)
    fake_openai.cut_stream_after(3)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "a long answer please"}], stream=True
    )
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert "ended before the answer was complete" in info.value.message
    (cut,) = wait_for_calls(calls, 1)
    assert cut.status == 502 and cut.partial
    again = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "back"}])
    assert again.choices[0].message.content == "Hello from fake-openai! You said: back."
