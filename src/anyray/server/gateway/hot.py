"""The `/v1/` guard (trace, limits, key check) as one coroutine, and the model-call routes dispatched to it
without Starlette's middleware stack and router.

Nearly all of a gateway's traffic is `POST /v1/messages` and `POST /v1/chat/completions`, and every
request pays for each ASGI layer it crosses: Starlette's error and exception middleware, its router
(a regex per route, in order), and the wrappers each adds around `send`. These two paths go straight
to their handler instead. Anything else, including these paths with another method, goes to the
Starlette app unchanged. A handler that fails before answering still gets an answer: a 500 in the
caller's dialect, and the traceback in the log.

Why one coroutine: a stream's whole await chain stays alive while it is open, one frame per layer, and
with thousands of streams open the garbage collector walks every frame of every stream on each pass
(docs/performance.md, "What the collector walks"). The trace (`tracing.ServerSpan`), the header limit
(`Limits.refusal`), the key check (`KeyCheck.refusal`) and the slot's release are plain calls here, in
the order the middlewares ran them (trace outermost, so refusals are traced too); `Guarded` runs the same
coroutine as Starlette middleware in front of every other `/v1/` route, so both paths answer alike.

`HotPaths` and `Guarded` are ASGI 3 apps whose `__call__` is a plain method returning the coroutine to
await (no frame of their own), marked as a coroutine function (`_awaited`) so that an ASGI server guessing
the interface from `iscoroutinefunction` (uvicorn's "auto", which the tests' servers use) sees ASGI 3.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from anyray.server.gateway.auth import KeyCheck
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.limits import Limits, dialect_error
from anyray.server.gateway.tracing import ServerSpan, echo, request_id_of

log = logging.getLogger("anyray.gateway")

Handler = Callable[[Request], Awaitable[Response]]
F = TypeVar("F", bound=Callable[..., Any])


def _awaited(method: F) -> F:
    """Mark a method that returns a coroutine as a coroutine function, for `iscoroutinefunction` (inspect's
    and asyncio's): Python 3.12's `inspect.markcoroutinefunction`, else the marker 3.11's asyncio reads."""
    mark = getattr(inspect, "markcoroutinefunction", None)
    if mark is not None:
        return mark(method)  # type: ignore[no-any-return]
    method._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    return method


@dataclass(frozen=True, slots=True)
class Guard:
    """What every `/v1/` request passes before its route. `limits` and `keys` are used for their checks
    only (their `app` is None)."""

    tracer: Any
    limits: Limits
    keys: KeyCheck


async def guarded(guard: Guard, scope: Scope, receive: Receive, send: Send, handler: Handler | None,
                  inner: ASGIApp | None = None) -> None:
    """A `/v1/` request through the guard to `handler` (a route: Request -> Response) or else `inner` (an
    ASGI app). The slot a call took is given back however this ends (answer, refusal, error, hang-up)."""
    headers = headers_of(scope)
    request_id = request_id_of(headers)
    span = None
    if guard.tracer is not None:
        span = ServerSpan(guard.tracer, scope, headers, request_id, send)
        send = span.send
    elif request_id is not None:
        send = echo(send, request_id)
    try:
        response = guard.limits.refusal(scope)
        if response is not None:
            await response(scope, receive, send)
            return
        try:
            response = guard.keys.refusal(scope)
            if response is None:
                if handler is None:
                    await inner(scope, receive, send)  # type: ignore[misc]
                    return
                try:
                    response = await handler(Request(scope, receive, send))
                except Exception:
                    log.exception("the gateway failed on %s %s", scope["method"], scope["path"])
                    response = dialect_error(scope, headers, 500, "the gateway failed on this request; "
                                             "the error is in its log", "internal_error", "api_error")
            await response(scope, receive, send)
        finally:
            guard.limits.slots.give(scope)
    finally:
        if span is not None:
            span.end()


class Guarded:
    """Starlette middleware: the guard in front of every `/v1/` route (the routes HotPaths does not take)."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    @_awaited
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # not a coroutine function: it hands back the coroutine to await, no frame of its own in the chain
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            return guarded(self.guard, scope, receive, send, None, self.app)
        return self.app(scope, receive, send)  # type: ignore[return-value]


class HotPaths:
    def __init__(self, app: ASGIApp, handlers: Mapping[str, Handler], guard: Guard) -> None:
        self.app = app
        self._hot = dict(handlers)
        self.guard = guard

    @_awaited
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # not a coroutine function: the server awaits the one coroutine `guarded` (or the app's) directly
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self._hot.get(scope["path"])
            if handler is not None:
                scope["app"] = self.app  # what `request.app` is under Starlette: the routes read its state
                return guarded(self.guard, scope, receive, send, handler)
        return self.app(scope, receive, send)  # type: ignore[return-value]

    def __getattr__(self, name: str) -> object:  # `state`, `routes`... : the Starlette app's
        return getattr(self.app, name)
