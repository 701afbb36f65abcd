"""The rich table, the issue's targets checked against this run, and the JSON written beside them."""

from __future__ import annotations

import os
import platform
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.bench.hol import HolCell
from benchmarks.bench.run import Cell, Comparison, Soak
from benchmarks.bench.streams import StreamsCell

# issue 10's targets: throughput ratio to direct at 8 connections, added latency at 1, memory
RPS_TARGETS = {"anthropic": 0.25, "stream": 0.20, "openai": 0.20}
ADDED_P50_MS, ADDED_P99_MS = 0.5, 2.0
RSS_LIMIT_MB = 120.0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(cells: list[Cell], comparisons: list[Comparison], title: str) -> Table:
    by_key = {(c.scenario, c.target, c.connections): c for c in comparisons}
    t = Table(title=title, title_justify="left")
    for name, justify in (("workload", "left"), ("conn", "right"), ("target", "left"), ("gen", "left"),
                          ("req/s", "right"), ("x direct", "right"), ("x LiteLLM", "right"), ("p50 ms", "right"),
                          ("p90 ms", "right"), ("p99 ms", "right"), ("+p50", "right"), ("+p99", "right"),
                          ("TTFB p50", "right"), ("TTFB p99", "right"), ("RSS MB", "right"), ("CPU %", "right"),
                          ("CPU us/req", "right"), ("decision ms", "right"),
                          ("errors", "right")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in cells:
        cmp = by_key.get((c.scenario, c.target, c.connections))
        t.add_row(
            c.scenario, str(c.connections), c.target, c.generator, f"{c.rps:,.0f}",
            f"{cmp.rps_ratio:.3f}" if cmp else "1",
            f"{cmp.vs_litellm:,.1f}" if cmp and cmp.vs_litellm else "-",
            _ms(c.p50_ms), _ms(c.p90_ms), _ms(c.p99_ms),
            _ms(cmp.added_p50_ms) if cmp else "-", _ms(cmp.added_p99_ms) if cmp else "-",
            _ms(c.ttfb_p50_ms), _ms(c.ttfb_p99_ms),
            "-" if c.rss_mb is None else f"{c.rss_mb:.0f}", "-" if c.cpu_pct is None else f"{c.cpu_pct:.0f}",
            "-" if c.cpu_us_per_request is None else f"{c.cpu_us_per_request:.0f}", _ms(c.decision_ms),
            str(c.errors) if not c.errors else f"[red]{c.errors}[/]",
        )
    return t


def check_targets(comparisons: list[Comparison], soaked: Soak | None, target: str = "anyray") -> list[dict[str, Any]]:
    """Each of the issue's targets that this run measured: the figure, the bar, met or not."""
    out: list[dict[str, Any]] = []
    index = {(c.scenario, c.connections): c for c in comparisons if c.target == target}
    for scenario, bar in RPS_TARGETS.items():
        if (c := index.get((scenario, 8))) is not None:
            out.append({"target": f"{scenario} req/s at 8 connections >= {bar:.0%} of direct",
                        "measured": round(c.rps_ratio, 3), "met": c.rps_ratio >= bar})
    if (c := index.get(("anthropic", 1))) is not None:
        out.append({"target": f"added p50 at 1 connection <= {ADDED_P50_MS} ms", "measured": round(c.added_p50_ms, 3),
                    "met": c.added_p50_ms <= ADDED_P50_MS})
        out.append({"target": f"added p99 at 1 connection <= {ADDED_P99_MS} ms", "measured": round(c.added_p99_ms, 3),
                    "met": c.added_p99_ms <= ADDED_P99_MS})
    if soaked is not None and soaked.rss_mb:
        out.append({"target": f"RSS <= {RSS_LIMIT_MB:.0f} MB after {soaked.requests:,} requests",
                    "measured": soaked.rss_mb[-1], "met": soaked.rss_mb[-1] <= RSS_LIMIT_MB})
        growth = soaked.growth_last_half_mb
        out.append({"target": "RSS flat over the last half (growth <= 2 MB)", "measured": round(growth, 1),
                    "met": growth <= 2.0})
    return out


def targets_table(checks: list[dict[str, Any]]) -> Table:
    t = Table(title="issue 10 targets (anyray, in-process optimizer)", title_justify="left")
    t.add_column("target")
    t.add_column("measured", justify="right")
    t.add_column("met")
    for c in checks:
        t.add_row(c["target"], str(c["measured"]), "[green]yes[/]" if c["met"] else "[red]no[/]")
    return t


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in load], "python": platform.python_version(),
            "platform": platform.platform()}


def print_report(console: Console, cells: list[Cell], comparisons: list[Comparison], soaked: Soak | None,
                 checks: list[dict[str, Any]], title: str) -> None:
    console.print(table(cells, comparisons, title))
    if soaked is not None:
        console.print(f"soak: {soaked.requests:,} requests through anyray, RSS MB after each tenth: "
                      f"{', '.join(f'{x:.0f}' for x in soaked.rss_mb)} (errors {soaked.errors})")
    if checks:
        console.print(targets_table(checks))


def print_hol(console: Console, cells: list[HolCell]) -> None:
    """The small call's latency alone and beside the big requests, per target; and the big requests' own,
    with what the target adds to them over the direct upstream's in the same run."""
    direct = next((c for c in cells if c.target == "direct"), None)
    t = Table(title="head-of-line: a small call while big requests are optimized", title_justify="left")
    for name in ("target", "beside", "clients", "pause s", "quiet p50", "quiet p99", "busy p50", "busy p99", "+p50",
                 "+p99", "big p50", "big p99", "big +p50", "big +p99", "big done", "errors"):
        t.add_column(name, justify="left" if name in ("target", "beside") else "right")
    for c in cells:
        over = direct is not None and c is not direct
        t.add_row(c.target, c.background, str(c.connections), f"{c.interval_s:g}", _ms(c.quiet_p50_ms),
                  _ms(c.quiet_p99_ms), _ms(c.busy_p50_ms), _ms(c.busy_p99_ms), _ms(c.added_p50_ms), _ms(c.added_p99_ms),
                  _ms(c.big_p50_ms), _ms(c.big_p99_ms), _ms(c.big_p50_ms - direct.big_p50_ms if over else None),
                  _ms(c.big_p99_ms - direct.big_p99_ms if over else None), str(c.background_done),
                  str(c.probe_errors + c.background_errors))
    console.print(t)


def print_streams(console: Console, cells: list[StreamsCell]) -> None:
    """Streams held open at once: time to first byte, and what each open stream costs the process."""
    direct = next((c for c in cells if c.target == "direct"), None)
    t = Table(title="many streams held open at once", title_justify="left")
    for name in ("target", "streams", "held s", "ok", "errors", "TTFB p50", "TTFB p99", "+TTFB p99", "RSS idle MB",
                 "RSS open MB", "KB/stream", "fds open", "fds/stream"):
        t.add_column(name, justify="left" if name == "target" else "right")
    for c in cells:
        added = c.ttfb_p99_ms - direct.ttfb_p99_ms if direct is not None and c is not direct else None
        t.add_row(c.target, f"{c.streams:,}", f"{c.stream_seconds:g}", f"{c.ok:,}", str(c.errors), _ms(c.ttfb_p50_ms),
                  _ms(c.ttfb_p99_ms), _ms(added), "-" if c.rss_idle_mb is None else f"{c.rss_idle_mb:.0f}",
                  "-" if c.rss_open_mb is None else f"{c.rss_open_mb:.0f}",
                  "-" if c.kb_per_stream is None else f"{c.kb_per_stream:.1f}",
                  "-" if c.fds_open is None else f"{c.fds_open:,}",
                  "-" if c.fds_per_stream is None else f"{c.fds_per_stream:.2f}")
    console.print(t)
