"""Many long streams held open at once: what each costs the gateway, and whether the first byte waits.

`streams` clients each open a connection and ask for one Anthropic stream that the fake upstream holds
open for `--stream-seconds` (a ping a second, as a model that takes its time). The streams start at
`rate` a second (as sessions start: 10,000 streams of 60 s open at once need at least 167 a second), each
stream's time to first byte is measured from its request,
and once every stream is open the target's resident memory and open file descriptors are read from
/proc: per open stream, against the same process idle. The direct upstream gets the same streams, so
a target's added time to first byte is read against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.bench.loadgen import _Client, build_request
from benchmarks.bench.procs import descendants, tree_usage
from benchmarks.bench.scenarios import SCENARIOS
from benchmarks.bench.stack import Target

TICK_S = 0.1  # new streams start in batches, ten a second


@dataclass(slots=True)
class StreamsCell:
    target: str
    streams: int
    stream_seconds: float
    rate: float  # streams started a second
    ok: int
    errors: int
    ttfb_p50_ms: float
    ttfb_p99_ms: float
    ttfb_max_ms: float
    rss_idle_mb: float | None
    rss_open_mb: float | None
    fds_idle: int | None
    fds_open: int | None
    kb_per_stream: float | None
    fds_per_stream: float | None


def raise_fd_limit(streams: int) -> int:
    """Let this process and the ones it starts hold `streams` connections each (and anyray two per stream);
    returns how many streams the limit allows."""
    want = 2 * streams + 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
    except OSError:
        ceiling = hard
    target = min(max(want, soft), max(hard, ceiling))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
    except (ValueError, OSError):  # not allowed to raise the hard limit: use what there is
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        target = hard
    return max(0, (target - 4096) // 2)


class _StreamClient(_Client):
    """A keep-alive client that also says when the first body byte arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.first: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if not self.first.done():
            self.first.set_result(self.first_body)


def _fds(pid: int) -> int | None:
    """Open descriptors of the process and those under it (a `--workers N` gateway's workers)."""
    try:
        return sum(sum(1 for _ in Path(f"/proc/{p}/fd").iterdir()) for p in descendants(pid))
    except OSError:
        return None


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def _measure(target: Target, streams: int, stream_seconds: float, rate: float) -> StreamsCell:
    req = SCENARIOS["stream"].direct if target.name == "direct" else SCENARIOS["stream"].client
    url = target.url + req.path
    parts = urlsplit(url)
    raw = build_request(url, req.body, req.headers)
    pid = target.process.pid if target.process is not None else None
    idle = tree_usage(pid) if pid else None
    fds_idle = _fds(pid) if pid else None
    firsts: list[float] = []
    opened = asyncio.Event()
    started = 0

    async def one() -> bool:
        nonlocal started
        loop = asyncio.get_running_loop()
        try:
            _, client = await loop.create_connection(_StreamClient, parts.hostname or "127.0.0.1", parts.port or 80)
        except OSError:
            return False
        try:
            t = time.perf_counter()
            done = client.send(raw)
            await asyncio.wait((client.first, done), timeout=stream_seconds + 60,
                               return_when=asyncio.FIRST_COMPLETED)
            if client.first.done():
                firsts.append(client.first.result() - t)
            started += 1
            if started == streams:
                opened.set()
            return await asyncio.wait_for(done, stream_seconds + 60) == 200
        except (OSError, TimeoutError):
            return False
        finally:
            if client.transport is not None:
                client.transport.close()

    tasks = []
    batch = max(1, round(rate * TICK_S))
    for i in range(0, streams, batch):
        tasks += [asyncio.ensure_future(one()) for _ in range(min(batch, streams - i))]
        await asyncio.sleep(TICK_S)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(opened.wait(), stream_seconds)
    await asyncio.sleep(1.0)  # every stream is open and pinging
    at_peak = tree_usage(pid) if pid else None
    fds_open = _fds(pid) if pid else None
    ok = sum(await asyncio.gather(*tasks))
    rss_idle = round(idle.rss_mb, 1) if idle else None
    rss_open = round(at_peak.rss_mb, 1) if at_peak else None
    return StreamsCell(
        target.name, streams, stream_seconds, rate, ok, streams - ok, _q(firsts, 0.5), _q(firsts, 0.99),
        _q(firsts, 1.0), rss_idle, rss_open, fds_idle, fds_open,
        round((rss_open - rss_idle) * 1024 / streams, 1) if rss_idle is not None and rss_open is not None else None,
        round((fds_open - fds_idle) / streams, 2) if fds_idle is not None and fds_open is not None else None)


def measure_streams(targets: dict[str, Target], names: list[str], streams: int, stream_seconds: float,
                    rate: float) -> list[StreamsCell]:
    return [asyncio.run(_measure(targets[n], streams, stream_seconds, rate)) for n in names]


def as_json(cells: list[StreamsCell]) -> list[dict[str, Any]]:
    return [asdict(c) for c in cells]
