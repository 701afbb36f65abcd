"""The retrieve tool loop inside the gateway, end to end: real SDKs, the real gateway (in-process optimizer,
defaults), and the fake upstreams playing a model that calls the retrieve tool (tests.kit.retriever).

What must hold, in both dialects, streamed and whole: the client gets one ordinary answer (no trace of the
retrieve tool), the upstream's second round carries the stashed original byte for byte, and the call's
usage (hence its spend) is every round's added up.
"""

from __future__ import annotations

import anthropic
import openai
import pytest

from anyray.testing.reply import estimate_tokens
from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config
from tests.kit.retriever import QUOTED, RetrievingModel

OPENAI_KEY = "sk-proj-gatewayopenaikey000000000000000000000000000000000000"
QUESTION = "Why did the nightly export fail? Check the log."
LOG = "\n".join(
    [f"2026-11-24T02:{i // 60:02d}:{i % 60:02d}Z INFO exporter batch={i} rows=500 written to s3://exports/part-{i}"
     for i in range(400)]
    + ["2026-11-24T02:59:59Z ERROR exporter batch=400 failed: AccessDenied on s3://exports/part-400"]
)


def _anthropic_messages() -> list[dict]:
    return [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_log1", "name": "Bash",
                                           "input": {"command": "cat /var/log/export.log"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_log1", "content": LOG}]},
    ]


def _openai_messages() -> list[dict]:
    return [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_log1", "type": "function",
             "function": {"name": "Bash", "arguments": '{"command": "cat /var/log/export.log"}'}}]},
        {"role": "tool", "tool_call_id": "call_log1", "content": LOG},
    ]


BASH_ANTHROPIC = [{"name": "Bash", "description": "Run a command.",
                   "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]
BASH_OPENAI = [{"type": "function", "function": {"name": "Bash", "description": "Run a command.",
                                                 "parameters": {"type": "object",
                                                                "properties": {"command": {"type": "string"}}}}}]


class _Accounting:
    """What the fake upstream billed for each round, from its own prompt-cache accounting and replies."""

    def __init__(self, fake, model: RetrievingModel) -> None:
        self.input: list[int] = []
        self.output: list[int] = []
        account, cached = fake.prompt_cache.account, fake.prompt_cache.openai_cached_tokens

        def spy_account(org, payload, now=None):
            usage = account(org, payload, now)
            self.input.append(usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens)
            return usage

        def spy_cached(org, prompt):
            prompt_tokens, hit = cached(org, prompt)
            self.input.append(prompt_tokens)
            return prompt_tokens, hit

        def respond(body):
            content = model(body)
            self.output.append(content)
            return content

        fake.prompt_cache.account = spy_account
        fake.prompt_cache.openai_cached_tokens = spy_cached
        fake.responder = respond


def _calls(gateway) -> list:
    seen: list = []
    gateway.gateway.listeners.append(seen.append)
    return seen


def _check_rounds(fake, calls, accounting: _Accounting, tool_result_of) -> None:
    """Two upstream rounds; the second answers the retrieve call with the original log, byte for byte."""
    rounds = [r.body for r in fake.received if r.path != "/token"]
    assert len(rounds) == 2
    first, second = rounds
    assert any(str(n).startswith("anyray_retrieve") for n in _tool_names(first))
    assert LOG not in str(first["messages"])  # elided in the first round ...
    assert tool_result_of(second["messages"][-1]) == LOG  # ... and handed back whole when asked for
    [call] = calls
    decision = next(d for d in call.decisions if d["kind"] == "retrieve_tool")
    assert (decision["rounds"], decision["retrievals"], decision["found"]) == (2, 1, 1)
    usage = call.usage
    assert usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens == sum(
        accounting.input)
    assert len(accounting.input) == 2 and accounting.input[1] > accounting.input[0]


def _tool_names(body) -> list[str]:
    return [t.get("name") or t["function"]["name"] for t in body.get("tools") or ()]


def _anthropic_result(message) -> str:
    [block] = message["content"]
    return block["content"]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_client_gets_one_answer_after_the_model_retrieved(fake, gateway, stream):
    model = RetrievingModel()
    accounting = _Accounting(fake, model)
    calls = _calls(gateway)
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    asked = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": BASH_ANTHROPIC,
             "messages": _anthropic_messages()}
    if stream:
        with client.messages.stream(**asked) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**asked)
    assert message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text", "text"]  # no tool_use of ours reaches the client
    assert message.content[0].text == "Let me read the part that was left out."
    assert message.content[1].text == f"Retrieved: {LOG[:QUOTED]}"
    _check_rounds(fake, calls, accounting, _anthropic_result)
    # the client is told what all rounds cost, and the output tokens of both replies count
    assert message.usage.output_tokens == sum(max(1, estimate_tokens(c) // 2) for c in accounting.output)
    assert calls[0].usage.output_tokens == message.usage.output_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_openai_client_of_claude_gets_one_answer_after_the_model_retrieved(fake, gateway, stream):
    model = RetrievingModel()
    accounting = _Accounting(fake, model)
    calls = _calls(gateway)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    asked = {"model": "claude-sonnet-4-5", "tools": BASH_OPENAI, "messages": _openai_messages()}
    if stream:
        chunks = list(client.chat.completions.create(**asked, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
    else:
        completion = client.chat.completions.create(**asked)
        text, finish = completion.choices[0].message.content, [completion.choices[0].finish_reason]
        assert not completion.choices[0].message.tool_calls
    assert finish == ["stop"]
    assert text.endswith(f"Retrieved: {LOG[:QUOTED]}")
    _check_rounds(fake, calls, accounting, _anthropic_result)


@pytest.mark.parametrize("stream", [False, True])
def test_openai_client_of_an_openai_model_gets_one_answer_after_the_model_retrieved(
        fake, sa_key_file, start_gateway, stream):
    config = vertex_and_anthropic_config(fake, sa_key_file)
    config["providers"]["openai"] = {"api_key": OPENAI_KEY, "base_url": f"{fake.url}/v1"}
    config["models"]["gpt-4o"] = {"provider": "openai", "model": "gpt-4o"}
    gateway = start_gateway(config)
    model = RetrievingModel()
    accounting = _Accounting(fake, model)
    calls = _calls(gateway)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    asked = {"model": "gpt-4o", "tools": BASH_OPENAI, "messages": _openai_messages()}
    if stream:
        chunks = list(client.chat.completions.create(**asked, stream=True, stream_options={"include_usage": True}))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
        [usage] = [c.usage for c in chunks if c.usage is not None]
    else:
        completion = client.chat.completions.create(**asked)
        text, usage = completion.choices[0].message.content, completion.usage
        assert completion.choices[0].finish_reason == "stop" and not completion.choices[0].message.tool_calls
    assert text.endswith(f"Retrieved: {LOG[:QUOTED]}")
    assert usage.prompt_tokens == sum(accounting.input)  # the client is told what both rounds cost
    _check_rounds(fake, calls, accounting, lambda message: message["content"])


def _ask(gateway, **overrides):
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    asked = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": BASH_ANTHROPIC,
             "messages": _anthropic_messages(), **overrides}
    with client.messages.stream(**asked) as events:
        return events.get_final_message()


def _model_calls(fake) -> list[dict]:
    return [r.body for r in fake.received if r.path != "/token"]


def test_a_client_tool_named_like_ours_is_left_alone(fake, gateway):
    fake.responder = RetrievingModel()
    clash = {"name": "anyray_retrieve", "description": "the client's own", "input_schema": {"type": "object"}}
    message = _ask(gateway, tools=[*BASH_ANTHROPIC, clash])
    assert message.content[-1].text == f"Retrieved: {LOG[:QUOTED]}"
    first, second = _model_calls(fake)
    assert _tool_names(first) == ["Bash", "anyray_retrieve", "anyray_retrieve_2"]
    assert first["tools"][1] == clash  # the client's tool, as it sent it
    assert second["messages"][-2]["content"][-1]["name"] == "anyray_retrieve_2"


def test_a_forced_client_tool_gets_no_retrieve_tool_beside_it(fake, gateway):
    fake.responder = RetrievingModel()
    message = _ask(gateway, tool_choice={"type": "tool", "name": "Bash"})
    [sent] = _model_calls(fake)
    assert _tool_names(sent) == ["Bash"] and "[anyray:" in str(sent["messages"])
    assert [b.type for b in message.content] == ["tool_use"] and message.content[0].name == "Bash"


@pytest.mark.parametrize("stream", [False, True])
def test_a_round_that_also_calls_a_client_tool_ends_there_without_our_call(fake, gateway, stream):
    def both(body):
        name = _tool_names(body)[-1]
        return [{"type": "text", "text": "Two things."},
                {"type": "tool_use", "id": "toolu_ours", "name": name, "input": {"handle": "h_0000000000000000"}},
                {"type": "tool_use", "id": "toolu_theirs", "name": "Bash", "input": {"command": "ls"}}]

    fake.responder = both
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    asked = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": BASH_ANTHROPIC,
             "messages": _anthropic_messages()}
    if stream:  # the SDK files blocks by index: ours left out, the client's must come next, as index 1
        with client.messages.stream(**asked) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**asked)
    assert len(_model_calls(fake)) == 1
    assert [(b.type, getattr(b, "name", None)) for b in message.content] == [("text", None), ("tool_use", "Bash")]
    assert message.stop_reason == "tool_use" and message.content[1].input == {"command": "ls"}


def test_rounds_are_bounded(fake, sa_key_file, start_gateway):
    gateway = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, gateway__retrieve__max_rounds=2))
    calls = _calls(gateway)
    fake.responder = RetrievingModel(times=10)
    message = _ask(gateway)
    assert len(_model_calls(fake)) == 2
    assert message.stop_reason == "end_turn" and all(b.type == "text" for b in message.content)
    decision = next(d for d in calls[0].decisions if d["kind"] == "retrieve_tool")
    assert (decision["rounds"], decision["retrievals"]) == (2, 1)


def test_the_gateway_serves_retrieve_for_the_callers_team_only(fake, gateway):
    import httpx

    from tests.kit.retriever import HANDLE

    _ask(gateway, extra_headers={"x-anyray-metadata": "team=payments"})
    [handle] = set(HANDLE.findall(str(_model_calls(fake)[0]["messages"])))
    url = f"{gateway.url}/v1/retrieve"
    mine = {"x-anyray-metadata": "team=payments", "anthropic-version": "2023-06-01"}
    whole = httpx.post(url, json={"handle": handle}, headers=mine)
    assert whole.status_code == 200 and whole.json()["content"] == LOG
    found = httpx.post(url, json={"handle": handle, "query": "AccessDenied"}, headers=mine).json()["content"]
    assert found == f"401: {LOG.splitlines()[-1]}"
    other = httpx.post(url, json={"handle": handle}, headers={**mine, "x-anyray-metadata": "team=search"})
    assert other.status_code == 404 and other.json()["type"] == "error"  # Anthropic's shape for an Anthropic client
    bad = httpx.post(url, json={"handle": 7}, headers=mine)
    assert bad.status_code == 400
