"""A StreamingResponse that notices a client hanging up with one plain task instead of an anyio task group.

uvicorn declares ASGI spec 2.3, so Starlette's StreamingResponse runs every stream inside an anyio task
group: the body in a child task, a disconnect listener in the request's task, a cancel scope around
both. On the streaming benchmark that machinery was ~7% of the gateway's samples. The behaviour that
matters is kept: when the client goes away mid-stream, the relay is cancelled at once (so the
upstream connection is dropped and stops generating, and the call is recorded as 499), not at the
next chunk. ANYRAY_STREAM_WATCHER=0 falls back to Starlette's own.
"""

from __future__ import annotations

import asyncio
import os

from starlette import responses
from starlette.types import Receive, Scope, Send

_ENABLED = os.environ.get("ANYRAY_STREAM_WATCHER", "1") != "0"


class StreamingResponse(responses.StreamingResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec = scope.get("asgi", {}).get("spec_version", "2.0")
        if not _ENABLED or scope["type"] != "http" or tuple(map(int, spec.split("."))) >= (2, 4):
            await super().__call__(scope, receive, send)
            return
        streaming = asyncio.current_task()
        assert streaming is not None
        hung_up = False

        async def watch() -> None:
            nonlocal hung_up
            while (await receive())["type"] != "http.disconnect":
                pass
            hung_up = True
            streaming.cancel()

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            if not hung_up:
                raise  # cancelled from outside (shutdown): not ours to swallow
            streaming.uncancel()
        finally:
            watcher.cancel()
        if self.background is not None:
            await self.background()
