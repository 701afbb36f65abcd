"""The fakes are only worth what the real clients accept: drive them directly with the real SDKs."""

from __future__ import annotations

import json

import anthropic
import google.auth.transport.requests
import google.oauth2.service_account
import httpx
import openai
import pytest

from anyray.testing import make_service_account_key
from tests.conftest import ANTHROPIC_KEY

LONG_SYSTEM = "You are a careful assistant. " * 300  # ~2,000 tokens: above the minimum cacheable length


def test_anthropic_vertex_sdk_with_real_google_auth_against_the_fake(fake):
    info = make_service_account_key(token_uri=f"{fake.url}/token")
    fake.trust_service_account(info)
    creds = google.oauth2.service_account.Credentials.from_service_account_info(
        info, scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    client = anthropic.AnthropicVertex(
        base_url=f"{fake.url}/v1", region="us-east5", project_id="p1", credentials=creds, max_retries=0
    )
    message = client.messages.create(
        model="claude-sonnet-4-5@20250929", max_tokens=20, messages=[{"role": "user", "content": "ping"}]
    )
    assert message.content[0].text == "Hello from fake-vertex! You said: ping."
    assert fake.received[-1].path.endswith(
        "/projects/p1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    )
    assert creds.token in {t.token for t in fake.tokens_issued}


def test_an_untrusted_key_and_a_forged_token_are_refused(fake):
    fake.trust_service_account(make_service_account_key(token_uri=f"{fake.url}/token"))
    stranger = make_service_account_key(token_uri=f"{fake.url}/token")
    creds = google.oauth2.service_account.Credentials.from_service_account_info(
        stranger, scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_grant"):
        creds.refresh(google.auth.transport.requests.Request())
    response = httpx.post(
        f"{fake.url}/v1/projects/p/locations/l/publishers/anthropic/models/m:rawPredict",
        json={
            "anthropic_version": "vertex-2023-10-16",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
        },
        headers={"authorization": "Bearer ya29.forged"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_prompt_cache_writes_then_reads_and_refuses_a_fifth_breakpoint(fake):
    client = anthropic.Anthropic(base_url=fake.url, api_key=ANTHROPIC_KEY, max_retries=0)
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]
    first = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=20, system=system, messages=[{"role": "user", "content": "one"}]
    )
    assert first.usage.cache_creation_input_tokens > 1024 and first.usage.cache_read_input_tokens == 0
    second = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=20, system=system, messages=[{"role": "user", "content": "two"}]
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0

    short = [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]
    too_short = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=20, system=short, messages=[{"role": "user", "content": "x"}]
    )
    assert too_short.usage.cache_creation_input_tokens == 0  # below the minimum cacheable length

    blocks = [{"type": "text", "text": f"b{i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="A maximum of 4 blocks with cache_control"):
        client.messages.create(
            model="claude-sonnet-4-5", max_tokens=20, system=blocks, messages=[{"role": "user", "content": "x"}]
        )


def test_injected_faults_and_a_cut_stream(fake):
    client = anthropic.Anthropic(base_url=fake.url, api_key=ANTHROPIC_KEY, max_retries=0)
    fake.inject(status=529, times=1, retry_after=2)
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"
    assert info.value.response.headers["retry-after"] == "2"

    fake.cut_stream_after(4)
    # the SDK surfaces its HTTP library's protocol error while iterating: the body ended mid-chunk
    stream = client.messages.stream(model="m", max_tokens=5, messages=[{"role": "user", "content": "x y z"}])
    with pytest.raises(Exception, match="incomplete chunked read"), stream as events:
        for _ in events:
            pass


def test_openai_sdk_against_the_fake(fake):
    client = openai.OpenAI(base_url=f"{fake.url}/v1", api_key="sk-any", max_retries=0)
    completion = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hey"}])
    assert completion.choices[0].message.content == "Hello from fake-openai! You said: hey."
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "stream me please now"}],
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
                    },
                }
            ],
            tool_choice="required",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    arguments = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(arguments) == {"q": "example"}
    assert chunks[-1].usage.prompt_tokens > 0
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 64
    assert vectors.data[0].embedding != vectors.data[1].embedding


def test_the_openai_fake_types_tools_like_the_api(fake):
    """Found by the fuzz test: a non-array `tools` was a 500 from the fake, where the API answers 400."""
    client = openai.OpenAI(base_url=f"{fake.url}/v1", api_key="sk-any", max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], tools=True)
    assert refused.value.body["param"] == "tools" and refused.value.body["code"] == "invalid_type"
