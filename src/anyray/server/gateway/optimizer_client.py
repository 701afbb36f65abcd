"""The gateway's hooks into the optimizer, and the promise that they can never hurt a request.

Pre-call (`optimize`): whatever happens on the other side (slow, down, 500, garbage), it returns None
within the budget and the gateway forwards the client's request untouched; every such case is counted,
and a circuit breaker stops paying the budget to an optimizer that keeps failing. Post-call (`report`,
`write_back`): fire and forget, bounded in flight, never awaited by a client. The optimizer only ever
sees the request body, the route, content-free metadata and an allow-list of headers: never a credential.
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
from collections import Counter
from collections.abc import Coroutine, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from anyray.server.gateway.breaker import CircuitBreaker
from anyray.server.gateway.h1 import ConnectionPool
from anyray.server.optimizer.engine import Optimizer, ProtocolError

log = logging.getLogger("anyray.gateway.optimizer")

# The only request headers the optimizer may see: they change what a request means, never who sent it.
OPTIMIZER_HEADER_ALLOWLIST = ("anthropic-beta", "anthropic-version", "x-anyray-cache")
MAX_BACKGROUND = 256
# One fail-open line per reason at most this often, with how many it stands for: while the breaker is
# open every request fails open, and at 500 requests/s one optimizer restart wrote 5,000 WARNING lines
# (benchmarks/soak). The counts stay exact in `fail_open` and anyray_optimizer_fail_open_total.
FAIL_OPEN_LOG_EVERY_S = 10.0


class OptimizerRefused(Exception):
    """The optimizer refused the message for what it carries (a 400 naming a field): the caller's input, not
    the optimizer's fault. Never counted by the circuit breaker."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"optimizer refused {field}")


@dataclass(slots=True)
class OptimizeOutcome:
    """What the optimizer decided for one call. Its sequences are shared empty tuples when empty (most are,
    on most calls): a list is an object the garbage collector tracks for as long as the call lives, and a
    stream's call lives as long as the stream."""

    request: dict[str, Any] | None  # None once the gateway took it (model_call.serve)
    changed: bool
    decisions: Sequence[dict[str, Any]] = ()
    cached_response: Any = None
    cache_key: str | None = None
    cache_ttl_s: int | None = None
    applied: Sequence[str] = ()
    skipped: Sequence[dict[str, str]] = ()
    preserved: Sequence[str] = ()
    # handles of what the optimizer elided and stashed, as the request's markers name them
    retrievable: frozenset[str] = frozenset()
    # the team the gateway authenticated (its gateway key's): what a cache write-back is bound to
    authenticated_team: str | None = None


def build_message(
    endpoint: str,
    request: dict[str, Any],
    route: Mapping[str, str],
    metadata: Mapping[str, Any],
    headers: Mapping[str, str],
    can_short_circuit: bool,
    enabled_kinds: list[str] | None = None,
    authenticated_team: str | None = None,
) -> dict[str, Any]:
    """An OptimizeRequest. `authenticated_team` is the team of the gateway key the caller presented, verified
    by the gateway; the optimizer binds cache entries to it (never to `metadata.team`, which the caller wrote)."""
    message = {
        "endpoint": endpoint,
        "request": request,
        "route": dict(route),
        "metadata": dict(metadata),
        "headers": {k: headers[k] for k in OPTIMIZER_HEADER_ALLOWLIST if k in headers},
        "canShortCircuit": can_short_circuit,
    }
    if enabled_kinds is not None:
        message["enabledKinds"] = enabled_kinds
    if authenticated_team:
        message["authenticatedTeam"] = authenticated_team
    return message


async def within(budget_s: float, call: Coroutine[Any, Any, Any]) -> Any:
    """Run `call` on this task within `budget_s`, arming a timer only if it has to wait.

    The in-process optimizer usually answers without awaiting anything; a timer armed and cancelled
    around it (asyncio.timeout) cost ~6 us a request under uvloop, a third of the decision itself. So
    the call's first step runs now: if it finishes, no timer was needed (a timer could not have cut a
    synchronous step anyway); if it waits, the rest runs under a deadline counted from the start.
    """
    deadline = asyncio.get_running_loop().time() + budget_s
    try:
        waiting_on = call.send(None)
    except StopIteration as done:
        return done.value
    async with asyncio.timeout_at(deadline):
        return await _carry_on(call, waiting_on)


@types.coroutine
def _carry_on(call: Coroutine[Any, Any, Any], waiting_on: Any) -> Generator[Any, Any, Any]:
    """The rest of a coroutine already started by hand: hand its awaitable to the task, pass back what
    the task sends or throws (a cancellation included) until it returns."""
    while True:
        try:
            sent = yield waiting_on
        except GeneratorExit:
            call.close()
            raise
        except BaseException as exc:
            try:
                waiting_on = call.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            try:
                waiting_on = call.send(sent)
            except StopIteration as done:
                return done.value


def _strings(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, str | dict)] if isinstance(value, list) else []


class OptimizerClient:
    """Base: budget, breaker, validation of the answer, fail-open accounting. Subclasses only transport."""

    def __init__(self, budget_ms: int, breaker: CircuitBreaker | None = None) -> None:
        self.budget_s = budget_ms / 1000
        self.breaker = breaker or CircuitBreaker()
        self.fail_open: Counter[str] = Counter()
        self.background_dropped = 0
        self._background: set[asyncio.Task[Any]] = set()
        self._log_clock = time.monotonic
        self._unlogged: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}

    async def start(self) -> None:
        pass

    async def warm(self) -> None:
        """Once the server listens: what would otherwise start at the first request (see the in-process one)."""

    async def close(self) -> None:
        if self._background:
            await asyncio.wait(self._background, timeout=self.budget_s)

    async def _call(self, path: str, message: dict[str, Any]) -> Any:
        raise NotImplementedError

    async def optimize(self, message: dict[str, Any]) -> OptimizeOutcome | None:
        if not self.breaker.allow():
            return self._failed("circuit_open", trip=False)
        original = message["request"]
        try:
            # not wait_for: on 3.11 it wraps the call in a task of its own, which for the in-process
            # optimizer cost more than the optimizer's work on a small request
            answer = await within(self.budget_s, self._call("/v1/optimize", message))
        except TimeoutError:
            return self._failed("timeout")
        except (ProtocolError, OptimizerRefused) as exc:  # in-process / over HTTP: the message was refused
            return self._refused(exc.field)
        except Exception as exc:
            return self._failed(type(exc).__name__)
        if not isinstance(answer, dict) or not isinstance(answer.get("request"), dict):
            return self._failed("invalid_answer")
        self.breaker.success()
        decisions = [d for d in answer.get("decisions") or () if isinstance(d, dict)] or ()
        request = answer["request"]
        changed = request is not original and request != original
        cached = answer.get("cachedResponse") if answer.get("cacheHit") and message.get("canShortCircuit") else None
        key = answer.get("cacheKey") if isinstance(answer.get("cacheKey"), str) else None
        ttl = answer.get("cacheTtlSeconds") if isinstance(answer.get("cacheTtlSeconds"), int) else None
        return OptimizeOutcome(
            request if changed else original, changed, decisions, cached, key, ttl,
            [a for a in _strings(answer.get("applied")) if isinstance(a, str)] or (),
            [s for s in _strings(answer.get("skipped")) if isinstance(s, dict)] or (),
            [p for p in _strings(answer.get("preserved")) if isinstance(p, str)] or (),
            frozenset(h for h in _strings(answer.get("retrievable")) if isinstance(h, str)) if changed else frozenset(),
        )

    def _refused(self, field: str) -> None:
        """The request goes on unoptimized, as on any fail-open, but the breaker does not count it."""
        self.fail_open["refused"] += 1
        self.breaker.neutral()
        log.info("optimizer refused the request's %s: forwarded unoptimized (the caller's input, not an "
                 "optimizer failure)", field.split(".", 1)[0][:32])
        return None

    def _failed(self, reason: str, trip: bool = True) -> None:
        self.fail_open[reason] += 1
        if trip:
            self.breaker.failure()
        self._unlogged[reason] += 1
        now = self._log_clock()
        last = self._logged_at.get(reason)
        if last is None or now - last >= FAIL_OPEN_LOG_EVERY_S:
            count = self._unlogged.pop(reason)
            self._logged_at[reason] = now
            if count == 1:
                log.warning("optimizer fail-open: %s", reason)
            else:
                log.warning("optimizer fail-open: %s (%d times since the last line about it)", reason, count)
        return None

    # ------------------------------------------------------------------------- post-call, fire and forget

    def report(self, message: dict[str, Any]) -> None:
        """`/v1/optimize-response`: the answer already went to the client; nobody waits for this."""
        self._spawn("/v1/optimize-response", message)

    async def retrieve(self, handle: str, team: str | None) -> str | None:
        """What the optimizer stashed under `handle` for `team`, or None (unknown, expired, another team's).
        Within the budget, like every call the gateway waits on; a failure is a miss, never an error."""
        message: dict[str, Any] = {"handle": handle}
        if team:
            message["team"] = team
        try:
            answer = await within(self.budget_s, self._call("/v1/retrieve", message))
        except Exception as exc:
            log.info("optimizer /v1/retrieve failed: %s", type(exc).__name__)
            return None
        content = answer.get("content") if isinstance(answer, dict) else None
        return content if isinstance(content, str) else None

    def write_back(self, message: dict[str, Any]) -> None:
        """`/v1/cache`: store a live answer the optimizer said it would cache."""
        self._spawn("/v1/cache", message)

    def _spawn(self, path: str, message: dict[str, Any]) -> None:
        if len(self._background) >= MAX_BACKGROUND or self.breaker.state == "open":
            self.background_dropped += 1
            return
        task = asyncio.get_running_loop().create_task(self._background_call(path, message))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _background_call(self, path: str, message: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(max(self.budget_s, 5.0)):
                await self._call(path, message)
        except Exception as exc:  # post-call work is best effort; count it, never raise into the loop
            self.background_dropped += 1
            log.info("optimizer %s failed: %s", path, type(exc).__name__)

    async def drill(self) -> dict[str, Any]:
        """Prove fail-open is armed without touching the counters: send a message the optimizer must refuse
        (an unknown endpoint) through the same budgeted path, and check it comes back as "forward untouched"."""
        started = asyncio.get_running_loop().time()
        try:
            answer = await asyncio.wait_for(self._call("/v1/optimize", {"endpoint": "/_drill", "request": {}}),
                                            self.budget_s)
            refused = not (isinstance(answer, dict) and isinstance(answer.get("request"), dict))
        except Exception as exc:  # what a real request would have survived: it would be forwarded unchanged
            refused, answer = True, type(exc).__name__
        elapsed_ms = (asyncio.get_running_loop().time() - started) * 1000
        return {"armed": refused, "budgetMs": round(self.budget_s * 1000), "drillMs": round(elapsed_ms, 1),
                "outcome": "forwarded untouched" if refused else f"optimizer accepted a bad message: {answer!r}"}

    async def probe(self) -> dict[str, Any]:
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        return {
            "breaker": self.breaker.state,
            "breakerOpened": self.breaker.opened_total,
            "failOpen": dict(self.fail_open),
            "backgroundDropped": self.background_dropped,
        }


def _refused_field(body: bytes) -> str:
    try:
        error = orjson.loads(body).get("error")
        field = error.get("field") if isinstance(error, dict) else None
    except (orjson.JSONDecodeError, AttributeError):
        field = None
    return field if isinstance(field, str) and field else "<body>"


class InProcessOptimizerClient(OptimizerClient):
    """`anyray up`: the optimizer lives on the same event loop; no HTTP, same budget and fail-open."""

    def __init__(self, optimizer: Optimizer, budget_ms: int, breaker: CircuitBreaker | None = None) -> None:
        super().__init__(budget_ms, breaker)
        self.optimizer = optimizer
        self._routes = {
            "/v1/optimize": optimizer.optimize,
            "/v1/optimize-response": optimizer.optimize_response,
            "/v1/cache": optimizer.cache_write,
            "/v1/retrieve": optimizer.retrieve,
        }

    async def start(self) -> None:
        await self.optimizer.start()

    async def warm(self) -> None:
        await self.optimizer.warm()

    async def close(self) -> None:
        await super().close()
        await self.optimizer.close()

    async def _call(self, path: str, message: dict[str, Any]) -> Any:
        return await self._routes[path](message)

    def status(self) -> dict[str, Any]:
        return super().status() | {"worker": self.optimizer.worker.status()}

    def report(self, message: dict[str, Any]) -> None:
        """In-process the report is a validation and a counter: done inline, a task per request cost more."""
        try:
            self.optimizer.record_response(message)
        except Exception as exc:  # post-call work is best effort, as over HTTP
            self.background_dropped += 1
            log.info("optimizer /v1/optimize-response failed: %s", type(exc).__name__)

    async def probe(self) -> dict[str, Any]:
        from anyray.server.optimizer.protocol import PROTOCOL_VERSION

        return {"reachable": True, "mode": "in-process", "protocolVersion": PROTOCOL_VERSION}


class HttpOptimizerClient(OptimizerClient):
    """A cluster: the optimizer is a Service; keep-alive connections on the gateway's own HTTP/1.1 pool
    (h1: a sixth of aiohttp's CPU per call, and a request here makes two calls: optimize and report)."""

    def __init__(self, url: str, budget_ms: int, token: str | None = None, breaker: CircuitBreaker | None = None):
        super().__init__(budget_ms, breaker)
        self.base = url.rstrip("/")
        self.token = token
        self._pool: ConnectionPool | None = None
        self._headers = {"content-type": "application/json"}
        if token:
            self._headers["authorization"] = f"Bearer {token}"

    async def start(self) -> None:
        # an in-cluster service: never through a company proxy named in the environment
        self._pool = ConnectionPool(connect_timeout_s=max(self.budget_s, 1.0), read_timeout_s=30.0, trust_env=False)

    async def close(self) -> None:
        await super().close()
        if self._pool:
            await self._pool.close()

    async def probe(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(3):
                status, body = await self._exchange("GET", "/healthz", None)
            data = orjson.loads(body) if status == 200 else {}
            return {"reachable": status == 200, "mode": self.base, "protocolVersion": data.get("protocolVersion")}
        except Exception as exc:
            return {"reachable": False, "mode": self.base, "error": type(exc).__name__}

    async def _call(self, path: str, message: dict[str, Any]) -> Any:
        status, body = await self._exchange("POST", path, orjson.dumps(message))
        if status == 404 and path == "/v1/retrieve":
            return None  # an unknown or expired handle: a miss
        if status == 400:  # the protocol's refusal of a message, naming the field
            raise OptimizerRefused(_refused_field(body))
        if status != 200:
            raise RuntimeError(f"optimizer HTTP {status}")
        return orjson.loads(body)

    async def _exchange(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        assert self._pool is not None, "start() first"
        response = await self._pool.request(method, self.base + path, self._headers, body)
        try:
            return response.status, await response.read()
        finally:
            response.release()
