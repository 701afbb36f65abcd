"""The gateway's load and input limits, each refused with a clear error in the caller's dialect.

- header size: all request headers together, checked before anything else runs (431);
- JSON depth: checked where the body is parsed (anyray.server.gateway.body, 400);
- body size: checked while the body is read (body.py, 413);
- concurrent upstream calls: a call waits up to `queue_timeout_s` for a slot, then gets a 429 with a
  retry-after, so an SDK backs off and retries by itself. A slot is held from just before the first
  upstream attempt until the answer's last byte left (or the client went away); this middleware gives
  it back whatever happened, so a slot can never leak on an error path. With a per-team cap a call
  first takes one of its team's slots (same wait, same 429), so one team can hold at most that many of
  the gateway's slots and never starve the others. A client that stops reading its answer is cut by the
  server's write deadline (gateway.limits.write_timeout_s), which gives its slot back the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from anyray.errors import anthropic_error
from anyray.errors_openai import openai_error
from anyray.server.gateway.dialects.openai import anthropic_dialect
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.metadata import HEADER, MetadataError, parse_metadata

SLOT_KEY = "anyray_upstream_slot"
BUSY_KEY = "anyray_busy"  # which cap refused the call: "upstream" or "team"
TEAM_KEY = "anyray_slot_team"  # whose team slot the request holds
BUSY_RETRY_AFTER_S = 1


def dialect_error(
    scope: Scope, headers: Mapping[str, str], status: int, message: str, code: str, anthropic_kind: str | None = None
) -> Response:
    """An error for whichever SDK sent the request (the same test the routes use to split shared paths),
    from middleware that runs before any route: the gateway's limits and its key check."""
    path = scope["path"]
    if anthropic_dialect(headers, path) or path.startswith("/v1/projects/"):
        return anthropic_error(status, message, anthropic_kind)
    return openai_error(status, message, code=code)


class _TeamSlots:
    """One team's slots; kept only while one of its calls holds or waits for one (`users`)."""

    __slots__ = ("sem", "users")

    def __init__(self, limit: int) -> None:
        self.sem = asyncio.Semaphore(limit)
        self.users = 0


def team_of(scope: Scope) -> str | None:
    """The team a call counts against: its gateway key's (set by the key check), else the team its
    x-anyray-metadata names (already validated by the time a slot is taken), else None."""
    state = scope.get("state") or {}
    if team := state.get("key_team"):
        return str(team)
    try:
        return parse_metadata(headers_of(scope).get(HEADER)).team
    except MetadataError:
        return None


class UpstreamSlots:
    """At most `limit` model calls in flight (unlimited when None), and at most `per_team` of them for one team."""

    def __init__(self, limit: int | None, wait_s: float, per_team: int | None = None) -> None:
        self.limit = limit
        self.per_team = per_team
        self.wait_s = wait_s
        self.in_use = 0
        self._sem: asyncio.Semaphore | None = None
        self._teams: dict[str | None, _TeamSlots] = {}

    async def take(self, scope: Scope) -> bool:
        """A slot for this request (given back by `Limits` when the response ends), or False: busy, and which
        cap said so is left in the scope's state (`BUSY_KEY`)."""
        if self.limit is None and self.per_team is None:
            return True
        state = scope.setdefault("state", {})
        if SLOT_KEY in state:  # one request holds one slot, even across a cross-dialect fallback
            return True
        deadline = asyncio.get_running_loop().time() + self.wait_s
        team: _TeamSlots | None = None
        if self.per_team is not None:
            name = team_of(scope)
            team = self._teams.get(name)
            if team is None:
                team = self._teams[name] = _TeamSlots(self.per_team)
            team.users += 1
            if not await _acquire(team.sem, deadline):
                self._leave(name, team)
                state[BUSY_KEY] = "team"
                return False
            state[TEAM_KEY] = name
        if self.limit is not None:
            if self._sem is None:  # made on first use, inside the serving loop
                self._sem = asyncio.Semaphore(self.limit)
            if not await _acquire(self._sem, deadline):
                if team is not None:
                    team.sem.release()
                    self._leave(state.pop(TEAM_KEY), team)
                state[BUSY_KEY] = "upstream"
                return False
            self.in_use += 1
        state[SLOT_KEY] = True
        return True

    def give(self, scope: Scope) -> None:
        state = scope.get("state")
        if not state or not state.pop(SLOT_KEY, False):
            return
        if self._sem is not None and self.limit is not None:
            self.in_use -= 1
            self._sem.release()
        if TEAM_KEY in state:
            name = state.pop(TEAM_KEY)
            team = self._teams.get(name)
            if team is not None:
                team.sem.release()
                self._leave(name, team)

    def _leave(self, name: str | None, team: _TeamSlots) -> None:
        team.users -= 1
        if team.users <= 0 and self._teams.get(name) is team:  # no holder, no waiter: forget the team
            del self._teams[name]


async def _acquire(sem: asyncio.Semaphore, deadline: float) -> bool:
    if not sem.locked():  # a free slot is taken without waiting: no timer to arm and cancel
        await sem.acquire()
        return True
    try:  # wait in line, within the queue timeout
        async with asyncio.timeout_at(deadline):
            await sem.acquire()
    except TimeoutError:
        return False
    return True


def busy(scope: Scope, headers: Mapping[str, str], limit: int, per_team: int | None = None) -> Response:
    if (scope.get("state") or {}).get(BUSY_KEY) == "team":
        team = team_of(scope)
        who = f"team {team!r}" if team else "callers without a team"
        message = (f"{who} already has {per_team} upstream calls in flight "
                   f"(gateway.limits.max_concurrent_upstream_per_team); retry after {BUSY_RETRY_AFTER_S}s")
        response = dialect_error(scope, headers, 429, message, "team_busy", "rate_limit_error")
        response.headers["retry-after"] = str(BUSY_RETRY_AFTER_S)
        return response
    message = (f"the gateway already has {limit} upstream calls in flight (gateway.limits.max_concurrent_upstream);"
               f" retry after {BUSY_RETRY_AFTER_S}s")
    response = dialect_error(scope, headers, 429, message, "gateway_busy")
    response.headers["retry-after"] = str(BUSY_RETRY_AFTER_S)
    return response


class Limits:
    """What every `/v1/` request is held to before its route: the header limit, and the upstream slots it gives
    back (`hot.guarded` runs both)."""

    def __init__(self, max_header_bytes: int, slots: UpstreamSlots, on_refused: Callable[[str], Any]) -> None:
        self.max_header_bytes = max_header_bytes
        self.slots = slots
        self.on_refused = on_refused

    def refusal(self, scope: Scope) -> Response | None:
        """The header limit, for a `/v1/` request: None, or the 431 to answer, counted. A plain call, so the
        hot paths (hot.py) run it without a middleware's coroutine frame (and give the slot back themselves)."""
        # name: value\r\n, as on the wire
        size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if size <= self.max_header_bytes:
            return None
        self.on_refused("header_bytes")
        message = (f"request headers are {size} bytes, over the gateway's limit of {self.max_header_bytes}"
                   " (gateway.limits.max_header_bytes)")
        return dialect_error(scope, headers_of(scope), 431, message, "headers_too_large")
