"""Head-of-line blocking: does a small call wait while big requests are being optimized?

For each target, a small Anthropic call is sent on one connection, `probes` times, first alone (quiet),
then while `connections` other clients each send a big request (a Claude Code or agent turn, each with
new content for the optimizer) every `interval_s` after the last one's answer (busy): sessions at a
pace, not a flood that saturates the machine, which would measure the cores instead. What the big
requests add to the small call's p50 and p99 is the head-of-line cost; on the direct upstream it is what
the machine itself adds (the same cores serve the load generator, the upstream and the gateway), so a
target's figure is read against it.

The big requests' own latency is measured too (each client keeps its connection, as an SDK does): at
this pace it is what a session's turn costs beside seven others, without the queueing of a closed loop
that keeps the cores saturated (issue 24 item 3 reads it against the direct upstream's).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from benchmarks.bench.big import NONCE
from benchmarks.bench.loadgen import LoadResult, Sample, _connect, build_request, drive, timed_send
from benchmarks.bench.scenarios import SCENARIOS, Scenario
from benchmarks.bench.stack import Target

PROBE_PAUSE_S = 0.01


@dataclass(slots=True)
class HolCell:
    target: str
    background: str
    connections: int
    interval_s: float  # each big-request client's pause between requests
    probes: int
    quiet_p50_ms: float
    quiet_p99_ms: float
    busy_p50_ms: float
    busy_p99_ms: float
    background_done: int  # big requests answered while the probes ran
    background_errors: int
    probe_errors: int
    big_p50_ms: float = 0.0  # the big requests' own latency (whole answer), at their pace
    big_p99_ms: float = 0.0

    @property
    def added_p99_ms(self) -> float:
        return self.busy_p99_ms - self.quiet_p99_ms

    @property
    def added_p50_ms(self) -> float:
        return self.busy_p50_ms - self.quiet_p50_ms


def _q(result: LoadResult, q: float) -> float:
    totals = sorted(s.total_s for s in result.samples)
    return totals[min(len(totals) - 1, int(q * len(totals)))] * 1000 if totals else 0.0


async def _background(target: Target, big: Scenario, done: asyncio.Event, connections: int, interval_s: float,
                      out: LoadResult) -> None:
    """`connections` clients, each on its own keep-alive connection, sending a big request, waiting
    `interval_s` (the model's answer, the agent's own work), and again, until the probes are done."""
    breq = big.direct if target.name == "direct" else big.client
    url = target.url + breq.path
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raw = build_request(url, breq.body, breq.headers)
    numbers = itertools.count(int(time.time() * 1000) % 10**8 * 1000)  # unlike any earlier run's

    async def client(i: int) -> None:
        await asyncio.sleep(interval_s * i / connections)  # spread out, as independent sessions are
        conn = await _connect(host, port)
        try:
            while not done.is_set():
                request = raw.replace(NONCE, b"%012d" % next(numbers)) if big.fresh else raw
                out.requests += 1
                conn = await timed_send(conn, request, host, port, out)
                await asyncio.sleep(interval_s)
        finally:
            if conn.transport is not None:
                conn.transport.close()

    await asyncio.gather(*(client(i) for i in range(connections)))


async def _probes(target: Target, small: Scenario, n: int, pause_s: float) -> LoadResult:
    """`n` small calls on one keep-alive connection, one every `pause_s`: spread over the busy time, so
    they meet the big requests wherever those are (back to back, they would all fit in a lull)."""
    req = small.direct if target.name == "direct" else small.client
    url = target.url + req.path
    parts = urlsplit(url)
    raw = build_request(url, req.body, req.headers)
    client = await _connect(parts.hostname or "127.0.0.1", parts.port or 80)
    result = LoadResult(requests=0, elapsed_s=0.0)
    try:
        for _ in range(n):
            started = time.perf_counter()
            status = await client.send(raw)
            result.samples.append(Sample(time.perf_counter() - started, 0.0))
            result.statuses[status] += 1
            await asyncio.sleep(pause_s)
    finally:
        if client.transport is not None:
            client.transport.close()
    result.requests = n
    return result


async def _measure(target: Target, small: Scenario, big: Scenario, probes: int, connections: int,
                   interval_s: float) -> HolCell:
    sreq = small.direct if target.name == "direct" else small.client
    await drive(target.url + sreq.path, sreq.body, sreq.headers, 200, 1)  # warm
    # and the big requests: the decider's start and the first turns' whole-session work are a process's
    # first seconds, not the steady state this measures
    breq = big.direct if target.name == "direct" else big.client
    await drive(target.url + breq.path, breq.body, breq.headers, 4 * connections, connections, big.fresh)
    quiet = await _probes(target, small, probes, PROBE_PAUSE_S)
    done = asyncio.Event()
    counted = LoadResult(requests=0, elapsed_s=0.0)
    background = asyncio.create_task(_background(target, big, done, connections, interval_s, counted))
    await asyncio.sleep(1.0)  # the big requests are flowing before the first probe
    busy = await _probes(target, small, probes, PROBE_PAUSE_S)
    done.set()
    await background
    return HolCell(target.name, big.name, connections, interval_s, probes, _q(quiet, 0.5), _q(quiet, 0.99),
                   _q(busy, 0.5), _q(busy, 0.99), counted.requests,
                   counted.errors + sum(n for status, n in counted.statuses.items() if status != 200),
                   quiet.requests - quiet.statuses.get(200, 0) + busy.requests - busy.statuses.get(200, 0),
                   _q(counted, 0.5), _q(counted, 0.99))


def measure_hol(targets: dict[str, Target], names: list[str], background: str, probes: int = 1000,
                connections: int = 8, interval_s: float = 0.25) -> list[HolCell]:
    big = SCENARIOS[background]
    return [asyncio.run(_measure(targets[n], SCENARIOS["anthropic"], big, probes, connections, interval_s))
            for n in names]


def as_json(cells: list[HolCell]) -> list[dict[str, Any]]:
    return [{**asdict(c), "added_p50_ms": round(c.added_p50_ms, 3), "added_p99_ms": round(c.added_p99_ms, 3)}
            for c in cells]
