from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from anyray.config import Config
from anyray.server.optimizer.engine import Optimizer
from tests.conversation.session import optimize

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


class Run:
    """An in-process optimizer on its own event loop; `run(request, kinds, settings)` returns its answer."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.optimizer = Optimizer(Config.model_validate({"cache": {"key": KEY}}))
        self.loop.run_until_complete(self.optimizer.start())

    def __call__(self, request: dict[str, Any], kinds: list[str] | None = None,
                 settings: list[dict[str, Any]] | None = None, endpoint: str = "/v1/messages") -> dict[str, Any]:
        return self.loop.run_until_complete(optimize(self.optimizer, request, kinds, settings, endpoint))

    def retrieve(self, handle: str) -> str:
        return self.loop.run_until_complete(self.optimizer.retrieve({"handle": handle}))["content"]

    def close(self) -> None:
        self.loop.run_until_complete(self.optimizer.close())
        self.loop.close()


@pytest.fixture
def run() -> Iterator[Callable[..., dict[str, Any]]]:
    r = Run()
    yield r
    r.close()
