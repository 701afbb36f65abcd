"""The blind benchmark set is well formed: complete requests in both dialects, facts present, deterministic.

These tests only check the set itself; they never run the optimizer on it (the set is measured once, by the lead).
"""

from __future__ import annotations

import collections
import json

import orjson
import pytest
from benchmarks.blind import GROUPS, load_all

BULK = {"tool_result", "user", "system", "assistant", "document", "history"}


@pytest.fixture(scope="module")
def workloads():
    return load_all()


def _body(w) -> str:
    return orjson.dumps(w.request).decode()


def test_every_workload_builds_and_checks(workloads):
    assert workloads
    for w in workloads:
        w.check()
        assert w.group in GROUPS


def test_names_are_unique(workloads):
    names = [w.name for w in workloads]
    assert len(names) == len(set(names))


def test_at_least_nine_per_group(workloads):
    counts = collections.Counter(w.group for w in workloads)
    assert set(counts) == set(GROUPS)
    for group in GROUPS:
        assert counts[group] >= 9, (group, counts[group])
    assert len(workloads) >= 45


def test_group_filter_loads_only_that_group():
    only = load_all(["recall"])
    assert only and {w.group for w in only} == {"recall"}
    with pytest.raises(ValueError):
        load_all(["nope"])


def test_a_third_are_openai_shaped(workloads):
    openai = [w for w in workloads if w.endpoint == "/v1/chat/completions"]
    assert 3 * len(openai) >= len(workloads)
    for w in openai:
        assert w.extra["shape"] == "openai"
        assert "system" not in w.request and all(
            m["role"] in {"system", "user", "assistant", "tool"} for m in w.request["messages"]
        )
    for w in workloads:
        if w.endpoint == "/v1/messages":
            assert w.extra["shape"] == "anthropic"
            assert isinstance(w.request["max_tokens"], int)
            assert all(m["role"] in {"user", "assistant"} for m in w.request["messages"])


def test_half_keep_their_bulk_outside_tool_results(workloads):
    for w in workloads:
        assert w.extra["bulk"] in BULK, w.name
    outside = [w for w in workloads if w.extra["bulk"] != "tool_result"]
    assert 2 * len(outside) >= len(workloads)


def test_facts_are_ascii_and_in_the_serialized_request(workloads):
    for w in workloads:
        assert 1 <= len(w.facts) <= 5, w.name
        body = _body(w)
        for fact in w.facts:
            assert fact.isascii(), (w.name, fact)
            assert json.dumps(fact)[1:-1] in body, (w.name, fact)


def test_question_is_asked_last_word_for_word(workloads):
    for w in workloads:
        last = w.request["messages"][-1]
        assert last["role"] == "user", w.name
        content = last["content"]
        text = content if isinstance(content, str) else content[-1]["text"]
        assert text == w.question, w.name


def test_tool_calls_are_answered(workloads):
    """Every tool_use / tool_call has exactly one result, as the providers require."""
    for w in workloads:
        used, answered = [], []
        for m in w.request["messages"]:
            if isinstance(m.get("content"), list):
                for b in m["content"]:
                    if b.get("type") == "tool_use":
                        used.append(b["id"])
                    elif b.get("type") == "tool_result":
                        answered.append(b["tool_use_id"])
            for tc in m.get("tool_calls") or []:
                used.append(tc["id"])
            if m["role"] == "tool":
                answered.append(m["tool_call_id"])
        assert sorted(used) == sorted(answered), w.name


def test_sizes_are_realistic(workloads):
    sizes = sorted(len(_body(w)) for w in workloads)
    assert sizes[0] >= 800 and sizes[-1] <= 260_000
    mid = [s for s in sizes if 5_000 <= s <= 80_000]
    assert 2 * len(mid) > len(sizes)


def test_deterministic(workloads):
    again = load_all()
    assert [_body(w) for w in workloads] == [_body(w) for w in again]


_DIGEST = (
    "import hashlib, orjson\n"
    "from benchmarks.blind import load_all\n"
    "print(hashlib.sha256(b''.join(orjson.dumps(w.request) for w in load_all())).hexdigest())\n"
)


def test_deterministic_across_processes_and_hash_seeds():
    """A set or dict ordered by string hashes would change the bytes from one interpreter to the next."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
