"""Claude Code itself (npm @anthropic-ai/claude-code, pinned in tests/node) against the gateway's limits: it
backs off on a rate limit's 429 and gets its answer after the window; at a budget it stops at once."""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import pytest

from tests.conftest import vertex_and_anthropic_config
from tests.limits.conftest import at_window_start, create_key, seed_spend

pytestmark = pytest.mark.npm


def claude(claude_bin, url: str, home, key: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": key,
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "CI": "1"}
    started = time.monotonic()
    done = subprocess.run([str(claude_bin), "-p", "Name three rivers of Peru", "--output-format", "json"],
                          capture_output=True, text=True, env=env, cwd=home, timeout=120)
    return done, time.monotonic() - started


def test_claude_code_backs_off_on_a_rate_limit_and_answers_in_the_next_window(
    claude_bin, fake, sa_key_file, start_gateway, sqlite_url, tmp_path
):
    key = create_key(sqlite_url, "search")
    # one request per 6 s window, taken here at the window's start: Claude Code's first call (it starts within
    # a second or two) is refused, and what it retries after retry-after lands in the next window
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url,
                                                   rate_limits__window_s=6, rate_limits__keys={key["id"]: {"rpm": 10}}))
    home = tmp_path / "home"
    home.mkdir()
    at_window_start(6)
    before = httpx.post(f"{gw.url}/v1/messages", headers={"x-api-key": key["secret"]},
                        json={"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user",
                                                                                           "content": "hi"}]})
    assert before.status_code == 200  # this window is used up: Claude Code's first call is refused
    done, took = claude(claude_bin, gw.url, home, key["secret"])
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["is_error"] is False and "Hello from fake-vertex" in out["result"]
    metrics = httpx.get(f"{gw.url}/metrics").text
    refused = [line for line in metrics.splitlines() if line.startswith("anyray_rate_limited_total{")]
    assert refused and float(refused[0].rsplit(" ", 1)[1]) >= 1, metrics  # it was refused, waited, got through
    assert took >= 1.0


def test_claude_code_stops_at_a_budget_without_retrying(claude_bin, fake, sa_key_file, start_gateway, sqlite_url,
                                                        tmp_path):
    key = create_key(sqlite_url, "search")
    seed_spend(sqlite_url, 2_000_000, team="search")
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url,
                                                   budgets__teams={"search": {"limit_usd": 1}}))
    home = tmp_path / "home"
    home.mkdir()
    done, took = claude(claude_bin, gw.url, home, key["secret"])
    assert "monthly budget of $1.00" in done.stdout + done.stderr
    assert took < 30  # no ten retries with backoff: x-should-retry: false and a 400
    assert not [r for r in fake.received if "Predict" in r.path or r.path.endswith("/messages")]
    metrics = httpx.get(f"{gw.url}/metrics").text
    refusals = [line for line in metrics.splitlines() if line.startswith('anyray_budget_refused_total{')]
    assert refusals and float(refusals[0].rsplit(" ", 1)[1]) <= 2, refusals
