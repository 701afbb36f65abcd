"""Claude Code itself (npm @anthropic-ai/claude-code, pinned in tests/node) through the gateway.

Upstream fake: anyray.testing.FakeUpstream's Vertex paths, which reject any `anthropic-beta` value Vertex
does not know, exactly as Vertex does: Claude Code sends a dozen of them on every call.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import vertex_and_anthropic_config

pytestmark = pytest.mark.npm


def _run_claude(claude_bin, gateway_url: str, home, prompt: str) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": gateway_url,
        "ANTHROPIC_API_KEY": "sk-ant-claude-code-user-key-0000",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CI": "1",
    }
    result = subprocess.run(
        [str(claude_bin), "-p", prompt, "--output-format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )
    assert result.returncode == 0, f"claude failed:\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_claude_code_answers_through_the_gateway_from_vertex(claude_bin, fake, sa_key_file, start_gateway, tmp_path):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    home = tmp_path / "home"
    home.mkdir()
    out = _run_claude(claude_bin, gw.url, home, "Name three rivers of Peru")
    assert out["is_error"] is False
    assert "Hello from fake-vertex" in out["result"]
    assert "Name three rivers of Peru" in out["result"]

    calls = [r for r in fake.received if "Predict" in r.path]
    assert calls, "Claude Code's request never reached the Vertex fake"
    first = calls[0]
    assert first.body.get("max_tokens")
    assert "model" not in first.body
    sent_betas = set((first.headers.get("anthropic-beta") or "").split(","))
    assert "prompt-caching-scope-2026-01-05" not in sent_betas  # filtered before Vertex could refuse it
    assert not [r for r in fake.responses if r.status >= 400], "Vertex refused something the gateway sent"
    assert "sk-ant-claude-code-user-key-0000" not in json.dumps([dict(r.headers) for r in fake.received])
