"""The measured cells: every (workload, connections, target), each paired with the direct upstream.

Cells of one workload and connection count run back to back (direct first), so a ratio compares
figures taken within seconds of each other on a noisy machine. Each cell is preceded by an unmeasured
warm-up on the same connections.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.bench.loadgen import LoadResult, drive
from benchmarks.bench.procs import cpu_percent
from benchmarks.bench.scenarios import SCENARIOS, Scenario
from benchmarks.bench.stack import Stack, Target
from benchmarks.bench.wrk import run_wrk, wrk_path


@dataclass(slots=True)
class Options:
    scenarios: list[str]
    connections: list[int]
    targets: list[str]
    generator: str  # "wrk" or "builtin"
    duration_s: float = 5.0  # wrk cells
    requests: int = 2000  # built-in cells, and the TTFB pass of streams when wrk drives
    warmup: int = 200
    soak: int = 0
    rounds: int = 1  # each workload x connections measured this many times, targets alternating


@dataclass(slots=True)
class Cell:
    scenario: str
    target: str
    connections: int
    generator: str
    requests: int
    ok: int
    errors: int
    statuses: dict[str, int]
    elapsed_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    ttfb_generator: str | None = None
    ttfb_p50_ms: float | None = None
    ttfb_p90_ms: float | None = None
    ttfb_p99_ms: float | None = None
    rss_mb: float | None = None
    cpu_pct: float | None = None
    cpu_us_per_request: float | None = None  # the target's CPU time per answered request: steadier than req/s
    decision_ms: float | None = None  # the mean wait for the optimizer's decision, from the gateway's /metrics
    rounds_rps: list[float] | None = None  # with --rounds: every round's req/s (the cell is the median round)


@dataclass(slots=True)
class Comparison:
    """A target's figures as ratios to the direct upstream's (and LiteLLM's) from the same run."""

    scenario: str
    target: str
    connections: int
    rps_ratio: float
    added_p50_ms: float
    added_p90_ms: float
    added_p99_ms: float
    added_ttfb_p50_ms: float | None = None
    vs_litellm: float | None = None


@dataclass(slots=True)
class Soak:
    requests: int
    rss_mb: list[float] = field(default_factory=list)  # after each tenth
    errors: int = 0

    @property
    def growth_last_half_mb(self) -> float:
        half = self.rss_mb[len(self.rss_mb) // 2 - 1 :] if len(self.rss_mb) >= 2 else self.rss_mb
        return (half[-1] - half[0]) if half else 0.0


def pick_generator(asked: str) -> str:
    if asked == "auto":
        return "wrk" if wrk_path() else "builtin"
    if asked == "wrk" and not wrk_path():
        raise RuntimeError("--generator wrk, but wrk is not installed (apt-get install wrk)")
    return asked


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _builtin(target: Target, scenario: Scenario, connections: int, requests: int) -> LoadResult:
    req = scenario.direct if target.name == "direct" else scenario.client
    return asyncio.run(drive(target.url + req.path, req.body, req.headers, requests, connections, scenario.fresh))


def measure(target: Target, scenario: Scenario, connections: int, opts: Options) -> Cell:
    req = scenario.direct if target.name == "direct" else scenario.client
    # LiteLLM answers ~100/s: a warm-up and a built-in run sized for anyray would take minutes
    slow = target.name == "litellm"
    requests = min(opts.requests, 300) if slow else opts.requests
    if opts.warmup:
        _builtin(target, scenario, connections, min(opts.warmup, 50) if slow else opts.warmup)
    decided = target.decisions()
    before = target.usage()
    if opts.generator == "wrk":
        w = run_wrk(target.url + req.path, req.body, req.headers, connections, opts.duration_s)
        after = target.usage()
        errors = w.non_2xx + w.socket_errors
        cell = Cell(scenario.name, target.name, connections, "wrk", w.requests, w.requests - w.non_2xx, errors,
                    {"non_2xx": w.non_2xx, "socket_errors": w.socket_errors}, w.elapsed_s,
                    w.requests / w.elapsed_s if w.elapsed_s else 0.0,
                    w.p50_s * 1000, w.p90_s * 1000, w.p99_s * 1000)
    else:
        r = _builtin(target, scenario, connections, requests)
        after = target.usage()
        totals = sorted(s.total_s for s in r.samples)
        ok = r.statuses.get(200, 0)
        cell = Cell(scenario.name, target.name, connections, "builtin", r.requests, ok, r.requests - ok,
                    {str(k): v for k, v in sorted(r.statuses.items())}, r.elapsed_s,
                    r.requests / r.elapsed_s if r.elapsed_s else 0.0,
                    _quantile(totals, 0.5) * 1000, _quantile(totals, 0.9) * 1000, _quantile(totals, 0.99) * 1000)
        if scenario.stream:
            _set_ttfb(cell, r, "builtin")
    if after is not None:
        cell.rss_mb = round(after.rss_mb, 1)
    cell.cpu_pct = cpu_percent(before, after)
    if before is not None and after is not None and cell.requests:
        cell.cpu_us_per_request = round((after.cpu_s - before.cpu_s) / cell.requests * 1e6, 1)
    if decided is not None and (now := target.decisions()) is not None and now[0] > decided[0]:
        cell.decision_ms = round((now[1] - decided[1]) / (now[0] - decided[0]) * 1000, 3)
    if scenario.stream and cell.ttfb_p50_ms is None:  # wrk cannot see the first byte: a built-in pass for it
        r = _builtin(target, scenario, connections, requests)
        _set_ttfb(cell, r, "builtin")
        cell.errors += r.requests - r.statuses.get(200, 0)
    return cell


def _set_ttfb(cell: Cell, r: LoadResult, generator: str) -> None:
    firsts = sorted(s.ttfb_s for s in r.samples)
    cell.ttfb_generator = generator
    cell.ttfb_p50_ms = _quantile(firsts, 0.5) * 1000
    cell.ttfb_p90_ms = _quantile(firsts, 0.9) * 1000
    cell.ttfb_p99_ms = _quantile(firsts, 0.99) * 1000


def compare(cells: list[Cell]) -> list[Comparison]:
    index = {(c.scenario, c.target, c.connections): c for c in cells}
    out = []
    for c in cells:
        direct = index.get((c.scenario, "direct", c.connections))
        if c.target == "direct" or direct is None:
            continue
        litellm = index.get((c.scenario, "litellm", c.connections))
        ttfb = None
        if c.ttfb_p50_ms is not None and direct.ttfb_p50_ms is not None:
            ttfb = c.ttfb_p50_ms - direct.ttfb_p50_ms
        out.append(Comparison(
            c.scenario, c.target, c.connections,
            rps_ratio=c.rps / direct.rps if direct.rps else 0.0,
            added_p50_ms=c.p50_ms - direct.p50_ms,
            added_p90_ms=c.p90_ms - direct.p90_ms,
            added_p99_ms=c.p99_ms - direct.p99_ms,
            added_ttfb_p50_ms=ttfb,
            vs_litellm=c.rps / litellm.rps if litellm is not None and litellm.rps and c.target != "litellm" else None,
        ))
    return out


def soak(target: Target, requests: int, connections: int = 8) -> Soak:
    """RSS after each tenth of `requests` Anthropic calls: is memory flat once warm?"""
    result = Soak(requests)
    step = max(1, requests // 10)
    for _ in range(10):
        r = _builtin(target, SCENARIOS["anthropic"], connections, step)
        result.errors += r.requests - r.statuses.get(200, 0)
        usage = target.usage()
        result.rss_mb.append(round(usage.rss_mb, 1) if usage else 0.0)
    return result


def run_all(stack: Stack, opts: Options, progress: Any = None) -> tuple[list[Cell], Soak | None]:
    """Every workload x connections, its targets back to back (direct first); with `rounds` > 1 the targets
    alternate round after round, in a rotated order, and each keeps its median round, so a minute of a
    noisy machine touches every target alike instead of one."""
    cells: list[Cell] = []
    for name in opts.scenarios:
        scenario = SCENARIOS[name]
        for connections in opts.connections:
            others = [t for t in opts.targets if t != "direct"]
            order = ["direct", *others]
            measured: dict[str, list[Cell]] = {t: [] for t in order}
            for r in range(max(1, opts.rounds)):
                # direct first each round; the others take turns going first (a target always measured
                # right after the same neighbour carried that neighbour's after-effects every round)
                shift = r % len(others) if others else 0
                for target_name in ["direct", *others[shift:], *others[:shift]]:
                    cell = measure(stack.targets[target_name], scenario, connections, opts)
                    measured[target_name].append(cell)
                    if progress is not None:
                        progress(cell)
            cells += [median_round(measured[t]) for t in order]
    soaked = None
    if opts.soak and "anyray" in stack.targets:
        soaked = soak(stack.targets["anyray"], opts.soak)
    return cells, soaked


def median_round(rounds: list[Cell]) -> Cell:
    """The round with the median req/s, whole (its latencies and CPU belong with it); errors of every round."""
    if len(rounds) == 1:
        return rounds[0]
    ordered = sorted(rounds, key=lambda c: c.rps)
    cell = ordered[(len(ordered) - 1) // 2]
    cell.rounds_rps = [round(c.rps, 1) for c in rounds]
    cell.errors = sum(c.errors for c in rounds)
    return cell


def as_json(cells: list[Cell], comparisons: list[Comparison], soaked: Soak | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cells": [asdict(c) for c in cells],
        "comparisons": [asdict(c) for c in comparisons],
        "soak": None,
    }
    if soaked is not None:
        data["soak"] = {**asdict(soaked), "growth_last_half_mb": soaked.growth_last_half_mb}
    return data
