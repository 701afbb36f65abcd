"""The strategy pipeline in process: what each strategy changes, and what it must never change."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import orjson
import pytest

from anyray.config import Config
from anyray.server.optimizer.engine import Optimizer
from anyray.testing.prompt_cache import count_breakpoints
from tests.kit.shapes import claude_code_request

ROUTE = {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}


def optimize(request: dict[str, Any], optimizer: Optimizer | None = None, **extra: Any) -> dict[str, Any]:
    message = {"endpoint": "/v1/messages", "request": request, "route": ROUTE, "canShortCircuit": True, **extra}
    return asyncio.run((optimizer or Optimizer()).optimize(message))


def sdk_request(turns: int = 1, system_chars: int = 8000) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages.append({"role": "user", "content": f"question {i}: " + "details " * 300})
        if i < turns - 1:
            messages.append({"role": "assistant", "content": f"answer {i}"})
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "policy " * (system_chars // 7),
            "messages": messages}


def test_claude_code_request_gets_max_tokens_capped_and_its_breakpoints_untouched():
    request = claude_code_request()
    original = copy.deepcopy(request)
    answer = optimize(request)
    sent = answer["request"]
    assert sent["max_tokens"] == 32000
    assert request == original, "the strategy must not mutate the caller's request"
    # everything but max_tokens is byte-identical, cache_control included
    assert {k: v for k, v in sent.items() if k != "max_tokens"} == {k: v for k, v in original.items()
                                                                     if k != "max_tokens"}
    assert answer["applied"] == ["param_tuning"]
    assert {"kind": "prompt_cache", "reason": "client placed its own breakpoints"} in answer["skipped"]
    assert "cache_control" in answer["preserved"]
    (decision,) = answer["decisions"]
    assert decision["kind"] == "param_tuning" and "64000->32000" in decision["changed"]


def test_cap_never_goes_below_the_thinking_budget_plus_margin():
    request = {**sdk_request(), "max_tokens": 64000, "thinking": {"type": "enabled", "budget_tokens": 40000}}
    assert optimize(request)["request"]["max_tokens"] == 40000 + 4096
    small = {**sdk_request(), "max_tokens": 2000}
    assert optimize(small)["request"]["max_tokens"] == 2000


def test_breakpoints_placed_where_none_were_at_most_four_and_only_above_the_minimum():
    request = sdk_request(turns=3)
    answer = optimize(request)
    sent = answer["request"]
    assert 1 <= count_breakpoints(sent) <= 4
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sent["messages"][-3]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in str(sent["messages"][1])  # never on assistant turns

    tiny = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "short", "messages": [
        {"role": "user", "content": "hi"}]}
    answer = optimize(tiny)
    assert count_breakpoints(answer["request"]) == 0
    reasons = {s["kind"]: s["reason"] for s in answer["skipped"]}
    assert "minimum cacheable length (1024 tokens)" in reasons["prompt_cache"]


def test_breakpoints_with_tools_stop_at_four():
    request = sdk_request(turns=4)
    request["tools"] = claude_code_request()["tools"]
    sent = optimize(request)["request"]
    assert count_breakpoints(sent) == 4
    assert "cache_control" in sent["tools"][-1]


def test_transforms_are_deterministic_across_processes_and_prefix_stable_across_turns():
    one, two = optimize(sdk_request(turns=3)), optimize(sdk_request(turns=3), Optimizer())
    assert orjson.dumps(one["request"]) == orjson.dumps(two["request"])
    # the next turn keeps a mark on the message that was last before, so it reads what this one wrote
    turn3 = optimize(sdk_request(turns=3))["request"]
    turn4 = optimize(sdk_request(turns=4))["request"]
    assert turn4["messages"][4] == turn3["messages"][4]


def test_enabled_kinds_runs_exactly_those_unless_locked():
    request = sdk_request(turns=2) | {"max_tokens": 64000}
    only_cache = optimize(request, enabledKinds=["prompt_cache"])
    assert only_cache["request"]["max_tokens"] == 64000
    assert only_cache["applied"] == ["prompt_cache"]
    assert {"kind": "param_tuning", "reason": "not requested"} in only_cache["skipped"]

    locked = Config.model_validate({"optimizer": {"strategies": [{"kind": "param_tuning", "locked": True}]}})
    answer = optimize(request, Optimizer(locked), enabledKinds=["prompt_cache", "bogus"])
    assert answer["request"]["max_tokens"] == 32000  # an admin lock beats the caller's header
    assert {"kind": "bogus", "reason": "unknown kind"} in answer["skipped"]


def test_rules_override_by_team_and_model():
    config = Config.model_validate({"optimizer": {
        "strategies": [{"kind": "param_tuning", "params": {"max_tokens_ceiling": 16000}}],
        "rules": [
            {"match": {"team": "research"}, "strategies": [{"kind": "param_tuning", "enabled": False}]},
            {"match": {"model": "claude-haiku-*"}, "strategies": [{"kind": "param_tuning",
                                                                  "params": {"max_tokens_ceiling": 8000}}]},
        ]}})
    optimizer = Optimizer(config)
    request = sdk_request() | {"max_tokens": 64000}
    assert optimize(request, optimizer)["request"]["max_tokens"] == 16000
    assert optimize(request, optimizer, metadata={"team": "research"})["request"]["max_tokens"] == 64000
    haiku = {"endpoint": "/v1/messages", "request": request, "route": {"provider": "anthropic",
                                                                         "model": "claude-haiku-4-5-20251001"}}
    assert asyncio.run(optimizer.optimize(haiku))["request"]["max_tokens"] == 8000


def test_openai_dialect_caps_max_completion_tokens_and_marks_nothing_for_openai():
    request = {"model": "gpt-4o", "max_completion_tokens": 100000,
               "messages": [{"role": "system", "content": "rules " * 3000}, {"role": "user", "content": "x"}]}
    for route in ({}, {"route": {"provider": "openai", "model": "gpt-4o", "wire": "openai"}}):
        answer = asyncio.run(Optimizer().optimize({"endpoint": "/v1/chat/completions", "request": request, **route}))
        assert answer["request"]["max_completion_tokens"] == 32000
        assert "cache_control" not in orjson.dumps(answer["request"]).decode()  # OpenAI caches by itself
        assert "prompt_cache" not in answer["applied"]


def test_an_openai_request_bound_for_claude_gets_breakpoints_in_its_own_shape():
    tools = [{"type": "function", "function": {"name": f"t{i}", "description": "d " * 1200,
                                               "parameters": {"type": "object"}}} for i in range(4)]
    messages = [{"role": "system", "content": "rules " * 3000}, {"role": "user", "content": "first " * 400},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "t0", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "out " * 400}]
    request = {"model": "claude-sonnet-4-5", "tools": tools, "messages": messages}
    answer = asyncio.run(Optimizer().optimize({"endpoint": "/v1/chat/completions", "request": request, "route": {
        "provider": "vertex", "model": "claude-sonnet-4-5@20250929", "wire": "anthropic"}}))
    sent = answer["request"]
    assert answer["applied"] == ["prompt_cache"]
    assert sent["tools"][-1]["cache_control"] == {"type": "ephemeral"} and "cache_control" not in sent["tools"][0]
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "rules " * 3000,
                                               "cache_control": {"type": "ephemeral"}}]
    assert sent["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}  # the tool message
    assert sent["messages"][1:3] == messages[1:3]


def test_a_failing_strategy_is_skipped_not_fatal(monkeypatch):
    from anyray.server.optimizer.strategies import REGISTRY

    def boom(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(REGISTRY["prompt_cache"], "apply", boom)
    # patched in this process: decided in the thread (a decider process's failing strategy:
    # tests/optimizer/test_decider_process.py)
    thread = Optimizer(Config.model_validate({"optimizer": {"worker": "thread"}}))
    answer = optimize(sdk_request(turns=2) | {"max_tokens": 64000}, thread)
    assert answer["request"]["max_tokens"] == 32000
    assert {"kind": "prompt_cache", "reason": "internal error (logged)"} in answer["skipped"]


@pytest.mark.parametrize("bad", [{"params": {"max_tokens_ceiling": 0}}, {"params": {"nope": 1}}])
def test_bad_strategy_params_fail_at_load_naming_the_field(bad):
    from anyray.server.optimizer.settings import SettingsInvalid

    with pytest.raises(SettingsInvalid) as err:
        Optimizer(Config.model_validate({"optimizer": {"strategies": [{"kind": "param_tuning", **bad}]}}))
    assert err.value.field.startswith("strategies.0.params.")
