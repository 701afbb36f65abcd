"""The gateway's accounting listener: price each finished call, count it, queue its spend record.

Registered on `Gateway.listeners`, so it runs once per call after the last byte; it does arithmetic
and a non-blocking queue put, nothing else. The store itself is written by `SpendWriter`'s thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from anyray.config import Config
from anyray.pricing import PriceBook
from anyray.server.gateway.call import Call, Usage
from anyray.server.gateway.metrics import GatewayMetrics
from anyray.store import SpendRecord, SpendWriter, default_spill_dir, open_store, sanitize_decisions
from anyray.store.records import decision_saved_micros, decision_tokens_saved

log = logging.getLogger("anyray.spend")

def _text(value: Any, limit: int = 128) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class SpendRecorder:
    """A `CallListener`: Call -> SpendRecord -> metrics and (when a store is configured) the writer."""

    def __init__(
        self,
        prices: PriceBook,
        metrics: GatewayMetrics,
        writer: SpendWriter | None = None,
    ) -> None:
        self.prices = prices
        self.metrics = metrics
        self.writer = writer
        self.regions: dict[str, str | None] = {}  # provider instance -> where it serves (the gateway fills it)
        self.observers: list[Callable[[SpendRecord], None]] = []  # told of each finished call's record (budgets)

    @classmethod
    def from_config(cls, config: Config, metrics: GatewayMetrics) -> SpendRecorder:
        prices = PriceBook.load(config.pricing.file)
        writer = None
        if config.store.enabled and config.store.url:
            settings = config.store
            writer = SpendWriter(
                open_store(settings.url, lazy=True),
                settings.queue_size,
                settings.batch_size,
                spill_dir=settings.spill_dir or default_spill_dir(settings.url),
                spill_max_bytes=settings.spill_max_bytes,
                retry_max_s=settings.retry_max_s,
                on_lost=metrics.spend_lost.inc,
            )
            metrics.spend_backlog.set_function(lambda: writer.backlog)
        return cls(prices, metrics, writer)

    async def start(self) -> None:
        if self.writer is not None:
            await asyncio.to_thread(self.writer.start)

    async def close(self) -> None:
        if self.writer is not None:
            await asyncio.to_thread(self.writer.close)

    def __call__(self, call: Call) -> None:
        record = self.build(call)
        self.metrics.observe(record)
        for observe in self.observers:
            observe(record)
        if self.writer is not None and not self.writer.submit(record):
            self.metrics.spend_dropped.inc()

    def refusal(self, call: Call, reason: str) -> None:
        """A call the gateway refused itself: a record of its status and reason (the refusal counters are the
        metric; a finished-request metric counts only calls sent on)."""
        call.decisions = [{"kind": "refused", "reason": reason}]
        if self.writer is not None and not self.writer.submit(self.build(call)):
            self.metrics.spend_dropped.inc()

    def _savings(
        self, decisions: list[dict[str, Any]], provider: str | None, model: str, usage: Usage, region: str | None
    ) -> int:
        """Explicit micro-dollar savings when a decision states them, else input tokens saved x input price."""
        total = 0
        for decision in decisions:
            explicit = decision_saved_micros(decision)
            if explicit is not None:
                total += max(0, explicit)
                continue
            saved = decision_tokens_saved(decision)
            if provider and saved is not None:
                total += self.prices.input_saving(provider, model, saved, usage, region) or 0
        return total

    def _avoided(self, call: Call) -> int:
        """A cache hit's saving: the replayed answer's input and output, priced at the route's first target
        (where the call would have gone), in that target's region."""
        if call.avoided is None or call.route is None:
            return 0
        target = call.route.primary
        region = self.regions.get(target.key)
        cost = self.prices.cost(target.provider, call.upstream_model or target.model, call.avoided, region)
        return cost.micros if cost is not None else 0

    def build(self, call: Call) -> SpendRecord:
        usage = call.usage
        provider = call.target.provider if call.target is not None else None
        model_used = call.upstream_model or None
        priced_model = model_used or call.model_asked
        tokens = (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        )
        cost_micros: int | None = 0
        priced_as = None
        if any(tokens):
            cost = self.prices.cost(provider, priced_model, usage, call.region) if provider else None
            cost_micros = cost.micros if cost is not None else None
            priced_as = cost.priced_as if cost is not None else None
        decisions = sanitize_decisions(call.decisions)
        meta = call.metadata if isinstance(call.metadata, dict) else {}
        raw_tags = meta.get("tags")
        tags = (
            {str(k)[:64]: v[:128] for k, v in raw_tags.items() if isinstance(v, str)}
            if isinstance(raw_tags, dict)
            else {}
        )
        duration = call.duration_s
        return SpendRecord(
            ts_ms=int((time.time() - (duration or 0.0)) * 1000),
            request_id=call.id,
            dialect=call.dialect,
            endpoint=call.endpoint,
            model_asked=call.model_asked,
            status=call.status,
            team=_text(meta.get("team")),
            app=_text(meta.get("app")),
            user_name=_text(meta.get("user")),
            tags=tags,
            provider=provider,
            model_used=model_used,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens,
            cache_write_1h_tokens=usage.cache_creation_1h_input_tokens,
            cache_read_tokens=usage.cache_read_input_tokens,
            cost_micros=cost_micros,
            priced_as=priced_as,
            savings_micros=self._savings(decisions, provider, priced_model, usage, call.region) + self._avoided(call),
            decisions=decisions,
            latency_ms=None if duration is None else round(duration * 1000, 3),
            ttfb_ms=None if call.first_byte_s is None else round(call.first_byte_s * 1000, 3),
            streamed=call.stream,
            cache_hit=call.cache_hit,
            fail_open=call.fail_open,
            partial=call.partial,
            key_id=call.key_id,
        )
