"""The processes under soak: fake upstream, optimizer, gateway, each its own subprocess; the spend store
on the machine's PostgreSQL in a schema made for this run (dropped after it), stopped and started by
`pg_ctlcluster` to make an outage.

Everything goes through the public surface: `anyray serve gateway|optimizer` with a config file,
`anyray keys create` for the gateway keys, HTTP for the rest. Credentials are made up per run and live
only in memory and in the children's environment (fake upstream keys, the optimizer's service token,
the gateway keys); none is written to a file or printed.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return orjson.loads(resp.read())


def proc_sample(pid: int) -> dict[str, float]:
    """RSS (MB), open descriptors and CPU seconds so far of a live process, from /proc."""
    rss = float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return {"rss_mb": round(rss, 1), "fds": len(os.listdir(f"/proc/{pid}/fd")), "cpu_s": cpu}


class CpuMeter:
    """Share of the machine's CPUs used since the last reading (100: every core busy): by everything, and
    by the soak's processes, driver included (the machine is shared: what others use explains latency
    the stack did not cause)."""

    def __init__(self) -> None:
        self.last: tuple[float, float] | None = None
        self.procs: dict[int, float] = {}

    def __call__(self, pids: list[int]) -> dict[str, float]:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        total, busy = sum(fields), sum(fields) - fields[3] - fields[4]
        tick = os.sysconf("SC_CLK_TCK")
        procs = {0: time.process_time() * tick}
        for pid in pids:
            try:
                procs[pid] = proc_sample(pid)["cpu_s"] * tick
            except OSError:
                continue
        ours = sum(cpu - self.procs.get(pid, 0.0) for pid, cpu in procs.items())
        out: dict[str, float] = {}
        if self.last is not None:
            d_total = max(1.0, total - self.last[1])
            out = {"machine_busy_pct": round(100 * (busy - self.last[0]) / d_total),
                   "soak_procs_pct": round(100 * ours / d_total)}
        self.last, self.procs = (busy, total), procs
        return out


class Postgres:
    """The spend store: a schema of its own in an existing database, and the cluster's stop/start."""

    def __init__(self, base_url: str, cluster: str | None) -> None:
        import psycopg

        self.psycopg = psycopg
        self.base_url = base_url
        self.schema = f"anyray_soak_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        sep = "&" if "?" in base_url else "?"
        self.url = f"{base_url}{sep}application_name=anyray-soak&options=-csearch_path%3D{self.schema}"
        if cluster is None:
            versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
            cluster = f"{versions[-1]} main" if versions else None
        self.cluster = cluster

    def _ctl(self, action: str) -> float:
        if self.cluster is None:
            raise RuntimeError("no PostgreSQL cluster to stop: pass --pg-cluster '<version> <name>'")
        started = time.monotonic()
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *self.cluster.split(), action],
                       check=True, capture_output=True, timeout=120)
        return time.monotonic() - started

    def stop(self) -> float:
        return self._ctl("stop")

    def start(self) -> float:
        return self._ctl("start")

    def sessions(self) -> dict[str, int]:
        """Client sessions on the cluster by database and application (ours included): stopping it cuts
        every one of them off, so the report says who else was connected."""
        with self.psycopg.connect(self.base_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT coalesce(datname, '') || '/' || coalesce(nullif(application_name, ''), '-'), count(*) "
                "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "GROUP BY 1 ORDER BY 1"
            ).fetchall()
        return {str(name): int(count) for name, count in rows}

    def records(self) -> list[tuple[Any, ...]]:
        """(request_id, app, tags, status, fail_open, partial, ts_ms, latency_ms) of every record."""
        with self.psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(
                "SELECT request_id, app, tags, status, fail_open, partial, ts_ms, latency_ms FROM spend_records"
            ).fetchall()

    def drop(self) -> None:
        with self.psycopg.connect(self.base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


class Stack:
    """Fake upstream, optimizer and gateway, one subprocess each, logs in `work`."""

    def __init__(self, work: Path, store_url: str) -> None:
        self.work = work
        self.up_port, self.gw_port, self.opt_port = free_port(), free_port(), free_port()
        self.gw_url = f"http://127.0.0.1:{self.gw_port}"
        upstream = f"http://127.0.0.1:{self.up_port}"
        self.config = work / "anyray.yaml"
        self.config.write_text(
            f"providers:\n  anthropic:\n    base_url: {upstream}\n  openai:\n    base_url: {upstream}/v1\n"
            "  vertex:\n    enabled: false\n"
            "models:\n  'claude-*':\n    provider: anthropic\n  'gpt-*':\n    provider: openai\n"
            f"optimizer:\n  url: http://127.0.0.1:{self.opt_port}\n"
            f"store:\n  url: '{store_url}'\n  spill_dir: {work / 'spill'}\n"
        )
        anthropic_key, openai_key = f"sk-ant-soak-{secrets.token_hex(16)}", f"sk-soak-{secrets.token_hex(16)}"
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "ANYRAY_HOME": str(work),
            "ANYRAY_OPTIMIZER_TOKEN": secrets.token_urlsafe(24),
            "ANTHROPIC_API_KEY": anthropic_key,
            "OPENAI_API_KEY": openai_key,
            "SOAK_ANTHROPIC_KEY": anthropic_key,
            "SOAK_OPENAI_KEY": openai_key,
        }
        self.upstream = self._spawn([sys.executable, "-m", "benchmarks.soak.upstream", "--port", str(self.up_port)],
                                    "upstream.log")
        wait_up(f"{upstream}/_soak/faults")
        self.keys = {team: self._create_key(team) for team in ("soak", "soak-adversary")}
        self.optimizer = self._serve("optimizer", self.opt_port, "optimizer-0.log")
        wait_up(f"http://127.0.0.1:{self.opt_port}/healthz")
        self.gateway = self._serve("gateway", self.gw_port, "gateway.log")
        wait_up(f"{self.gw_url}/healthz")
        self.optimizer_restarts = 0

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        out = open(self.work / log, "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT)

    def _serve(self, role: str, port: int, log: str) -> subprocess.Popen[bytes]:
        return self._spawn([sys.executable, "-m", "anyray", "serve", role, "--config", str(self.config),
                            "--port", str(port)], log)

    def _create_key(self, team: str) -> str:
        """A gateway key through the CLI; its secret is read from stdout into memory, never stored."""
        out = subprocess.run([sys.executable, "-m", "anyray", "keys", "create", "--team", team, "--json",
                              "--config", str(self.config)], env=self.env, capture_output=True, check=True)
        return str(orjson.loads(out.stdout)["secret"])

    def restart_optimizer(self) -> dict[str, float]:
        """SIGTERM (graceful), then start it again: seconds until it was gone, and until it answered."""
        started = time.monotonic()
        self.optimizer.send_signal(signal.SIGTERM)
        self.optimizer.wait(60)
        gone = time.monotonic() - started
        self.optimizer_restarts += 1
        self.optimizer = self._serve("optimizer", self.opt_port, f"optimizer-{self.optimizer_restarts}.log")
        wait_up(f"http://127.0.0.1:{self.opt_port}/healthz")
        return {"stopped_s": round(gone, 2), "away_s": round(time.monotonic() - started, 2)}

    def metrics(self) -> dict[str, float]:
        """The gateway's Prometheus text, summed per metric name (labels dropped)."""
        with urllib.request.urlopen(f"{self.gw_url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        sums: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                base = name.split("{", 1)[0]
                try:
                    sums[base] = sums.get(base, 0.0) + float(value)
                except ValueError:
                    continue
        return sums

    def stop_gateway(self, timeout: float = 120.0) -> int | None:
        """Graceful: in-flight requests finish, the spend writer flushes (or spills). Its exit code."""
        self.gateway.send_signal(signal.SIGTERM)
        try:
            return self.gateway.wait(timeout)
        except subprocess.TimeoutExpired:
            self.gateway.kill()
            return None

    def stop(self) -> None:
        for proc in (self.gateway, self.optimizer, self.upstream):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.gateway, self.optimizer, self.upstream):
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
