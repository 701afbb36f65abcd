"""The real LiteLLM proxy (a subprocess, config rendered by `anyray render litellm`) with the anyray
callback, pointed at the fake Anthropic upstream (anyray.testing.FakeUpstream) and at the optimizer app
on another port (recorded by tests/optimizer/conftest.py's ControllableOptimizer)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
import yaml
from typer.testing import CliRunner

from anyray.cli import app
from anyray.testing import FakeUpstream
from tests.conftest import ANTHROPIC_KEY
from tests.kit import ServerThread
from tests.optimizer.conftest import SERVICE_TOKEN, ControllableOptimizer

MASTER_KEY = "sk-litellm-master-0000000000000000000042"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[str, FakeUpstream, ControllableOptimizer]]:
    tmp = tmp_path_factory.mktemp("litellm")
    fake = FakeUpstream(anthropic_key=ANTHROPIC_KEY)
    optimizer = ControllableOptimizer()
    with ServerThread(fake.app) as upstream, ServerThread(optimizer) as opt:
        config = tmp / "anyray.yaml"
        config.write_text(yaml.safe_dump({
            "providers": {"anthropic": {"base_url": upstream.url}},
            "models": {"claude-haiku-4-5": {"provider": "anthropic", "model": "claude-haiku-4-5-20251001"}},
        }))
        rendered = CliRunner().invoke(app, ["render", "litellm", "-o", str(tmp / "out"), "--config", str(config)])
        assert rendered.exit_code == 0, rendered.output
        port = free_port()
        # the adapter presents the optimizer's service token, as in every deployment (the optimizer requires it)
        env = {**os.environ, "ANYRAY_OPTIMIZER_URL": opt.url, "ANYRAY_OPTIMIZER_TOKEN": SERVICE_TOKEN,
               "ANYRAY_OPTIMIZER_BUDGET_MS": "300",
               "LITELLM_MASTER_KEY": MASTER_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY, "HOME": str(tmp),
               "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_PROXY": "*"}
        log = (tmp / "litellm.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "litellm.proxy.proxy_cli", "--config",
                                 str(tmp / "out" / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, (tmp / "litellm.log").read_text()[-3000:]
                try:
                    if httpx.get(url + "/health/liveliness", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "LiteLLM did not start"
                time.sleep(0.3)
            yield url, fake, optimizer
        finally:
            proc.terminate()
            proc.wait(20)


def optimize_messages(optimizer: ControllableOptimizer) -> list[tuple[dict, bytes]]:
    return [(h, b) for path, h, b in optimizer.seen if path == "/v1/optimize"]


def assert_no_credentials(optimizer: ControllableOptimizer) -> None:
    for path, headers, body in optimizer.seen:
        blob = json.dumps(headers) + body.decode()
        for secret in (MASTER_KEY, ANTHROPIC_KEY):
            assert secret not in blob, f"a credential reached the optimizer on {path}"


def test_anthropic_sdk_through_litellm_gets_max_tokens_capped(stack):
    url, fake, optimizer = stack
    optimizer.mode = "ok"
    client = anthropic.Anthropic(base_url=url, api_key=MASTER_KEY, max_retries=0, timeout=60)
    seen_before = len(optimize_messages(optimizer))
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=64000,
                                     messages=[{"role": "user", "content": "Capital of Peru?"}])
    assert "Capital of Peru?" in message.content[0].text
    assert fake.received[-1].body["max_tokens"] == 32000
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=64000,
                                messages=[{"role": "user", "content": "And of Chile?"}]) as stream:
        assert "And of Chile?" in stream.get_final_text()
    assert fake.received[-1].body["max_tokens"] == 32000
    sent = [json.loads(b) for _, b in optimize_messages(optimizer)[seen_before:]]
    assert {m["endpoint"] for m in sent} == {"/v1/messages"} and len(sent) == 2
    assert_no_credentials(optimizer)


def test_openai_sdk_through_litellm_gets_max_tokens_capped(stack):
    url, fake, optimizer = stack
    optimizer.mode = "ok"
    client = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)
    answer = client.chat.completions.create(model="claude-haiku-4-5", max_tokens=64000,
                                            messages=[{"role": "user", "content": "Largest ocean?"}])
    assert "Largest ocean?" in answer.choices[0].message.content
    assert fake.received[-1].body["max_tokens"] == 32000
    chunks = list(client.chat.completions.create(model="claude-haiku-4-5", max_tokens=64000, stream=True,
                                                 messages=[{"role": "user", "content": "Smallest ocean?"}]))
    assert "Smallest ocean?" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert fake.received[-1].body["max_tokens"] == 32000
    sent = json.loads(optimize_messages(optimizer)[-1][1])
    assert sent["endpoint"] == "/v1/chat/completions" and set(sent["request"]) <= {
        "model", "messages", "max_tokens", "stream", "stream_options", "temperature", "n"}
    assert_no_credentials(optimizer)


@pytest.mark.parametrize("mode", ["slow", "error"])
def test_a_slow_or_failing_optimizer_never_breaks_litellm(stack, mode):
    url, fake, optimizer = stack
    optimizer.mode = mode
    client = anthropic.Anthropic(base_url=url, api_key=MASTER_KEY, max_retries=0, timeout=60)
    started = time.monotonic()
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=64000,
                                     messages=[{"role": "user", "content": f"mode {mode}"}])
    elapsed = time.monotonic() - started
    optimizer.mode = "ok"
    assert f"mode {mode}" in message.content[0].text
    assert fake.received[-1].body["max_tokens"] == 64000, "the request must pass through unchanged"
    assert elapsed < 0.3 + 1.5, f"took {elapsed:.2f}s with a {mode} optimizer and a 300 ms budget"


def test_the_example_config_is_what_render_writes(tmp_path):
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({
        "providers": {"vertex": {"project": "my-project", "location": "us-east5"}},
        "models": {"claude-sonnet-4-5": {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"},
                   "claude-opus-4-1": {"provider": "vertex", "model": "claude-opus-4-1@20250805"}},
    }, sort_keys=False))
    result = CliRunner().invoke(app, ["render", "litellm", "-o", str(tmp_path / "out"), "-c", str(config)],
                                env={"ANTHROPIC_API_KEY": None, "OPENAI_API_KEY": None, "GOOGLE_CLOUD_PROJECT": None})
    assert result.exit_code == 0, result.output
    example = Path(__file__).resolve().parents[2] / "examples" / "litellm" / "config.yaml"
    assert (tmp_path / "out" / "config.yaml").read_text() == example.read_text()
    assert "api_key" not in example.read_text()
