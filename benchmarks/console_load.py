"""Does someone reloading the console slow the gateway's calls? p50/p95 of calls with and without.

    flock /tmp/anyray-bench.lock .venv/bin/python benchmarks/console_load.py --store /tmp/x/spend-1000000.db \
        [--requests 3000] [--connections 4] [--range 30d]

Runs `anyray up` (the lean fake upstream behind it) on a copy of a store `console_scale.py --keep`
filled, sends `--requests` Anthropic Messages calls over `--connections` keep-alive connections, then
the same again while one client reloads the console's overview and model table (`--range`) back to
back, the way a person holding F5 would. Prints each phase's call latency p50/p95 and how many console
pages were served meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

from benchmarks.bench.procs import Child, free_port
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


def _reload(url: str, rng: str, stop: threading.Event, served: list[float]) -> None:
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            for path in ("/console/", "/console/tables/model"):
                t = time.perf_counter()
                client.get(f"{url}{path}?range={rng}").raise_for_status()
                served.append((time.perf_counter() - t) * 1000)


def _p(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a SQLite store (copied; the copy is written to)")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--range", default="30d")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="anyray-console-load-"))
    shutil.copy(args.store, work / "spend.db")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ANYRAY_HOME": str(work), "NO_PROXY": "*"}
    env.pop("ANYRAY_CONFIG", None)
    up_port, gw_port, opt_port = free_port(), free_port(), free_port()
    upstream, url = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
    config = {"providers": {"anthropic": {"base_url": upstream, "api_key": "bench-upstream-key"}},
              "models": {"claude-*": {"provider": "anthropic"}}, "store": {"url": f"sqlite:///{work / 'spend.db'}"}}
    (work / "anyray.yaml").write_text(yaml.safe_dump(config))
    py = sys.executable
    children = [Child("upstream", [py, "-m", "anyray.testing.lean", "--port", str(up_port)], env, work)]
    try:
        children[0].wait_ready(lambda: _ok(upstream + "/v1/messages", "POST"), 20)
        children.append(Child("anyray", [py, "-m", "anyray", "up", "--config", str(work / "anyray.yaml"), "--port",
                                         str(gw_port), "--optimizer-port", str(opt_port)], env, work))
        children[1].wait_ready(lambda: _ok(url + "/healthz"), 120)
        asyncio.run(_calls(url, 300, args.connections))  # warm-up
        httpx.get(f"{url}/console/?range={args.range}", timeout=120).raise_for_status()  # opens the store
        quiet = asyncio.run(_calls(url, args.requests, args.connections))
        stop, served = threading.Event(), []
        reloader = threading.Thread(target=_reload, args=(url, args.range, stop, served))
        reloader.start()
        try:
            busy = asyncio.run(_calls(url, args.requests, args.connections))
        finally:
            stop.set()
            reloader.join()
        for name, times in (("without console", quiet), ("console reloading", busy)):
            print(f"{name:<18} calls {len(times)}  p50 {_p(times, 50):6.1f} ms  p95 {_p(times, 95):6.1f} ms")
        print(f"console pages served meanwhile: {len(served)} (median {statistics.median(served):.0f} ms)")
    finally:
        for child in reversed(children):
            child.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
