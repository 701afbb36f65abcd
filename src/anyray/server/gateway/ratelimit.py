"""Rate limits: requests and tokens (input + output) per window, per team and per gateway key.

Fixed windows of `rate_limits.window_s` (60 by default), counted in Redis when one is configured, so every
replica counts the same calls, else in this process. A call is admitted when, for its key and for its
team, the window's requests are under their allowance and its tokens have not reached theirs; admitting
counts the request (one atomic Lua script for both scopes in Redis: a call refused by its team's limit
does not use up its key's). Tokens are known only when the call ends; they are added then, so a window's
token allowance can be passed by the calls already admitted when it runs out (as the providers' own
token limits are). A fixed window lets up to twice an allowance through across a window's edge.

A refusal is a 429 in the caller's dialect with `retry-after`: the seconds until the window turns, which
both SDKs wait before their retry (they honour up to 60 s). Redis unreachable: calls are admitted (a rate
limit fails open, logged and counted), as the gateway's other shared state does.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from starlette.responses import Response

from anyray.config import Config, RateLimit, RateLimitSettings
from anyray.errors import anthropic_error
from anyray.errors_openai import openai_error
from anyray.extras import need
from anyray.server.gateway.call import Call

log = logging.getLogger("anyray.ratelimit")

# for each scope i (KEYS[2i-1] requests, KEYS[2i] tokens; ARGV[2i-1], ARGV[2i] their allowances, 0 = none):
# refuse with {i, 1} (requests) or {i, 2} (tokens) before counting anything; else count one request in each
_ADMIT = """
local n = #KEYS / 2
for i = 1, n do
  local requests = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local tokens = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local max_requests, max_tokens = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  if max_requests > 0 and requests + 1 > max_requests then return {i, 1} end
  if max_tokens > 0 and tokens >= max_tokens then return {i, 2} end
end
for i = 1, n do
  redis.call('INCR', KEYS[2 * i - 1])
  redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[#ARGV])
end
return {0, 0}
"""


@dataclass(frozen=True, slots=True)
class Limited:
    """Who was refused, on which count, and for how long."""

    scope: str  # "key" or "team"
    name: str
    kind: str  # "requests" or "tokens"
    allowance: int
    window_s: int
    retry_after_s: int

    def message(self) -> str:
        who = f"team {self.name!r}" if self.scope == "team" else f"gateway key {self.name}"
        unit = "requests" if self.kind == "requests" else "input and output tokens"
        return (f"{who} reached its rate limit of {self.allowance} {unit} per {self.window_s}s "
                f"(rate_limits.{self.scope}s in the gateway's config); retry after {self.retry_after_s}s")


def rate_limited(dialect: str, limited: Limited) -> Response:
    """A 429 the SDKs back off from: Anthropic's rate_limit_error; OpenAI's shape for a rate limit (type
    `requests` or `tokens`, code `rate_limit_exceeded`). No x-should-retry: retrying after the wait is right."""
    headers = {"retry-after": str(limited.retry_after_s)}
    if dialect == "anthropic":
        response = anthropic_error(429, limited.message(), "rate_limit_error")
        response.headers.update(headers)
        return response
    return openai_error(429, limited.message(), limited.kind, code="rate_limit_exceeded", headers=headers)


def allowance(per_minute: int | None, window_s: int) -> int:
    """A per-minute limit scaled to the window (at least 1); 0 = no limit."""
    return max(1, per_minute * window_s // 60) if per_minute else 0


def redis_url_of(config: Config) -> str | None:
    settings = config.rate_limits
    if settings.redis_url:
        return settings.redis_url
    cache = config.cache.url
    return cache if cache.startswith(("redis://", "rediss://")) else None


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, redis_url: str | None, registry: CollectorRegistry,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.active = settings.any  # nothing configured: the pipeline does not even ask
        self.redis_url = redis_url if self.active else None
        if self.redis_url is not None:
            need("redis.asyncio", "redis", "rate limits shared through Redis (rate_limits.redis_url)")
        self.clock = clock
        self._redis: Any = None
        self._script: Any = None
        self._counts: dict[str, int] = {}  # in-process counters, this window's only
        self._window = -1
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused = Counter("anyray_rate_limited", "Calls refused by a rate limit.", ["scope", "name", "kind"],
                               registry=registry)
        self.failed_open = Counter("anyray_rate_limit_fail_open", "Calls admitted unchecked because Redis did "
                                   "not answer.", registry=registry)

    def _limits_of(self, team: str | None, key_id: str | None) -> list[tuple[str, str, RateLimit]]:
        found = []
        if key_id is not None and (limit := self.settings.keys.get(key_id)) is not None:
            found.append(("key", key_id, limit))
        if team is not None and (limit := self.settings.teams.get(team)) is not None:
            found.append(("team", team, limit))
        return found

    def _slot(self) -> tuple[int, int]:
        """This window's index and the whole seconds left in it."""
        now = self.clock()
        window = int(now // self.settings.window_s)
        return window, max(1, math.ceil((window + 1) * self.settings.window_s - now))

    def _names(self, window: int, scope: str, name: str) -> tuple[str, str]:
        base = f"anyray:rl:{self.settings.window_s}:{window}:{scope}:{name}"
        return base + ":r", base + ":t"

    async def admit(self, team: str | None, key_id: str | None) -> Limited | None:
        """Count this call, or say which limit refuses it (nothing counted then)."""
        limits = self._limits_of(team, key_id)
        if not limits:
            return None
        window, left = self._slot()
        keys, allowances = [], []
        for scope, name, limit in limits:
            keys.extend(self._names(window, scope, name))
            allowances += [allowance(limit.rpm, self.settings.window_s), allowance(limit.tpm, self.settings.window_s)]
        if self.redis_url is not None:
            verdict = await self._admit_redis(keys, allowances)
        else:
            verdict = self._admit_here(window, keys, allowances)
        if verdict is None:
            return None
        i, kind = verdict
        scope, name, _ = limits[i]
        kind_name = "requests" if kind == 1 else "tokens"
        self.refused.labels(scope, name, kind_name).inc()
        return Limited(scope, name, kind_name, allowances[2 * i + kind - 1], self.settings.window_s, left)

    def _admit_here(self, window: int, keys: list[str], allowances: list[int]) -> tuple[int, int] | None:
        if window != self._window:  # a new window: the old counts are no longer needed
            self._counts, self._window = {}, window
        counts = self._counts
        for i in range(0, len(keys), 2):
            if allowances[i] and counts.get(keys[i], 0) + 1 > allowances[i]:
                return i // 2, 1
            if allowances[i + 1] and counts.get(keys[i + 1], 0) >= allowances[i + 1]:
                return i // 2, 2
        for i in range(0, len(keys), 2):
            counts[keys[i]] = counts.get(keys[i], 0) + 1
        return None

    async def _admit_redis(self, keys: list[str], allowances: list[int]) -> tuple[int, int] | None:
        try:
            if self._redis is None:
                import redis.asyncio as redis

                self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
                self._script = self._redis.register_script(_ADMIT)
            index, kind = await self._script(keys=keys, args=[*allowances, self.settings.window_s * 2])
        except Exception as exc:  # Redis down or slow: admit, say so
            self.failed_open.inc()
            log.warning("rate limits not checked: Redis did not answer (%s)", type(exc).__name__)
            return None
        return None if int(index) == 0 else (int(index) - 1, int(kind))

    def finished(self, call: Call) -> None:
        """A `CallListener`: the call's input and output tokens count against its window."""
        limits = [x for x in self._limits_of(call.metadata.get("team"), call.key_id) if x[2].tpm]
        usage = call.usage
        tokens = usage.input_tokens + usage.cache_creation_input_tokens + usage.output_tokens
        if not limits or tokens <= 0:
            return
        window, _ = self._slot()
        names = [self._names(window, scope, name)[1] for scope, name, _ in limits]
        if self.redis_url is None:
            if window != self._window:
                self._counts, self._window = {}, window
            for name in names:
                self._counts[name] = self._counts.get(name, 0) + tokens
            return
        task = asyncio.get_running_loop().create_task(self._add_tokens(names, tokens))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _add_tokens(self, names: list[str], tokens: int) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.incrby(name, tokens)
                    pipe.expire(name, self.settings.window_s * 2)
                await pipe.execute()
        except Exception as exc:
            log.warning("rate-limit tokens not counted: Redis did not answer (%s)", type(exc).__name__)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
