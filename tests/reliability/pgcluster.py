"""A throwaway PostgreSQL cluster the test can really stop and restart (initdb + pg_ctl in a tmp dir).

Run as the `postgres` user when the tests run as root (PostgreSQL refuses root), on a free loopback
port, trust auth, fsync off. No initdb on PATH (or in /usr/local/bin, /usr/lib/postgresql/*/bin) is
a skip that says so; every other failure is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in ["/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        path = Path(candidate) / name
        if path.exists():
            return str(path)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    def __init__(self) -> None:
        initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if initdb is None or self.pg_ctl is None:
            pytest.skip("initdb/pg_ctl not installed: cannot run a PostgreSQL cluster to stop and restart")
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
                self.user = "postgres"
            except KeyError:
                self.user = "nobody"
        # its own dir under /tmp: pytest's tmp_path is 0700 root, out of the postgres user's reach
        base = Path(tempfile.mkdtemp(prefix="anyray-pg-"))
        base.chmod(0o755)
        self.base = base
        self.data = base / "pgdata"
        self.data.mkdir()
        if self.user:
            shutil.chown(self.data, self.user)
        self.port = free_port()
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        cmd = ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{argv[0]} failed: {result.stdout}\n{result.stderr}"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.data / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def running(self) -> bool:
        cmd = [self.pg_ctl, "-D", str(self.data), "status"]
        cmd = ["runuser", "-u", self.user, "--", *cmd] if self.user else cmd
        return subprocess.run(cmd, capture_output=True).returncode == 0
