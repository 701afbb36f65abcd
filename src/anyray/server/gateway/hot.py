"""The model-call routes, dispatched without Starlette's middleware stack and router.

Nearly all of a gateway's traffic is `POST /v1/messages` and `POST /v1/chat/completions`, and every
request pays for each ASGI layer it crosses: Starlette's error and exception middleware, its router
(a regex per route, in order), and the wrappers each adds around `send`. These two paths go straight
to their handler instead, through the same limits and key check as every other `/v1/` route (the
`guard` the app is built with). Anything else, including these paths with another method, goes to
the Starlette app unchanged. A handler that fails before answering still gets an answer: a 500 in
the caller's dialect, and the traceback in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.limits import dialect_error

log = logging.getLogger("anyray.gateway")

Handler = Callable[[Request], Awaitable[Response]]


class HotPaths:
    def __init__(self, app: ASGIApp, handlers: Mapping[str, Handler], guard: Callable[[ASGIApp], ASGIApp]) -> None:
        self.app = app
        self._hot = {path: guard(_endpoint(handler)) for path, handler in handlers.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            hot = self._hot.get(scope["path"])
            if hot is not None:
                scope["app"] = self.app  # what `request.app` is under Starlette: the routes read its state
                await hot(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> object:  # `state`, `routes`... : the Starlette app's
        return getattr(self.app, name)


def _endpoint(handler: Handler) -> ASGIApp:
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await handler(Request(scope, receive, send))
        except Exception:
            log.exception("the gateway failed on %s %s", scope["method"], scope["path"])
            response = dialect_error(scope, headers_of(scope), 500, "the gateway failed on this request; "
                                     "the error is in its log", "internal_error", "api_error")
        await response(scope, receive, send)

    return endpoint
