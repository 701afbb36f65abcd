"""Child processes for a benchmark, and their RSS and CPU as /proc reports them (Linux; no psutil needed)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(slots=True)
class Usage:
    """A process's CPU seconds (user + system) and resident memory at one instant."""

    cpu_s: float
    rss_mb: float
    at: float


def usage_of(pid: int) -> Usage | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the name may hold spaces; fields after it are fixed
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    rss = int(statm.split()[1]) * _PAGE / 1e6
    return Usage(cpu, rss, time.monotonic())


def descendants(pid: int) -> list[int]:
    """The process and every process under it (a `--workers N` gateway's supervisor and its workers)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def tree_usage(pid: int) -> Usage | None:
    """CPU and RSS summed over a process tree (RSS counts pages the workers share once per worker)."""
    parts = [u for u in map(usage_of, descendants(pid)) if u is not None]
    if not parts:
        return None
    return Usage(sum(u.cpu_s for u in parts), sum(u.rss_mb for u in parts), time.monotonic())


def cpu_percent(before: Usage | None, after: Usage | None) -> float | None:
    if before is None or after is None or after.at <= before.at:
        return None
    return 100.0 * (after.cpu_s - before.cpu_s) / (after.at - before.at)


class Child:
    """One server subprocess: output to a log file, stopped with SIGTERM (then SIGKILL) by pid."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._log = self.log.open("w")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def usage(self) -> Usage | None:
        return tree_usage(self.proc.pid)

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): {self.tail()}")
            if probe():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not come up within {timeout:.0f}s: {self.tail()}")

    def tail(self, chars: int = 2000) -> str:
        self._log.flush()
        try:
            return self.log.read_text()[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
