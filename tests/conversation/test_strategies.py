"""Each conversation strategy on fixed inputs: what it changes, what it must never change."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from anyray.server.optimizer.strategies.conversation import pays_off
from anyray.server.optimizer.strategies.prompt_compression import normalise
from anyray.testing.anthropic_api import tool_pairing_problem
from anyray.testing.openai_api import _tool_message_problem as openai_tool_problem
from tests.conversation.session import TOOLS, agent_session, as_openai, openai_tools, requests

HANDLE = re.compile(r"handle (h_[0-9a-f]{16})\]")
EAGER = {"max_payback_turns": 1000}  # every step "pays": shows what a step does, whatever it costs


def test_pays_off_needs_most_of_the_tail_for_a_one_turn_payback():
    assert pays_off(900, 1000, 1)
    assert not pays_off(500, 1000, 1)
    assert pays_off(500, 1000, 20)  # 1.15*1000 - 1.25*500 = 525 <= 0.1*500*20 = 1000
    assert not pays_off(0, 1000, 1000)


def test_observation_mask_masks_old_results_keeps_errors_recent_and_pairing(run):
    messages = agent_session(turns=30)
    request = requests(messages)[-1]
    original = copy.deepcopy(request)
    answer = run(request, ["observation_mask"], [{"kind": "observation_mask", "params": EAGER}])
    assert request == original  # copy on write
    sent = answer["request"]["messages"]
    assert answer["applied"] == ["observation_mask"]
    masked_turns = answer["decisions"][0]["details"]["maskedTurns"]
    users = [i for i, m in enumerate(sent) if m["role"] == "user"]
    assert masked_turns == (len(users) - 8) // 8 * 8  # boundary on a multiple of step_turns
    for n, i in enumerate(users):
        for block, old in zip(sent[i]["content"], original["messages"][i]["content"], strict=True):
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            assert block["tool_use_id"] == old["tool_use_id"]
            big = len(old["content"]) > 1600
            if n < masked_turns and big and not old.get("is_error"):
                assert block["content"].startswith("[anyray: tool result masked")
                assert run.retrieve(HANDLE.search(block["content"]).group(1)) == old["content"]
            else:
                assert block == old  # errors, small results and recent turns stay whole
    assert tool_pairing_problem(sent) is None


def test_observation_mask_by_default_steps_only_when_the_step_pays(run):
    # small results around one big one: masking it does not pay for rewriting the tail
    messages = agent_session(turns=30, big_every=1000, error_at=-1)
    messages[2]["content"][0]["content"] = "x " * 80000  # 160 KB result on turn 0
    cheap = run(requests(messages)[-1], ["observation_mask"])
    assert cheap["applied"] == ["observation_mask"]  # the big result dominates the tail: it pays
    messages[2]["content"][0]["content"] = "x " * 1000
    dear = run(requests(messages)[-1], ["observation_mask"])
    assert dear["applied"] == []


def test_thinking_trim_drops_finished_turns_thinking_only(run):
    messages = agent_session(turns=12, thinking=True, prompts_every=4)
    request = requests(messages)[-1]
    answer = run(request, ["thinking_trim"], [{"kind": "thinking_trim", "params": EAGER}])
    sent = answer["request"]["messages"]
    last_prompt = max(i for i, m in enumerate(sent) if m["role"] == "user" and isinstance(m["content"], str))
    for i, (new, old) in enumerate(zip(sent, request["messages"], strict=True)):
        if new["role"] != "assistant":
            assert new == old
            continue
        kinds = [b["type"] for b in new["content"]]
        if i < last_prompt:
            assert "thinking" not in kinds
            assert [b for b in old["content"] if b["type"] != "thinking"] == new["content"]
        else:
            assert new == old  # the live turn keeps its signed thinking, byte for byte
    assert tool_pairing_problem(sent) is None


def test_thinking_trim_leaves_a_single_prompt_tool_loop_alone(run):
    request = requests(agent_session(turns=12, thinking=True))[-1]
    assert run(request, ["thinking_trim"], [{"kind": "thinking_trim", "params": EAGER}])["applied"] == []


def test_window_budget_crops_middle_in_steps_and_keeps_pairs(run):
    messages = agent_session(turns=40)
    settings = [{"kind": "window_budget", "params": {"budget_tokens": 60_000, "keep_recent": 6}}]
    request = requests(messages)[-1]
    answer = run(request, ["window_budget"], settings)
    sent = answer["request"]["messages"]
    assert answer["applied"] == ["window_budget"]
    assert sent[0]["content"][0] == {"type": "text", "text": messages[0]["content"]}
    note = sent[0]["content"][-1]["text"]
    cropped = orjson.loads(run.retrieve(HANDLE.search(note).group(1)))
    assert [messages[0], *cropped, *sent[1:]] == request["messages"]  # nothing lost, order kept
    assert sent[1]["role"] == "assistant"
    assert sent[-6:] == request["messages"][-6:]
    assert tool_pairing_problem(sent) is None
    assert len(orjson.dumps(answer["request"])) / 4 <= 60_000


def test_tool_pruning_keeps_used_required_and_listed_tools(run):
    messages = agent_session(turns=24)
    request = requests(messages, tool_choice={"type": "tool", "name": "Task"})[-1]
    settings = [{"kind": "tool_pruning", "params": {**EAGER, "min_turns": 10, "always_keep": ["TodoWrite"]}}]
    answer = run(request, ["tool_pruning"], settings)
    names = [t["name"] for t in answer["request"]["tools"]]
    assert names == ["Bash", "Read", "Edit", "Grep", "TodoWrite", "Task"]  # client order kept
    short = requests(messages[:9])[-1]
    assert run(short, ["tool_pruning"], settings)["applied"] == []
    # by default (one-turn payback) dropping 4 of 8 tools at turn 20 does not pay: nothing pruned
    assert run(request, ["tool_pruning"], [{"kind": "tool_pruning", "params": {}}])["applied"] == []


def test_reasoning_budget_caps_the_thinking_budget(run):
    request = {**requests(agent_session(turns=2))[-1], "max_tokens": 40000,
               "thinking": {"type": "enabled", "budget_tokens": 32000}}
    answer = run(request, ["reasoning_budget"], [{"kind": "reasoning_budget", "params": {"max_budget_tokens": 4096}}])
    assert answer["request"]["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert answer["request"]["max_tokens"] == 40000


def test_reasoning_budget_and_the_off_strategies_are_off_by_default(run):
    request = {**requests(agent_session(turns=2))[-1], "thinking": {"type": "enabled", "budget_tokens": 32000},
               "max_tokens": 40000}
    answer = run(request)
    for kind in ("reasoning_budget", "output_shaping", "prompt_compression"):
        assert kind not in answer["applied"]
    assert answer["request"]["thinking"]["budget_tokens"] == 32000


def test_output_shaping_appends_a_marked_advisory(run):
    request = requests(agent_session(turns=2))[-1]
    answer = run(request, ["output_shaping"])
    system = answer["request"]["system"]
    assert system[0] == {"type": "text", "text": request["system"]}
    assert system[-1]["text"].startswith("[anyray:output_shaping]")
    assert answer["decisions"][0]["details"] == {"advisory": True}
    no_tools = {k: v for k, v in request.items() if k != "tools"}
    assert run(no_tools, ["output_shaping"])["applied"] == []


def test_prompt_compression_is_lossless_whitespace_only(run):
    text = "Rules:\r\n- one  \r\n\r\n\r\n\r\n\r\n- two\t\n```\ncode   \n\n\n\n\nend\n```\n"
    assert normalise(text) == "Rules:\n- one\n\n\n- two\n```\ncode   \n\n\n\n\nend\n```\n"
    request: dict[str, Any] = {"model": "m", "max_tokens": 10, "system": "policy  \n",
                               "messages": [{"role": "user", "content": text},
                                            {"role": "assistant", "content": "ok  \n"},
                                            {"role": "user", "content": [{"type": "text", "text": "again \n"}]}]}
    sent = run(request, ["prompt_compression"])["request"]
    assert sent["system"] == "policy\n"
    assert sent["messages"][1] == request["messages"][1]  # assistant text untouched
    assert sent["messages"][2]["content"][0]["text"] == "again\n"
    assert [w for w in sent["messages"][0]["content"].split()] == [w for w in text.split()]


def test_every_new_kind_is_registered_with_a_documented_default(run):
    caps = {s["kind"]: s for s in run.optimizer.capabilities()["strategies"]}
    # window_budget is the safety net past the context window; the others never paid for a step in the replay
    # (docs/savings.md), so they are there to be turned on, not on
    on = {"window_budget"}
    off = {"reasoning_budget", "output_shaping", "prompt_compression", "observation_mask", "tool_pruning",
           "thinking_trim"}
    assert {k for k in on | off if caps[k]["default"]} == on
    docs = (Path(__file__).resolve().parents[2] / "docs" / "optimizer.md").read_text()
    for kind in on | off:
        assert f"`{kind}`" in docs
    assert TOOLS  # the fixture's tools are what pruning tests drop


def test_thinking_trim_treats_a_reminder_after_tool_results_as_the_same_turn(run):
    # Claude Code appends a text-only user message after a tool_result one; the API merges the two, so the
    # tool loop (and the need for its signed thinking) goes on
    messages = agent_session(turns=6, thinking=True)
    for i in (4, 8):
        messages.insert(i + 1, {"role": "user", "content": [{"type": "text", "text": "<system-reminder>x"}]})
    request = requests(messages)[-1]
    answer = run(request, ["thinking_trim"], [{"kind": "thinking_trim", "params": EAGER}])
    assert answer["applied"] == []
    assert answer["request"]["messages"] == request["messages"]


def test_ledger_allows_a_step_on_a_small_share_of_the_session_and_counts_its_debt():
    from anyray.server.optimizer.strategies.conversation import Ledger, StepParams, extra_cost

    ledger = Ledger(StepParams(max_payback_turns=0, max_session_share=0.01), fixed=1000)
    for k in range(1, 41):
        ledger.turn(2000 * k)  # each turn adds 2,000 message tokens
    # cheapest the session can have been: first turn written whole, then prefix read + new part written
    spent = 1.25 * 3000 + sum(0.1 * (1000 + 2000 * (k - 1)) + 1.25 * 2000 for k in range(2, 41))
    assert ledger.spent == pytest.approx(spent)
    saved, tail = 7000, 9000  # 78 % of the tail: does not pay back at once
    assert not pays_off(saved, tail, 0)
    assert extra_cost(saved, tail) <= 0.01 * spent
    assert ledger.allow(saved, tail)
    ledger.take(saved, tail)
    assert not ledger.allow(saved, tail)  # the first step's cost is still owed
    ledger.turn(ledger.sent)  # each turn pays back 0.1 x 7,000
    assert ledger.debt == pytest.approx(extra_cost(saved, tail) - 700)
    ledger.turn(ledger.sent)
    ledger.turn(ledger.sent)
    assert ledger.debt == 0
    assert ledger.allow(saved, tail)
    strict = Ledger(StepParams(max_payback_turns=0, max_session_share=0), fixed=1000)
    strict.turn(80_000)
    assert not strict.allow(saved, tail)


# ---------------------------------------------------------------------------------------- OpenAI-shaped histories

def openai_request(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "gpt-4o", "max_tokens": 4096, "tools": openai_tools(),
            "messages": as_openai(messages, "You are a careful engineer. " * 40)}


def test_observation_mask_masks_old_tool_messages_of_an_openai_history(run):
    request = openai_request(agent_session(turns=30))
    original = copy.deepcopy(request)
    answer = run(request, ["observation_mask"], [{"kind": "observation_mask", "params": EAGER}],
                 endpoint="/v1/chat/completions")
    assert answer["applied"] == ["observation_mask"] and request == original
    sent = answer["request"]["messages"]
    masked = [(new, old) for new, old in zip(sent, original["messages"], strict=True) if new != old]
    assert masked and all(new["role"] == "tool" and new["tool_call_id"] == old["tool_call_id"] for new, old in masked)
    for new, old in masked:
        assert new["content"].startswith("[anyray: tool result masked")
        assert run.retrieve(HANDLE.search(new["content"]).group(1)) == old["content"]
    assert "Traceback: ValueError" in orjson.dumps(sent).decode()  # the error result stays whole
    recent = [m for m in sent[-20:] if m["role"] == "tool"]
    assert all(not m["content"].startswith("[anyray:") for m in recent)  # the last rounds stay whole
    assert openai_tool_problem(sent) is None


def test_window_budget_crops_an_openai_history_keeping_system_task_and_pairs(run):
    request = openai_request(agent_session(turns=60, big_every=1))
    answer = run(request, ["window_budget"], [{"kind": "window_budget", "params": {"budget_tokens": 60_000}}],
                 endpoint="/v1/chat/completions")
    assert answer["applied"] == ["window_budget"]
    sent, old = answer["request"]["messages"], request["messages"]
    assert sent[0] == old[0] and sent[1]["role"] == "user"  # the system message, then the task
    assert sent[1]["content"].startswith(old[1]["content"]) and "[anyray:" in sent[1]["content"]
    assert sent[-12:] == old[-12:] and len(sent) < len(old)
    assert sent[2]["role"] == "assistant" and openai_tool_problem(sent) is None


def test_tool_pruning_drops_unused_functions_of_an_openai_request(run):
    request = openai_request(agent_session(turns=24))
    answer = run(request, ["tool_pruning"], [{"kind": "tool_pruning", "params": EAGER}],
                 endpoint="/v1/chat/completions")
    assert answer["applied"] == ["tool_pruning"]
    assert [t["function"]["name"] for t in answer["request"]["tools"]] == ["Bash", "Read", "Edit", "Grep"]
