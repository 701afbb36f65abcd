"""Vertex's sharp edges: unknown `anthropic-beta` values, unsupported tool types, short-lived tokens.

Fake: anyray.testing.FakeUpstream's Vertex paths, which reject unknown betas and tool types with
Vertex's own messages, and its Google token endpoint, which google-auth's real code calls.
"""

from __future__ import annotations

import time

import anthropic
import pytest

from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config

CLAUDE_CODE_BETAS = (
    "claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,"
    "prompt-caching-scope-2026-01-05,effort-2025-11-24"
)


def _betas_sent(fake, model: str) -> list[str | None]:
    return [r.headers.get("anthropic-beta") for r in fake.received if f"/models/{model}:" in r.path]


def _ask(url: str, model: str, betas: str) -> anthropic.types.Message:
    client = anthropic.Anthropic(base_url=url, api_key=CLIENT_KEY, max_retries=0)
    return client.messages.create(
        model=model,
        max_tokens=32,
        messages=[{"role": "user", "content": "hello"}],
        extra_headers={"anthropic-beta": betas},
    )


def test_only_allowed_betas_are_sent_and_a_rejected_one_is_learned_per_model(fake, sa_key_file, start_gateway):
    # the config allows context-1m, but this model on Vertex refuses it (as happens per model and region)
    fake.vertex_rejected_betas = {"claude-sonnet-4-5@20250929": {"context-1m-2025-08-07"}}
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))

    first = _ask(gw.url, "claude-sonnet-4-5", CLAUDE_CODE_BETAS)
    assert "hello" in first.content[0].text
    sent = _betas_sent(fake, "claude-sonnet-4-5@20250929")
    # allow-list filtered Claude Code's betas; Vertex refused context-1m once; the retry went without it
    assert sent == ["context-1m-2025-08-07,interleaved-thinking-2025-05-14", "interleaved-thinking-2025-05-14"]

    _ask(gw.url, "claude-sonnet-4-5", CLAUDE_CODE_BETAS)
    sent = _betas_sent(fake, "claude-sonnet-4-5@20250929")
    assert len(sent) == 3, "the learned beta must never be sent again: one call, no rejection"
    assert sent[-1] == "interleaved-thinking-2025-05-14"

    # learned for that model only: another model still gets the beta
    _ask(gw.url, "claude-opus-4-1", CLAUDE_CODE_BETAS)
    assert _betas_sent(fake, "claude-opus-4-1@20250805") == ["context-1m-2025-08-07,interleaved-thinking-2025-05-14"]


def test_pass_all_mode_learns_every_beta_vertex_does_not_know(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, providers__vertex__betas=["*"]))
    for _ in range(3):
        assert "hello" in _ask(gw.url, "claude-sonnet-4-5", CLAUDE_CODE_BETAS).content[0].text
    sent = _betas_sent(fake, "claude-sonnet-4-5@20250929")
    assert sent[0] == CLAUDE_CODE_BETAS.replace(" ", "")
    assert sent[1] == sent[2] == sent[3] == "context-1m-2025-08-07,interleaved-thinking-2025-05-14"
    assert len(sent) == 4  # one rejection in all, then straight through
    rejections = [r for r in fake.responses if r.status == 400]
    assert len(rejections) == 1


def test_an_unused_tool_type_vertex_rejects_is_dropped_and_remembered(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    tools = [
        {"name": "lookup", "description": "d", "input_schema": {"type": "object", "properties": {}}},
        {"type": "memory_20250818", "name": "memory"},
    ]
    for _ in range(2):
        message = client.beta.messages.create(
            model="claude-sonnet-4-5", max_tokens=32, tools=tools, messages=[{"role": "user", "content": "hi"}]
        )
        assert "hi" in message.content[0].text
    calls = [r for r in fake.received if ":rawPredict" in r.path]
    assert [len(c.body["tools"]) for c in calls] == [2, 1, 1]
    assert calls[-1].body["tools"][0]["name"] == "lookup"


def test_a_used_tool_vertex_rejects_is_a_clear_error_not_a_silent_drop(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.beta.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=32,
            tools=[{"type": "memory_20250818", "name": "memory"}],
            messages=[
                {"role": "user", "content": "remember"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "toolu_1", "name": "memory", "input": {}}],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]},
            ],
        )
    message = info.value.body["error"]["message"]
    assert "memory_20250818" in message and "cannot be dropped" in message


def test_a_short_lived_token_is_refreshed_ahead_of_expiry_and_requests_keep_flowing(fake, sa_key_file, start_gateway):
    fake.token_lifetime_s = 4  # refreshed half-way through, in the background
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    deadline = time.monotonic() + 7
    answered = 0
    while time.monotonic() < deadline:
        message = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": f"n{answered}"}]
        )
        assert f"n{answered}" in message.content[0].text
        answered += 1
        time.sleep(0.2)
    assert answered >= 20
    assert len(fake.tokens_issued) >= 3, "the token was not refreshed before it expired"
    used = {r.headers["authorization"] for r in fake.received if ":rawPredict" in r.path}
    assert len(used) >= 2, "requests kept using one token past its life"
    assert gw.gateway.providers["vertex"].tokens.refresh_count == len(fake.tokens_issued)
