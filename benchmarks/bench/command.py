"""The body of `anyray bench` (src/anyray/cli/bench.py parses its options and calls `run`)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import orjson
import typer
from rich.console import Console

from benchmarks.bench.hol import HolCell, measure_hol
from benchmarks.bench.hol import as_json as hol_json
from benchmarks.bench.report import check_targets, machine, print_hol, print_report, print_streams
from benchmarks.bench.run import Cell, Options, as_json, compare, pick_generator, run_all
from benchmarks.bench.scenarios import SCENARIOS
from benchmarks.bench.stack import Stack, litellm_installed
from benchmarks.bench.streams import StreamsCell, measure_streams, raise_fd_limit
from benchmarks.bench.streams import as_json as streams_json

console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _ints(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {value!r}") from None


def _names(value: str, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if bad := [n for n in names if n not in allowed]:
        raise typer.BadParameter(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
    return names


def run(connections: str, workloads: str, optimizer: str, litellm: bool, passthrough: bool, generator: str,
        duration: float, requests: int | None, warmup: int, soak: int, rounds: int, json_out: Path | None,
        hol: str | None = None, hol_connections: int = 8, hol_interval: float = 0.25,
        hol_probes: int = 1000, streams: int = 0, stream_seconds: float = 60.0,
        stream_rate: float = 250.0, workers: str = "") -> None:
    """Measure anyray's overhead: req/s, p50/p90/p99, TTFB, RSS and CPU, each beside the direct upstream's."""
    conns = _ints(connections)
    scenarios = _names(workloads, list(SCENARIOS), "workload") if workloads else []
    if hol is not None:
        _names(hol, ["claude_code", "agent"], "--hol workload")
    where = {"inprocess": ["anyray"], "http": ["anyray-http"], "both": ["anyray", "anyray-http"],
             "none": []}.get(optimizer)
    if where is None:
        raise typer.BadParameter("--optimizer is inprocess, http, both or none")
    targets = (["passthrough"] if passthrough else []) + list(where)
    targets += [f"anyray-w{n}" for n in _ints(workers)]  # `anyray serve gateway --workers N`
    if litellm:
        if litellm_installed():
            targets.append("litellm")
        else:
            console.print("[yellow]LiteLLM is not installed; skipping it[/]")
    if requests is not None and generator == "auto":
        generator = "builtin"
    try:
        gen = pick_generator(generator)
    except RuntimeError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    opts = Options(scenarios, conns, targets, gen, duration, requests or 2000, warmup, soak, rounds)
    console.print(f"load generator: [bold]{gen}[/]"
                  + (" (streams' time to first byte from the built-in generator: wrk cannot see it)"
                     if gen == "wrk" and "stream" in scenarios else ""))

    def progress(cell: Cell) -> None:
        console.print(f"  {cell.scenario:<10}{cell.connections:>3} conn  {cell.target:<12}{cell.rps:>10,.0f} req/s"
                      f"  p50 {cell.p50_ms:.2f} ms  errors {cell.errors}", style="dim")

    started = time.time()
    console.print(f"starting the lean fake upstream and {', '.join(targets)}...")
    hol_cells: list[HolCell] = []
    stream_cells: list[StreamsCell] = []
    if streams:
        allowed = raise_fd_limit(streams)
        if allowed < streams:
            console.print(f"[yellow]the file-descriptor limit allows {allowed} streams, not {streams}[/]")
            streams = allowed
    with Stack(["direct", *targets]) as stack:
        cells, soaked = run_all(stack, opts, progress)
        if hol is not None:
            console.print(f"head-of-line: a small call alone, then beside {hol_connections} clients each sending a "
                          f"{hol} request every {hol_interval:g}s after the last answer...")
            hol_cells = measure_hol(stack.targets, ["direct", *targets], hol, probes=hol_probes,
                                    connections=hol_connections, interval_s=hol_interval)
    if streams:  # a stack of its own: its fake holds every stream open, which would slow the cells above
        console.print(f"streams: {streams:,} started at {stream_rate:g}/s, each held {stream_seconds:g}s...")
        held = ["direct", *[t for t in targets if t in ("anyray", "anyray-http") or t.startswith("anyray-w")]]
        with Stack(held, stream_seconds=stream_seconds, connections=streams) as stack:
            stream_cells = measure_streams(stack.targets, held, streams, stream_seconds, stream_rate)
    comparisons = compare(cells)
    checks = check_targets(comparisons, soaked)
    per_cell = (f"{duration:g}s" if gen == "wrk" else f"{opts.requests} requests") + (
        f", median of {rounds} alternating rounds" if rounds > 1 else "")
    title = f"anyray bench: {gen}, {per_cell} per cell, lean fake upstream"
    if cells:
        print_report(console, cells, comparisons, soaked, checks, title)
    if hol_cells:
        print_hol(console, hol_cells)
    if stream_cells:
        print_streams(console, stream_cells)
    if json_out is not None:
        data = {
            "command": shlex.join(["anyray", "bench", *sys.argv[2:]]) if len(sys.argv) > 1 else "anyray bench",
            "started_unix": round(started, 1),
            "duration_s": round(time.time() - started, 1),
            "generator": gen,
            "upstream": "anyray.testing.lean",
            "machine": machine(),
            "options": {"connections": conns, "workloads": scenarios, "targets": targets,
                        "duration_s": duration if gen == "wrk" else None,
                        "requests": opts.requests if gen == "builtin" else None, "warmup": warmup, "soak": soak,
                        "rounds": rounds},
            **as_json(cells, comparisons, soaked),
            "head_of_line": hol_json(hol_cells),
            "streams": streams_json(stream_cells),
            "targets": checks,
        }
        json_out.write_text(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        console.print(f"wrote {json_out}")
    if any(c.errors for c in cells) or (soaked is not None and soaked.errors) or any(
            c.probe_errors or c.background_errors for c in hol_cells) or any(c.errors for c in stream_cells):
        raise typer.Exit(1)
