"""The Anthropic dialect: /v1/messages, count_tokens, Vertex-shaped paths, and the proxied rest.

Answers are passed back as the upstream sent them (a stream byte for byte, as it arrives); only
errors are reshaped, so that an SDK always gets Anthropic's error JSON.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from anyray.errors import anthropic_error, anthropic_error_body, as_anthropic_error_body
from anyray.providers.base import Endpoint, ProviderRefusal
from anyray.routing import UnknownModel
from anyray.server.gateway.body import BadJSON, BodyTooLarge, parse_object, read_body
from anyray.server.gateway.call import Call
from anyray.server.gateway.gateway import RESULT_HEADER, Gateway
from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.metadata import MetadataError, attribute
from anyray.server.gateway.optimizer_client import OptimizeOutcome
from anyray.server.gateway.passthrough import forward_unchanged
from anyray.server.gateway.pipeline import Opened
from anyray.server.gateway.replay import AnthropicMessageAssembler, anthropic_sse_from_message
from anyray.server.gateway.streaming import AnswerThen, RelayResponse, let_go
from anyray.server.gateway.upstream import read_whole
from anyray.server.gateway.usage import AnthropicStreamUsage

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
        return request.app.state.gateway.refused("anthropic", "unknown_method", anthropic_error(
            404, f"unknown Vertex method {request.path_params['model_verb']!r}"))
    return await _handle(request, Endpoint.MESSAGES, model=model, stream=_VERTEX_VERBS[verb])


async def _handle(
    request: Request, endpoint: Endpoint, *, model: str | None = None, stream: bool | None = None
) -> Response:
    gateway: Gateway = request.app.state.gateway
    call = Call("anthropic", "/v1/messages" if endpoint is Endpoint.MESSAGES else "/v1/messages/count_tokens")
    headers = headers_of(request.scope)
    try:
        raw = await read_body(request, gateway.config.gateway.max_body_bytes)
        payload = parse_object(raw, gateway.config.gateway.limits.max_json_depth)
    except BodyTooLarge as exc:
        return gateway.refused("anthropic", "body_too_large", anthropic_error(413, str(exc)))
    except BadJSON as exc:
        return gateway.refused("anthropic", "invalid_json", anthropic_error(400, str(exc)))
    if model is not None:  # Vertex-shaped: the model and the streaming flag come from the URL
        payload["model"] = model
        payload["stream"] = stream
        raw = None
    if problem := _validate(payload, endpoint):
        return gateway.refused("anthropic", "invalid_request", anthropic_error(400, problem))
    try:  # who pays: x-anyray-metadata, Claude Code's session id; a gateway key's team (future) wins
        call.metadata = attribute(headers, payload, getattr(request.state, "key_team", None)).as_dict()
    except MetadataError as exc:
        return gateway.refused("anthropic", "invalid_metadata", anthropic_error(400, str(exc)))
    call.model_asked = payload["model"]
    call.stream = bool(payload.get("stream"))
    try:
        route = call.route = gateway.router.resolve(payload["model"])
    except UnknownModel as exc:
        return gateway.refused("anthropic", "unknown_model", anthropic_error(404, f"model: {exc}"))

    outcome = None
    if endpoint is Endpoint.MESSAGES:
        outcome = await gateway.optimize(call, payload, route, headers)
        hit = outcome is not None and outcome.cached_response is not None
        if hit and (answer := _cached_answer(gateway, call, outcome)) is not None:  # type: ignore[arg-type]
            return answer
        if outcome is not None and outcome.changed:
            payload, raw = outcome.request, None

    if not await gateway.slots.take(request.scope):
        return gateway.busy(request)
    try:
        result = await gateway.forwarder.send(endpoint, payload, route, headers, raw)
    except ProviderRefusal as exc:
        return gateway.refused("anthropic", "provider_refusal", anthropic_error(exc.status, exc.message))
    if not isinstance(result, Opened):
        call.finish(result.status)
        gateway.completed(call)
        body = as_anthropic_error_body(result.status, result.body, result.provider)
        headers = {**result.headers(), **_result_header(call)}
        return Response(body, result.status, headers=headers, media_type="application/json")
    call.target, call.upstream_model = result.target, result.request.model
    return await _relay(gateway, call, result, outcome, payload)


def _result_header(call: Call) -> dict[str, str]:
    return {RESULT_HEADER: orjson.dumps(call.optimization).decode()} if call.optimization else {}


def _response_headers(opened: Opened, call: Call) -> dict[str, str]:
    upstream = opened.response.headers
    headers = {k: upstream[k] for k in _PASSED_RESPONSE_HEADERS if k in upstream}
    headers["x-anyray-provider"] = opened.target.provider
    headers["x-anyray-model"] = opened.request.model
    headers.update(_result_header(call))
    return headers


def _cached_answer(gateway: Gateway, call: Call, outcome: OptimizeOutcome) -> Response | None:
    """Answer from the optimizer's cache without touching the upstream, as JSON or as the API's SSE."""
    cached = outcome.cached_response
    if not (isinstance(cached, dict) and cached.get("type") == "message" and isinstance(cached.get("content"), list)):
        if gateway.optimizer is not None:
            gateway.optimizer.fail_open["invalid_cached_response"] += 1
        call.optimization["status"] = "fail_open"
        return None
    # A new id, and usage that says what this answer cost: nothing.
    message = {**cached, "id": f"msg_anyray_{uuid.uuid4().hex[:24]}",
               "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                         "cache_read_input_tokens": 0}}
    call.cache_hit = True
    call.upstream_model = str(cached.get("model", ""))
    call.first_byte()
    call.finish(200)
    gateway.completed(call)
    headers = {"x-anyray-cache": "hit", **_result_header(call)}
    if call.stream:
        return Response(anthropic_sse_from_message(message), 200, headers=headers, media_type="text/event-stream")
    return Response(orjson.dumps(message), 200, headers=headers, media_type="application/json")


async def _relay(
    gateway: Gateway, call: Call, opened: Opened, outcome: OptimizeOutcome | None, payload: dict[str, Any]
) -> Response:
    response = opened.response
    content_type = response.headers.get("content-type", "application/json")
    if not content_type.startswith("text/event-stream"):
        body, answer = await read_whole(response)
        call.first_byte()
        if isinstance(answer, dict):
            call.usage.update(answer.get("usage"))
        call.finish(response.status)

        def then() -> None:
            gateway.completed(call)
            gateway.after_answer(call, outcome, payload, answer if isinstance(answer, dict) else None)

        return AnswerThen(body, response.status, headers=_response_headers(opened, call), media_type=content_type,
                          then=then)
    return RelayResponse(
        _stream(response, gateway=gateway, call=call, outcome=outcome, payload=payload),
        response.status,
        headers=_response_headers(opened, call),
        media_type=content_type,
        on_end=let_go(response, gateway, call),
    )


def _cut_event() -> bytes:
    """Anthropic's own mid-stream error: the SDKs raise it as an APIStatusError with this message."""
    error = orjson.loads(anthropic_error_body(502, "upstream stream ended before the message was complete"))
    return b"event: error\ndata: " + orjson.dumps(error) + b"\n\n"


async def _stream(  # type: ignore[no-untyped-def]
    response: UpstreamResponse,
    sse: bool = True,
    gateway: Gateway | None = None,
    call: Call | None = None,
    outcome: OptimizeOutcome | None = None,
    payload: dict[str, Any] | None = None,
):
    """Each chunk goes to the client the moment it arrives; a cut SSE stream ends with an error event."""
    tap = AnthropicStreamUsage(call.usage) if call is not None else None
    # Assembling the whole answer costs a parse per event: only when the optimizer will cache it.
    assembler = AnthropicMessageAssembler() if outcome is not None and outcome.cache_key else None
    done = cut = False
    try:
        async for chunk in response.iter_chunks():
            if tap is not None:
                call.first_byte()  # type: ignore[union-attr]
                tap.feed(chunk)
            if assembler is not None:
                assembler.feed(chunk)
            yield chunk
        done = True
        if tap is not None and not tap.complete:  # the upstream closed cleanly, but mid-message
            cut = True
            if not tap.errored:  # an upstream error event already told the client
                log.warning("upstream stream ended before message_stop")
                yield _cut_event()
    except (UpstreamError, TimeoutError) as exc:
        log.warning("upstream stream ended early: %s", type(exc).__name__)
        cut = True
        if sse:
            yield _cut_event()
    finally:
        if done:
            response.release()
        else:  # client went away or upstream broke: drop the connection so the upstream stops generating
            response.close()
        if gateway is not None and call is not None:
            call.partial = not (tap is not None and tap.complete)
            # 499: the client went away mid-stream (nginx's convention); 502: the upstream cut it
            # a client may hang up right after message_stop, before the upstream closes: still a success
            finished = (done and not cut) or (tap is not None and tap.complete)
            call.finish(response.status if finished else 502 if cut else 499)
            gateway.completed(call)
            whole = assembler.message if assembler is not None and not assembler.broken else None
            gateway.after_answer(call, outcome, payload or {}, whole)


async def proxy(request: Request) -> Response:
    """Any other Anthropic path (models, batches, files): forwarded unchanged when a key is configured."""
    gateway: Gateway = request.app.state.gateway
    provider = gateway.providers.get("anthropic")
    if provider is None or not provider.readiness().ready:
        return anthropic_error(
            404, f"{request.url.path} is only served when the Anthropic provider is configured on the gateway"
        )
    return await forward_unchanged(
        request, gateway, provider, anthropic_error,
        lambda response, content_type: _stream(response, sse=content_type.startswith("text/event-stream")),
        _PASSED_RESPONSE_HEADERS,
    )
