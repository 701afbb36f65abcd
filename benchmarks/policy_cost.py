"""What each optimizer policy costs per request: decision time with one strategy kind enabled at a time.

    .venv/bin/python -m benchmarks.policy_cost [--iterations 500]

In-process (what `anyray up` pays on the request path), for two bodies: the small request `anyray bench`
sends, and a 76 KB Claude-Code-shaped one (tests.kit.shapes). Each kind runs alone via the
protocol's `enabledKinds` (what a client's x-anyray-optimization-kinds header does); "none" is the
floor (validation, planning, the answer's assembly) and "defaults" is what a request gets untold.
Every row is paired with "none" from the same run. semantic_cache runs against an empty in-memory
cache, so it shows the lookup cost of a miss.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from tests.kit.shapes import claude_code_request

from anyray.server.optimizer.engine import Optimizer
from anyray.server.optimizer.strategies import REGISTRY

ROUTE = {"provider": "anthropic", "model": "claude-sonnet-4-5"}
SMALL = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "benchmark me"}]}


async def decision_us(optimizer: Optimizer, body: dict[str, Any], kinds: list[str] | None, n: int) -> float:
    message: dict[str, Any] = {"endpoint": "/v1/messages", "request": body, "route": ROUTE, "canShortCircuit": True}
    if kinds is not None:
        message["enabledKinds"] = kinds
    for _ in range(max(5, n // 10)):
        await optimizer.optimize(message)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await optimizer.optimize(message)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


async def measure(iterations: int) -> list[tuple[str, float, float]]:
    optimizer = Optimizer()
    await optimizer.start()
    big = claude_code_request()
    rows = []
    try:
        base_small = await decision_us(optimizer, SMALL, [], iterations)
        base_big = await decision_us(optimizer, big, [], iterations)
        rows.append(("none (floor)", base_small, base_big))
        rows.append(("defaults", await decision_us(optimizer, SMALL, None, iterations),
                     await decision_us(optimizer, big, None, iterations)))
        for kind in sorted(REGISTRY):
            rows.append((kind, await decision_us(optimizer, SMALL, [kind], iterations),
                         await decision_us(optimizer, big, [kind], iterations)))
    finally:
        await optimizer.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.iterations))
    floor_small, floor_big = rows[0][1], rows[0][2]
    print(f"median decision time, in-process, {args.iterations} iterations per cell (us; + = over 'none')")
    print(f"{'policy':24}{'small':>10}{'+':>9}{'76 KB':>11}{'+':>10}")
    for name, small, big in rows:
        print(f"{name:24}{small:10.0f}{small - floor_small:9.0f}{big:11.0f}{big - floor_big:10.0f}")


if __name__ == "__main__":
    main()
