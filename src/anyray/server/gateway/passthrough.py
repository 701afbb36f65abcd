"""Paths the gateway does not model (batches, files, model lists, embeddings...): forwarded unchanged.

The same few steps for either provider: the path checked (providers/paths.py: no `..`, encoded
separators, double encoding or control bytes reach an upstream signed with the gateway's key), the body
read within the gateway's bound, the provider's own signing, the answer relayed as it comes with the
headers a client acts on. Only the dialect of the gateway's own refusals (400, 413, 502) and the relay
differ, and the caller passes those in.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response

from anyray.providers.base import Provider
from anyray.providers.paths import UnsafePath, upstream_path
from anyray.server.gateway.body import BodyTooLarge, read_body
from anyray.server.gateway.gateway import Gateway
from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.streaming import RelayResponse, let_go

log = logging.getLogger("anyray.gateway.passthrough")

Refuse = Callable[[int, str], Response]
# what ends an answer of this content type the upstream cut, in the client's dialect (None: just stop)
CutEvent = Callable[[str], bytes | None]


async def forward_unchanged(
    request: Request,
    gateway: Gateway,
    provider: Provider,
    refuse: Refuse,
    cut_event: CutEvent,
    passed_headers: Iterable[str],
    passed_prefix: str | None = None,
    raw: bytes | None = None,
) -> Response:
    """`raw`: the body, when the caller has already read it (to look at it first)."""
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    try:  # the path as the client sent it, so that what decoding hides (%2e%2e, %2f, %00) is seen
        path = upstream_path(raw_path.decode("latin-1"))
    except UnsafePath as exc:
        return refuse(400, f"this path is not forwarded: {exc}")
    try:
        raw = raw if raw is not None else await read_body(request, gateway.config.gateway.max_body_bytes)
    except BodyTooLarge as exc:
        return refuse(413, str(exc))
    try:
        upstream = provider.passthrough(request.method, path, request.url.query, request.headers, raw)
    except UnsafePath as exc:
        return refuse(400, f"this path is not forwarded: {exc}")
    assert upstream is not None
    try:
        response = await gateway.forwarder.client.open(upstream)
    except (UpstreamError, TimeoutError) as exc:
        return refuse(502, f"{provider.name}: upstream unreachable: {type(exc).__name__}")
    content_type = response.headers.get("content-type", "application/json")
    headers = {k: response.headers[k] for k in passed_headers if k in response.headers}
    if passed_prefix:
        headers.update({k: v for k, v in response.headers.items() if k.lower().startswith(passed_prefix)})
    return RelayResponse(
        relay_unchanged(response, cut_event(content_type)), response.status, headers=headers, media_type=content_type,
        on_end=let_go(response),
    )


async def relay_unchanged(response: UpstreamResponse, cut: bytes | None) -> AsyncIterator[bytes]:
    """The answer as it comes; when the upstream cuts it, `cut` (an event stream's error event) ends it."""
    done = False
    try:
        async for chunk in response.iter_chunks():
            yield chunk
        done = True
    except (UpstreamError, TimeoutError) as exc:
        log.warning("upstream body ended early: %s", type(exc).__name__)
        if cut is not None:
            yield cut
    finally:
        if done:
            response.release()
        else:  # client went away or upstream broke: drop the connection so the upstream stops
            response.close()
