"""Start-up cost of anyray's entry points: modules imported and wall time, median of N runs.

    .venv/bin/python benchmarks/startup.py [--runs 7]      (the `anyray` beside this python is measured)

`anyray --version` and importing the gateway app are timed to exit; `anyray serve gateway|optimizer` and
`anyray up` are timed from exec to the first 200 from /healthz, and count the modules they held when they
stop (a sitecustomize on PYTHONPATH writes len(sys.modules) at exit; the servers stop on SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SITE = ("import atexit, os, sys\n"
        "atexit.register(lambda: open(os.environ['MODCOUNT_OUT'], 'w').write(str(len(sys.modules))))\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def once(argv: list[str], env: dict[str, str], port: int | None) -> tuple[float, int]:
    out = Path(env["MODCOUNT_OUT"])
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if port is None:
        proc.wait(60)
        elapsed = time.perf_counter() - started
    else:
        deadline = started + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"{argv} did not start") from None
                time.sleep(0.005)
        elapsed = time.perf_counter() - started
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return elapsed, int(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    anyray = str(bindir / "anyray")
    work = Path(tempfile.mkdtemp(prefix="anyray-startup-"))
    (work / "site").mkdir()
    (work / "site" / "sitecustomize.py").write_text(SITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANYRAY_", "ANTHROPIC_", "OPENAI_", "GOOGLE_"))}
    env.update(PYTHONPATH=str(work / "site"), MODCOUNT_OUT=str(work / "count"), HOME=str(work),
               ANYRAY_GC_FREEZE="1")
    cases = []
    cases.append(("anyray --version", [anyray, "--version"], None))
    cases.append(("import the gateway app", [sys.executable, "-c", "import anyray.server.gateway.app"], None))
    cases.append(("import the CLI", [sys.executable, "-c", "import anyray.cli"], None))
    for role in ("gateway", "optimizer"):
        port = free_port()
        cases.append((f"anyray serve {role} (to first /healthz)", [anyray, "serve", role, "--port", str(port)], port))
    gw, opt = free_port(), free_port()
    cases.append(("anyray up (to first /healthz)", [anyray, "up", "--port", str(gw), "--optimizer-port", str(opt)], gw))
    print(f"{'entry point':<40}{'modules':>9}{'median s':>10}{'min s':>8}")
    for name, argv, port in cases:
        runs = [once(argv, env, port) for _ in range(args.runs)]
        times = [t for t, _ in runs]
        print(f"{name:<40}{runs[-1][1]:>9}{statistics.median(times):>10.3f}{min(times):>8.3f}", flush=True)


if __name__ == "__main__":
    main()
