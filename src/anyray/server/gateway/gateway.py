"""The gateway's long-lived parts, built once from the config and shared by every route."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from anyray.config import Config, secret_value
from anyray.providers import Provider, build_providers
from anyray.routing import Route, Router
from anyray.server.gateway.call import Call, CallListener
from anyray.server.gateway.metrics import GatewayMetrics
from anyray.server.gateway.optimizer_client import (
    HttpOptimizerClient,
    InProcessOptimizerClient,
    OptimizeOutcome,
    OptimizerClient,
    build_message,
)
from anyray.server.gateway.pipeline import Forwarder
from anyray.server.gateway.spend import SpendRecorder
from anyray.server.gateway.upstream import UpstreamClient
from anyray.server.optimizer.engine import Optimizer

log = logging.getLogger("anyray.gateway")


def default_optimizer_client(config: Config, optimizer: Optimizer | None) -> OptimizerClient | None:
    settings = config.optimizer
    if not settings.enabled:
        return None
    if settings.url:
        return HttpOptimizerClient(settings.url, settings.budget_ms, _optimizer_token())
    return InProcessOptimizerClient(optimizer or Optimizer(), settings.budget_ms)


def _optimizer_token() -> str | None:
    import os

    return os.environ.get("ANYRAY_OPTIMIZER_TOKEN") or None


class Gateway:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider] | None = None,
        optimizer_client: OptimizerClient | None = None,
    ) -> None:
        self.config = config
        self.providers = dict(providers) if providers is not None else build_providers(config)
        self.router = Router(config, available=set(self.providers))
        settings = config.gateway
        self.upstream = UpstreamClient(settings.connect_timeout_s, settings.upstream_timeout_s)
        self.forwarder = Forwarder(self.providers, self.upstream)
        self.optimizer = optimizer_client
        # called once per finished call (after the last byte): spend records, metrics, post-call hooks
        self.listeners: list[CallListener] = []
        # spend attribution: prices every call, feeds /metrics and (when store.url is set) the spend store
        self.metrics = GatewayMetrics()
        self.forwarder.on_retry = self.metrics.upstream_retry
        self.spend = SpendRecorder.from_config(config, self.metrics)
        self.listeners.append(self.spend)

    async def start(self) -> None:
        await self.spend.start()
        await self.upstream.start()
        await asyncio.gather(*(p.start() for p in self.providers.values()))
        if self.optimizer:
            await self.optimizer.start()

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.providers.values()), return_exceptions=True)
        if self.optimizer:
            await self.optimizer.close()
        await self.upstream.close()
        await self.spend.close()  # after the last call finished: flushes the queued spend records

    async def optimize(
        self, call: Call, payload: dict[str, Any], route: Route, headers: Mapping[str, str]
    ) -> OptimizeOutcome | None:
        if self.optimizer is None:
            return None
        target = route.primary
        route_info = {"provider": target.provider, "model": target.model}
        message = build_message(call.endpoint, payload, route_info, call.metadata, headers, False)
        outcome = await self.optimizer.optimize(message)
        if outcome is None:
            call.fail_open = True
        else:
            call.decisions = outcome.decisions
        return outcome

    def completed(self, call: Call) -> None:
        for listener in self.listeners:
            try:
                listener(call)
            except Exception:  # a listener's bug must never fail a request that already succeeded
                log.exception("call listener %r failed", listener)

    def credentials_in_use(self) -> list[str]:
        """Every provider secret the gateway holds; tests use it to prove none leaks."""
        p = self.config.providers
        return [s for s in (secret_value(p.anthropic.api_key), secret_value(p.openai.api_key)) if s]
