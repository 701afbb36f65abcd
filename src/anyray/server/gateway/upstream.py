"""The one HTTP client the gateway uses upstream: pooled keep-alive HTTP/1.1, no buffering of streams.

DESIGN §5: plain httpx's pool cannot keep up on the hot path; aiohttp's client did, and the gateway's
own (h1/) costs a sixth of aiohttp's CPU per request, which is why it replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from anyray.providers.base import UpstreamRequest
from anyray.server.gateway.h1 import ConnectionPool, UpstreamError, UpstreamResponse

__all__ = ["UpstreamClient", "UpstreamError", "UpstreamFailure", "UpstreamResponse", "read_whole"]


@dataclass(slots=True)
class UpstreamFailure:
    status: int
    body: bytes
    provider: str
    # the upstream's own retry-after (seconds), passed on so a client that retries waits as long as asked
    retry_after: str | None = None
    # retrying it again would not help: the gateway already did (or the upstream said so). The Anthropic
    # and OpenAI SDKs obey `x-should-retry: false`, so their retries do not multiply the gateway's.
    final: bool = False

    def headers(self) -> dict[str, str]:
        headers = {"retry-after": self.retry_after} if self.retry_after else {}
        if self.final:
            headers["x-should-retry"] = "false"
        return headers


class UpstreamClient:
    def __init__(
        self, connect_timeout_s: float = 10.0, read_timeout_s: float = 600.0, max_per_origin: int = 256
    ) -> None:
        self._pool = ConnectionPool(connect_timeout_s, read_timeout_s, keepalive_s=60.0, max_per_origin=max_per_origin)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        await self._pool.close()

    def connections_in_use(self) -> int:
        """Upstream connections currently lent out (not idle in the pool): 0 once every call let go."""
        return self._pool.in_use()

    def pooled_connections(self) -> int:
        """Idle keep-alive connections in the pool."""
        return self._pool.idle()

    async def open(self, req: UpstreamRequest) -> UpstreamResponse:
        """Send and return once headers arrive; the caller reads or streams the body, then releases."""
        return await self._pool.request(req.method, req.url, req.headers, req.body)


async def read_whole(response: UpstreamResponse) -> tuple[bytes, Any]:
    """A non-streamed answer: its bytes (relayed as they are) and their JSON, or None when not JSON."""
    try:
        body = await response.read()
    finally:
        response.release()
    try:
        return body, orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None
