"""The gateway's load and input limits, each refused with a clear error in the caller's dialect.

- header size: all request headers together, checked before anything else runs (431);
- JSON depth: checked where the body is parsed (anyray.server.gateway.body, 400);
- body size: checked while the body is read (body.py, 413);
- concurrent upstream calls: a call waits up to `queue_timeout_s` for a slot, then gets a 429 with a
  retry-after, so an SDK backs off and retries by itself. A slot is held from just before the first
  upstream attempt until the answer's last byte left (or the client went away); this middleware gives
  it back whatever happened, so a slot can never leak on an error path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from anyray.errors import anthropic_error
from anyray.errors_openai import openai_error
from anyray.server.gateway.dialects.openai import anthropic_dialect
from anyray.server.gateway.headers import headers_of

SLOT_KEY = "anyray_upstream_slot"
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


class UpstreamSlots:
    """At most `limit` model calls in flight; unlimited when `limit` is None."""

    def __init__(self, limit: int | None, wait_s: float) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self.in_use = 0
        self._sem: asyncio.Semaphore | None = None

    async def take(self, scope: Scope) -> bool:
        """A slot for this request (given back by `Limits` when the response ends), or False: busy."""
        if self.limit is None:
            return True
        state = scope.setdefault("state", {})
        if state.get(SLOT_KEY):  # one request holds one slot, even across a cross-dialect fallback
            return True
        if self._sem is None:  # made on first use, inside the serving loop
            self._sem = asyncio.Semaphore(self.limit)
        if self._sem.locked():  # wait in line, within the queue timeout
            try:
                async with asyncio.timeout(self.wait_s):
                    await self._sem.acquire()
            except TimeoutError:
                return False
        else:  # a free slot is taken without waiting: no timer to arm and cancel
            await self._sem.acquire()
        state[SLOT_KEY] = True
        self.in_use += 1
        return True

    def give(self, scope: Scope) -> None:
        state = scope.get("state")
        if state and state.pop(SLOT_KEY, False) and self._sem is not None:
            self.in_use -= 1
            self._sem.release()


def busy(scope: Scope, headers: Mapping[str, str], limit: int) -> Response:
    message = (f"the gateway already has {limit} upstream calls in flight (gateway.limits.max_concurrent_upstream);"
               f" retry after {BUSY_RETRY_AFTER_S}s")
    response = dialect_error(scope, headers, 429, message, "gateway_busy")
    response.headers["retry-after"] = str(BUSY_RETRY_AFTER_S)
    return response


class Limits:
    """ASGI middleware in front of every `/v1/` route: the header limit, and giving slots back."""

    def __init__(
        self, app: ASGIApp, max_header_bytes: int, slots: UpstreamSlots, on_refused: Callable[[str], Any]
    ) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.slots = slots
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        # name: value\r\n, as on the wire
        size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if size > self.max_header_bytes:
            self.on_refused("header_bytes")
            message = (f"request headers are {size} bytes, over the gateway's limit of {self.max_header_bytes}"
                       " (gateway.limits.max_header_bytes)")
            await dialect_error(scope, headers_of(scope), 431, message, "headers_too_large")(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.give(scope)
