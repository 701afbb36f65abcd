"""/metrics across gateway worker processes (`anyray serve gateway --workers N`): one answer, all workers.

Why: N workers share one port, and a scrape reaches whichever worker the kernel hands the connection to.
Each worker's own counters would make every scrape a different process's numbers; Prometheus would see
counters jump up and down (read as resets) and every total would be a fraction of the truth. So every
worker writes a snapshot of its registry (`worker-<pid>.json` in a directory the supervisor made) once
a `FLUSH_S`, when it is scraped and when it stops; the worker that is scraped answers every snapshot,
summed per label set: one instance, one set of totals, as from a single process.

Why not prometheus_client's multiprocess mode: it replaces every value by a locked write into an mmap
file, and the gateway's per-call metrics are plain tallies read at scrape (call_metrics.py), kept off
prometheus_client's locks on purpose; it is also process-global, and tests run many gateways per process.

How samples merge: counters and histograms are summed (a worker that is gone keeps its last snapshot,
renamed `gone-<pid>.json` by the supervisor, so totals never go down when a worker is replaced); gauges
are summed over live workers (`anyray_spend_records_backlog`: records not yet stored, in all workers)
except `MAX_GAUGES`, each worker's view of one shared quantity, where the highest (the most recent) is
the answer. A sibling's numbers are at most `FLUSH_S` old; a worker that crashes loses at most its last
`FLUSH_S` of counts from the totals, never counts a scrape already reported.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric

log = logging.getLogger("anyray.metrics")

FLUSH_S = 1.0
# gauges that are each worker's view of one shared number (the budget's spend, read from the store)
MAX_GAUGES = frozenset({"anyray_budget_used_ratio"})
LIVE, GONE, LOCK = "worker-", "gone-", "lock"


def snapshot(registry: CollectorRegistry) -> bytes:
    """A registry's families and samples, as JSON (content-free: metric names, bounded labels, numbers)."""
    families = []
    for metric in registry.collect():
        families.append({"name": metric.name, "type": metric.type, "help": metric.documentation,
                         "samples": [[s.name, s.labels, s.value] for s in metric.samples]})
    return orjson.dumps(families)


class SharedMetrics:
    """One worker's side: write its snapshot, and answer a scrape with every worker's numbers."""

    def __init__(self, directory: Path, pid: int | None = None) -> None:
        self.directory = directory
        self.pid = pid or os.getpid()
        self.path = directory / f"{LIVE}{self.pid}.json"

    def write(self, registry: CollectorRegistry) -> None:
        """Replace this worker's snapshot (under the directory's lock: a reader never sees half a file)."""
        data = snapshot(registry)
        tmp = self.path.with_suffix(".tmp")
        try:
            with _locked(self.directory, fcntl.LOCK_EX):
                tmp.write_bytes(data)
                os.replace(tmp, self.path)
        except OSError as exc:  # a full or vanished directory must not fail the worker; say so
            log.warning("cannot write this worker's metrics snapshot: %s", exc)

    def render(self, registry: CollectorRegistry) -> bytes:
        """Every worker's snapshot merged, this worker's written afresh first.

        Only snapshots, never this worker's live values beside the others' snapshots: those are up to
        `FLUSH_S` old, so a scrape answered by the other worker would then count less than this one did,
        and Prometheus reads a counter that goes down as a reset. Each snapshot only ever grows, so every
        scrape, whichever worker answers it, is at least the one before."""
        self.write(registry)
        found = []
        with contextlib.suppress(OSError), _locked(self.directory, fcntl.LOCK_SH):
            for path in sorted(self.directory.glob("*.json")):
                live = path.name.startswith(LIVE)
                if live or path.name.startswith(GONE):
                    with contextlib.suppress(OSError):
                        found.append((path.read_bytes(), live))
        merged = _Merged()
        for data, live in found:
            with contextlib.suppress(orjson.JSONDecodeError):
                merged.add(orjson.loads(data), live=live)
        return generate_latest(merged)  # type: ignore[arg-type]


def retire(directory: Path, pid: int) -> None:
    """For the supervisor, when a worker is gone: keep its counters in the totals, drop its gauges."""
    with contextlib.suppress(OSError), _locked(directory, fcntl.LOCK_EX):
        os.replace(directory / f"{LIVE}{pid}.json", directory / f"{GONE}{pid}.json")


@contextlib.contextmanager
def _locked(directory: Path, mode: int) -> Iterator[None]:
    """The directory's lock. Why: a directory listed while a file in it is renamed may list neither name
    (POSIX leaves it unspecified), and a scrape would then miss a worker's counts; writers (a snapshot
    replaced, a worker retired) and readers (a scrape) take turns. Each holds it for a file's write or a
    few reads, microseconds, once a second per worker."""
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class _Merged:
    """Families summed across snapshots; a `collect()` generate_latest can render."""

    def __init__(self) -> None:
        self.families: dict[str, tuple[str, str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = {}

    def add(self, families: Iterable[dict[str, Any]], live: bool) -> None:
        for family in families:
            name, kind = family["name"], family["type"]
            if kind == "gauge" and not live:
                continue  # a gone worker holds nothing now
            _, _, samples = self.families.setdefault(name, (kind, family["help"], {}))
            for sample_name, labels, value in family["samples"]:
                if not isinstance(value, int | float):  # JSON has no inf or NaN: orjson wrote null
                    continue
                key = (sample_name, tuple(sorted(labels.items())))
                if key not in samples:
                    samples[key] = value
                elif sample_name.endswith("_created"):
                    samples[key] = min(samples[key], value)
                elif name in MAX_GAUGES:
                    samples[key] = max(samples[key], value)
                else:
                    samples[key] += value

    def collect(self) -> Iterator[Metric]:
        for name, (kind, help_text, samples) in self.families.items():
            metric = Metric(name, help_text, kind)
            for (sample_name, labels), value in samples.items():
                metric.add_sample(sample_name, dict(labels), value)
            yield metric
