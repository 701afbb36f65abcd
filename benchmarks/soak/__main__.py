"""Soak: minutes of open-loop traffic through the gateway while things go wrong around it.

    flock /tmp/anyray-bench.lock .venv/bin/python -m benchmarks.soak --minutes 10 --rate R --json out.json
    .venv/bin/python -m benchmarks.soak --ramp 50,100,150,200 --step-s 30     # find R first

Run from the repository root, as root (it stops and starts the machine's PostgreSQL cluster with
`pg_ctlcluster`; cut off are all its sessions, other people's too). Processes: the fake upstream
(benchmarks/soak/upstream.py), `anyray serve optimizer` and `anyray serve gateway`, each its own
subprocess; the spend store is PostgreSQL (`--pg-url`, in a schema made for the run and dropped after
it); two gateway keys made with `anyray keys create` (team `soak` for the traffic, `soak-adversary`
for the stalled readers). Over the run:

- traffic at `--rate` requests/s (benchmarks/soak/clients.py), 1 % with an upstream fault: 500, 529,
  429 (retry-after), a non-streamed body cut half-way, a stream cut after 3 events;
- the optimizer stopped (SIGTERM) and started again at 1/3 and 2/3 of the run: the gateway fails open;
- PostgreSQL stopped at 45 % of the run for `--pg-down-s` (60 s), then started: records wait in
  memory and, past `store.queue_size` (10 000), in the spill file, then are written;
- a stalled reader every `--stall-every` s (holds `--stall-hold` s without reading) and
  `--slowloris-burst` slowloris connections every `--slowloris-every` s;
- the gateway's RSS and open descriptors (/proc), its spend backlog and fail-open count (/metrics)
  every 10 s.

At the end the gateway is stopped gracefully and every record in the store is matched to the call a
client saw answered, by the `n` tag each request carried (benchmarks/soak/report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.soak import report
from benchmarks.soak.clients import Traffic, slowloris, stalled_reader, summarize_slowloris
from benchmarks.soak.stack import CpuMeter, Postgres, Stack, get_json, proc_sample

WARM_N = 10_000_000  # warm-up and ramp requests are numbered from here, apart from the soak's


def sample(stack: Stack, t0: float, cpu: CpuMeter | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"t": round(time.monotonic() - t0, 1), **proc_sample(stack.gateway.pid)}
    if cpu is not None:
        out |= cpu([stack.gateway.pid, stack.optimizer.pid, stack.upstream.pid])
    try:
        out["opt_rss_mb"] = proc_sample(stack.optimizer.pid)["rss_mb"]
    except OSError:
        out["opt_rss_mb"] = None  # restarting
    try:
        m = stack.metrics()
        out |= {"backlog": int(m.get("anyray_spend_records_backlog", 0)),
                "fail_open": int(m.get("anyray_optimizer_fail_open_total", 0)),
                "spend_lost": int(m.get("anyray_spend_records_lost_total", 0)),
                # answered by the gateway itself, never spend records: its limits and its key check
                "refused": int(m.get("anyray_limit_refused_total", 0) + m.get("anyray_auth_refused_total", 0))}
    except OSError as exc:
        out["metrics_error"] = str(exc)
    return out


async def soak(args: argparse.Namespace, stack: Stack, pg: Postgres) -> dict[str, Any]:
    duration = args.minutes * 60
    warm = Traffic(stack.gw_url, stack.keys["soak"], 20, 0, args.seed, app="soak-warm", first_n=WARM_N)
    await warm.run(5)
    t0, wall0_ms = time.monotonic(), int(time.time() * 1000)
    fault_every = round(1 / args.fault_rate) if args.fault_rate > 0 else 0
    traffic = Traffic(stack.gw_url, stack.keys["soak"], args.rate, fault_every, args.seed)
    cpu = CpuMeter()
    samples = [await asyncio.to_thread(sample, stack, t0, cpu)]
    events: list[dict[str, Any]] = []
    stalls: list[asyncio.Task[dict[str, Any]]] = []
    loris: list[asyncio.Task[dict[str, Any]]] = []
    done = asyncio.Event()

    async def sampler() -> None:
        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), 10)
            except TimeoutError:
                samples.append(await asyncio.to_thread(sample, stack, t0, cpu))

    async def event(at: float, what: str, action: Any) -> None:
        await asyncio.sleep(max(0.0, at - (time.monotonic() - t0)))
        started = round(time.monotonic() - t0, 1)
        backlog = samples[-1].get("backlog")
        result = await asyncio.to_thread(action)
        events.append({"t": started, "what": what, "result": result, "backlog_before": backlog})

    def pg_stop() -> dict[str, Any]:
        sessions = pg.sessions()
        return {"took_s": round(pg.stop(), 2), "sessions_cut_off": sessions}

    async def adversaries() -> None:
        stall_j, next_stall, next_loris = 0, 5.0, 2.0
        while (now := time.monotonic() - t0) < duration:
            if args.stall_every and now >= next_stall and now + args.stall_hold + 30 < duration + 60:
                stalls.append(asyncio.create_task(stalled_reader(
                    stack.gw_port, stack.keys["soak-adversary"], stall_j, args.stall_mb, args.stall_hold)))
                stall_j, next_stall = stall_j + 1, next_stall + args.stall_every
            if args.slowloris_every and now >= next_loris:
                loris.extend(asyncio.create_task(slowloris(stack.gw_port)) for _ in range(args.slowloris_burst))
                next_loris += args.slowloris_every
            await asyncio.sleep(0.5)

    plan = [event(duration / 3, "optimizer restart", stack.restart_optimizer),
            event(2 * duration / 3, "optimizer restart", stack.restart_optimizer)]
    if args.pg_down_s:
        plan += [event(0.45 * duration, "postgresql stop", pg_stop),
                 event(0.45 * duration + args.pg_down_s, "postgresql start", lambda: {"took_s": round(pg.start(), 2)})]
    background = [asyncio.create_task(c) for c in (sampler(), adversaries(), *plan)]
    await traffic.run(duration, started=t0)
    await asyncio.gather(*background[1:])
    stall_results = list(await asyncio.gather(*stalls))
    loris_results = list(await asyncio.gather(*loris))
    drained_after = None
    for _ in range(240):  # the spend backlog written out before the graceful stop
        s = await asyncio.to_thread(sample, stack, t0)
        if s.get("backlog") == 0:
            drained_after = s["t"]
            break
        await asyncio.sleep(0.5)
    done.set()
    await background[0]
    samples.append(await asyncio.to_thread(sample, stack, t0, cpu))
    applied = await asyncio.to_thread(get_json, f"http://127.0.0.1:{stack.up_port}/_soak/faults")
    exit_code = await asyncio.to_thread(stack.stop_gateway)
    dump(args.outcomes or stack.work / "outcomes.jsonl", traffic.outcomes)
    rows = await asyncio.to_thread(pg.records)
    (stack.work / "raw.json").write_text(json.dumps(  # kept when the report below fails
        {"records": rows, "samples": samples, "events": events, "stalls": stall_results, "wall0_ms": wall0_ms},
        default=str))
    answered = {str(o.n): o.result for o in warm.outcomes + traffic.outcomes if o.answered}
    for r in stall_results:
        if r.get("status_line", "").startswith("HTTP/1.1"):
            status = r["status_line"][9:12]
            answered[f"stall{r['j']}"] = "ok" if status == "200" else f"http_{status}"
    minutes = max(1, int(args.minutes))
    return {
        "rate_rps": args.rate, "minutes": args.minutes, "fault_rate": args.fault_rate, "seed": args.seed,
        "sender_lag_max_s": round(traffic.lag_max, 3),
        "warm_up": {"sent": len(warm.outcomes), "ok": sum(o.result == "ok" for o in warm.outcomes)},
        "traffic": report.traffic(traffic.outcomes, applied),
        "events": events,
        "records": report.records(rows, answered, wall0_ms, events, samples[-1].get("refused")),
        "backlog_drained_at_s": drained_after,
        "gateway_exit_code": exit_code,
        "spill_files_left": sorted(p.name for p in (stack.work / "spill").glob("*")) if
        (stack.work / "spill").exists() else [],
        "resources": report.resources(samples, minutes),
        "per_minute": report.per_minute(traffic.outcomes, samples, minutes),
        "stalled_readers": stall_results,
        "slowloris": summarize_slowloris(loris_results),
        "samples": samples,
    }


def dump(path: Path | None, outcomes: list[Any]) -> None:
    """One line per request: number, send time, latency, route, streamed, fault, result (no content)."""
    if path is not None:
        with path.open("a") as f:
            f.writelines(json.dumps([o.n, round(o.at, 3), round(o.latency, 4), o.model, o.stream, o.fault,
                                     o.result]) + "\n" for o in outcomes)


async def ramp(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    """Steps of steady traffic (no faults, no events): where do latency, errors or the sender give out?"""
    rows, first_n = [], WARM_N
    pids = {"gateway": stack.gateway.pid, "optimizer": stack.optimizer.pid, "upstream": stack.upstream.pid}
    for rate in (float(r) for r in args.ramp.split(",")):
        traffic = Traffic(stack.gw_url, stack.keys["soak"], rate, 0, args.seed, app="soak-ramp", first_n=first_n)
        before = {name: proc_sample(pid)["cpu_s"] for name, pid in pids.items()}
        own, started = time.process_time(), time.monotonic()
        fail_open = stack.metrics().get("anyray_optimizer_fail_open_total", 0)
        await traffic.run(args.step_s)
        elapsed = time.monotonic() - started
        cpu = {name: round(100 * (proc_sample(pid)["cpu_s"] - before[name]) / elapsed)
               for name, pid in pids.items()}
        cpu["driver"] = round(100 * (time.process_time() - own) / elapsed)
        ok = [o.latency for o in traffic.outcomes if o.result == "ok"]
        dump(args.outcomes, traffic.outcomes)
        rows.append({"rate": rate, "sent": len(traffic.outcomes), "achieved_rps": round(len(ok) / elapsed, 1),
                     "errors": len(traffic.outcomes) - len(ok), "p50_ms": report.pct(ok, 50),
                     "p99_ms": report.pct(ok, 99), "max_ms": report.pct(ok, 100),
                     "sender_lag_max_s": round(traffic.lag_max, 3), "cpu_percent": cpu,
                     "fail_open": int(stack.metrics().get("anyray_optimizer_fail_open_total", 0) - fail_open),
                     "load_avg_1m": os.getloadavg()[0]})
        print(json.dumps(rows[-1]), flush=True)
        first_n += len(traffic.outcomes)
        await asyncio.sleep(3)
    return {"ramp": rows, "step_s": args.step_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (open loop)")
    parser.add_argument("--fault-rate", type=float, default=0.01, help="share of requests with an upstream fault")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-cluster", default=None, help="'<version> <name>' for pg_ctlcluster (default: found)")
    parser.add_argument("--pg-down-s", type=float, default=None,
                        help="PostgreSQL outage (default 60 s, a quarter of a shorter run); 0: none")
    parser.add_argument("--stall-every", type=float, default=30.0, help="seconds between stalled readers; 0: none")
    parser.add_argument("--stall-hold", type=float, default=60.0, help="seconds a stalled reader reads nothing")
    parser.add_argument("--stall-mb", type=float, default=8.0, help="size of a stalled reader's answer")
    parser.add_argument("--slowloris-every", type=float, default=5.0, help="seconds between bursts; 0: none")
    parser.add_argument("--slowloris-burst", type=int, default=4)
    parser.add_argument("--ramp", default=None, help="comma-separated rates: find the highest sustained rate")
    parser.add_argument("--step-s", type=float, default=30.0, help="seconds per ramp step")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema (the work directory with the "
                        "logs, outcomes.jsonl and raw.json, all content-free, is always kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--outcomes", type=Path, default=None, help="write each request's outcome here (JSON lines)")
    args = parser.parse_args()
    if args.pg_down_s is None:
        args.pg_down_s = min(60.0, args.minutes * 15)

    work = Path(tempfile.mkdtemp(prefix="anyray-soak-"))
    pg = Postgres(args.pg_url, args.pg_cluster)
    load_before = os.getloadavg()
    stack = None
    try:
        stack = Stack(work, pg.url)
        result = asyncio.run(ramp(args, stack) if args.ramp else soak(args, stack, pg))
    except BaseException:
        print(f"soak failed; logs and raw data in {work}", file=sys.stderr)
        raise
    finally:
        if stack is not None:
            stack.stop()
        if args.pg_down_s and not args.ramp:
            try:
                pg.sessions()
            except Exception:  # still down (the run broke mid-outage): never leave it stopped
                pg.start()
        if not args.keep:
            pg.drop()
    result |= {"load_avg_before": load_before, "load_avg_after": os.getloadavg(), "cpus": os.cpu_count(),
               "python": sys.version.split()[0], "work": str(work)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
