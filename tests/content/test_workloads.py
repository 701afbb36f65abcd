"""The workloads through the whole pipeline: every fact survives, every handle resolves over HTTP to the
original byte for byte, the same bytes in two processes, and turn N+1 never rewrites what turn N sent."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from benchmarks.workloads import GROUPS, load_all

from anyray.server.optimizer.app import create_optimizer_app
from tests.content.conftest import CONTENT_KINDS, HANDLE, make_optimizer, optimize, results, session
from tests.kit import ServerThread

WORKLOADS = load_all()
ROOT = Path(__file__).resolve().parents[2]


def test_at_least_thirty_workloads_in_five_groups_with_verbatim_facts():
    assert len(WORKLOADS) >= 30
    assert {w.group for w in WORKLOADS} == set(GROUPS)
    assert {w.endpoint for w in WORKLOADS} == {"/v1/messages", "/v1/chat/completions"}
    for w in WORKLOADS:
        assert w.facts and w.question in orjson.dumps(w.request).decode()


@pytest.mark.parametrize("kinds", [None, CONTENT_KINDS], ids=["defaults", "all-content"])
def test_every_fact_survives_and_the_workloads_shrink(kinds):
    optimizer = make_optimizer()
    before = after = 0
    for w in WORKLOADS:
        sent = optimize(optimizer, w.request, kinds, w.endpoint)["request"]
        body = orjson.dumps(sent).decode()
        lost = [f for f in w.facts if orjson.dumps(f).decode()[1:-1] not in body]
        assert not lost, f"{w.name} lost {lost}"
        size = len(orjson.dumps(w.request))
        assert len(body) <= size + 200, w.name  # at most prompt_cache's marks added
        # a file read back is left whole (an agent may quote it in an edit) unless it is code (code_skeleton)
        if kinds is not None and w.name != "changelog":  # CHANGELOG.md, read with Read: left whole
            assert len(body) < size * 0.8, w.name
        before, after = before + size, after + len(body)
    assert after < before * 0.2


@pytest.fixture(scope="module")
def optimizer_url() -> Iterator[str]:
    with ServerThread(create_optimizer_app(make_optimizer(), service_token="", admin_token="")) as server:
        yield server.url


@pytest.mark.parametrize("kind", CONTENT_KINDS)
def test_retrieve_returns_each_stashed_original_byte_for_byte(optimizer_url, kind):
    """Alone, a strategy sees the original outputs: every handle it names must return one of them exactly."""
    checked = 0
    with httpx.Client(base_url=optimizer_url, timeout=30) as client:
        for w in WORKLOADS:
            answer = client.post("/v1/optimize", json={"endpoint": w.endpoint, "request": w.request,
                                                       "enabledKinds": [kind]}).json()
            originals = set(results(w.request))
            for handle in set(HANDLE.findall(orjson.dumps(answer["request"]).decode())):
                response = client.post("/v1/retrieve", json={"handle": handle})
                assert response.status_code == 200
                assert response.json()["content"] in originals, (w.name, handle)
                checked += 1
    assert checked >= 2, f"{kind} stashed nothing on any workload"
    with httpx.Client(base_url=optimizer_url) as client:
        assert client.post("/v1/retrieve", json={"handle": "h_" + "0" * 16}).status_code == 404


def test_every_handle_in_the_full_pipeline_resolves(optimizer_url):
    with httpx.Client(base_url=optimizer_url, timeout=30) as client:
        for w in WORKLOADS:
            answer = client.post("/v1/optimize", json={"endpoint": w.endpoint, "request": w.request,
                                                       "enabledKinds": CONTENT_KINDS}).json()
            for handle in set(HANDLE.findall(orjson.dumps(answer["request"]).decode())):
                assert client.post("/v1/retrieve", json={"handle": handle}).status_code == 200


_DIGEST = """
import hashlib, sys, asyncio
sys.path.insert(0, {root!r})
import orjson
from benchmarks.workloads import load_all
from tests.content.conftest import CONTENT_KINDS, make_optimizer, optimize
optimizer = make_optimizer()
digest = hashlib.sha256()
for w in load_all():
    for kinds in (None, CONTENT_KINDS):
        digest.update(orjson.dumps(optimize(optimizer, w.request, kinds, w.endpoint)["request"]))
print(digest.hexdigest())
"""


def test_the_same_bytes_in_two_processes():
    script = _DIGEST.format(root=str(ROOT))
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout.strip()
            for seed in ("1", "2")]  # different hash seeds: set and dict order must not leak into the bytes
    assert len(runs[0]) == 64 and runs[0] == runs[1]


MULTI_TURN = [w for w in WORKLOADS if sum(m.get("role") == "assistant" for m in w.request["messages"]) > 1]


@pytest.mark.parametrize("w", MULTI_TURN, ids=[w.name for w in MULTI_TURN])
def test_turn_n_plus_one_never_changes_what_turn_n_sent(w):
    """Cut the conversation after every tool round: each later turn must send the earlier messages unchanged."""
    optimizer = make_optimizer()
    messages = w.request["messages"]
    cuts = [i + 1 for i, m in enumerate(messages) if i > 1 and m["role"] in ("user", "tool")
            and (i + 1 == len(messages) or messages[i + 1]["role"] == "assistant")]
    assert len(cuts) >= 2
    sent = [optimize(optimizer, {**w.request, "messages": messages[:cut]}, CONTENT_KINDS, w.endpoint)["request"]
            for cut in cuts]
    for earlier, later, cut in zip(sent, sent[1:], cuts, strict=False):
        assert orjson.dumps(later["messages"][:cut]) == orjson.dumps(earlier["messages"]), f"{w.name} at {cut}"


def test_a_new_question_later_does_not_change_how_earlier_output_was_filtered():


    lines = [f"row {i}: widget-{i} stock {i % 7}" for i in range(500)]
    lines[77] = "row 77: sprocket-x stock 0 (backordered)"
    lines[400] = "row 400: gizmo-z stock 12"
    text = "\n".join(lines)
    first = session("Is sprocket-x in stock?", [("Bash", {"command": "inventory"}, text)])
    second = {**first, "messages": [*first["messages"], {"role": "assistant", "content": "It is backordered."},
                                    {"role": "user", "content": "And gizmo-z?"}]}
    optimizer = make_optimizer()
    a = optimize(optimizer, first, CONTENT_KINDS)["request"]["messages"]
    b = optimize(optimizer, second, CONTENT_KINDS)["request"]["messages"]
    assert orjson.dumps(b[: len(a)]) == orjson.dumps(a)
    assert hashlib.sha256(orjson.dumps(a)).digest() != hashlib.sha256(orjson.dumps(first["messages"])).digest()
