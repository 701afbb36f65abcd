"""What admission costs a call: budget and rate-limit checks, looped (docs/budgets.md#what-the-limits-cost-a-call).

    flock /tmp/anyray-bench.lock .venv/bin/python -m benchmarks.limits_admission

The Redis line needs a Redis on 127.0.0.1:6379 (its counters are named anyray:rl:... and expire on their own).
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry

from anyray.config import BudgetSettings, RateLimitSettings
from anyray.server.gateway.budgets import BudgetLedger
from anyray.server.gateway.ratelimit import RateLimiter

KEY = "key_0123456789ab"


def budgets(team: str, key: str | None, n: int = 200_000) -> float:
    settings = BudgetSettings(teams={"search": {"limit_usd": 1e9, "soft_usd": 5e8}}, keys={KEY: {"limit_usd": 1e9}})
    ledger = BudgetLedger(settings, None, CollectorRegistry())
    started = time.perf_counter()
    for _ in range(n):
        ledger.admit(team, key)
    return (time.perf_counter() - started) / n * 1e6


async def rate_limits(redis_url: str | None, n: int) -> float:
    settings = RateLimitSettings(teams={"search": {"rpm": 10**9, "tpm": 10**9}}, keys={KEY: {"rpm": 10**9}})
    limiter = RateLimiter(settings, redis_url, CollectorRegistry())
    await limiter.admit("search", KEY)  # connects, loads the script
    started = time.perf_counter()
    for _ in range(n):
        await limiter.admit("search", KEY)
    took = (time.perf_counter() - started) / n * 1e6
    await limiter.close()
    return took


def main() -> None:
    print(f"budgets, a key and its team budgeted: {budgets('search', KEY):.2f} us")
    print(f"budgets, a caller without a budget:   {budgets('other', None):.2f} us")
    print(f"rate limits, in-process:              {asyncio.run(rate_limits(None, 200_000)):.2f} us")
    print(f"rate limits, Redis on loopback:       {asyncio.run(rate_limits('redis://127.0.0.1:6379/0', 5000)):.1f} us")


if __name__ == "__main__":
    main()
