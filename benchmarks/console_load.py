"""Does someone reloading the console slow the gateway's calls? p50/p95 of calls with and without.

    flock /tmp/anyray-bench.lock .venv/bin/python -m benchmarks.console_load --store /tmp/x/spend-1000000.db \
        [--requests 2000] [--connections 4] [--range 30d] [--rounds 3] [--modes thread,process] [--py-spy DIR]

For each way the gateway can build console pages (`ANYRAY_CONSOLE_WORKER`: `thread`, a thread of the
gateway's process; `process`, the console's worker process, at SCHED_IDLE, or niceness N for
`process:N`) runs `anyray up` (the lean fake
upstream behind it) on a copy of a store `console_scale.py --keep` filled (all at once), and for
`--rounds` rounds, each mode in turn: `--requests` Anthropic Messages calls over `--connections`
keep-alive connections alone, then the same while another process reloads the console's overview and
model table (`--range`) back to back, the way a person holding F5 would. Prints each phase's call
latency p50/p95 (all rounds pooled, and each round's), the pages served meanwhile, and the CPU the
gateway's process (and its console worker) used per call. `--py-spy DIR`: a py-spy profile of the
gateway's process in each mode's first busy phase (DIR/<mode>.txt: the functions holding most samples).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from benchmarks.bench.procs import Child, free_port, usage_of
from benchmarks.bench.scenarios import ANTHROPIC_HEADERS, MODEL

BODY = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "benchmark me"}]}


def _ok(url: str, method: str = "GET") -> bool:
    try:
        return httpx.request(method, url, timeout=2, json={"model": "probe"}).status_code < 500
    except httpx.HTTPError:
        return False


async def _calls(url: str, n: int, connections: int) -> list[float]:
    times: list[float] = []
    queue = iter(range(n))
    async with httpx.AsyncClient(base_url=url, headers=ANTHROPIC_HEADERS, timeout=30,
                                 limits=httpx.Limits(max_connections=connections)) as client:
        async def worker() -> None:
            for _ in queue:
                t = time.perf_counter()
                r = await client.post("/v1/messages", json=BODY)
                r.raise_for_status()
                times.append((time.perf_counter() - t) * 1000)

        await asyncio.gather(*(worker() for _ in range(connections)))
    return times


def _reload(url: str, rng: str, stop: multiprocessing.synchronize.Event, served: multiprocessing.Queue) -> None:
    """In its own process: the page loads share no interpreter lock with the calls being timed."""
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            for path in ("/console/", "/console/tables/model"):
                t = time.perf_counter()
                client.get(f"{url}{path}?range={rng}").raise_for_status()
                served.put((time.perf_counter() - t) * 1000)


def _p(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1]


def _children_cpu(pid: int) -> float:
    """CPU seconds of a process's children (the console's worker process), from /proc."""
    total = 0.0
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    for kid in kids:
        if (u := usage_of(int(kid))) is not None:
            total += u.cpu_s
    return total


def _busy(url: str, args: argparse.Namespace, gateway_pid: int, spy: Path | None) -> tuple[list[float], list[float]]:
    ctx = multiprocessing.get_context("spawn")
    stop, served = ctx.Event(), ctx.Queue()
    reloader = ctx.Process(target=_reload, args=(url, args.range, stop, served))
    reloader.start()
    profiler = None
    if spy is not None:
        profiler = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(gateway_pid),
                                     "--format", "raw", "--output", str(spy), "--rate", "200", "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # the first page is on its way: time the calls while pages are being built
        busy = asyncio.run(_calls(url, args.requests, args.connections))
    finally:
        stop.set()
        if profiler is not None:
            profiler.send_signal(2)
            profiler.wait(30)
        reloader.join(120)
    pages = []
    while not served.empty():
        pages.append(served.get())
    return busy, pages


def _summarize_spy(raw: Path, out: Path, top: int = 25) -> None:
    """py-spy's raw (collapsed stacks) as the functions holding most samples themselves, and inclusively."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            incl[frame] = incl.get(frame, 0) + n
    lines = [f"{total} samples"]
    for title, table in (("own", own), ("inclusive", incl)):
        lines.append(f"-- {title}")
        lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]]
    out.write_text("\n".join(lines) + "\n")


class Stack:
    """The lean upstream and `anyray up` on a copy of the store, building console pages one way (`mode`)."""

    def __init__(self, mode: str, args: argparse.Namespace) -> None:
        self.mode = mode
        self.work = Path(tempfile.mkdtemp(prefix="anyray-console-load-"))
        shutil.copy(args.store, self.work / "spend.db")
        worker, _, nice = mode.partition(":")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "ANYRAY_HOME": str(self.work), "NO_PROXY": "*",
               "ANYRAY_CONSOLE_WORKER": worker, **({"ANYRAY_CONSOLE_NICE": nice} if nice else {})}
        env.pop("ANYRAY_CONFIG", None)
        up_port, gw_port, opt_port = free_port(), free_port(), free_port()
        upstream, self.url = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
        config = {"providers": {"anthropic": {"base_url": upstream, "api_key": "bench-upstream-key"}},
                  "models": {"claude-*": {"provider": "anthropic"}},
                  "store": {"url": f"sqlite:///{self.work / 'spend.db'}"}}
        (self.work / "anyray.yaml").write_text(yaml.safe_dump(config))
        py = sys.executable
        self.children = [Child("upstream", [py, "-m", "anyray.testing.lean", "--port", str(up_port)], env, self.work)]
        self.children[0].wait_ready(lambda: _ok(upstream + "/v1/messages", "POST"), 20)
        argv = [py, "-m", "anyray", "up", "--config", str(self.work / "anyray.yaml"), "--port", str(gw_port),
                "--optimizer-port", str(opt_port)]
        self.children.append(Child("anyray", argv, env, self.work))
        self.children[1].wait_ready(lambda: _ok(self.url + "/healthz"), 120)
        self.pid = self.children[1].pid
        asyncio.run(_calls(self.url, 300, args.connections))  # warm-up
        httpx.get(f"{self.url}/console/?range={args.range}", timeout=120).raise_for_status()  # opens the store

    def phase(self, busy: bool, args: argparse.Namespace, spy: Path | None
              ) -> tuple[list[float], list[float], float, float]:
        """The calls' latencies, the pages' times, and the gateway's (and its worker's) CPU ms per call."""
        before, kids_before = usage_of(self.pid), _children_cpu(self.pid)
        if busy:
            times, pages = _busy(self.url, args, self.pid, spy)
        else:
            times, pages = asyncio.run(_calls(self.url, args.requests, args.connections)), []
        after, kids_after = usage_of(self.pid), _children_cpu(self.pid)
        cpu = 0.0 if before is None or after is None else after.cpu_s - before.cpu_s
        if spy is not None and spy.exists():
            _summarize_spy(spy, spy.with_suffix(".txt"))
        return times, pages, 1000 * cpu / len(times), 1000 * (kids_after - kids_before) / len(times)

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a SQLite store (copied; the copy is written to)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--range", default="30d")
    ap.add_argument("--rounds", type=int, default=3, help="alternations of calls alone / calls beside the console")
    ap.add_argument("--modes", default="thread,process",
                    help="ANYRAY_CONSOLE_WORKER values, in turn; process:N / process:idle sets ANYRAY_CONSOLE_NICE")
    ap.add_argument("--py-spy", type=Path, help="write a py-spy profile of the gateway per mode into this folder")
    args = ap.parse_args()
    if args.py_spy is not None:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    stacks = []
    results: dict[tuple[str, str], list[tuple[list[float], list[float], float, float]]] = {}
    try:
        for mode in args.modes.split(","):
            stacks.append(Stack(mode, args))
        for i in range(args.rounds):  # every mode's phases in turn, so the machine's other load hits them alike
            for stack in stacks:
                for busy in (False, True):
                    spy = args.py_spy / f"{stack.mode}.raw" if args.py_spy is not None and busy and i == 0 else None
                    name = "console reloading" if busy else "without console"
                    results.setdefault((stack.mode, name), []).append(stack.phase(busy, args, spy))
    finally:
        for stack in stacks:
            stack.stop()
    for (mode, name), runs in results.items():
        times = [t for run in runs for t in run[0]]
        pages = [p for run in runs for p in run[1]]
        rounds = "  ".join(f"{_p(run[0], 50):.1f}/{_p(run[0], 95):.1f}" for run in runs)
        line = (f"{mode:<8} {name:<18} calls {len(times)}  p50 {_p(times, 50):5.1f} ms  p95 {_p(times, 95):5.1f} ms"
                f"  (rounds p50/p95: {rounds})  gateway CPU {statistics.mean(r[2] for r in runs):.2f} ms/call")
        if pages:
            line += (f"  worker {statistics.mean(r[3] for r in runs):.2f} ms/call  pages {len(pages)}"
                     f" ({statistics.median(pages):.0f} ms each)")
        print(line, flush=True)


if __name__ == "__main__":
    main()
