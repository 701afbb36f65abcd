"""The Anthropic dialect: /v1/messages, count_tokens, Vertex-shaped paths, and the proxied rest.

Answers are passed back as the upstream sent them (a stream byte for byte, as it arrives); only
errors are reshaped, so that an SDK always gets Anthropic's error JSON.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from anyray.errors import anthropic_error, anthropic_error_body, as_anthropic_error_body
from anyray.providers.base import Endpoint, ProviderRefusal
from anyray.routing import UnknownModel
from anyray.server.gateway.body import BadJSON, BodyTooLarge, parse_object, read_body
from anyray.server.gateway.gateway import Gateway
from anyray.server.gateway.pipeline import Opened

log = logging.getLogger("anyray.gateway.anthropic")

_PASSED_RESPONSE_HEADERS = ("request-id", "x-request-id", "retry-after")
_VERTEX_VERBS = {"rawPredict": False, "streamRawPredict": True}


def _validate(payload: dict[str, Any], endpoint: Endpoint) -> str | None:
    model = payload.get("model")
    if model is None:
        return "model: Field required"
    if not isinstance(model, str) or not model:
        return "model: Input should be a non-empty string"
    messages = payload.get("messages")
    if messages is None:
        return "messages: Field required"
    if not isinstance(messages, list):
        return "messages: Input should be a valid list"
    if endpoint is Endpoint.MESSAGES and "stream" in payload and not isinstance(payload["stream"], bool):
        return "stream: Input should be a valid boolean"
    return None


async def messages(request: Request) -> Response:
    return await _handle(request, Endpoint.MESSAGES)


async def count_tokens(request: Request) -> Response:
    return await _handle(request, Endpoint.COUNT_TOKENS)


async def vertex_in(request: Request) -> Response:
    """Clients run with CLAUDE_CODE_USE_VERTEX=1 and ANTHROPIC_VERTEX_BASE_URL pointed here."""
    model, _, verb = request.path_params["model_verb"].rpartition(":")
    if model == "count-tokens" and verb == "rawPredict":
        return await _handle(request, Endpoint.COUNT_TOKENS)
    if not model or verb not in _VERTEX_VERBS:
        return anthropic_error(404, f"unknown Vertex method {request.path_params['model_verb']!r}")
    return await _handle(request, Endpoint.MESSAGES, model=model, stream=_VERTEX_VERBS[verb])


async def _handle(
    request: Request, endpoint: Endpoint, *, model: str | None = None, stream: bool | None = None
) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        raw = await read_body(request, gateway.config.gateway.max_body_bytes)
        payload = parse_object(raw)
    except BodyTooLarge as exc:
        return anthropic_error(413, str(exc))
    except BadJSON as exc:
        return anthropic_error(400, str(exc))
    if model is not None:  # Vertex-shaped: the model and the streaming flag come from the URL
        payload["model"] = model
        payload["stream"] = stream
        raw = None
    if problem := _validate(payload, endpoint):
        return anthropic_error(400, problem)
    try:
        route = gateway.router.resolve(payload["model"])
    except UnknownModel as exc:
        return anthropic_error(404, f"model: {exc}")

    if endpoint is Endpoint.MESSAGES:
        outcome = await gateway.optimize("/v1/messages", payload, route, request.headers)
        if outcome is not None and outcome.changed:
            payload, raw = outcome.request, None

    try:
        result = await gateway.forwarder.send(endpoint, payload, route, request.headers, raw)
    except ProviderRefusal as exc:
        return anthropic_error(exc.status, exc.message)
    if not isinstance(result, Opened):
        body = as_anthropic_error_body(result.status, result.body, result.provider)
        return Response(body, result.status, media_type="application/json")
    return await _relay(result)


def _response_headers(opened: Opened) -> dict[str, str]:
    upstream = opened.response.headers
    headers = {k: upstream[k] for k in _PASSED_RESPONSE_HEADERS if k in upstream}
    headers["x-anyray-provider"] = opened.target.provider
    headers["x-anyray-model"] = opened.request.model
    return headers


async def _relay(opened: Opened) -> Response:
    response = opened.response
    content_type = response.headers.get("content-type", "application/json")
    if not content_type.startswith("text/event-stream"):
        try:
            body = await response.read()
        finally:
            response.release()
        return Response(body, response.status, headers=_response_headers(opened), media_type=content_type)
    return StreamingResponse(
        _stream(response), response.status, headers=_response_headers(opened), media_type=content_type
    )


async def _stream(response: aiohttp.ClientResponse, sse: bool = True):  # type: ignore[no-untyped-def]
    """Each chunk goes to the client the moment it arrives; a cut SSE stream ends with an error event."""
    done = False
    try:
        async for chunk in response.content.iter_any():
            yield chunk
        done = True
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("upstream stream ended early: %s", type(exc).__name__)
        if not sse:
            return
        error = orjson.loads(anthropic_error_body(502, "upstream stream ended before the message was complete"))
        yield b"event: error\ndata: " + orjson.dumps(error) + b"\n\n"
    finally:
        if done:
            response.release()
        else:  # client went away or upstream broke: drop the connection so the upstream stops generating
            response.close()


async def proxy(request: Request) -> Response:
    """Any other Anthropic path (models, batches, files): forwarded unchanged when a key is configured."""
    gateway: Gateway = request.app.state.gateway
    provider = gateway.providers.get("anthropic")
    if provider is None or not provider.readiness().ready:
        return anthropic_error(
            404, f"{request.url.path} is only served when the Anthropic provider is configured on the gateway"
        )
    try:
        raw = await read_body(request, gateway.config.gateway.max_body_bytes)
    except BodyTooLarge as exc:
        return anthropic_error(413, str(exc))
    upstream = provider.passthrough(request.method, request.url.path, request.url.query, request.headers, raw)
    assert upstream is not None
    try:
        response = await gateway.forwarder.client.open(upstream)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return anthropic_error(502, f"anthropic: upstream unreachable: {type(exc).__name__}")
    content_type = response.headers.get("content-type", "application/json")
    headers = {k: response.headers[k] for k in _PASSED_RESPONSE_HEADERS if k in response.headers}
    return StreamingResponse(
        _stream(response, sse=content_type.startswith("text/event-stream")),
        response.status,
        headers=headers,
        media_type=content_type,
    )
