"""The per-call tallies (call_metrics.py) expose what prometheus_client's own metrics would, sample for sample."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from anyray.server.gateway.call_metrics import CounterFamily, HistogramFamily, Tallies
from anyray.server.gateway.metrics import LATENCY_BUCKETS


def samples(registry: CollectorRegistry) -> list[str]:
    """The exposition's lines, without prometheus_client's `_created` timestamps (the tallies have none)."""
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_tallies_expose_the_same_samples_as_prometheus_clients_metrics():
    rng = random.Random(7)
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram("t_latency_seconds", "Latency.", ["route"], buckets=LATENCY_BUCKETS, registry=theirs)
    counter = Counter("t_requests", "Requests.", ["route", "status"], registry=theirs)
    latency = HistogramFamily("t_latency_seconds", "Latency.", ["route"], LATENCY_BUCKETS)
    requests = CounterFamily("t_requests", "Requests.", ["route", "status"])
    ours.register(Tallies(latency, requests))
    # values on the bounds themselves (`le` includes them), between them, past the last, and zero
    values = [*LATENCY_BUCKETS, 0.0, 1e-4, 0.03, 700.0, *(rng.expovariate(3) for _ in range(500))]
    for value in values:
        route = rng.choice(["a", "b"])
        status = rng.choice(["200", "429"])
        histogram.labels(route).observe(value)
        latency.child(route).observe(value)
        counter.labels(route, status).inc(3)
        requests.child(route, status).value += 3
    assert samples(ours) == samples(theirs)
    assert any('le="+Inf"' in line for line in samples(ours))


def test_a_name_already_registered_is_refused_at_registration():
    registry = CollectorRegistry()
    Counter("t_clash", "First.", registry=registry)
    try:
        registry.register(Tallies(CounterFamily("t_clash", "Second.", [])))
    except ValueError as exc:
        assert "t_clash" in str(exc)
    else:
        raise AssertionError("a duplicate metric name was accepted")
