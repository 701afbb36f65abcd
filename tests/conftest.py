"""Shared fixtures: the fake upstreams (anyray.testing) and real gateways on loopback.

Every test talks real HTTP on 127.0.0.1. The only stand-ins are the provider APIs themselves, served
by `anyray.testing.FakeUpstream` (Anthropic, Vertex AI, OpenAI, Google's token endpoint).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from anyray.config import load_config
from anyray.server.gateway.app import create_gateway_app
from anyray.server.gateway.gateway import Gateway, default_optimizer_client
from anyray.server.optimizer.worker import ProcessWorker
from anyray.testing import FakeUpstream, make_service_account_key
from tests import logscan
from tests.kit import ServerThread
from tests.logscan import pytest_configure, pytest_sessionfinish  # noqa: F401 - the log scan plugin's hooks

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "node"

# The CLI's consoles read COLUMNS once, when their module is imported; a width inherited from the runner
# (xdist's workers set 80) would then hold for every later invocation, whatever width a test asks for.
os.environ.pop("COLUMNS", None)

ANTHROPIC_KEY = "sk-ant-api03-gatewaykey-0000000000000000000000000000000000000000-AAAA"
CLIENT_KEY = "sk-ant-client-key-that-must-never-go-upstream-BBBB"


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream(anthropic_key=ANTHROPIC_KEY)
    try:
        with ServerThread(upstream.app) as server:
            upstream.url = server.url  # type: ignore[attr-defined]
            yield upstream
    finally:  # the Google tokens it issued must never show up in a log line (tests/logscan.py)
        logscan.register(*(t.token for t in upstream.tokens_issued), *upstream.tokens.refresh_tokens)


@pytest.fixture
def sa_key_file(fake: FakeUpstream, tmp_path: Path) -> Path:
    """A real-format service-account key whose token_uri is the fake token endpoint."""
    info = make_service_account_key(token_uri=f"{fake.url}/token", project_id="anyray-test")
    fake.trust_service_account(info)
    logscan.register(info["private_key"].splitlines()[2])  # one line of the private key's body
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    path.chmod(0o600)
    return path


def vertex_and_anthropic_config(fake: FakeUpstream, sa_key_file: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "providers": {
            "vertex": {
                "project": "test-proj",
                "location": "us-east5",
                "base_url": f"{fake.url}/v1",
                "credentials_file": str(sa_key_file),
            },
            "anthropic": {"base_url": fake.url, "api_key": ANTHROPIC_KEY},
        },
        "models": {
            "claude-sonnet-4-5": {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"},
            "claude-haiku-4-5": {"provider": "anthropic", "model": "claude-haiku-4-5-20251001"},
            "claude-opus-4-1": {
                "provider": "vertex",
                "model": "claude-opus-4-1@20250805",
                "fallbacks": [{"provider": "anthropic", "model": "claude-opus-4-1-20250805"}],
            },
            "claude-*": {"provider": "vertex"},
        },
    }
    for dotted, value in overrides.items():
        node = config
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return config


class RunningGateway:
    def __init__(self, server: ServerThread, gateway: Gateway) -> None:
        self.server = server
        self.gateway = gateway
        self.url = server.url


def _warmed(server: ServerThread, gateway: Gateway, timeout_s: float = 30.0) -> None:
    """As a server does once it listens: the in-process optimizer's decider started (`Gateway.warm`), and
    here also waited for, so a test's first long request meets a running decider, as a served replica's does,
    rather than its start racing the 800 ms budget on a machine busy with the other test worker."""
    assert server.loop is not None
    asyncio.run_coroutine_threadsafe(gateway.warm(), server.loop).result(timeout_s)
    client = gateway.optimizer
    worker = getattr(getattr(client, "optimizer", None), "worker", None)
    if not isinstance(worker, ProcessWorker):
        return
    deadline = time.monotonic() + timeout_s
    while worker.pid is None and worker.fallback is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], RunningGateway]]:
    """Write the config as anyray.yaml, load it the way `anyray up` does, serve the gateway."""
    running: list[ServerThread] = []

    def start(raw: dict[str, Any], env: dict[str, str] | None = None) -> RunningGateway:
        path = tmp_path / f"anyray-{len(running)}.yaml"
        path.write_text(yaml.safe_dump(raw))
        config = load_config(path, env=env or {})
        gateway = Gateway(config, optimizer_client=default_optimizer_client(config, None))
        server = ServerThread(create_gateway_app(config, gateway), production=True).start()
        running.append(server)
        _warmed(server, gateway)
        return RunningGateway(server, gateway)

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def gateway(fake: FakeUpstream, sa_key_file: Path, start_gateway) -> RunningGateway:
    return start_gateway(vertex_and_anthropic_config(fake, sa_key_file))


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """Claude Code from npm, installed into tests/node (pinned there). No npm is a failure, not a skip."""
    binary = NODE_DIR / "node_modules" / ".bin" / "claude"
    if not binary.exists():
        npm = shutil.which("npm")
        assert npm, "npm is required for the Claude Code tests (install Node.js and npm)"
        subprocess.run(
            [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
            check=True,
            timeout=600,
        )
    assert binary.exists(), f"npm install did not produce {binary}"
    return binary
