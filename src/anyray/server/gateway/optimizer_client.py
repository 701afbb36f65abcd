"""The gateway's pre-call hook into the optimizer, and the promise that it can never hurt a request.

Whatever happens on the other side (slow, down, 500, garbage), `optimize` returns None within the
budget and the gateway forwards the client's request untouched; every such case is counted. The
optimizer only ever sees the request body, the route and content-free metadata: never a credential.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from anyray.server.optimizer.engine import Optimizer

log = logging.getLogger("anyray.gateway.optimizer")

# The only request headers the optimizer may see: they change what a request means, never who sent it.
OPTIMIZER_HEADER_ALLOWLIST = ("anthropic-beta", "anthropic-version")


@dataclass(slots=True)
class OptimizeOutcome:
    request: dict[str, Any]
    changed: bool
    decisions: list[dict[str, Any]] = field(default_factory=list)
    cached_response: Any = None


def build_message(
    endpoint: str,
    request: dict[str, Any],
    route: Mapping[str, str],
    metadata: Mapping[str, Any],
    headers: Mapping[str, str],
    can_short_circuit: bool,
) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "request": request,
        "route": dict(route),
        "metadata": dict(metadata),
        "headers": {k: headers[k] for k in OPTIMIZER_HEADER_ALLOWLIST if k in headers},
        "canShortCircuit": can_short_circuit,
    }


class OptimizerClient:
    """Base: budget, validation of the answer, fail-open accounting. Subclasses only transport."""

    def __init__(self, budget_ms: int) -> None:
        self.budget_s = budget_ms / 1000
        self.fail_open: Counter[str] = Counter()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def _call(self, message: dict[str, Any]) -> Any:
        raise NotImplementedError

    async def optimize(self, message: dict[str, Any]) -> OptimizeOutcome | None:
        original = message["request"]
        try:
            answer = await asyncio.wait_for(self._call(message), self.budget_s)
        except TimeoutError:
            return self._failed("timeout")
        except Exception as exc:
            return self._failed(type(exc).__name__)
        if not isinstance(answer, dict) or not isinstance(answer.get("request"), dict):
            return self._failed("invalid_answer")
        decisions = answer.get("decisions") if isinstance(answer.get("decisions"), list) else []
        request = answer["request"]
        changed = request is not original and request != original
        cached = answer.get("cachedResponse") if answer.get("cacheHit") and message.get("canShortCircuit") else None
        return OptimizeOutcome(request if changed else original, changed, decisions, cached)

    def _failed(self, reason: str) -> None:
        self.fail_open[reason] += 1
        log.warning("optimizer fail-open: %s", reason)
        return None


class InProcessOptimizerClient(OptimizerClient):
    """`anyray up`: the optimizer lives on the same event loop; no HTTP, same budget and fail-open."""

    def __init__(self, optimizer: Optimizer, budget_ms: int) -> None:
        super().__init__(budget_ms)
        self.optimizer = optimizer

    async def _call(self, message: dict[str, Any]) -> Any:
        return await self.optimizer.optimize(message)


class HttpOptimizerClient(OptimizerClient):
    """A cluster: the optimizer is a Service; keep-alive connections, a short connect timeout."""

    def __init__(self, url: str, budget_ms: int, token: str | None = None) -> None:
        super().__init__(budget_ms)
        self.url = url.rstrip("/") + "/v1/optimize"
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=60),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def _call(self, message: dict[str, Any]) -> Any:
        assert self._session is not None, "start() first"
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        async with self._session.post(self.url, data=orjson.dumps(message), headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"optimizer HTTP {resp.status}")
            return orjson.loads(await resp.read())
