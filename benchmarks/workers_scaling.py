"""req/s of `anyray serve gateway --workers 1` against `--workers 2`, and what else used the machine meanwhile.

The question (issue 24 item 5): does a second worker buy a second core's worth of throughput? On a 2-core
machine the load generator (wrk, C, one thread) and the fake upstream share the cores with the workers, and
on a shared VM other jobs do too; so beside each cell this prints the CPU of every part: the gateway's
processes, wrk, the fake, and the rest of the machine (/proc/stat's busy time minus those). Rounds alternate
1 and 2 workers (which goes first alternates too), so a busy minute lands on both.

    flock /tmp/anyray-bench.lock python -m benchmarks.workers_scaling --rounds 6 --duration 4 --connections 16
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.bench.procs import tree_usage
from benchmarks.bench.scenarios import SCENARIOS
from benchmarks.bench.stack import Stack
from benchmarks.bench.wrk import run_wrk

_TICKS = 100


def _machine_busy_s() -> float:
    """CPU seconds every core spent on anything but idle and iowait, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / _TICKS


def _wrk_cpu_s() -> float:
    """wrk's CPU seconds so far (it is the only wrk this bench runs)."""
    out = subprocess.run(["pgrep", "-x", "wrk"], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in out:
        usage = tree_usage(int(pid))
        total += usage.cpu_s if usage else 0.0
    return total


def cell(stack: Stack, target: str, scenario: str, connections: int, duration: float) -> dict[str, float]:
    spec = SCENARIOS[scenario]
    url = stack.targets[target].url + spec.client.path
    run_wrk(url, spec.client.body, spec.client.headers, connections, 1)  # warm-up
    gw, fake = stack.targets[target].process, stack.targets["direct"].process
    assert gw is not None and fake is not None
    wrk_cpu = [0.0]

    def sample_wrk() -> None:  # wrk's CPU, read just before it exits
        time.sleep(max(0.0, duration - 0.3))
        wrk_cpu[0] = _wrk_cpu_s()

    sampler = threading.Thread(target=sample_wrk)
    g0, f0, m0, t0 = gw.usage(), fake.usage(), _machine_busy_s(), time.monotonic()
    sampler.start()
    result = run_wrk(url, spec.client.body, spec.client.headers, connections, duration)
    g1, f1, m1, t1 = gw.usage(), fake.usage(), _machine_busy_s(), time.monotonic()
    sampler.join()
    assert g0 and g1 and f0 and f1
    elapsed = t1 - t0
    gateway = (g1.cpu_s - g0.cpu_s) / elapsed
    upstream = (f1.cpu_s - f0.cpu_s) / elapsed
    wrk = wrk_cpu[0] / duration
    machine = (m1 - m0) / elapsed
    return {"rps": result.requests / result.elapsed_s, "errors": result.non_2xx + result.socket_errors,
            "gateway": gateway, "fake": upstream, "wrk": wrk, "others": max(0.0, machine - gateway - upstream - wrk),
            "us_per_req": 1e6 * (g1.cpu_s - g0.cpu_s) / max(1, result.requests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workload", default="anthropic", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    targets = ["anyray-w1", "anyray-w2"]
    rows: dict[str, list[dict[str, float]]] = {t: [] for t in targets}
    with Stack(["direct", *targets]) as stack:
        for r in range(args.rounds):
            for target in targets if r % 2 == 0 else reversed(targets):
                c = cell(stack, target, args.workload, args.connections, args.duration)
                rows[target].append(c)
                print(f"round {r + 1} {target}: {c['rps']:8,.0f} req/s  gateway {c['gateway']:.0%} of a core, "
                      f"wrk {c['wrk']:.0%}, fake {c['fake']:.0%}, others {c['others']:.0%}; "
                      f"{c['us_per_req']:.0f} us/req  errors {c['errors']:.0f}", flush=True)
    ratios = [b["rps"] / a["rps"] for a, b in zip(rows["anyray-w1"], rows["anyray-w2"], strict=True)]
    print(f"\n{args.workload}, {args.connections} connections, {args.duration:g}s cells, {args.rounds} rounds")
    print("2 workers / 1 worker, per round: " + ", ".join(f"{x:.2f}" for x in ratios))
    print(f"median {statistics.median(ratios):.2f}x; median us/req: 1 worker "
          f"{statistics.median(c['us_per_req'] for c in rows['anyray-w1']):.0f}, 2 workers "
          f"{statistics.median(c['us_per_req'] for c in rows['anyray-w2']):.0f}")


if __name__ == "__main__":
    main()
