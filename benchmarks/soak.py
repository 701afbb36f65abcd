"""Soak: minutes of steady traffic through the gateway, with upstream faults and optimizer restarts.

    .venv/bin/python -m benchmarks.soak [--minutes 10] [--rate 20] [--fault-rate 0.01] [--json out.json]

Processes: the gateway (`anyray serve gateway`, SQLite spend store) and the optimizer (`anyray serve
optimizer`, reached over HTTP) each in their own subprocess; the fake upstream (anyray.testing) runs
in this driver process so the driver steers it directly: before 1 request in 100 it injects one
upstream fault (500, 529, 429 with retry-after, or a stream cut mid-way). The optimizer is stopped and
started again at 1/3 and 2/3 of the run (the gateway must fail open meanwhile). Traffic is open-loop
at a fixed rate: Anthropic messages (a fifth streamed) and OpenAI chat completions, real HTTP.

Reported: requests sent and answered, errors that reached clients and how many go beyond the faults
injected (target 0), spend records in the store after a graceful gateway stop against requests
answered (lost: target 0), fail-open records (the optimizer's restarts), and the gateway's RSS at start,
each minute, and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from tests.kit import ServerThread

from anyray.testing import FakeUpstream

UPSTREAM_KEY = "sk-ant-soak-upstream-key-000000000000000000000000"
CLIENT_KEY = "soak-client"
ANTHROPIC_HEADERS = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
OPENAI_HEADERS = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
FAULTS = ("500", "529", "429", "cut")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_up(url: str, timeout: float = 30.0) -> None:
    async def probe() -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as resp:
                        if resp.status < 500:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not come up")
                await asyncio.sleep(0.1)

    asyncio.run(probe())


class Stack:
    """The gateway and the optimizer, one subprocess each."""

    def __init__(self, work: Path, upstream: str) -> None:
        self.work = work
        self.gw_port, self.opt_port = free_port(), free_port()
        self.db = work / "spend.db"
        self.config = work / "anyray.yaml"
        self.config.write_text(
            f"providers:\n  anthropic:\n    base_url: {upstream}\n    api_key: {UPSTREAM_KEY}\n"
            "models:\n  'claude-*':\n    provider: anthropic\n"
            f"optimizer:\n  url: http://127.0.0.1:{self.opt_port}\n"
            f"store:\n  url: sqlite:///{self.db}\n"
        )
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "ANYRAY_HOME": str(work)}
        self.gateway = self._spawn("gateway", self.gw_port, "gateway.log")
        self.optimizer = self._spawn("optimizer", self.opt_port, "optimizer-0.log")
        self.restarts = 0
        wait_up(f"http://127.0.0.1:{self.gw_port}/healthz")
        wait_up(f"http://127.0.0.1:{self.opt_port}/healthz")

    def _spawn(self, role: str, port: int, log: str) -> subprocess.Popen[bytes]:
        out = open(self.work / log, "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(
            [sys.executable, "-m", "anyray", "serve", role, "--config", str(self.config), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
        )

    def restart_optimizer(self) -> float:
        """Stop it (SIGTERM, graceful), start it again; returns seconds it was away."""
        started = time.monotonic()
        self.optimizer.send_signal(signal.SIGTERM)
        self.optimizer.wait(30)
        self.restarts += 1
        self.optimizer = self._spawn("optimizer", self.opt_port, f"optimizer-{self.restarts}.log")
        wait_up(f"http://127.0.0.1:{self.opt_port}/healthz")
        return time.monotonic() - started

    def stop(self) -> None:
        for proc in (self.gateway, self.optimizer):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.gateway, self.optimizer):
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


class Driver:
    def __init__(self, fake: FakeUpstream, gw_url: str, rate: float, fault_rate: float, seed: int) -> None:
        self.fake = fake
        self.gw_url = gw_url
        self.rate = rate
        self.fault_every = max(1, round(1 / fault_rate)) if fault_rate > 0 else 0
        self.rng = random.Random(seed)
        self.sent = 0
        self.answered = 0
        self.ok = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.injected: collections.Counter[str] = collections.Counter()
        self.latencies: list[float] = []

    def _inject(self) -> None:
        kind = FAULTS[sum(self.injected.values()) % len(FAULTS)]
        self.injected[kind] += 1
        if kind == "cut":
            self.fake.cut_stream_after(3)
        elif kind == "429":
            self.fake.inject(429, retry_after=0.2)
        else:
            self.fake.inject(int(kind))

    async def one(self, session: aiohttp.ClientSession, i: int, stream: bool, openai: bool) -> None:
        text = f"soak request {i}"
        if openai:
            url, headers = f"{self.gw_url}/v1/chat/completions", OPENAI_HEADERS
            body: dict[str, Any] = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": text}]}
        else:
            url, headers = f"{self.gw_url}/v1/messages", ANTHROPIC_HEADERS
            body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
        if stream:
            body["stream"] = True
        started = time.perf_counter()
        self.sent += 1
        try:
            async with session.post(url, json=body, headers=headers) as resp:
                raw = await resp.read()
                self.answered += 1
                if resp.status != 200:
                    self.errors[f"http_{resp.status}"] += 1
                    return
                if (stream and not (b"message_stop" in raw or b"[DONE]" in raw)) or b'"error"' in raw[:200]:
                    self.errors["stream_incomplete"] += 1
                    return
                if not stream and text.encode() not in raw:
                    self.errors["wrong_answer"] += 1
                    return
                self.ok += 1
                self.latencies.append(time.perf_counter() - started)
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.errors[f"client_{type(exc).__name__}"] += 1

    async def run(
        self, seconds: float, stack: Stack, rss: list[tuple[float, float]], restarts: bool = True
    ) -> list[float]:
        total = int(seconds * self.rate)
        restarts_at = {total // 3, 2 * total // 3} if restarts else set()
        restarting: list[asyncio.Task[float]] = []
        tasks: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(limit=256)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            start = time.monotonic()
            next_rss = start + 60
            for i in range(total):
                delay = start + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if i in restarts_at:  # in the background: traffic keeps its rate while the optimizer is away
                    restarting.append(asyncio.create_task(asyncio.to_thread(stack.restart_optimizer)))
                if self.fault_every and i % self.fault_every == self.fault_every // 2:
                    self._inject()
                stream = self.rng.random() < 0.2
                task = asyncio.create_task(self.one(session, i, stream, openai=self.rng.random() < 0.25))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                if time.monotonic() >= next_rss:
                    rss.append((time.monotonic() - start, rss_mb(stack.gateway.pid)))
                    next_rss += 60
                if i % 1000 == 0:
                    self.fake.received.clear()  # the driver's own memory, not the gateway's
            await asyncio.gather(*tasks)
            return list(await asyncio.gather(*restarting))


def count_records(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        total, fail_open, unique = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(fail_open), 0), COUNT(DISTINCT request_id) FROM spend_records"
        ).fetchone()
    return int(total), int(fail_open), int(unique)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (open loop)")
    parser.add_argument("--fault-rate", type=float, default=0.01, help="share of requests preceded by a fault")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="anyray-soak-"))
    fake = FakeUpstream(anthropic_key=UPSTREAM_KEY)
    with ServerThread(fake.app) as server:
        stack = Stack(work, server.url)
        rss: list[tuple[float, float]] = []
        try:
            warm = Driver(fake, f"http://127.0.0.1:{stack.gw_port}", 20, 0, args.seed)
            asyncio.run(warm.run(2, stack, [], restarts=False))  # warm-up (40 requests), then the start RSS
            rss_start = rss_mb(stack.gateway.pid)
            driver = Driver(fake, f"http://127.0.0.1:{stack.gw_port}", args.rate, args.fault_rate, args.seed)
            t0 = time.monotonic()
            away = asyncio.run(driver.run(args.minutes * 60, stack, rss))
            elapsed = time.monotonic() - t0
            rss_end = rss_mb(stack.gateway.pid)
        finally:
            stack.stop()  # graceful: the gateway flushes its spend records
    records, fail_open, unique = count_records(stack.db)
    answered = driver.answered + warm.answered
    errors = sum(driver.errors.values())
    injected = sum(driver.injected.values())
    latencies = sorted(driver.latencies)
    result = {
        "minutes": args.minutes,
        "rate_rps": args.rate,
        "elapsed_s": round(elapsed, 1),
        "sent": driver.sent,
        "answered": driver.answered,
        "ok": driver.ok,
        "faults_injected": dict(driver.injected),
        "client_errors": dict(driver.errors),
        "errors_beyond_injected": max(0, errors - injected),
        "optimizer_restarts": len(away),
        "optimizer_away_s": [round(a, 2) for a in away],
        "records_in_store": records,
        "records_expected": answered,
        "records_lost": answered - unique,
        "duplicate_records": records - unique,
        "fail_open_records": fail_open,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        "gateway_rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1)},
        "gateway_rss_mb_per_minute": [round(r, 1) for _, r in rss],
        "gateway_exit_code": stack.gateway.returncode,
        "logs": str(work),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
