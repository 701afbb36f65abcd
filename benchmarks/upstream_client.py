"""What one upstream call costs the gateway's client, aiohttp's against the gateway's own (server/gateway/h1).

    .venv/bin/python benchmarks/upstream_client.py [--requests 20000] [--concurrency 8] [--rounds 3]

Starts the lean fake upstream (anyray.testing.lean) in its own process, then, in this process, sends
the bench's Anthropic request through each client in alternating rounds: `concurrency` tasks, one
kept-alive connection each, the whole answer read. Reports this process's CPU time per request (user
+ system: the client's Python and its socket calls) and req/s, each client's median over the rounds,
and the ratio between them from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import uvloop

from anyray.server.gateway.h1 import ConnectionPool
from benchmarks.bench.procs import free_port

BODY = (b'{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user",'
        b'"content":"Say hello in one short sentence."}]}')
HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "bench-key"}

Send = Callable[[], Awaitable[bytes]]


async def measure(send: Send, requests: int, concurrency: int) -> tuple[float, float]:
    """(CPU us per request, req/s)."""

    async def worker(n: int) -> None:
        for _ in range(n):
            await send()

    await asyncio.gather(*(worker(100) for _ in range(concurrency)))  # warm: connections made, code hot
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = requests // concurrency * concurrency
    return cpu / done * 1e6, done / wall


async def run(url: str, requests: int, concurrency: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), skip_auto_headers=("user-agent",))
    pool = ConnectionPool()

    async def via_aiohttp() -> bytes:
        response = await session.request("POST", url, headers=HEADERS, data=BODY)
        try:
            return await response.read()
        finally:
            response.release()

    async def via_h1() -> bytes:
        response = await pool.request("POST", url, HEADERS, BODY)
        try:
            return await response.read()
        finally:
            response.release()

    results: dict[str, list[tuple[float, float]]] = {"aiohttp": [], "h1": []}
    try:
        for _ in range(rounds):
            for name, send in (("aiohttp", via_aiohttp), ("h1", via_h1)):
                assert b'"type":"message"' in await send()
                results[name].append(await measure(send, requests, concurrency))
    finally:
        await session.close()
        await pool.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    upstream = subprocess.Popen([sys.executable, "-m", "anyray.testing.lean", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1/messages"
    try:
        for _ in range(100):
            try:
                if httpx.post(url, content=BODY, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = uvloop.run(run(url, args.requests, args.concurrency, args.rounds))
    finally:
        upstream.terminate()
        upstream.wait(10)
    medians = {name: (statistics.median(c for c, _ in rows), statistics.median(r for _, r in rows))
               for name, rows in results.items()}
    print(f"{args.requests} requests x {args.rounds} rounds, {args.concurrency} at a time, against the lean fake")
    for name, (cpu, rps) in medians.items():
        print(f"  {name:8s} {cpu:6.1f} us CPU/request  {rps:8,.0f} req/s")
    ratio = medians["aiohttp"][0] / medians["h1"][0]
    print(f"  aiohttp spends {ratio:.1f}x the CPU per request of h1 (same run)")


if __name__ == "__main__":
    main()
