"""A fake upstream and a real gateway on loopback, the way the tests start them, for recording and replay."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from tests.kit import ServerThread

from anyray.config import load_config
from anyray.server.gateway.app import create_gateway_app
from anyray.server.gateway.gateway import Gateway, default_optimizer_client
from anyray.testing import FakeUpstream

UPSTREAM_KEY = "sk-ant-api03-replay-upstream-key-000000000000000000000000000000-AAAA"
CLIENT_KEY = "sk-ant-replay-client-key-BBBB"  # never stored: sessions keep bodies only


@dataclass
class Stack:
    fake: FakeUpstream
    gateway_url: str
    gateway: Gateway


@contextmanager
def stack(strategies: list[dict[str, Any]] | None = None) -> Iterator[Stack]:
    """`strategies`: optimizer settings (kind, enabled, params) for the gateway's in-process optimizer."""
    fake = FakeUpstream(anthropic_key=UPSTREAM_KEY)
    with ServerThread(fake.app) as upstream, tempfile.TemporaryDirectory() as tmp:
        fake.url = upstream.url
        path = Path(tmp) / "anyray.yaml"
        path.write_text(yaml.safe_dump({
            "providers": {"anthropic": {"base_url": upstream.url, "api_key": UPSTREAM_KEY}},
            "models": {"claude-*": {"provider": "anthropic"}},
            **({"optimizer": {"strategies": strategies}} if strategies else {}),
        }))
        config = load_config(path, env={})
        gateway = Gateway(config, optimizer_client=default_optimizer_client(config, None))
        server = ServerThread(create_gateway_app(config, gateway)).start()
        try:
            yield Stack(fake, server.url, gateway)
        finally:
            server.stop()
