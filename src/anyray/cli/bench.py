"""`anyray bench`: the gateway against the direct upstream (and LiteLLM), side by side, in one run.

The bench's code is not in the wheel: it lives in the source tree's benchmarks/bench/ (the stack it starts,
a bare passthrough relay, the load generators, the report). This command finds that tree
(the current directory or one above it, or the checkout anyray is installed from with `pip install -e`)
and runs it; without one it says what to do.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType

import typer
from rich.markup import escape

import anyray
from anyray.cli.common import err_console

NOT_HERE = ("anyray bench runs from a source checkout (its code, benchmarks/bench/, is not in the wheel): clone "
            "the anyray repository, `pip install -e '.[test]'` there, and run `anyray bench` in it")


def checkout() -> Path | None:
    """The source tree whose benchmarks/bench/ to run, or None."""
    here = Path.cwd().resolve()
    for root in (here, *here.parents, Path(anyray.__file__).resolve().parents[2]):
        if (root / "benchmarks" / "bench" / "command.py").is_file() and (root / "src" / "anyray").is_dir():
            return root
    return None


def bench_command() -> ModuleType:
    """benchmarks.bench.command, importable by this process and by the ones the bench starts."""
    root = checkout()
    if root is None:
        err_console.print(f"[bold red]error:[/] {escape(NOT_HERE)}", soft_wrap=True)
        raise typer.Exit(2)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(root) not in paths:  # the bench's children run `python -m benchmarks.bench.passthrough`
        os.environ["PYTHONPATH"] = os.pathsep.join([str(root), *paths])
    try:
        return import_module("benchmarks.bench.command")
    except ImportError as exc:  # a core install in a checkout: the bench drives with the test dependencies
        err_console.print(f"[bold red]error:[/] anyray bench needs {exc.name or exc}, which is not installed: "
                          + escape(f"pip install -e '.[test]' in {root}"), soft_wrap=True)
        raise typer.Exit(2) from None


def bench(
    connections: str = typer.Option("1,8,32", help="Comma-separated connection counts."),
    workloads: str = typer.Option("anthropic,stream,openai", "--workloads", help="Which client workloads."),
    optimizer: str = typer.Option(
        "inprocess", help="inprocess, http, both or none: where `anyray up`'s optimizer runs (none: no such target)."),
    litellm: bool = typer.Option(False, "--litellm", help="Also drive a LiteLLM proxy (when it is installed)."),
    passthrough: bool = typer.Option(
        False, "--passthrough", help="Also drive a bare Starlette + aiohttp relay: the floor for any Python gateway."
    ),
    generator: str = typer.Option("auto", help="auto (wrk when installed), wrk or builtin."),
    duration: float = typer.Option(5.0, help="Seconds per cell when wrk drives."),
    requests: int | None = typer.Option(
        None, help="Requests per cell with the built-in generator (implies --generator builtin unless given)."
    ),
    warmup: int = typer.Option(200, help="Unmeasured requests before each cell."),
    soak: int = typer.Option(0, help="Then send this many requests through anyray and track its RSS (e.g. 100000)."),
    rounds: int = typer.Option(1, help="Measure each cell this many times, targets alternating; keep each median."),
    hol: str | None = typer.Option(
        None, "--hol", help="Then measure head-of-line blocking: a small call's latency while big requests "
        "(claude_code or agent) keep --hol-connections busy."),
    hol_connections: int = typer.Option(8, "--hol-connections", help="Clients sending the big requests."),
    hol_interval: float = typer.Option(0.25, "--hol-interval", help="Each big-request client's pause (s)."),
    hol_probes: int = typer.Option(1000, "--hol-probes", help="Small calls measured alone and beside them."),
    streams: int = typer.Option(0, "--streams", help="Then hold this many streams open at once (e.g. 10000)."),
    stream_seconds: float = typer.Option(60.0, "--stream-seconds", help="How long the fake holds each stream."),
    stream_rate: float = typer.Option(250.0, "--stream-rate", help="Streams started a second."),
    workers: str = typer.Option(
        "", "--workers", help="Also drive `anyray serve gateway --workers N` for each N (e.g. 1,2): anyray-wN."),
    json_out: Path | None = typer.Option(None, "--json", help="Write every figure here as JSON."),
) -> None:
    """Measure anyray's overhead: req/s, p50/p90/p99, TTFB, RSS and CPU, each beside the direct upstream's."""
    bench_command().run(connections, workloads, optimizer, litellm, passthrough, generator, duration, requests,
                        warmup, soak, rounds, json_out, hol, hol_connections, hol_interval, hol_probes, streams,
                        stream_seconds, stream_rate, workers)
