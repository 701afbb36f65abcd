"""How /metrics merges the workers' registries (metrics_share.py): real registries, real snapshot files."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

from anyray.server.gateway.metrics_share import SharedMetrics, retire


def _worker(value: float, ratio: float, backlog: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("anyray_requests", "calls", ["status"], registry=registry).labels("200").inc(value)
    Histogram("anyray_latency_seconds", "latency", buckets=(0.1, 1), registry=registry).observe(value / 10)
    Gauge("anyray_budget_used_ratio", "budget", ["name"], registry=registry).labels("a").set(ratio)
    Gauge("anyray_spend_records_backlog", "backlog", registry=registry).set(backlog)
    return registry


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text.decode()) for s in f.samples}


def test_counters_and_histograms_add_up_gauges_follow_their_meaning_and_a_gone_worker_keeps_its_counts(tmp_path):
    one, two, three = _worker(3, 0.5, 2), _worker(4, 0.75, 5), _worker(5, 0.9, 7)
    mine = SharedMetrics(tmp_path, pid=1)
    SharedMetrics(tmp_path, pid=2).write(two)
    gone = SharedMetrics(tmp_path, pid=3)
    gone.write(three)
    retire(tmp_path, 3)
    (tmp_path / "stray.json").write_text("not metrics")  # anything else in the directory is not read

    merged = _samples(mine.render(one))
    assert merged[("anyray_requests_total", (("status", "200"),))] == 12  # every worker's calls, the gone one too
    assert merged[("anyray_latency_seconds_count", ())] == 3
    assert merged[("anyray_latency_seconds_bucket", (("le", "1.0"),))] == 3  # 0.3, 0.4, 0.5
    assert abs(merged[("anyray_latency_seconds_sum", ())] - 1.2) < 1e-9
    assert merged[("anyray_budget_used_ratio", (("name", "a"),))] == 0.75  # the live workers' highest view
    assert merged[("anyray_spend_records_backlog", ())] == 7  # the live workers' backlog, summed
    created = [v for (name, _), v in merged.items() if name == "anyray_requests_created"]
    assert len(created) == 1  # one series, the earliest start, not a sum of timestamps
