"""`anyray serve gateway|optimizer`: what the containers run, as separate processes over real HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import anthropic
import httpx
import yaml

from anyray.server.optimizer.app import create_optimizer_app
from tests.conftest import ANTHROPIC_KEY
from tests.deploy.conftest import clean_env
from tests.kit import ServerThread
from tests.test_cli_up import _free_port, _wait_for_output


def _serve(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "anyray", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    return out


def test_serve_optimizer_runs_only_the_optimizer(tmp_path):
    port = _free_port()
    proc = _serve("optimizer", "--host", "127.0.0.1", "--port", str(port), env=clean_env())
    try:
        banner = _wait_for_output(proc, "listening")
        assert f"anyray optimizer listening on 127.0.0.1:{port}" in banner
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        assert health["status"] == "ok" and health["protocolVersion"] == "1" and health["worker"]["mode"] == "process"
        assert httpx.get(f"http://127.0.0.1:{port}/v1/capabilities").json()["protocolVersion"] == "1"
        assert httpx.post(f"http://127.0.0.1:{port}/v1/messages", json={}).status_code in (404, 405)
    finally:
        out = _stop(proc)
    assert "Traceback" not in out


def test_serve_gateway_calls_the_optimizer_over_http(fake, tmp_path):
    seen: list[str] = []
    optimizer_app = create_optimizer_app()

    async def observed(scope, receive, send):  # the real optimizer, with its requests noted
        if scope["type"] == "http":
            seen.append(f"{scope['method']} {scope['path']}")
        await optimizer_app(scope, receive, send)

    optimizer = ServerThread(observed).start()
    port = _free_port()
    config = tmp_path / "anyray.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "gateway": {"port": port},
                "optimizer": {"url": optimizer.url},
                "providers": {"anthropic": {"base_url": fake.url}},
            }
        )
    )
    proc = _serve("gateway", "-c", str(config), env=clean_env(ANTHROPIC_API_KEY=ANTHROPIC_KEY))
    try:
        banner = _wait_for_output(proc, "listening")
        assert f"anyray gateway listening on 127.0.0.1:{port} (optimizer {optimizer.url})" in banner
        client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="unused")
        reply = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.content[0].text
        assert "POST /v1/optimize" in seen
        assert fake.received[-1].path == "/v1/messages"

        # the optimizer goes away: the gateway still answers (fail-open), it just cannot ask any more
        optimizer.stop()
        seen.clear()
        reply = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "again"}]
        )
        assert reply.content[0].text
        assert seen == []
    finally:
        out = _stop(proc)
    assert "Traceback" not in out


def test_serve_on_a_taken_port_says_so(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "anyray", "serve", "optimizer", "--port", str(port)],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
