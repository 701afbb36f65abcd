"""The fresh held-out workload set (benchmarks/fresh): shape, counts, determinism and fact integrity."""

from __future__ import annotations

import json
import time
from collections import Counter
from itertools import pairwise

import orjson
import pytest
from benchmarks.fresh import GROUPS, load_all
from benchmarks.fresh._req import ANTHROPIC, BULK_LOCATIONS, OPENAI


@pytest.fixture(scope="module")
def workloads():
    return load_all()


def _body(w) -> str:
    return orjson.dumps(w.request).decode()


def test_loads_and_checks(workloads):
    assert len(workloads) >= 40
    for w in workloads:
        w.check()


def test_names_unique(workloads):
    names = [w.name for w in workloads]
    assert len(names) == len(set(names))


def test_every_group_has_at_least_eight(workloads):
    counts = Counter(w.group for w in workloads)
    assert set(counts) == set(GROUPS)
    for group in GROUPS:
        assert counts[group] >= 8, (group, counts[group])


def test_group_filter():
    only = load_all(["recall"])
    assert only and {w.group for w in only} == {"recall"}


def test_bulk_labels_and_majority_outside_tool_results(workloads):
    for w in workloads:
        assert w.extra.get("bulk") in BULK_LOCATIONS, w.name
    outside = [w for w in workloads if w.extra["bulk"] != "tool_result"]
    assert 2 * len(outside) >= len(workloads), (len(outside), len(workloads))


def test_at_least_a_third_openai_shaped(workloads):
    openai = [w for w in workloads if w.endpoint == OPENAI]
    assert 3 * len(openai) >= len(workloads), (len(openai), len(workloads))
    for w in workloads:
        assert w.endpoint in (OPENAI, ANTHROPIC)
        if w.endpoint == OPENAI:
            assert "max_tokens" not in w.request or w.request["model"].startswith("gpt")
            assert all(m["role"] in ("system", "user", "assistant", "tool") for m in w.request["messages"])
        else:
            assert "max_tokens" in w.request
            assert all(m["role"] in ("user", "assistant") for m in w.request["messages"])


def test_bulk_label_matches_request(workloads):
    """The label says where the largest piece of content sits; check it against the request itself."""
    allowed = {
        "system": {"system"},
        "tool_result": {"tool_result"},
        "document": {"document"},
        "user_last": {"user"},
        "user_earlier": {"history"},
        "assistant": {"assistant", "history"},
    }
    for w in workloads:
        where = _largest_part(w)
        assert w.extra["bulk"] in allowed[where], (w.name, where, w.extra["bulk"])
        if w.extra["bulk"] == "history":
            assert sum(m["role"] == "user" for m in w.request["messages"]) >= 2, w.name


def _largest_part(w) -> str:
    parts: list[tuple[int, str]] = []
    req = w.request
    if isinstance(req.get("system"), str):
        parts.append((len(req["system"]), "system"))
    elif isinstance(req.get("system"), list):
        parts.append((sum(len(b.get("text", "")) for b in req["system"]), "system"))
    messages = req["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    for i, m in enumerate(messages):
        content = m.get("content")
        role = m["role"]
        if role == "tool":
            parts.append((len(content), "tool_result"))
            continue
        if role == "system":
            parts.append((len(json.dumps(content)), "system"))
            continue
        label = "assistant" if role == "assistant" else "user_last" if i == last_user else "user_earlier"
        if isinstance(content, str):
            parts.append((len(content), label))
            continue
        for block in content or []:
            kind = block.get("type")
            if kind == "tool_result":
                parts.append((len(json.dumps(block.get("content"))), "tool_result"))
            elif kind == "document":
                parts.append((len(block["source"]["data"]), "document"))
            elif kind == "text":
                parts.append((len(block["text"]), label))
    return max(parts)[1]


def test_question_is_verbatim_in_request(workloads):
    for w in workloads:
        assert json.dumps(w.question)[1:-1] in _body(w), w.name


def test_facts_are_ascii_and_few(workloads):
    for w in workloads:
        assert 1 <= len(w.facts) <= 5, w.name
        for fact in w.facts:
            assert fact.isascii(), (w.name, fact)
            assert len(fact) >= 4, (w.name, fact)


def test_sizes(workloads):
    sizes = [len(_body(w)) for w in workloads]
    assert sum(6_000 <= s <= 80_000 for s in sizes) * 2 > len(sizes)
    assert sum(120_000 <= s <= 300_000 for s in sizes) >= 3
    assert sum(2_000 <= s <= 6_000 for s in sizes) >= 3
    assert max(sizes) <= 320_000


def test_multi_turn_with_question_last(workloads):
    """Several requests are multi-turn conversations with the bulk early and the question in the last user turn."""
    multi = [w for w in workloads if w.extra["bulk"] in ("history", "assistant")]
    assert len(multi) >= 5
    for w in multi:
        users = [m for m in w.request["messages"] if m["role"] == "user"]
        assert 2 <= len(users) <= 15, w.name
        assert w.request["messages"][-1]["role"] == "user", w.name
        assert json.dumps(w.question)[1:-1] in orjson.dumps(users[-1]).decode(), w.name


def test_deterministic_and_fast():
    started = time.perf_counter()
    first = [orjson.dumps([w.request, w.facts]) for w in load_all()]
    elapsed = time.perf_counter() - started
    second = [orjson.dumps([w.request, w.facts]) for w in load_all()]
    assert first == second
    assert elapsed < 5.0


def test_conversations_are_well_formed(workloads):
    for w in workloads:
        messages = w.request["messages"]
        if w.endpoint == ANTHROPIC:
            roles = [m["role"] for m in messages]
            assert roles[0] == "user" and roles[-1] == "user", w.name
            assert all(a != b for a, b in pairwise(roles)), w.name
            pending: set[str] = set()
            for m in messages:
                blocks = m["content"] if isinstance(m["content"], list) else []
                results = {b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"}
                assert results == pending, w.name
                pending = {b["id"] for b in blocks if b.get("type") == "tool_use"}
        else:
            expected: list[str] = []
            for m in messages:
                if m["role"] == "tool":
                    assert expected and m["tool_call_id"] == expected.pop(0), w.name
                    continue
                assert not expected, w.name
                expected = [c["id"] for c in m.get("tool_calls") or []]
            assert messages[-1]["role"] in ("user", "tool"), w.name
