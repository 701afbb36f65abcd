"""An optimizer that is away must not flood the gateway's log.

Found by the soak (benchmarks/soak, docs/reliability.md): while the circuit breaker is open every
request fails open, and each wrote a WARNING line: at 500 requests/s, one optimizer restart wrote
5,000 lines. Now one line per reason at most every FAIL_OPEN_LOG_EVERY_S, saying how many it stands
for; the counters stay exact.
"""

from __future__ import annotations

import asyncio
import logging

from anyray.server.gateway import optimizer_client
from anyray.server.gateway.optimizer_client import OptimizerClient


class _Away(OptimizerClient):
    async def _call(self, path: str, message: dict) -> dict:
        raise ConnectionRefusedError("optimizer away")


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "anyray.gateway.optimizer"]


def test_a_thousand_fail_opens_log_two_lines_and_count_every_one(caplog):
    client = _Away(budget_ms=800)
    now = [1000.0]
    client._log_clock = lambda: now[0]

    async def requests(n: int) -> None:
        for _ in range(n):
            assert await client.optimize({"request": {"model": "m"}}) is None  # forwarded untouched

    caplog.set_level(logging.WARNING, logger="anyray.gateway.optimizer")
    asyncio.run(requests(1000))
    # five refusals open the breaker; the 995 after it skip the optimizer: the first of each kind is logged
    assert client.fail_open == {"ConnectionRefusedError": 5, "circuit_open": 995}
    assert _lines(caplog) == ["optimizer fail-open: ConnectionRefusedError", "optimizer fail-open: circuit_open"]

    caplog.clear()
    now[0] += optimizer_client.FAIL_OPEN_LOG_EVERY_S
    asyncio.run(requests(1))  # the breaker (its own clock) is still open
    assert _lines(caplog) == ["optimizer fail-open: circuit_open (995 times since the last line about it)"]
    assert sum(client.fail_open.values()) == 1001
