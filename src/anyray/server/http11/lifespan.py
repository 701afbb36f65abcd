"""The ASGI lifespan protocol: startup before the first connection is accepted, shutdown after the last.

Run as "on" (as `anyray up` ran uvicorn): an app that fails or raises during startup stops the server
before it listens, with one error naming why; one that raises in shutdown is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("anyray.http")


class Lifespan:
    """One app's lifespan task, driven through startup and shutdown."""

    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()
        self._shutdown_asked = asyncio.Event()
        self._asked_startup = False
        self.failed: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> bool:
        """True when the app said startup is complete."""
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._started.wait()
        if self.failed is not None:
            log.error("application startup failed: %s", self.failed)
            return False
        return True

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        self._shutdown_asked.set()
        await self._stopped.wait()
        if self.failed is not None:
            log.error("application shutdown failed: %s", self.failed)

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:  # the app's own error: say which, once
            self.failed = f"{type(exc).__name__}: {exc}"
            log.error("exception in the application's lifespan", exc_info=exc)
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
        finally:
            if not self._started.is_set() and self.failed is None:
                self.failed = "the application returned before completing its startup"
            self._started.set()
            self._stopped.set()

    async def _receive(self) -> dict[str, Any]:
        if not self._asked_startup:
            self._asked_startup = True
            return {"type": "lifespan.startup"}
        await self._shutdown_asked.wait()
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
            if kind.endswith("failed"):
                self.failed = message.get("message") or "startup failed"
            self._started.set()
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if kind.endswith("failed"):
                self.failed = message.get("message") or "shutdown failed"
            self._stopped.set()
        else:
            raise RuntimeError(f"unexpected lifespan message {kind!r}")
