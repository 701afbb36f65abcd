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
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

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


C = TypeVar("C", Tally, Buckets)


class _Family(Generic[C]):
    """One metric's children by label values, each made on first use by `make`."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str], make: Callable[[], C]) -> None:
        self.name, self.documentation, self.labels, self._make = name, documentation, list(labels), make
        self.children: dict[tuple[str, ...], C] = {}

    def child(self, *values: str) -> C:
        found = self.children.get(values)
        if found is None:
            found = self.children[values] = self._make()
        return found

    def snapshot(self) -> list[tuple[list[str], C]]:
        """The label sets as they are now, should a scrape come from a thread."""
        return [(list(values), child) for values, child in list(self.children.items())]


class CounterFamily(_Family[Tally]):
    """A counter's tallies by label values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        super().__init__(name, documentation, labels, Tally)

    def metric(self) -> Metric:
        counter = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, child in self.snapshot():
            counter.add_metric(values, child.value)
        return counter


class HistogramFamily(_Family[Buckets]):
    """A histogram's buckets by label values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str], bounds: Sequence[float]) -> None:
        bounds = tuple(bounds)
        super().__init__(name, documentation, labels, lambda: Buckets(bounds))

    def metric(self) -> Metric:
        histogram = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, child in self.snapshot():
            histogram.add_metric(values, child.cumulative(), child.sum)
        return histogram


Family = CounterFamily | HistogramFamily


class Tallies:
    """A prometheus_client collector over a few `Family`s: register it, then update the children directly."""

    def __init__(self, *families: Family) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        for family in self.families:
            yield family.metric()

    def describe(self) -> Iterator[Metric]:  # the registry reads the names, to refuse a clash at registration
        return self.collect()
