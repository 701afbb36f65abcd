"""Whole sessions: prefix stability turn by turn, the fake upstream accepts every request, prompt_cache
still reads the prefix, and the content workloads' key facts survive with every strategy on."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from benchmarks.savings import ALL, survived
from benchmarks.workloads import load_all

from anyray.server.optimizer.strategies import REGISTRY
from anyray.testing.prompt_cache import PromptCache, count_breakpoints
from tests.conftest import ANTHROPIC_KEY
from tests.conversation.session import agent_session, requests

CONVERSATION = ["observation_mask", "thinking_trim", "window_budget", "tool_pruning", "prompt_compression",
                "output_shaping", "reasoning_budget"]
EVERYTHING = [k for k in REGISTRY if k != "semantic_cache"]
EAGER = [
    {"kind": "observation_mask", "params": {"max_payback_turns": 1000}},
    {"kind": "thinking_trim", "params": {"max_payback_turns": 1000}},
    {"kind": "tool_pruning", "params": {"max_payback_turns": 1000, "min_turns": 10}},
    {"kind": "window_budget", "params": {"budget_tokens": 60_000, "keep_recent": 6}},
]
STEP_DETAILS = {"observation_mask": "maskedTurns", "thinking_trim": "blocksRemoved",
                "window_budget": "messagesCropped", "tool_pruning": "toolsDropped"}


def _session() -> list[dict[str, Any]]:
    return requests(agent_session(turns=48, thinking=True, prompts_every=7), thinking={
        "type": "enabled", "budget_tokens": 2048})


def _bare(value: Any) -> Any:
    """Without cache_control (prompt_cache moves its breakpoints every turn, by design), and string content
    as the one text block it means (prompt_cache marks a string by making it a block: the same prompt)."""
    if isinstance(value, dict):
        if isinstance(value.get("content"), str) and "role" in value:
            value = {**value, "content": [{"type": "text", "text": value["content"]}]}
        return {k: _bare(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_bare(v) for v in value]
    return value


def _steps(answer: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for d in answer["decisions"]:
        if d["kind"] in STEP_DETAILS:
            out[d["kind"]] = d["details"][STEP_DETAILS[d["kind"]]]
    return out


@pytest.mark.parametrize("settings", [None, EAGER], ids=["defaults", "eager-steps"])
def test_no_byte_of_a_sent_prefix_changes_except_on_a_step(run, settings):
    kinds = EVERYTHING
    answers = [run(r, kinds, settings if i == 0 else None) for i, r in enumerate(_session())]
    breaks, steps = [], []
    for k in range(1, len(answers)):
        before, after = _bare(answers[k - 1]["request"]), _bare(answers[k]["request"])
        sent = before["messages"]
        stable = (before["tools"] == after["tools"] and before["system"] == after["system"]
                  and after["messages"][: len(sent)] == sent)
        stepped = _steps(answers[k - 1]) != _steps(answers[k])
        if not stable:
            breaks.append(k)
        if stepped:
            steps.append(k)
    assert set(breaks) <= set(steps), f"prefix changed on turns {breaks} without a step (steps: {steps})"
    if settings is EAGER:
        assert breaks, "eager steps must break the prefix somewhere, or this test proves nothing"
        assert len(breaks) <= len(answers) // 3  # steps, not drift (eager: every boundary move is taken)
    else:
        assert breaks == []  # the defaults never take a step that does not pay; this session has none


def test_the_fake_upstream_accepts_every_transformed_request(run, fake):
    with httpx.Client(base_url=fake.url, headers={"x-api-key": ANTHROPIC_KEY,
                                                  "anthropic-version": "2023-06-01"}) as client:
        for i, request in enumerate(_session()):
            sent = run(request, EVERYTHING, EAGER if i == 0 else None)["request"]
            response = client.post("/v1/messages", json=sent)
            assert response.status_code == 200, response.text
            assert count_breakpoints(sent) <= 4
            # the live turn: the last assistant message, signed thinking and all, is exactly what the client sent
            live = [m for m in request["messages"] if m["role"] == "assistant"][-1:]
            assert [_bare(m) for m in sent["messages"] if m["role"] == "assistant"][-1:] == live


def test_prompt_cache_still_reads_the_prefix_with_every_strategy_on(run):
    cache = PromptCache(min_tokens=1024)
    answers = [run(r, EVERYTHING, EAGER if i == 0 else None) for i, r in enumerate(_session())]
    previous, steps = 0, 0
    for k, answer in enumerate(answers):
        usage = cache.account("org", answer["request"], now=float(k))
        if k >= 1 and _steps(answers[k - 1]) == _steps(answer):  # all the previous turn sent is read back
            assert usage.cache_read_input_tokens >= 0.95 * previous, f"turn {k}: {usage}"
        else:
            steps += 1
        previous = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    assert steps < len(answers) // 3
    assert "prompt_cache" in answers[-1]["applied"]


def test_key_facts_survive_with_every_strategy_on(run):
    for workload in load_all():
        request = json.loads(json.dumps(workload.request))
        route = {"endpoint": workload.endpoint, "request": request,
                 "route": {"provider": "anthropic", "model": request["model"]}}
        content = run.loop.run_until_complete(run.optimizer.optimize({**route, "enabledKinds": ALL}))
        everything = run.loop.run_until_complete(run.optimizer.optimize(
            {**route, "enabledKinds": ALL + CONVERSATION}))
        assert survived(workload, everything["request"]) == survived(workload, content["request"]), workload.name
