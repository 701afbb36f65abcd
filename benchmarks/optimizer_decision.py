"""Decision time for a 76 KB Claude-Code-shaped request: in-process and over HTTP, p50/p99.

    .venv/bin/python -m benchmarks.optimizer_decision [--iterations 2000]

In-process is what `anyray up` pays per request (the gateway awaits the optimizer on its own loop);
HTTP is what a cluster pays (gateway -> optimizer Service, keep-alive). Each is paired with a baseline
from the same run: in-process against an orjson round trip of the same body (the floor of looking at
it at all), HTTP against the same message with no strategy enabled (transport and validation only).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp
import orjson
from tests.kit import ServerThread
from tests.kit.shapes import claude_code_request

from anyray.server.optimizer.app import create_optimizer_app
from anyray.server.optimizer.engine import Optimizer

ROUTE = {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


async def in_process(iterations: int) -> dict[str, tuple[float, float]]:
    optimizer = Optimizer()
    await optimizer.start()
    request = claude_code_request()
    sdk_like = {**request, "system": [{k: v for k, v in b.items() if k != "cache_control"} for b in request["system"]],
                "messages": [{"role": "user", "content": "Fix the failing test"}]}
    results = {}
    for name, body in (("claude-code (cap only)", request), ("sdk, no breakpoints (cap+place)", sdk_like)):
        message = {"endpoint": "/v1/messages", "request": body, "route": ROUTE, "canShortCircuit": True}
        samples, floor = [], []
        for _ in range(iterations):
            t = time.perf_counter()
            await optimizer.optimize(message)
            samples.append(time.perf_counter() - t)
            t = time.perf_counter()
            orjson.loads(orjson.dumps(body))
            floor.append(time.perf_counter() - t)
        results[name] = percentiles(samples)
        results[f"  baseline: orjson round trip of {name.split(' ')[0]}"] = percentiles(floor)
    await optimizer.close()
    return results


async def over_http(url: str, iterations: int) -> dict[str, tuple[float, float]]:
    body = claude_code_request()
    full = orjson.dumps({"endpoint": "/v1/messages", "request": body, "route": ROUTE, "canShortCircuit": True})
    none = orjson.dumps({"endpoint": "/v1/messages", "request": body, "route": ROUTE, "enabledKinds": []})
    results = {}
    async with aiohttp.ClientSession() as session:
        for name, payload in (("http: all strategies", full), ("  baseline: http, no strategy", none)):
            samples = []
            for _ in range(iterations):
                t = time.perf_counter()
                async with session.post(url + "/v1/optimize", data=payload,
                                        headers={"content-type": "application/json"}) as response:
                    orjson.loads(await response.read())
                samples.append(time.perf_counter() - t)
            results[name] = percentiles(samples)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    body_kb = len(orjson.dumps(claude_code_request())) / 1024
    print(f"request body: {body_kb:.0f} KB, {args.iterations} iterations each\n")
    rows = asyncio.run(in_process(args.iterations))
    with ServerThread(create_optimizer_app(Optimizer(), service_token="", admin_token="")) as server:
        rows |= asyncio.run(over_http(server.url, max(args.iterations // 4, 50)))
    print(f"{'path':45} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (p50, p99) in rows.items():
        print(f"{name:45} {p50:8.3f} {p99:8.3f}")


if __name__ == "__main__":
    main()
