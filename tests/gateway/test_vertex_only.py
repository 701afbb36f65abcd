"""A gateway that reaches Claude through Vertex only (the README's main setup: no Anthropic or OpenAI key)
answers the Anthropic API's other paths itself: the models from its route table, and a clear refusal
naming why for what Vertex has no counterpart for; a Responses API call for a Claude model is refused with
what to call instead, never sent to OpenAI. Clients: the real Anthropic and OpenAI SDKs. Upstream: the
Vertex fake of anyray.testing."""

from __future__ import annotations

import anthropic
import openai
import pytest


def calls(fake) -> list[str]:
    """What reached the upstream, the credentials' token exchange aside."""
    return [r.path for r in fake.received if r.path != "/token"]


@pytest.fixture
def vertex_only(fake, sa_key_file, start_gateway):
    return start_gateway({
        "providers": {"vertex": {"project": "proj-v", "location": "us-east5", "base_url": f"{fake.url}/v1",
                                 "credentials_file": str(sa_key_file)}},
        "models": {"claude-sonnet-4-5": {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"},
                   "claude-*": {"provider": "vertex"}},
    })


def test_models_are_listed_from_the_route_table(vertex_only, fake):
    client = anthropic.Anthropic(base_url=vertex_only.url, api_key="unused", max_retries=0)
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "claude-sonnet-4-5"  # the map's exact ids first
    assert {"claude-opus-4-1", "claude-haiku-4-5"} <= set(ids) and all(i.startswith("claude-") for i in ids)
    assert len(ids) == len(set(ids))
    assert client.models.retrieve("claude-opus-4-1").id == "claude-opus-4-1"
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.models.retrieve("gpt-4o")
    assert "'gpt-4o' is not configured" in str(missing.value)
    assert calls(fake) == []  # answered by the gateway itself


def test_batches_are_refused_with_why_and_what_to_configure(vertex_only, fake):
    client = anthropic.Anthropic(base_url=vertex_only.url, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as refused:
        client.messages.batches.list()
    body = refused.value.body
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert "message batches are served by the Anthropic API only" in body["error"]["message"]
    assert "ANTHROPIC_API_KEY" in body["error"]["message"]
    assert calls(fake) == []


def test_a_responses_call_for_a_claude_model_is_refused_with_what_to_call(vertex_only, fake):
    client = openai.OpenAI(base_url=f"{vertex_only.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="claude-sonnet-4-5", input="hi")
    error = refused.value.body
    assert error["code"] == "model_not_supported" and error["param"] == "model"
    assert "call /v1/chat/completions with this model" in error["message"]
    # ... which works: Chat Completions are translated to Claude on Vertex
    reply = client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content
    assert calls(fake) == [
        "/v1/projects/proj-v/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"]
