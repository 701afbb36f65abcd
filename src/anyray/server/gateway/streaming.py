"""A relayed stream whose upstream side is always let go, however the client's side ended.

The relay generators close the upstream response and record the call in their `finally`. That runs
when the stream ends, when the upstream breaks, and when the client leaves mid-stream (the generator
is cancelled or closed). It does not run when the client leaves before the generator was ever started
(a generator that never ran has no `finally` to run), and a generator abandoned at a `yield` only
runs it whenever it is garbage-collected. `RelayResponse` closes its generator deterministically when
the response ends and then runs `on_end`, which covers the never-started case: no upstream
connection and no call record is left behind either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from anyray.server.gateway.call import Call


class RelayResponse(StreamingResponse):
    def __init__(self, *args: Any, on_end: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(RuntimeError):  # still running elsewhere: it will finish itself
                    await aclose()
            if self.on_end is not None:
                self.on_end()


def let_go(response: aiohttp.ClientResponse, gateway: Any = None, call: Call | None = None) -> Callable[[], None]:
    """The `on_end` of a relayed upstream stream: close the upstream connection (a no-op once released)
    and, when the relay never ran, record the call as the client leaving (499, partial, nothing seen)."""

    def end() -> None:
        response.close()
        if call is not None and call.status == 0:
            call.partial = True
            call.finish(499)
            gateway.completed(call)

    return end
