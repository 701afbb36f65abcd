"""The gateway's upstream HTTP/1.1 client: pooled keep-alive connections on asyncio, parsed by httptools.

Why not aiohttp's client, which the gateway used before: measured against the lean fake upstream on
the benchmark machine, aiohttp spends ~90 us of CPU per request (its session machinery: timers,
tracing hooks, cookies, URL objects, multidicts, a payload registry), this ~15 us, and that difference
was a fifth of the gateway's whole per-request cost (docs/performance.md). The gateway needs a small
part of HTTP: one request at a time per connection, a body it already holds as bytes, an answer relayed
as it arrives. That part is here. Parsing is httptools (llhttp, Node.js's parser), TLS the standard
library's, so what is hand-written is the pool and the bookkeeping, not the protocol.

Outbound proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, unless `trust_env=False`) are in proxy.py: each
origin's way there is decided once, as a `Route` that also holds its idle connections.
"""

from anyray.server.gateway.h1.pool import ConnectionPool
from anyray.server.gateway.h1.response import UpstreamResponse
from anyray.server.gateway.h1.wire import (
    BadResponse,
    ConnectError,
    Origin,
    ResponseCut,
    UpstreamError,
    request_head,
    split_url,
)

__all__ = ["BadResponse", "ConnectError", "ConnectionPool", "Origin", "ResponseCut", "UpstreamError",
           "UpstreamResponse", "request_head", "split_url"]
