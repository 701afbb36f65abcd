"""An optimizer on real HTTP that records what it receives and can be told to misbehave."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from anyray.config import Config
from anyray.server.optimizer.app import create_optimizer_app
from anyray.server.optimizer.engine import Optimizer
from tests.kit import ServerThread

# the optimizer's service token: without one it would take no cache write over HTTP (docs/protocol.md)
SERVICE_TOKEN = "svc-token-controllable-optimizer-0123456789"


class ControllableOptimizer:
    """The real optimizer app behind a switch: ok | slow | error | garbage | wrong-shape. Records raw bytes."""

    def __init__(self, config: Config | None = None) -> None:
        self.inner = create_optimizer_app(Optimizer(config), service_token=SERVICE_TOKEN, admin_token="")
        self.mode = "ok"
        self.slow_s = 2.0
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["path"], headers, body))
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
        if self.mode in ("error", "garbage", "wrong-shape"):
            status, payload = {"error": (500, b'{"error": "boom"}'), "garbage": (200, b"<html>not json"),
                               "wrong-shape": (200, b'{"request": "not an object"}')}[self.mode]
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": payload})
            return

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.inner(scope, replay, send)


@pytest.fixture
def controllable_optimizer(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ControllableOptimizer, str]]:
    """The optimizer, and its URL; a gateway started in the test presents its token (ANYRAY_OPTIMIZER_TOKEN)."""
    monkeypatch.setenv("ANYRAY_OPTIMIZER_TOKEN", SERVICE_TOKEN)
    app = ControllableOptimizer(Config.model_validate(
        {"optimizer": {"strategies": [{"kind": "semantic_cache", "enabled": True}]}}))
    with ServerThread(app, production=True) as server:
        yield app, server.url
