"""The one HTTP client the gateway uses upstream: aiohttp, pooled, no buffering of streams.

DESIGN §5: plain httpx's pool cannot keep up on the hot path; aiohttp directly does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from anyray.providers.base import UpstreamRequest


@dataclass(slots=True)
class UpstreamFailure:
    status: int
    body: bytes
    provider: str
    # the upstream's own retry-after (seconds), passed on so a client that retries waits as long as asked
    retry_after: str | None = None

    def headers(self) -> dict[str, str]:
        return {"retry-after": self.retry_after} if self.retry_after else {}


class UpstreamClient:
    def __init__(self, connect_timeout_s: float = 10.0, read_timeout_s: float = 600.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=read_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, auto_decompress=True, skip_auto_headers=("user-agent",)
        )

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    def connections_in_use(self) -> int:
        """Upstream connections currently lent out (not idle in the pool): 0 once every call let go.

        Reads aiohttp's private `_acquired` set: there is no public count, and a leak check needs one.
        """
        connector = self._session.connector if self._session is not None else None
        return len(getattr(connector, "_acquired", ()))

    def pooled_connections(self) -> int:
        """Idle keep-alive connections in the pool (aiohttp's private `_conns`, for the same reason)."""
        connector = self._session.connector if self._session is not None else None
        return sum(len(c) for c in getattr(connector, "_conns", {}).values())

    async def open(self, req: UpstreamRequest) -> aiohttp.ClientResponse:
        """Send and return once headers arrive; the caller reads or streams the body, then releases."""
        assert self._session is not None, "start() first"
        return await self._session.request(req.method, req.url, headers=req.headers, data=req.body)


async def read_whole(response: aiohttp.ClientResponse) -> tuple[bytes, Any]:
    """A non-streamed answer: its bytes (relayed as they are) and their JSON, or None when not JSON."""
    try:
        body = await response.read()
    finally:
        response.release()
    try:
        return body, orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None
