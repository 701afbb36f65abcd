"""The per-call metrics (requests, latency, time to first byte, tokens, cost) as plain tallies, read at scrape.

Why not prometheus_client's Counter and Histogram objects, as the rarer metrics use: every call updates
eight of them, and each update takes a lock and checks the metric is observable: ~11 us a call on the
benchmark machine, a few percent of the gateway's whole CPU per request (docs/performance.md). These
tallies are ints and floats that only the event loop touches (calls finish there, and `/metrics` is
served there), so they need no lock; a registered collector turns them into the same metric families,
with the same names, labels and buckets, when Prometheus scrapes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString


class Tally:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class Buckets:
    """A histogram's counts per bucket (`le` each bound, the last one +Inf), its sum and count."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value: Prometheus's `le`
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        out, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            out.append((floatToGoString(bound), running))
        return out


class CounterFamily:
    """A counter's tallies by label values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self.name, self.documentation, self.labels = name, documentation, list(labels)
        self.children: dict[tuple[str, ...], Tally] = {}

    def child(self, *values: str) -> Tally:
        found = self.children.get(values)
        if found is None:
            found = self.children[values] = Tally()
        return found

    def metric(self) -> Metric:
        counter = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, child in list(self.children.items()):  # a snapshot, should a scrape come from a thread
            counter.add_metric(list(values), child.value)
        return counter


class HistogramFamily:
    """A histogram's buckets by label values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str], bounds: Sequence[float]) -> None:
        self.name, self.documentation, self.labels, self.bounds = name, documentation, list(labels), tuple(bounds)
        self.children: dict[tuple[str, ...], Buckets] = {}

    def child(self, *values: str) -> Buckets:
        found = self.children.get(values)
        if found is None:
            found = self.children[values] = Buckets(self.bounds)
        return found

    def metric(self) -> Metric:
        histogram = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, child in list(self.children.items()):  # a snapshot, should a scrape come from a thread
            histogram.add_metric(list(values), child.cumulative(), child.sum)
        return histogram


Family = CounterFamily | HistogramFamily


class Tallies:
    """A prometheus_client collector over a few `Family`s: register it, then update the children directly."""

    def __init__(self, *families: Family) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        for family in self.families:
            yield family.metric()

    def describe(self) -> Iterator[Metric]:  # names only, so the registry can refuse a clash at registration
        for family in self.families:
            kind = HistogramMetricFamily if isinstance(family, HistogramFamily) else CounterMetricFamily
            yield kind(family.name, family.documentation, labels=family.labels)
