"""What the garbage collector walks per open stream in the gateway process, counted by type.

With thousands of streams held open, the collector's pauses set the time to first byte's p99, and a pause
is proportional to the tracked objects it walks (docs/performance.md, "What the collector walks"). This
starts the lean fake holding each stream open (`--stream-seconds`), `anyray up` in a child process that
counts `gc.get_objects()` by type when it gets SIGUSR1 (after a collection, so only live objects count;
frozen start-up state is not listed), opens N Anthropic streams through it, and prints the growth per
open stream: total, by type, and coroutines by function.

    python -m benchmarks.stream_census --streams 2000 [--stream-seconds 20] [--json out.json]

Not a timing: it may run beside other work (it still takes the bench lock's machine for a few seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

_OUT_ENV = "ANYRAY_CENSUS_OUT"


_SAMPLED = ("list", "cell", "method", "dict", "tuple", "function", "Context", "ReferenceType")
_seen: set[int] = set()


def _samples(objects: list[Any]) -> dict[str, list[str]]:
    """For a few objects of each `_SAMPLED` type made since the idle census: what holds them (the type of
    each referrer) and a short repr; slow (a referrer search per object), so a handful only."""
    out: dict[str, list[str]] = {}
    if key := os.environ.get("ANYRAY_CENSUS_FIND"):  # who holds a dict with this key (e.g. a request's "tools")
        found = [o for o in objects if type(o) is dict and key in o and id(o) not in _seen][:6]
        out[f"holders of dicts with {key!r}"] = [_describe(r) for o in found for r in gc.get_referrers(o)
                                                  if r is not objects and r is not found]
    for name in _SAMPLED:
        new = [o for o in objects if type(o).__name__ == name and id(o) not in _seen][:: 997][:12]
        rows = []
        for obj in new:
            holders = sorted({type(r).__name__ + (":" + r.cr_code.co_qualname if hasattr(r, "cr_code") else "")
                              for r in gc.get_referrers(obj) if r is not objects and r is not new})
            rows.append(f"{repr(obj)[:90]} <- {', '.join(holders)[:200]}")
        out[name] = rows
    return out


def _describe(obj: Any) -> str:
    """A referrer, named well enough to find it in the code."""
    if type(obj).__name__ == "frame":
        return f"frame of {obj.f_code.co_qualname}"
    if isinstance(obj, dict):
        return f"dict with keys {list(obj)[:8]}"
    code = getattr(obj, "cr_code", None) or getattr(obj, "ag_code", None)
    return f"{type(obj).__name__}{':' + code.co_qualname if code else ''} {repr(obj)[:80]}"


def _census() -> dict[str, Any]:
    """Live tracked objects by type name; coroutines and async generators also by their function."""
    gc.collect()
    counts: collections.Counter[str] = collections.Counter()
    objects = gc.get_objects()
    if os.environ.get("ANYRAY_CENSUS_SAMPLES") and _seen:
        counts_samples = _samples(objects)
    else:
        counts_samples = None
        _seen.update(id(o) for o in objects)
    for obj in objects:
        name = type(obj).__name__
        counts[name] += 1
        code = getattr(obj, "cr_code", None) or getattr(obj, "ag_code", None)
        if code is not None:
            counts[f"{name}:{code.co_qualname}"] += 1
    counts["*total"] = sum(v for k, v in counts.items() if ":" not in k)
    result: dict[str, Any] = dict(counts)
    if counts_samples is not None:
        result["*samples"] = counts_samples
    return result


def _serve_with_census(argv: list[str]) -> None:
    """The child: `anyray <argv>`, writing a census to $ANYRAY_CENSUS_OUT.<n> on each SIGUSR1."""
    taken = 0

    def on_usr1(*_: Any) -> None:
        nonlocal taken
        path = Path(f"{os.environ[_OUT_ENV]}.{taken}")
        taken += 1
        path.write_text(json.dumps(_census()))

    signal.signal(signal.SIGUSR1, on_usr1)
    sys.argv = ["anyray", *argv]
    from anyray.cli import main

    main()


def _wait_file(path: Path, timeout: float = 60.0) -> dict[str, int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size:
            time.sleep(0.2)
            return json.loads(path.read_text())
        time.sleep(0.1)
    raise TimeoutError(f"no census at {path}")


def _wait_ok(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


async def _hold(url: str, streams: int, rate: float, stream_seconds: float, at_peak: Any, scenario: str) -> int:
    from benchmarks.bench.loadgen import build_request
    from benchmarks.bench.scenarios import SCENARIOS
    from benchmarks.bench.streams import _StreamClient

    req = SCENARIOS[scenario].client
    raw = build_request(url + req.path, req.body, req.headers)
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda *_: None)  # the streams cut at the end: their futures' errors are expected
    clients: list[Any] = []
    batch = max(1, round(rate / 10))
    for i in range(0, streams, batch):
        for _ in range(min(batch, streams - i)):
            _, client = await loop.create_connection(_StreamClient, parts.hostname, parts.port)
            client.send(raw)
            clients.append(client)
        await asyncio.sleep(0.1)
    await asyncio.wait_for(asyncio.gather(*(c.first for c in clients)), stream_seconds)
    await asyncio.sleep(1.0)
    await loop.run_in_executor(None, at_peak)
    for c in clients:
        c.transport.close()
    return sum(1 for c in clients if c.first.done())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _serve_with_census(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--stream-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--scenario", default="stream", help="the streamed request: stream (small) or claude_code")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from benchmarks.bench.procs import free_port
    from benchmarks.bench.streams import raise_fd_limit

    raise_fd_limit(args.streams)
    work = Path(tempfile.mkdtemp(prefix="anyray-census-"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ANYRAY_HOME": str(work), "NO_PROXY": "*",
           _OUT_ENV: str(work / "census")}
    env.pop("ANYRAY_CONFIG", None)
    up, gw, opt = free_port(), free_port(), free_port()
    config = {"providers": {"anthropic": {"base_url": f"http://127.0.0.1:{up}", "api_key": "bench-upstream-key"}},
              "models": {"claude-*": {"provider": "anthropic"}},
              "store": {"url": f"sqlite:///{work / 'spend.db'}"},
              "gateway": {"limits": {"max_connections": args.streams + 256,
                                     "max_connections_per_upstream": args.streams + 256}}}
    (work / "anyray.yaml").write_text(yaml.safe_dump(config))
    py = sys.executable
    logs = [(work / n).open("w") for n in ("lean.log", "anyray.log")]
    lean = subprocess.Popen([py, "-m", "anyray.testing.lean", "--port", str(up), "--stream-seconds",
                             str(args.stream_seconds)], env=env, stdout=logs[0], stderr=subprocess.STDOUT)
    anyray = subprocess.Popen([py, "-m", "benchmarks.stream_census", "--child", "up", "--config",
                               str(work / "anyray.yaml"), "--port", str(gw), "--optimizer-port", str(opt)],
                              env=env, stdout=logs[1], stderr=subprocess.STDOUT)
    try:
        _wait_ok(f"http://127.0.0.1:{gw}/healthz", 60)
        # warm: a few whole calls, so lazily made state (pools, caches) is in the idle census too
        with httpx.Client() as client:
            from benchmarks.bench.scenarios import SCENARIOS
            req = SCENARIOS["anthropic"].client
            for _ in range(20):
                client.post(f"http://127.0.0.1:{gw}{req.path}", content=req.body, headers=req.headers)
        time.sleep(1.0)
        anyray.send_signal(signal.SIGUSR1)
        idle = _wait_file(work / "census.0")

        def at_peak() -> None:
            anyray.send_signal(signal.SIGUSR1)
            _wait_file(work / "census.1")

        opened = asyncio.run(_hold(f"http://127.0.0.1:{gw}", args.streams, args.rate, args.stream_seconds + 30,
                                   at_peak, args.scenario))
        peak = _wait_file(work / "census.1")
    finally:
        for proc in (anyray, lean):
            proc.terminate()
        for proc in (anyray, lean):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    samples = peak.pop("*samples", None)
    grown = {k: peak.get(k, 0) - idle.get(k, 0) for k in set(peak) | set(idle)}
    per = {k: round(v / opened, 2) for k, v in grown.items() if abs(v) >= opened / 4}
    print(f"streams open: {opened} of {args.streams}; tracked objects per open stream: {per.get('*total')}")
    for name, value in sorted(per.items(), key=lambda kv: -kv[1])[: args.top]:
        if name != "*total":
            print(f"  {value:7.2f}  {name}")
    for name, rows in (samples or {}).items():
        print(f"{name}, sampled:")
        for row in rows:
            print(f"    {row}")
    if args.json:
        args.json.write_text(json.dumps({"streams": args.streams, "opened": opened, "per_stream": per}, indent=1))


if __name__ == "__main__":
    main()
