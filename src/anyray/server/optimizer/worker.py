"""Off the event loop: strategy work on long texts runs in the optimizer's decider process (`ProcessWorker`,
the default) or in its own thread (`Worker`, `optimizer.worker: thread`), never on the loop that serves calls.

A Claude Code turn costs the strategies one to a few milliseconds and an agent turn of 300 KB of tool
output ten or more; on the event loop, that is time every other call in the process waits (the gateway
under `anyray up`, the optimizer service's health checks). Off it, the loop goes on serving while the
work runs and a caller's time budget can end the wait (the gateway then forwards the request untouched;
the work finishes and is dropped). One job at a time, so the renderings and first-seen memos are only
ever touched by one piece of strategy work. The queue is bounded: with `max_queued` jobs already waiting,
a request is not optimized at all (answered as it came) rather than waiting behind them past any budget.

The thread: Python runs one thread at a time, so while the strategies compute, the loop gets the
interpreter back at the next switch interval. The default 5 ms would add up to that to a small call's
every wake-up, so the interval is set to 1 ms once the thread exists (process-wide; it costs nothing
while only one thread has work; ANYRAY_SWITCH_INTERVAL_MS sets another).

The process (decider.py) does the same work with an interpreter of its own: beside paced 284 KB agent turns, a
small call's added p99 was +6.3..7.1 ms with the thread and +2.4..3.2 ms with the process, in the same runs,
and at 8 connections Claude Code turns went through at twice the rate (docs/performance.md). A job costs the
loop its request written as JSON and the answer read back: 0.6 ms of the loop's CPU for a Claude Code turn and
1.7 ms for an agent turn, against 1.7 and 10 ms of strategy work holding the interpreter in the thread. When
the decider dies its jobs are forwarded untouched and the next job starts another; one that dies five times in
a minute is given up for the thread, and the log says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from anyray.server.optimizer.decider import frame, rebuilt, wire_steps
from anyray.server.optimizer.steps import Outcome, Step, apply_steps

if TYPE_CHECKING:
    from anyray.server.optimizer.strategies.base import Context

log = logging.getLogger("anyray.optimizer")

T = TypeVar("T")

SWITCH_INTERVAL_S = float(os.environ.get("ANYRAY_SWITCH_INTERVAL_MS", "1")) / 1000


class Busy(Exception):
    """`max_queued` jobs are already waiting."""

    def __init__(self) -> None:
        super().__init__("busy")


class WorkerFailed(Exception):
    """The decider process died, or failed, with this job."""

    def __init__(self) -> None:
        super().__init__("optimizer worker failed")


class Worker:
    def __init__(self, max_queued: int = 16) -> None:
        self._slots = threading.BoundedSemaphore(max_queued)
        self._pool: ThreadPoolExecutor | None = None
        self.busy_refused = 0

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in the optimizer's thread; raises Busy when the queue is full."""
        if not self._slots.acquire(blocking=False):
            self.busy_refused += 1
            raise Busy()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anyray-optimizer")
            if sys.getswitchinterval() > SWITCH_INTERVAL_S:
                sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            future = self._pool.submit(work)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())  # when the work ends, waited for or not
        return await asyncio.wrap_future(future)

    async def apply(self, steps: list[Step], request: dict[str, Any], ctx: Context) -> Outcome:
        return await self.run(lambda: apply_steps(steps, request, ctx))

    def status(self) -> dict[str, Any]:
        return {"mode": "thread", "busyRefused": self.busy_refused}

    def warm(self) -> None:
        """Nothing to start ahead: the thread starts with its first piece of work, in microseconds."""

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _retrieved(done: asyncio.Future[Any]) -> None:
    """A start nobody awaits: its failure was logged where it happened, and is not reported again."""
    if not done.cancelled():
        done.exception()


# what the decider may see of the environment: enough to run Python, never a credential of the gateway's
_ENVIRONMENT = ("PATH", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "LANG", "LC_ALL", "TZ", "TMPDIR")
DEATHS_TO_GIVE_UP = 5  # within DEATH_WINDOW_S: a crash loop, not a one-off
DEATH_WINDOW_S = 60.0
# a decision still running after this long is stuck (a strategy's bug on some input: decisions take
# milliseconds, and every caller stopped waiting after its budget, 800 ms by default): the decider is
# killed and another started, which a thread never could be
STUCK_AFTER_S = 10.0


class ProcessWorker:
    """Jobs for the decider process, answered in order; a job whose caller stopped waiting is still
    answered by the decider and its answer dropped."""

    def __init__(self, max_queued: int = 16) -> None:
        self.id_key: bytes | None = None  # the stash's handle key, given once the optimizer has its sealer
        self.max_queued = max_queued
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: deque[asyncio.Future[bytes]] = deque()
        self._busy_since: float | None = None  # when the decider began the job at the head of the queue
        self._reader: asyncio.Task[None] | None = None
        self._deaths: deque[float] = deque()
        self._wired: tuple[list[Step], bytes] | None = None
        self._ended: set[asyncio.subprocess.Process] = set()  # stopped, not yet reaped
        self._loop: asyncio.AbstractEventLoop | None = None  # the decider's pipes belong to this loop
        self._starting: asyncio.Future[asyncio.subprocess.Process] | None = None
        self.fallback: Worker | None = None  # the thread, once the decider kept dying
        self.busy_refused = 0
        self.deaths = 0
        self.stuck_killed = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def status(self) -> dict[str, Any]:
        """For /healthz: where decisions run now, and how often the decider died or was too busy."""
        busy = self.busy_refused + (self.fallback.busy_refused if self.fallback is not None else 0)
        return {"mode": "process" if self.fallback is None else "thread", "pid": self.pid, "deaths": self.deaths,
                "stuckKilled": self.stuck_killed, "busyRefused": busy}

    def warm(self) -> None:
        """Start the decider now, in the background, rather than at the first long request: a server's first
        requests after a start (a deploy, a new replica) then find it running instead of waiting for its
        imports (~0.5 s here, more on a cold disk, and inside their budget). A start that fails is logged and
        counted as at a request; the next long request tries again."""
        if self._proc is None and self._starting is None and self.fallback is None and self.id_key is not None:
            self._started().add_done_callback(_retrieved)

    async def apply(self, steps: list[Step], request: dict[str, Any], ctx: Context) -> Outcome:
        if self._proc is not None and self._loop is not asyncio.get_running_loop():
            self._retire(self._proc)
        if self.fallback is not None:
            return await self.fallback.apply(steps, request, ctx)
        if self._proc is not None and self._busy_since is not None and (
                time.monotonic() - self._busy_since > STUCK_AFTER_S):
            self._unstick(self._proc)
        if len(self._pending) >= self.max_queued:
            self.busy_refused += 1
            raise Busy()
        proc = self._proc or await self._started()
        job = orjson.dumps({"endpoint": ctx.endpoint, "route": ctx.route, "metadata": ctx.metadata,
                            "headers": ctx.headers, "request": request, "steps": orjson.Fragment(self._wire(steps))})
        answer = asyncio.get_running_loop().create_future()
        if not self._pending:
            self._busy_since = time.monotonic()
        self._pending.append(answer)
        assert proc.stdin is not None
        proc.stdin.write(frame(job))
        data = orjson.loads(await answer)
        if "error" in data:
            raise WorkerFailed()
        ctx.stashed.update(data["stashed"])
        current = rebuilt(request, data["changed"]) if data["changed"] else request
        caching = steps[data["caching"]][0] if data["caching"] is not None else None
        return current, data["decisions"], data["applied"], data["skipped"], data["preserved"], caching

    def _wire(self, steps: list[Step]) -> bytes:
        """The steps as JSON, kept while the plan is the same list (the engine keeps one per plan)."""
        if self._wired is None or self._wired[0] is not steps:
            self._wired = (steps, orjson.dumps(wire_steps(steps)))
        return self._wired[1]

    def _started(self) -> asyncio.Future[asyncio.subprocess.Process]:
        """The decider, started once however many requests arrive while it starts; a caller whose budget
        ends meanwhile does not stop the start (shielded) for the others."""
        starting = self._starting
        if starting is None or starting.get_loop() is not asyncio.get_running_loop():
            starting = self._starting = asyncio.ensure_future(self._start())
            starting.add_done_callback(self._start_ended)
        return asyncio.shield(starting)

    def _start_ended(self, done: asyncio.Future[asyncio.subprocess.Process]) -> None:
        if self._starting is done:
            self._starting = None

    async def _start(self) -> asyncio.subprocess.Process:
        env = {k: v for k in _ENVIRONMENT if (v := os.environ.get(k)) is not None}
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "anyray.server.optimizer.decider", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, env=env)
        except OSError as exc:  # no process to be had (descriptors, memory): this request goes out as it came
            log.error("the optimizer's decider process could not start: %s", exc)
            self._died()
            raise WorkerFailed() from None
        assert proc.stdin is not None and self.id_key is not None
        proc.stdin.write(frame(orjson.dumps({"idKey": self.id_key.hex()})))
        self._proc, self._loop = proc, asyncio.get_running_loop()
        self._pending = deque()  # this decider's own: a stopped one's late answers never meet a new one's jobs
        self._reader = asyncio.ensure_future(self._read(proc, self._pending))
        return proc

    def _retire(self, proc: asyncio.subprocess.Process) -> None:
        """The decider's event loop is ending (asyncio.run's clean-up cancels the reader) or has ended (the
        optimizer is called from a new loop, as a script running `asyncio.run` per call does): its pipes
        cannot serve another loop. It is stopped, and the thread decides from then on."""
        self._proc = None
        self._fail_pending()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        transport = getattr(proc, "_transport", None)
        with contextlib.suppress(RuntimeError):  # an ended loop: marked closed all the same, never closed again
            if transport is not None:
                transport.close()
        self.fallback = self.fallback or Worker(self.max_queued)

    async def _read(self, proc: asyncio.subprocess.Process, pending: deque[asyncio.Future[bytes]]) -> None:
        assert proc.stdout is not None
        try:
            while True:
                head = await proc.stdout.readexactly(4)
                body = await proc.stdout.readexactly(int.from_bytes(head, "big"))
                if not pending:  # its jobs were failed already (the decider was stopped): dropped
                    continue
                answer = pending.popleft()
                if pending is self._pending:
                    self._busy_since = time.monotonic() if pending else None
                if not answer.done():  # else its caller's budget ran out: the answer is dropped
                    answer.set_result(body)
        except (asyncio.IncompleteReadError, ConnectionError):
            self._gone(proc)
        except asyncio.CancelledError:
            if self._proc is proc:  # not by close(): the event loop is ending
                self._retire(proc)
            raise

    def _unstick(self, proc: asyncio.subprocess.Process) -> None:
        """Kill a decider stuck on one job; the job at hand starts another. Not a death toward giving up for
        the thread: a thread stuck the same way could never be stopped."""
        log.warning("a decision has run for over %.0f s; the optimizer's decider process is killed and replaced "
                    "(the requests waiting on it went out unoptimized)", STUCK_AFTER_S)
        self.stuck_killed += 1
        self._drop(proc)

    def _gone(self, proc: asyncio.subprocess.Process) -> None:
        """The decider ended (or is being stopped): its jobs are forwarded untouched; the next starts another."""
        if self._proc is not proc:
            return
        self._drop(proc)
        self._died()

    def _died(self) -> None:
        """One more death; five within a minute is a crash loop: the thread decides from then on."""
        now = time.monotonic()
        self.deaths += 1
        self._deaths.append(now)
        while self._deaths and self._deaths[0] < now - DEATH_WINDOW_S:
            self._deaths.popleft()
        if len(self._deaths) >= DEATHS_TO_GIVE_UP and self.fallback is None:
            log.error("the optimizer's decider process died %d times in %.0f s; deciding in a thread from now on",
                      len(self._deaths), DEATH_WINDOW_S)
            self.fallback = Worker(self.max_queued)

    def close(self) -> None:
        proc = self._proc
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        self._drop(proc)
        if self.fallback is not None:
            self.fallback.close()

    def _drop(self, proc: asyncio.subprocess.Process | None) -> None:
        """Stop this decider and fail the jobs it holds (their requests go out untouched)."""
        self._proc = None
        if proc is not None:
            self._stop(proc)
        self._fail_pending()

    def _fail_pending(self) -> None:
        self._busy_since = None
        while self._pending:
            answer = self._pending.popleft()
            if not answer.done():
                answer.set_exception(WorkerFailed())

    async def wait_closed(self) -> None:
        """Every decider stopped has exited and its pipes are closed (before the event loop ends)."""
        for proc in list(self._ended):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)

    def _stop(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        self._ended.add(proc)
        asyncio.ensure_future(proc.wait()).add_done_callback(lambda _: self._ended.discard(proc))
