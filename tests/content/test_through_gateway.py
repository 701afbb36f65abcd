"""The content strategies as the gateway applies them (in-process optimizer, defaults): real SDKs, the fake
upstreams, which reject a broken tool_use/tool_result pairing the way the APIs do."""

from __future__ import annotations

import json
import re

import anthropic
import openai
import orjson
import pytest
from benchmarks.workloads import load_all

from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config
from tests.content.conftest import make_optimizer, optimize

OPENAI_KEY = "sk-proj-gatewayopenaikey000000000000000000000000000000000000"
BY_NAME = {w.name: w for w in load_all()}


def tool_ids(messages: list[dict]) -> list[list[str]]:
    return [[b.get("id") or b.get("tool_use_id") for b in m["content"]
             if isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result")]
            for m in messages if isinstance(m["content"], list)]


def test_shrunk_tool_output_reaches_the_upstream_with_its_facts_and_valid_pairs(fake, gateway):
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    applied: set[str] = set()
    for name in ("pytest_rerun_loop", "reread_after_edits", "app_log_error"):
        w = BY_NAME[name]
        body = {k: v for k, v in w.request.items() if k != "model"}
        raw = client.messages.with_raw_response.create(model="claude-sonnet-4-5", **body)
        assert raw.parse().stop_reason == "end_turn"
        result = json.loads(raw.headers["x-anyray-optimization-result"])
        assert result["status"] == "optimized"
        sent = fake.received[-1].body
        text = orjson.dumps(sent["messages"]).decode()
        assert "[anyray:" in text
        assert all(orjson.dumps(f).decode()[1:-1] in text for f in w.facts)
        assert len(text) < len(orjson.dumps(w.request["messages"])) * 0.3
        # every id the client sent arrives, in the same blocks, in the same order
        assert tool_ids(sent["messages"]) == tool_ids(w.request["messages"])
        applied.update(result["applied"])
    assert {"command_digest", "context_dedupe", "context_compression"} <= applied


def test_the_fake_rejects_broken_pairs_like_the_api(fake, gateway):
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    use = {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_a", "name": "Bash", "input": {}}]}
    with pytest.raises(anthropic.BadRequestError) as missing:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[
            {"role": "user", "content": "go"}, use, {"role": "user", "content": "no result here"}])
    assert "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_a" in str(missing.value)
    with pytest.raises(anthropic.BadRequestError) as orphan:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[
            {"role": "user", "content": "go"}, use,
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "ok"},
                                         {"type": "tool_result", "tool_use_id": "toolu_zzz", "content": "?"}]}])
    assert "unexpected `tool_use_id` found in `tool_result` blocks: toolu_zzz" in str(orphan.value)


def test_the_openai_fake_rejects_orphan_tool_messages_and_accepts_the_optimized_workload(fake, sa_key_file,
                                                                                         start_gateway):
    """The gateway does not call the optimizer on /v1/chat/completions yet (anthropic_routes only): the
    optimized OpenAI-shaped request is produced by the optimizer itself and sent through the gateway."""
    config = vertex_and_anthropic_config(fake, sa_key_file)
    config["providers"]["openai"] = {"api_key": OPENAI_KEY, "base_url": f"{fake.url}/v1"}
    config["models"]["gpt-4o"] = {"provider": "openai", "model": "gpt-4o"}
    gateway = start_gateway(config)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    w = BY_NAME["go_test"]
    optimized = make_optimizer()
    request = optimize(optimized, w.request, None, w.endpoint)["request"]
    client.chat.completions.create(model="gpt-4o", messages=request["messages"], tools=request["tools"])
    text = orjson.dumps(fake.received[-1].body["messages"]).decode()
    assert re.search(r"passing/progress lines [0-9]+-[0-9]+(?: of [0-9,]+)?; tests:", text)
    assert all(orjson.dumps(f).decode()[1:-1] in text for f in w.facts)
    with pytest.raises(openai.BadRequestError) as broken:
        client.chat.completions.create(model="gpt-4o", messages=[
            {"role": "user", "content": "go"}, {"role": "tool", "tool_call_id": "call_x", "content": "orphan"}])
    assert "must be a response to a preceeding message with 'tool_calls'" in str(broken.value)
