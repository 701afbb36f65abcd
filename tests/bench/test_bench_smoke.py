"""A small `anyray bench` run, as CI can afford: every request must succeed and the JSON must be whole.

Real processes on loopback (the lean fake upstream, `anyray up`, the HTTP-optimizer stack) driven by the
built-in generator; nothing about timing is asserted, only counts and shape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from benchmarks.bench.report import RPS_TARGETS
from benchmarks.bench.scenarios import SCENARIOS

REQUESTS = 200
CELL_FIELDS = {
    "scenario", "target", "connections", "generator", "requests", "ok", "errors", "statuses", "elapsed_s", "rps",
    "p50_ms", "p90_ms", "p99_ms", "ttfb_generator", "ttfb_p50_ms", "ttfb_p90_ms", "ttfb_p99_ms", "rss_mb", "cpu_pct",
    "cpu_us_per_request", "decision_ms", "rounds_rps",
}
COMPARISON_FIELDS = {
    "scenario", "target", "connections", "rps_ratio", "added_p50_ms", "added_p90_ms", "added_p99_ms",
    "added_ttfb_p50_ms", "vs_litellm",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "out.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).parents[2] / "src"),
                                                                    os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "anyray", "bench", "--requests", str(REQUESTS), "--warmup", "20",
         "--connections", "1,8", "--optimizer", "both", "--passthrough", "--soak", "1000", "--rounds", "2",
         "--json", str(out)],
        capture_output=True, text=True, timeout=150, env=env, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "load generator: builtin" in done.stdout  # it says which generator measured
    return json.loads(out.read_text())


def test_every_request_succeeded(report):
    targets = {"direct", "passthrough", "anyray", "anyray-http"}
    cells = report["cells"]
    assert {(c["scenario"], c["target"], c["connections"]) for c in cells} == {
        (s, t, n) for s in ("anthropic", "stream", "openai") for t in targets for n in (1, 8)  # the default workloads
    }
    for cell in cells:
        assert cell["generator"] == "builtin"
        assert cell["requests"] == REQUESTS, cell
        assert cell["errors"] == 0 and cell["ok"] == REQUESTS, cell
        assert cell["statuses"] == {"200": REQUESTS}, cell
        # --rounds 2: the cell is one of its two alternating rounds (the lower one: the median of two)
        assert len(cell["rounds_rps"]) == 2 and round(cell["rps"], 1) == min(cell["rounds_rps"]), cell
    assert report["soak"]["errors"] == 0 and len(report["soak"]["rss_mb"]) == 10


def test_the_json_has_every_field(report):
    assert {"command", "started_unix", "duration_s", "generator", "upstream", "machine", "options", "cells",
            "comparisons", "soak", "targets"} <= set(report)
    for cell in report["cells"]:
        assert set(cell) == CELL_FIELDS
        assert cell["rps"] > 0 and cell["p50_ms"] > 0
        if cell["target"] != "direct":
            assert cell["rss_mb"] > 0 and cell["cpu_pct"] is not None
        if SCENARIOS[cell["scenario"]].stream:
            assert cell["ttfb_p50_ms"] is not None and cell["ttfb_p50_ms"] <= cell["p99_ms"]
    assert len(report["comparisons"]) == len(report["cells"]) - 3 * 2  # every non-direct cell, paired
    for comparison in report["comparisons"]:
        assert set(comparison) == COMPARISON_FIELDS
        assert comparison["rps_ratio"] > 0
    checked = {t["target"] for t in report["targets"]}
    assert len(checked) == len(RPS_TARGETS) + 2 + 2  # throughput x3, added p50/p99, RSS and its growth
    assert all(isinstance(t["met"], bool) for t in report["targets"])


def test_the_lean_upstream_answers_every_shape(tmp_path):
    """The fake the numbers rest on must answer what the gateway sends, usage included."""
    from benchmarks.bench.procs import Child, free_port

    port = free_port()
    argv = [sys.executable, "-m", "anyray.testing.lean", "--port", str(port)]
    child = Child("lean", argv, dict(os.environ), tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        child.wait_ready(lambda: _up(url), 20)
        body = {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
        message = httpx.post(url + "/v1/messages", json=body).json()
        assert message["type"] == "message" and message["model"] == "claude-haiku-4-5"
        assert message["usage"]["input_tokens"] > 0 and message["usage"]["output_tokens"] > 0
        stream = httpx.post(url + "/v1/messages", json={**body, "stream": True})
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [line.split(": ", 1)[1] for line in stream.text.splitlines() if line.startswith("event: ")]
        assert events[0] == "message_start" and events[-1] == "message_stop" and "message_delta" in events
        vertex = f"{url}/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5"
        assert httpx.post(vertex + ":rawPredict", json=body).json()["usage"]["output_tokens"] > 0
        assert "message_stop" in httpx.post(vertex + ":streamRawPredict", json=body).text
        chat = httpx.post(url + "/v1/chat/completions", json={"model": "gpt-4o", "messages": body["messages"]})
        assert chat.json()["usage"]["total_tokens"] > 0
        assert httpx.post(url + "/nope", json={}).status_code == 404
    finally:
        child.stop()


def _up(url: str) -> bool:
    try:
        httpx.get(url + "/", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def test_the_big_workloads_and_the_head_of_line_pass_run_without_an_error(tmp_path):
    """The Claude Code and agent turns (each request new to the optimizer), then the head-of-line pass: counts
    and shape only, at a size CI can afford."""
    out = tmp_path / "big.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).parents[2] / "src"),
                                                                    os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "anyray", "bench", "--requests", "30", "--warmup", "5", "--connections", "2",
         "--workloads", "claude_code,agent", "--optimizer", "inprocess", "--hol", "agent", "--hol-connections",
         "2", "--hol-interval", "0.05", "--hol-probes", "40", "--streams", "60", "--stream-seconds", "4",
         "--stream-rate", "60", "--json", str(out)],
        capture_output=True, text=True, timeout=150, env=env, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert {(c["scenario"], c["target"]) for c in report["cells"]} == {
        (s, t) for s in ("claude_code", "agent") for t in ("direct", "anyray")}
    assert all(c["errors"] == 0 and c["ok"] == 30 for c in report["cells"])
    stream = next(c for c in report["cells"] if c["scenario"] == "claude_code" and c["target"] == "anyray")
    assert stream["ttfb_p50_ms"] is not None  # a streamed turn: its first byte is measured
    for cell in report["cells"]:  # the optimizer's decision, read off the gateway's /metrics, per request
        assert (cell["decision_ms"] is None) == (cell["target"] == "direct"), cell
        assert cell["target"] == "direct" or 0 < cell["decision_ms"] < cell["p99_ms"], cell
    hol = {c["target"]: c for c in report["head_of_line"]}
    assert set(hol) == {"direct", "anyray"}
    for cell in hol.values():
        assert cell["probes"] == 40 and cell["probe_errors"] == 0 and cell["background_errors"] == 0, cell
        assert cell["background_done"] >= 2, cell  # the big requests did run beside the probes
        assert cell["added_p99_ms"] == round(cell["busy_p99_ms"] - cell["quiet_p99_ms"], 3)
        assert 0 < cell["big_p50_ms"] <= cell["big_p99_ms"], cell  # the big requests' own latency, measured
    # then 60 streams held open 4 s each, on a stack of their own: all answered, two descriptors each in anyray
    streams = {c["target"]: c for c in report["streams"]}
    assert set(streams) == {"direct", "anyray"}
    for cell in streams.values():
        assert cell["streams"] == 60 and cell["ok"] == 60 and cell["errors"] == 0, cell
        assert cell["ttfb_p50_ms"] > 0 and cell["fds_open"] >= cell["fds_idle"], cell
    assert streams["anyray"]["fds_open"] - streams["anyray"]["fds_idle"] >= 60  # its client side, at least


def test_the_workers_target_serves_every_request(tmp_path):
    """`--workers 2`: the bench drives `anyray serve gateway --workers 2` (target anyray-w2); counts only."""
    out = tmp_path / "workers.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).parents[2] / "src"),
                                                                    os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "anyray", "bench", "--requests", "100", "--warmup", "10", "--connections", "8",
         "--workloads", "anthropic", "--optimizer", "none", "--workers", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=150, env=env, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cells = {c["target"]: c for c in json.loads(out.read_text())["cells"]}
    assert set(cells) == {"direct", "anyray-w2"}
    assert cells["anyray-w2"]["statuses"] == {"200": 100}
    assert cells["anyray-w2"]["rss_mb"] > cells["direct"]["rss_mb"]  # the workers' memory, not the supervisor's alone
