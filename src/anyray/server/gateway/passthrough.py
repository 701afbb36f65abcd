"""Paths the gateway does not model (batches, files, model lists, embeddings...): forwarded unchanged.

The same few steps for either provider: the path checked (providers/paths.py: no `..`, encoded
separators, double encoding or control bytes reach an upstream signed with the gateway's key), the body
read within the gateway's bound, the provider's own signing, the answer relayed as it comes with the
headers a client acts on. Only the dialect of the gateway's own refusals (400, 413, 502) and the relay
differ, and the caller passes those in.

Each forwarded call leaves a spend record like a model call's (`Gateway.completed`): who asked (the
metadata header or the gateway key's team), which model the body names, where it went, the status, the
time, and the usage the answer reports (`usage.TailUsage`: embeddings, the Responses API), priced. A
path with no usage (files, batches, model lists) is recorded with none, at no cost.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response

from anyray.providers.base import Provider
from anyray.providers.paths import UnsafePath, upstream_path
from anyray.routing import Target
from anyray.server.gateway.body import BodyTooLarge, read_body
from anyray.server.gateway.call import Call
from anyray.server.gateway.gateway import Gateway
from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.metadata import MetadataError, attribute
from anyray.server.gateway.streaming import LetGo, RelayResponse
from anyray.server.gateway.usage import TailUsage

log = logging.getLogger("anyray.gateway.passthrough")

Refuse = Callable[[int, str], Response]
# what ends an answer of this content type the upstream cut, in the client's dialect (None: just stop)
CutEvent = Callable[[str], bytes | None]

_MODEL = re.compile(rb'"model"\s*:\s*"([^"\\]{1,128})"')  # a key: inside a JSON string a quote is escaped
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_ID_LIKE = re.compile(r"[^a-z_]")
_USAGE_TYPES = ("application/json", "text/event-stream")


def endpoint_label(path: str) -> str:
    """The path with its ids folded (`/v1/files/file-abc/content` -> `/v1/files/{id}/content`): a label for
    records and metrics, not one per file or batch. A segment that is not a plain lowercase word is an id."""
    first, *rest = path.lstrip("/").split("/")[:6]
    return "/" + "/".join([first[:16], *("{id}" if not p or _ID_LIKE.search(p) else p[:32] for p in rest)])


def proxied_call(request: Request, dialect: str, raw: bytes | None) -> Call:
    """A forwarded call's record-to-be: attribution as for a model call (a bad metadata header is ignored
    here: the path is forwarded unchanged, as it always was), the model the JSON body names, if any."""
    call = Call(dialect, endpoint_label(request.url.path))
    with contextlib.suppress(MetadataError):
        call.metadata = attribute(headers_of(request.scope), None, getattr(request.state, "key_team", None)).as_dict()
    json_body = request.headers.get("content-type", "").startswith("application/json")
    if raw and json_body and (found := _MODEL.search(raw)):
        call.model_asked = found.group(1).decode("utf-8", "replace")
    call.stream = bool(raw and json_body and _STREAM.search(raw))
    return call


async def forward_unchanged(
    request: Request,
    gateway: Gateway,
    provider: Provider,
    refuse: Refuse,
    cut_event: CutEvent,
    passed_headers: Iterable[str],
    passed_prefix: str | None = None,
    raw: bytes | None = None,
    *,
    dialect: str,
) -> Response:
    """`raw`: the body, when the caller has already read it (to look at it first)."""
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    try:  # the path as the client sent it, so that what decoding hides (%2e%2e, %2f, %00) is seen
        path = upstream_path(raw_path.decode("latin-1"))
    except UnsafePath as exc:
        return gateway.refused(dialect, "unsafe_path", refuse(400, f"this path is not forwarded: {exc}"),
                               proxied_call(request, dialect, None))
    try:
        raw = raw if raw is not None else await read_body(request, gateway.config.gateway.max_body_bytes)
    except BodyTooLarge as exc:
        return gateway.refused(dialect, "body_too_large", refuse(413, str(exc)), proxied_call(request, dialect, None))
    call = proxied_call(request, dialect, raw)
    try:
        upstream = provider.passthrough(request.method, path, request.url.query, request.headers, raw)
    except UnsafePath as exc:
        return gateway.refused(dialect, "unsafe_path", refuse(400, f"this path is not forwarded: {exc}"), call)
    assert upstream is not None
    call.target, call.region = Target(provider.name, call.model_asked), provider.region
    try:
        response = await gateway.forwarder.client.open(upstream)
    except (UpstreamError, TimeoutError) as exc:
        answer = refuse(502, f"{provider.name}: upstream unreachable: {type(exc).__name__}")
        call.finish(answer.status_code)
        gateway.completed(call)
        return answer
    call.first_byte()
    content_type = response.headers.get("content-type", "application/json")
    headers = {k: response.headers[k] for k in passed_headers if k in response.headers}
    if passed_prefix:
        headers.update({k: v for k, v in response.headers.items() if k.lower().startswith(passed_prefix)})
    tail = TailUsage(openai=dialect == "openai") if content_type.startswith(_USAGE_TYPES) else None
    return RelayResponse(
        _recorded(relay_unchanged(response, cut_event(content_type)), response.status, tail, call, gateway),
        response.status, headers=headers, media_type=content_type, on_end=LetGo(response, gateway, call),
    )


async def _recorded(
    chunks: AsyncIterator[bytes], status: int, tail: TailUsage | None, call: Call, gateway: Gateway
) -> AsyncIterator[bytes]:
    """The relay, watched: its tail read for usage, the call recorded when it ends (499, partial: the client
    left first)."""
    done = False
    try:
        async for chunk in chunks:
            if tail is not None:
                tail.feed(chunk)
            yield chunk
        done = True
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
        if tail is not None:
            tail.fold_into(call.usage)
        call.partial = not done
        call.finish(status if done else 499)
        gateway.completed(call)


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
