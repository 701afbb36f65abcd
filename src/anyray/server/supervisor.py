"""N worker processes serving one port: bound once here, forked, watched, replaced, stopped together.

Why processes: one Python process serves on one core (the interpreter's lock), and a gateway is CPU-bound
long before the network is. Why not uvicorn's or gunicorn's workers: the gateway serves with its own
HTTP/1.1 server (server/http11/), and what a supervisor must do for it is small and is here.

The sockets. On Linux, one socket per worker, all bound to the port with SO_REUSEPORT: the kernel spreads
new connections over them by a hash of the addresses, so no worker takes them all in one accept burst (a
single shared socket lets the first worker awake accept a whole burst, e.g. a client pool's 8 connections
made at once). The supervisor binds them and keeps them open: when a worker dies, the connections the
kernel queued on its socket wait for its replacement instead of being reset. Before binding, a plain bind
without SO_REUSEPORT checks the port, so a second gateway on a port another one serves fails with
"cannot listen", instead of silently sharing its traffic. Elsewhere: one socket, inherited by all.

Workers are forked after the imports (the replacement for a dead worker too), before anything starts a
thread or opens a connection: each worker builds its own app, store connections and threads.

Signals. SIGTERM or SIGINT to the supervisor: SIGTERM to every worker, each finishes the answers in
progress and stops (server/runner.py); a second signal is passed on too, and cuts them short. Workers
ignore SIGINT (a terminal's Ctrl-C reaches the whole process group: it must count once, through here), and
get SIGTERM if the supervisor dies (PR_SET_PDEATHSIG), so none is left orphaned serving the port.

A worker that dies. Before it was ready (a bad config, a store it cannot open): every worker would fail
alike, so the supervisor stops the others and exits 1. After: it is replaced, with the same socket, and
the others serve meanwhile; more than `MAX_RESTARTS` within `RESTART_WINDOW_S` is a crash loop: stop, exit 1
(an orchestrator then sees a failed container, not a gateway that silently serves at a fraction).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from anyray.server.runner import PortInUse, bind

MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
POLL_S = 0.05
PR_SET_PDEATHSIG = 1

# what a worker runs: (its index, its socket, the descriptor to write one byte to when it serves) -> exit status
WorkerMain = Callable[[int, socket.socket, int], int]


def listen_sockets(host: str, port: int, n: int) -> list[socket.socket]:
    """One bound socket per worker (the same object n times where SO_REUSEPORT does not balance)."""
    probe = bind(host, port)  # a plain bind: refuses a port anyone serves, another --workers gateway included
    port = probe.getsockname()[1]
    if n == 1 or not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
        return [probe] * n
    probe.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(n):
            sockets.append(bind(host, port, reuse_port=True))
    except PortInUse:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@dataclass(slots=True)
class _Worker:
    index: int
    pid: int
    ready_fd: int
    ready: bool = False


class Supervisor:
    """Runs `main` in one forked process per socket until told to stop; `run()` returns the exit status."""

    def __init__(self, sockets: list[socket.socket], main: WorkerMain,
                 on_ready: Callable[[list[int]], None] | None = None,
                 on_exit: Callable[[int], None] | None = None) -> None:
        self.sockets = sockets
        self.main = main
        self.on_ready = on_ready  # once every worker serves: their pids
        self.on_exit = on_exit  # each worker reaped: its pid (the metrics keep a gone worker's counters)
        self.workers: dict[int, _Worker] = {}  # by pid
        self.stopping = False
        self.status = 0
        self.restarts: deque[float] = deque()
        self._pid = os.getpid()

    # ------------------------------------------------------------------ the supervisor's side
    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for index in range(len(self.sockets)):
                self._spawn(index)
            announced = False
            while self.workers or not self.stopping:
                self._read_ready()
                if not announced and self.workers and all(w.ready for w in self.workers.values()):
                    announced = True
                    if self.on_ready is not None:
                        self.on_ready(sorted(self.workers))
                self._reap()
                time.sleep(POLL_S)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in {id(s): s for s in self.sockets}.values():
                sock.close()
        return self.status

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True
        self._signal_all()

    def _signal_all(self) -> None:
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _stop(self, reason: str) -> None:
        print(f"anyray: {reason}; stopping every worker", file=sys.stderr, flush=True)
        self.status = 1
        self.stopping = True
        self._signal_all()

    def _read_ready(self) -> None:
        for worker in self.workers.values():
            self._read_ready_of(worker)

    def _reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            self._read_ready_of(worker)
            os.close(worker.ready_fd)
            if self.on_exit is not None:
                self.on_exit(pid)
            code = os.waitstatus_to_exitcode(wait_status)
            if self.stopping:
                if code not in (0, -signal.SIGTERM):
                    self.status = 1
            elif not worker.ready:
                self._stop(f"worker {pid} failed to start (exit status {code})")
            else:
                self._replace(worker, code)

    def _read_ready_of(self, worker: _Worker) -> None:
        if not worker.ready:
            with contextlib.suppress(BlockingIOError, OSError):
                worker.ready = os.read(worker.ready_fd, 1) == b"1"

    def _replace(self, worker: _Worker, code: int) -> None:
        now = time.monotonic()
        self.restarts.append(now)
        while self.restarts and now - self.restarts[0] > RESTART_WINDOW_S:
            self.restarts.popleft()
        if len(self.restarts) > MAX_RESTARTS:
            self._stop(f"workers died {len(self.restarts)} times within {RESTART_WINDOW_S:g}s (the last, "
                       f"{worker.pid}, with exit status {code})")
            return
        print(f"anyray: worker {worker.pid} exited (status {code}); starting another", file=sys.stderr, flush=True)
        self._spawn(worker.index)

    def _spawn(self, index: int) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's side is measured by the tests, in the worker processes
            os.close(read_fd)
            os._exit(self._child(index, write_fd))
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self.workers[pid] = _Worker(index, pid, read_fd)

    # ------------------------------------------------------------------ the worker's side (after fork)
    def _child(self, index: int, ready_fd: int) -> int:  # pragma: no cover - runs in the worker
        code = 1
        try:
            for worker in self.workers.values():
                os.close(worker.ready_fd)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _die_with(self._pid)
            code = self.main(index, self.sockets[index], ready_fd)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
        return code


def _die_with(parent: int) -> None:  # pragma: no cover - runs in the worker
    """SIGTERM to this worker when its supervisor dies, however it dies (Linux); gone already: exit."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
