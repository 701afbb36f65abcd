"""Gateway overhead against the direct upstream, measured side by side in one run.

    .venv/bin/python benchmarks/gateway_overhead.py [--requests 3000] [--connections 8]

Starts the fake upstream and an `anyray up`-shaped gateway (optimizer in-process) in separate
processes on loopback, drives each with a built-in aiohttp load generator (bounded: a fixed number of
requests), and prints requests/s and latency percentiles for Anthropic non-streaming and streaming,
direct vs through the gateway. Ratios are what to quote: these machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

BODY = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "benchmark me"}]}
HEADERS = {"x-api-key": "bench", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 20.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def drive(url: str, stream: bool, requests: int, connections: int) -> dict[str, float]:
    body = json.dumps({**BODY, "stream": stream}).encode()
    latencies: list[float] = []
    remaining = requests

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            async with session.post(url, data=body, headers=HEADERS) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    up_port, gw_port, opt_port = free_port(), free_port(), free_port()
    upstream = f"http://127.0.0.1:{up_port}"
    work = Path(tempfile.mkdtemp())
    config = work / "anyray.yaml"
    config.write_text(
        f"providers:\n  anthropic:\n    base_url: {upstream}\n    api_key: bench\n"
        f"models:\n  'claude-*':\n    provider: anthropic\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "anyray.testing", "serve", "--port", str(up_port)],
            stdout=subprocess.DEVNULL,
            env=env,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "anyray",
                "up",
                "--config",
                str(config),
                "--port",
                str(gw_port),
                "--optimizer-port",
                str(opt_port),
            ],
            stdout=subprocess.DEVNULL,
            env=env,
        ),
    ]
    try:
        wait_up(upstream + "/_fake/requests")
        wait_up(f"http://127.0.0.1:{gw_port}/healthz")
        rows = []
        for stream in (False, True):
            direct = asyncio.run(drive(upstream + "/v1/messages", stream, args.requests, args.connections))
            via = asyncio.run(drive(f"http://127.0.0.1:{gw_port}/v1/messages", stream, args.requests, args.connections))
            rows.append((stream, direct, via))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    print(f"{args.requests} requests per cell, {args.connections} connections, built-in aiohttp load generator")
    print(
        f"{'mode':<10}{'direct rps':>12}{'gateway rps':>13}{'ratio':>8}{'direct p50':>12}{'gw p50':>9}"
        f"{'added p50':>11}{'gw p99':>9}"
    )
    for stream, d, g in rows:
        print(
            f"{'stream' if stream else 'json':<10}{d['rps']:>12.0f}{g['rps']:>13.0f}{g['rps'] / d['rps']:>8.2f}"
            f"{d['p50_ms']:>10.2f}ms{g['p50_ms']:>7.2f}ms{g['p50_ms'] - d['p50_ms']:>9.2f}ms{g['p99_ms']:>7.2f}ms"
        )


if __name__ == "__main__":
    main()
