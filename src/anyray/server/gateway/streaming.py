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

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from anyray.server.gateway.call import Call
from anyray.server.gateway.h1 import UpstreamResponse

_WATCHER = os.environ.get("ANYRAY_STREAM_WATCHER", "1") != "0"


class RelayResponse(StreamingResponse):
    """A relayed stream: notices a client hanging up with one plain task, closes its generator and runs
    `on_end` however it ended.

    uvicorn declared ASGI spec 2.3, so Starlette's StreamingResponse runs every stream inside an anyio
    task group: the body in a child task, a disconnect listener in the request's task, a cancel scope
    around both; on the streaming benchmark that was ~7% of the gateway's samples (docs/performance.md).
    What matters is kept: when the client goes away mid-stream the relay is cancelled at once (the
    upstream is let go and the call recorded as 499), not at the next chunk. ANYRAY_STREAM_WATCHER=0
    falls back to Starlette's own.

    The watcher, the relay loop (Starlette's `stream_response`) and the clean-up are one coroutine, and the
    watcher a method rather than a closure: a stream's await chain and its objects stay alive while it is
    open, and with thousands open the garbage collector walks each of them on every pass.
    """

    def __init__(self, *args: Any, on_end: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_end = on_end
        self.hung_up = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            spec = scope.get("asgi", {}).get("spec_version", "2.0")
            if not _WATCHER or scope["type"] != "http" or tuple(map(int, spec.split("."))) >= (2, 4):
                await super().__call__(scope, receive, send)
                return
            streaming = asyncio.current_task()
            assert streaming is not None
            watcher = asyncio.get_running_loop().create_task(self._watch(receive, streaming))
            try:  # Starlette's stream_response, inline
                await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
                async for chunk in self.body_iterator:
                    if not isinstance(chunk, bytes | memoryview):
                        chunk = chunk.encode(self.charset)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except asyncio.CancelledError:
                if not self.hung_up:
                    raise  # cancelled from outside (shutdown): not ours to swallow
                streaming.uncancel()
            finally:
                watcher.cancel()
            if self.background is not None:
                await self.background()
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(RuntimeError):  # still running elsewhere: it will finish itself
                    await aclose()
            if self.on_end is not None:
                self.on_end()

    async def _watch(self, receive: Receive, streaming: asyncio.Task[Any]) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.hung_up = True
        streaming.cancel()


class AnswerThen(Response):
    """A whole answer, sent before the call's bookkeeping (`then`: the spend record, metrics, the optimizer's
    post-call report) instead of after it. The client waits for none of it: measured at one connection
    that work sat on the answer's path. The record's latency still ends where the answer was ready.
    """

    def __init__(self, *args: Any, then: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.then = then

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # the answer's bytes leave at the next loop turn (http11.py coalesces writes); this runs right after them
            asyncio.get_running_loop().call_soon(self.then)


class LetGo:
    """The `on_end` of a relayed upstream stream: close the upstream connection (a no-op once released)
    and, when the relay never ran, record the call as the client leaving (499, partial, nothing seen).
    One slotted object, not a closure (a function, its cells and their tuple): it lives as long as the
    stream, and the garbage collector walks each of them per open stream."""

    __slots__ = ("call", "gateway", "response")

    def __init__(self, response: UpstreamResponse, gateway: Any = None, call: Call | None = None) -> None:
        self.response = response
        self.gateway = gateway
        self.call = call

    def __call__(self) -> None:
        self.response.close()
        call = self.call
        if call is not None and call.status == 0:
            call.partial = True
            call.finish(499)
            self.gateway.completed(call)
