"""The gateway's long-lived parts, built once from the config and shared by every route."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from anyray.config import Config
from anyray.keys import KeyRing
from anyray.providers import PROVIDERS, Provider, build_providers
from anyray.routing import Route, Router
from anyray.server.gateway.auth import presented_key
from anyray.server.gateway.breaker import CircuitBreaker
from anyray.server.gateway.budgets import BudgetLedger, Over, over_budget
from anyray.server.gateway.call import Call, CallListener
from anyray.server.gateway.limits import BUSY_KEY, UpstreamSlots, busy
from anyray.server.gateway.metrics import GatewayMetrics
from anyray.server.gateway.optimizer_client import (
    HttpOptimizerClient,
    InProcessOptimizerClient,
    OptimizeOutcome,
    OptimizerClient,
    build_message,
)
from anyray.server.gateway.pipeline import Forwarder
from anyray.server.gateway.ratelimit import Limited, RateLimiter, rate_limited, redis_url_of
from anyray.server.gateway.retry import RetryPolicy
from anyray.server.gateway.spend import SpendRecorder
from anyray.server.gateway.tracing import provider_from_env, tracer_of
from anyray.server.gateway.upstream import UpstreamClient
from anyray.server.optimizer.engine import Optimizer

log = logging.getLogger("anyray.gateway")

OPTIMIZE_HEADER = "x-anyray-optimize"
KINDS_HEADER = "x-anyray-optimization-kinds"
RESULT_HEADER = "x-anyray-optimization-result"


def default_optimizer_client(config: Config, optimizer: Optimizer | None) -> OptimizerClient | None:
    settings = config.optimizer
    if not settings.enabled:
        return None
    breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s)
    if settings.url:
        token = _optimizer_token()
        if token is None:
            log.warning("optimizer.url is set but ANYRAY_OPTIMIZER_TOKEN is not: an optimizer with a token answers "
                        "401 (every request fails open), one without takes no cache write (docs/security.md)")
        return HttpOptimizerClient(settings.url, settings.budget_ms, token, breaker)
    return InProcessOptimizerClient(optimizer or Optimizer(config), settings.budget_ms, breaker)


def _optimizer_token() -> str | None:
    import os

    return os.environ.get("ANYRAY_OPTIMIZER_TOKEN") or None


class Gateway:
    def __init__(
        self,
        config: Config,
        providers: Mapping[str, Provider] | None = None,
        optimizer_client: OptimizerClient | None = None,
        tracer_provider: Any = None,
    ) -> None:
        """`tracer_provider`: an OpenTelemetry TracerProvider (tests pass one with an in-memory exporter);
        default: one exporting over OTLP when the OTEL_* variables ask for it, else no tracing."""
        self.config = config
        self._own_tracing = tracer_provider is None
        self.tracer_provider = tracer_provider if tracer_provider is not None else provider_from_env(os.environ)
        self.tracer = tracer_of(self.tracer_provider)
        self.providers = dict(providers) if providers is not None else build_providers(config)
        self.router = Router(config, available=set(self.providers))
        self.speaks = {name: provider.speaks for name, provider in self.providers.items()}
        settings = config.gateway
        self.upstream = UpstreamClient(settings.connect_timeout_s, settings.upstream_timeout_s,
                                       settings.limits.max_connections_per_upstream)
        retry = settings.retry
        policy = RetryPolicy(retry.attempts, retry.base_ms / 1000, retry.max_ms / 1000, retry.budget_s,
                             retry.final_for_clients)
        self.forwarder = Forwarder(self.providers, self.upstream, policy)
        limits = settings.limits
        self.slots = UpstreamSlots(limits.max_concurrent_upstream, limits.queue_timeout_s,
                                   limits.max_concurrent_upstream_per_team)
        self.optimizer = optimizer_client
        # called once per finished call (after the last byte): spend records, metrics, post-call hooks
        self.listeners: list[CallListener] = []
        # spend attribution: prices every call, feeds /metrics and (when store.url is set) the spend store
        self.metrics = GatewayMetrics()
        self.forwarder.on_retry = self.metrics.upstream_retry
        self.spend = SpendRecorder.from_config(config, self.metrics)
        self.spend.regions = {key: provider.region for key, provider in self.providers.items()}
        self.listeners.append(self.spend)
        # budgets: the store's spend sums, re-read in the background, plus this gateway's own calls at once
        store_url = config.store.url if self.spend.writer is not None else None  # a ledger needs records written
        self.budgets = BudgetLedger(config.budgets, store_url, self.metrics.registry)
        if config.budgets.any:
            self.spend.observers.append(self.budgets.note)
            if self.spend.writer is not None:
                self.spend.writer.on_written = self.budgets.written
        # rate limits: counted in Redis when one is configured (every replica sees the same counts)
        self.rate_limits = RateLimiter(config.rate_limits, redis_url_of(config), self.metrics.registry)
        if config.rate_limits.any:
            self.listeners.append(self.rate_limits.finished)
        # gateway keys live beside the spend records, so every replica reads the same set
        self.keys = KeyRing(config.store.url, config.auth.required, config.auth.refresh_s)

    async def start(self) -> None:
        await self.spend.start()
        await self.budgets.start()  # after the writer applied the migrations its query reads
        await self.keys.start()
        await self.upstream.start()
        await asyncio.gather(*(p.start() for p in self.providers.values()))
        if self.optimizer:
            await self.optimizer.start()

    async def warm(self) -> None:
        """Once the server listens: the in-process optimizer's decider starts now, not at the first long request."""
        if self.optimizer:
            await self.optimizer.warm()

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.providers.values()), return_exceptions=True)
        if self.optimizer:
            await self.optimizer.close()
        await self.upstream.close()
        await self.keys.close()
        await self.budgets.close()
        await self.rate_limits.close()
        if self._own_tracing and self.tracer_provider is not None:
            await asyncio.to_thread(self.tracer_provider.shutdown)  # exports the spans still batched
        await self.spend.close()  # after the last call finished: flushes the queued spend records

    async def optimize(
        self, call: Call, payload: dict[str, Any], route: Route, headers: Mapping[str, str]
    ) -> OptimizeOutcome | None:
        """The pre-call hook, steered by the caller's x-anyray-optimize / x-anyray-optimization-kinds."""
        if self.optimizer is None:
            call.optimization = {"status": "off", "reason": "optimizer disabled"}
            return None
        if headers.get(OPTIMIZE_HEADER, "").strip().lower() == "off":
            call.optimization = {"status": "off", "reason": f"{OPTIMIZE_HEADER}: off"}
            return None
        kinds_header = headers.get(KINDS_HEADER)
        kinds = [k.strip() for k in kinds_header.split(",") if k.strip()] if kinds_header is not None else None
        target = route.primary
        route_info = {"provider": target.provider, "model": target.model, "wire": self.speaks[target.key]}
        team = self.authenticated_team(headers)
        message = build_message(call.endpoint, payload, route_info, call.metadata, headers, True, kinds, team)
        started = time.perf_counter()
        outcome = await self.optimizer.optimize(message)
        self.metrics.decision.child("answered" if outcome is not None else "fail_open").observe(
            time.perf_counter() - started)
        if outcome is None:
            call.fail_open = True
            call.optimization = {"status": "fail_open", "applied": [], "skipped": [], "preserved": []}
            return None
        outcome.authenticated_team = team
        call.decisions = outcome.decisions
        status = "cache_hit" if outcome.cached_response is not None else "optimized" if outcome.changed else "unchanged"
        call.optimization = {"status": status, "applied": outcome.applied, "skipped": outcome.skipped,
                             "preserved": outcome.preserved}
        return outcome

    def authenticated_team(self, headers: Mapping[str, str]) -> str | None:
        """The team of the gateway key this request presented, verified against the ring as the key check did
        (a hash lookup; nothing when no key exists). None for a caller without a valid key: without gateway
        keys every caller is one anonymous principal, whatever team its x-anyray-metadata names, so that
        label attributes spend but never scopes the response cache (docs/security.md#the-response-cache)."""
        key = self.keys.verify(presented_key(headers))
        return key.team if key is not None else None

    def after_answer(self, call: Call, outcome: OptimizeOutcome | None, response: dict[str, Any] | None) -> None:
        """Post-call hooks, never awaited: cache write-back when asked for, and the optimize-response report."""
        if self.optimizer is None or outcome is None:
            return
        route = {"provider": call.target.provider, "model": call.upstream_model} if call.target else {}
        complete = response is not None and call.status == 200 and not call.partial
        if outcome.cache_key and complete:
            message = {"cacheKey": outcome.cache_key, "endpoint": call.endpoint, "route": route,
                       "response": response, "metadata": call.metadata}
            if outcome.authenticated_team:
                message["authenticatedTeam"] = outcome.authenticated_team
            if outcome.cache_ttl_s:
                message["ttlSeconds"] = outcome.cache_ttl_s
            self.optimizer.write_back(message)
        summary = response if complete else {"type": "summary", "status": call.status, "partial": call.partial,
                                             "usage": call.usage.as_anthropic()}
        self.optimizer.report({"endpoint": call.endpoint, "response": summary, "route": route,
                               "metadata": call.metadata, "decisions": call.decisions})

    def proxy_for(self, wire: str) -> Provider | None:
        """The provider that serves the other paths of an API (models, files, batches): the first ready one
        that speaks it and proxies."""
        return next((p for p in self.providers.values() if p.speaks == wire and p.proxies
                     and p.readiness().ready), None)

    def refused(self, dialect: str, reason: str, response: Response, call: Call | None = None) -> Response:
        """A model call answered with an error before any provider was asked: counted, recorded (its status
        and why, no tokens: nothing was spent, but a team's refused calls are its own to see), answered."""
        self.metrics.refused_inc(dialect, reason)
        if call is not None:
            call.finish(response.status_code)
            self.spend.refusal(call, reason)
        return response

    def busy(self, request: Request, call: Call | None = None) -> Response:
        """No upstream slot (the gateway's, or the caller's team's) came free in time: a 429 the caller's SDK
        backs off from and retries."""
        team = request.scope.get("state", {}).get(BUSY_KEY) == "team"
        limit = "concurrent_upstream_per_team" if team else "concurrent_upstream"
        self.metrics.limit_refused_inc(limit)
        response = busy(request.scope, request.headers, self.slots.limit or 0, self.slots.per_team)
        if call is not None:
            call.finish(response.status_code)
            self.spend.refusal(call, limit)
        return response

    def over_budget(self, dialect: str, call: Call, over: Over) -> Response:
        """A hard budget limit reached: refused before the optimizer or any upstream, recorded as a refusal."""
        self.metrics.limit_refused_inc("budget")
        response = over_budget(dialect, over)
        call.finish(response.status_code)
        self.spend.refusal(call, "budget")
        return response

    def rate_limited(self, dialect: str, call: Call, limited: Limited) -> Response:
        """A rate limit reached: a 429 with retry-after, before the optimizer or any upstream."""
        self.metrics.limit_refused_inc("rate")
        response = rate_limited(dialect, limited)
        call.finish(response.status_code)
        self.spend.refusal(call, f"rate_{limited.kind}")
        return response

    def completed(self, call: Call) -> None:
        for listener in self.listeners:
            try:
                listener(call)
            except Exception:  # a listener's bug must never fail a request that already succeeded
                log.exception("call listener %r failed", listener)

    def credentials_in_use(self) -> list[str]:
        """Every provider secret the gateway holds; tests use it to prove none leaks."""
        return [s for cls in PROVIDERS.values() for s in cls.secrets_in(cls.settings_of(self.config))]
