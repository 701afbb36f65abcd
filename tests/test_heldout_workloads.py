"""The held-out benchmark set (benchmarks/heldout): well-formed, deterministic, and as varied as its README says.

These tests only check the set itself; they do not run the optimizer or any benchmark."""

from __future__ import annotations

import collections
import time
from typing import Any

import orjson
from benchmarks.heldout import GROUPS, load_all
from benchmarks.heldout._shapes import ANTHROPIC, BULK, OPENAI

WORKLOADS = load_all()
KB = 1024


def size(w: Any) -> int:
    return len(orjson.dumps(w.request))


def blocks(w: Any) -> list[dict[str, Any]]:
    out = []
    for m in w.request["messages"]:
        if isinstance(m.get("content"), list):
            out += m["content"]
    return out


def test_every_fact_is_verbatim_in_its_request_and_names_are_unique():
    assert len(WORKLOADS) >= 44
    assert len({w.name for w in WORKLOADS}) == len(WORKLOADS)
    for w in WORKLOADS:
        w.check()
        assert 1 <= len(w.facts) <= 5, w.name
        assert all(f.strip() and f.isascii() for f in w.facts), w.name
        body = orjson.dumps(w.request).decode()
        assert orjson.dumps(w.question).decode()[1:-1] in body, f"{w.name}: question is not verbatim in the request"


def test_groups_have_at_least_seven_each():
    per_group = collections.Counter(w.group for w in WORKLOADS)
    assert set(per_group) == set(GROUPS)
    assert all(n >= 7 for n in per_group.values()), per_group
    assert per_group == {"logs": 9, "code": 10, "retrieval": 9, "ops": 9, "recall": 9}  # frozen: see README


def test_at_least_half_carry_their_bulk_outside_tool_results():
    where = collections.Counter(w.extra["bulk"] for w in WORKLOADS)
    assert set(where) <= set(BULK)
    assert sum(n for k, n in where.items() if k != "tool_result") * 2 >= len(WORKLOADS), where
    assert all(where[k] >= 2 for k in BULK), where  # every location is represented more than once


def test_at_least_a_third_are_openai_shaped_and_labels_match_endpoints():
    shapes = collections.Counter(w.endpoint for w in WORKLOADS)
    assert set(shapes) == {ANTHROPIC, OPENAI}
    assert shapes[OPENAI] * 3 >= len(WORKLOADS), shapes
    for w in WORKLOADS:
        assert w.extra["shape"] == ("openai" if w.endpoint == OPENAI else "anthropic"), w.name
        if w.endpoint == OPENAI:
            assert all(m["role"] in ("system", "user", "assistant", "tool") for m in w.request["messages"])
        else:
            assert all(m["role"] in ("user", "assistant") for m in w.request["messages"])
            assert w.request["messages"][-1]["role"] == "user"


def test_request_shapes_are_varied():
    oa = [w for w in WORKLOADS if w.endpoint == OPENAI]
    an = [w for w in WORKLOADS if w.endpoint == ANTHROPIC]
    msgs = [m for w in oa for m in w.request["messages"]]
    assert any(m["role"] == "tool" for m in msgs) and any(m.get("tool_calls") for m in msgs)
    assert any(m["role"] == "user" and isinstance(m["content"], list) for m in msgs)
    assert any(m["role"] == "system" and isinstance(m["content"], list) for m in msgs)
    assert any(m["role"] == "assistant" and isinstance(m.get("content"), str) and len(m["content"]) > 2000
               for m in msgs)
    results = [b for w in an for b in blocks(w) if b.get("type") == "tool_result"]
    assert any(isinstance(b["content"], str) for b in results) and any(isinstance(b["content"], list) for b in results)
    assert any(b.get("type") == "document" and b["source"]["type"] == "text" for w in an for b in blocks(w))
    assert any(isinstance(w.request.get("system"), str) for w in an)
    systems = [w.request["system"] for w in an if isinstance(w.request.get("system"), list)]
    assert any(any("cache_control" in b for b in sysb) for sysb in systems)
    assert any(len(w.request["messages"]) >= 7 and w.extra["bulk"] in ("history", "assistant", "user") for w in oa)


def test_sizes_are_as_users_send_them():
    kb = sorted(size(w) / KB for w in WORKLOADS)
    assert sum(8 <= k <= 100 for k in kb) * 2 >= len(kb), kb
    assert sum(150 <= k <= 300 for k in kb) >= 3, kb
    assert sum(k <= 6 for k in kb) >= 3, kb
    assert kb[-1] <= 300, kb


def test_deterministic_and_fast():
    t = time.perf_counter()
    again = load_all()
    assert time.perf_counter() - t < 5.0
    assert [orjson.dumps(w.request) for w in again] == [orjson.dumps(w.request) for w in WORKLOADS]
    assert load_all(["recall"]) and all(w.group == "recall" for w in load_all(["recall"]))
