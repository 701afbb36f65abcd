"""Prometheus metrics for `GET /metrics` on the gateway.

Each gateway owns its own CollectorRegistry (tests run many gateways in one process, and two apps
must never share counters). Labels are bounded: dialect, provider and status come from small fixed
sets, and the model is the one the route resolved (configured models only; unknown ones are 404s that
never reach here).

Money is counted in micro-dollars so the counter only ever adds integers (exact up to $9e9).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from anyray.server.gateway.call_metrics import Buckets, CounterFamily, HistogramFamily, Tallies, Tally
from anyray.server.gateway.metrics_share import SharedMetrics
from anyray.store.records import SpendRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
TTFB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# a decision is a fraction of a millisecond on a short request, milliseconds on an agent's turn, and ends at
# the budget (optimizer.budget_ms, 800 by default)
DECISION_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2.5)
CONTENT_TYPE = CONTENT_TYPE_LATEST


TOKEN_KINDS = ("input", "output", "cache_write", "cache_read")


@dataclass(slots=True)
class _Bound:
    requests: Tally
    latency: Buckets
    ttfb: Buckets
    tokens: tuple[Tally, ...]
    cost: Tally


def _model(name: str | None) -> str:
    return (name or "unknown")[:80]


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # set in a worker of `anyray serve gateway --workers N`: a scrape answers every worker's numbers
        self.shared: SharedMetrics | None = None
        self._children: dict[tuple[str, str, str, str, str], _Bound] = {}
        r = self.registry
        call_labels = ["dialect", "provider", "model", "status"]
        # per call: tallies read at scrape (call_metrics.py), not a locked prometheus_client update each
        self.requests = CounterFamily("anyray_requests", "Finished requests.", call_labels)
        self.latency = HistogramFamily("anyray_request_duration_seconds", "Time from request to last byte.",
                                       call_labels, LATENCY_BUCKETS)
        self.ttfb = HistogramFamily("anyray_time_to_first_byte_seconds",
                                    "Time from request to the first byte of the answer.",
                                    ["dialect", "provider", "model"], TTFB_BUCKETS)
        self.tokens = CounterFamily("anyray_tokens", "Tokens the upstream reported, by kind.",
                                    ["provider", "model", "kind"])
        self.cost = CounterFamily("anyray_cost_micro_usd", "Cost of the answered requests, in micro-dollars.",
                                  ["provider", "model"])
        self.decision = HistogramFamily(
            "anyray_optimizer_decision_seconds",
            "Time a request waited for the optimizer's decision (within optimizer.budget_ms), by outcome: "
            "answered, or fail_open (forwarded untouched: timeout, error, open breaker).",
            ["outcome"], DECISION_BUCKETS)
        r.register(Tallies(self.requests, self.latency, self.ttfb, self.tokens, self.cost, self.decision))
        self.savings = Counter(
            "anyray_savings_micro_usd",
            "Estimated optimizer savings, in micro-dollars.",
            ["provider", "model"],
            registry=r,
        )
        self.unpriced = Counter(
            "anyray_unpriced_requests",
            "Requests with usage but no price for the model.",
            ["provider", "model"],
            registry=r,
        )
        self.fail_open = Counter(
            "anyray_optimizer_fail_open",
            "Requests forwarded unchanged because the optimizer failed.",
            ["dialect"],
            registry=r,
        )
        self.cache_hits = Counter(
            "anyray_cache_hits", "Requests answered from the response cache.", ["dialect"], registry=r
        )
        self.partial = Counter(
            "anyray_partial_responses", "Streams that ended before the answer was complete.", ["dialect"], registry=r
        )
        self.retries = Counter(
            "anyray_upstream_retries",
            "Upstream calls repeated: retried on the same target, corrected, or sent to a fallback.",
            ["provider", "reason"],
            registry=r,
        )
        self.spend_dropped = Counter(
            "anyray_spend_records_dropped", "Spend records dropped because the store fell behind.", registry=r
        )
        self.spend_lost = Counter(
            "anyray_spend_records_lost",
            "Spend records lost: queue, memory and spill file all full (or the spill unwritable).",
            registry=r,
        )
        self.spend_backlog = Gauge(
            "anyray_spend_records_backlog",
            "Spend records accepted but not yet in the store (queued, in memory, in the spill file).",
            registry=r,
        )
        self.auth_refused = Counter(
            "anyray_auth_refused", "API calls refused for want of a valid gateway key.", ["reason"], registry=r
        )

        self.refused = Counter(
            "anyray_refused_requests",
            "Model calls answered with an error before any provider was asked (the reason is one of a fixed set).",
            ["dialect", "reason"],
            registry=r,
        )
        self.limit_refused = Counter(
            "anyray_limit_refused", "Requests refused by a gateway limit (docs/reliability.md).", ["limit"], registry=r
        )

    def limit_refused_inc(self, limit: str) -> None:
        self.limit_refused.labels(limit).inc()

    def refused_inc(self, dialect: str, reason: str) -> None:
        self.refused.labels(dialect, reason).inc()

    def auth_refused_inc(self, reason: str) -> None:
        self.auth_refused.labels(reason).inc()

    def _bound(self, dialect: str, provider: str, model: str, status: str, used: str) -> _Bound:
        """The labelled children for one combination, looked up once (labels() costs a lock and a hash)."""
        key = (dialect, provider, model, status, used)
        bound = self._children.get(key)
        if bound is None:
            bound = _Bound(
                requests=self.requests.child(dialect, provider, model, status),
                latency=self.latency.child(dialect, provider, model, status),
                ttfb=self.ttfb.child(dialect, provider, model),
                tokens=tuple(self.tokens.child(provider, used, kind) for kind in TOKEN_KINDS),
                cost=self.cost.child(provider, used),
            )
            self._children[key] = bound
        return bound

    def observe(self, record: SpendRecord) -> None:
        provider = record.provider or "none"
        used = _model(record.model_used or record.model_asked)
        bound = self._bound(record.dialect, provider, _model(record.model_asked), str(record.status), used)
        bound.requests.value += 1
        if record.latency_ms is not None:
            bound.latency.observe(record.latency_ms / 1000)
        if record.ttfb_ms is not None:
            bound.ttfb.observe(record.ttfb_ms / 1000)
        counts = (record.input_tokens, record.output_tokens, record.cache_write_tokens, record.cache_read_tokens)
        for child, n in zip(bound.tokens, counts, strict=True):
            if n:
                child.value += n
        if record.cost_micros is None:
            self.unpriced.labels(provider, used).inc()
        elif record.cost_micros:
            bound.cost.value += record.cost_micros
        if record.savings_micros:
            self.savings.labels(provider, used).inc(record.savings_micros)
        if record.fail_open:
            self.fail_open.labels(record.dialect).inc()
        if record.cache_hit:
            self.cache_hits.labels(record.dialect).inc()
        if record.partial:
            self.partial.labels(record.dialect).inc()

    def upstream_retry(self, provider: str, reason: str) -> None:
        """For the pipeline: one more upstream attempt (`corrected`, `fallback`, `retry_429`...)."""
        self.retries.labels(provider, reason).inc()

    def render(self) -> bytes:
        if self.shared is not None:
            return self.shared.render(self.registry)
        return generate_latest(self.registry)
