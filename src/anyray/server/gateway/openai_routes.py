"""The OpenAI dialect: /v1/chat/completions (`/v1/models` and the proxied rest: openai_proxy).

A chat request goes where the model map says. To an OpenAI model it is forwarded as the client sent it
(the exact bytes, unless the optimizer changed it) and the answer relayed as it arrives. To a Claude
model (Vertex or Anthropic) it is translated (anyray.translate) both ways, stream chunk by chunk, so
the client only ever sees OpenAI shapes, errors included.

Paths the two dialects share (`/v1/models`, `/v1/files`...) are told apart by headers: the Anthropic
SDKs always send `anthropic-version` (and usually `x-api-key`), the OpenAI SDKs never do.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from anyray.errors_openai import as_openai_error_body, openai_error
from anyray.pricing import fold_openai_usage
from anyray.providers.base import Endpoint, ProviderRefusal
from anyray.routing import Route, UnknownModel
from anyray.server.gateway.body import BadJSON, BodyTooLarge, parse_object, read_body
from anyray.server.gateway.call import Call
from anyray.server.gateway.gateway import RESULT_HEADER, Gateway
from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.metadata import MetadataError, attribute
from anyray.server.gateway.optimizer_client import OptimizeOutcome
from anyray.server.gateway.pipeline import FALLBACK_STATUSES, Opened
from anyray.server.gateway.replay import AnthropicMessageAssembler
from anyray.server.gateway.streaming import AnswerThen, RelayResponse, let_go
from anyray.server.gateway.upstream import UpstreamFailure, read_whole
from anyray.server.gateway.usage import OpenAIStreamTap
from anyray.translate import (
    ChatStreamTranslator,
    Translated,
    TranslationError,
    chat_to_messages,
    completion_to_chunks,
    message_to_completion,
    sse_bytes,
    stream_error,
)

log = logging.getLogger("anyray.gateway.openai")

DROPPED_HEADER = "x-anyray-dropped-params"
DROP_REQUEST_HEADER = "x-anyray-drop-params"
PASSED_OPENAI_HEADERS = (
    "x-request-id",
    "openai-processing-ms",
    "openai-version",
    "openai-organization",
    "retry-after",
    "content-disposition",
)
CLAUDE_PROVIDERS = frozenset({"anthropic", "vertex"})


def anthropic_dialect(headers: Mapping[str, str], path: str) -> bool:
    """Whether a request on a path both APIs have comes from an Anthropic client."""
    return "anthropic-version" in headers or "x-api-key" in headers or path.startswith("/v1/messages")


# ---------------------------------------------------------------------------------------------- validation


def _validate(payload: dict[str, Any]) -> Response | None:
    model = payload.get("model")
    if model is None:
        return openai_error(400, "you must provide a model parameter", param="model", code="missing_required_parameter")
    if not isinstance(model, str) or not model:
        return openai_error(
            400, "Invalid type for 'model': expected a non-empty string.", param="model", code="invalid_type"
        )
    messages = payload.get("messages")
    if messages is None:
        return openai_error(
            400, "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
    if not isinstance(messages, list):
        return openai_error(
            400, "Invalid type for 'messages': expected an array.", param="messages", code="invalid_type"
        )
    if not messages:
        return openai_error(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    if "stream" in payload and payload["stream"] is not None and not isinstance(payload["stream"], bool):
        return openai_error(400, "Invalid type for 'stream': expected a boolean.", param="stream", code="invalid_type")
    return None


# ---------------------------------------------------------------------------------------------- chat


@dataclass(slots=True)
class _Sent:
    """What went upstream for the target that answered, and what the relay needs to answer the client."""

    result: Opened | UpstreamFailure
    translated: Translated | None = None  # set when the answer is Claude's and must be translated back
    hide_usage_chunk: bool = False  # the gateway asked OpenAI for usage the client did not ask for


def _groups(route: Route) -> list[Route]:
    """Consecutive targets of one dialect: each group is one send (translation happens once per group)."""
    groups: list[Route] = []
    for target in route.targets:
        claude = target.provider in CLAUDE_PROVIDERS
        if groups and (groups[-1].targets[0].provider in CLAUDE_PROVIDERS) == claude:
            groups[-1] = Route(route.asked, (*groups[-1].targets, target))
        else:
            groups.append(Route(route.asked, (target,)))
    return groups


async def _send(
    gateway: Gateway,
    payload: dict[str, Any],
    raw: bytes | None,
    route: Route,
    headers: Mapping[str, str],
    drop_params: bool,
) -> _Sent:
    sent: _Sent | None = None
    budget = gateway.forwarder.retry.budget()  # one retry budget for the request, across both dialects
    for group in _groups(route):
        if group.targets[0].provider in CLAUDE_PROVIDERS:
            settings = gateway.config.translate
            translated = chat_to_messages(
                payload, drop_params=drop_params, default_max_tokens=settings.default_max_tokens
            )
            result = await gateway.forwarder.send(Endpoint.MESSAGES, translated.payload, group, headers, None, budget)
            sent = _Sent(result, translated)
        else:
            body, body_raw, hide = payload, raw, False
            options = payload.get("stream_options")
            if payload.get("stream") is True and not (isinstance(options, dict) and options.get("include_usage")):
                # spend records need the usage only the final chunk carries; the client is spared that chunk
                body = {**payload, "stream_options": {**(options or {}), "include_usage": True}}
                body_raw, hide = None, True
            result = await gateway.forwarder.send(Endpoint.CHAT_COMPLETIONS, body, group, headers, body_raw, budget)
            sent = _Sent(result, None, hide)
        if isinstance(result, Opened) or result.status not in FALLBACK_STATUSES:
            return sent
    assert sent is not None, "a route always has at least one target"
    return sent


def _wants_drop(gateway: Gateway, headers: Mapping[str, str]) -> bool:
    asked = headers.get(DROP_REQUEST_HEADER)
    if asked is not None:
        return asked.strip().lower() in ("1", "true", "yes")
    return gateway.config.translate.drop_params


async def chat_completions(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    call = Call("openai", "/v1/chat/completions")
    request_headers = headers_of(request.scope)
    try:
        raw = await read_body(request, gateway.config.gateway.max_body_bytes)
        payload = parse_object(raw, gateway.config.gateway.limits.max_json_depth)
    except BodyTooLarge as exc:
        return gateway.refused("openai", "body_too_large", openai_error(413, str(exc), code="request_too_large"))
    except BadJSON as exc:
        return gateway.refused("openai", "invalid_json", openai_error(400, str(exc), code="invalid_json"))
    if problem := _validate(payload):
        return gateway.refused("openai", "invalid_request", problem)
    try:  # who pays: x-anyray-metadata; a gateway key's team (when keys exist) wins
        call.metadata = attribute(request_headers, payload, getattr(request.state, "key_team", None)).as_dict()
    except MetadataError as exc:
        return gateway.refused("openai", "invalid_metadata",
                               openai_error(400, str(exc), param="x-anyray-metadata", code="invalid_metadata"))
    call.model_asked = payload["model"]
    call.stream = payload.get("stream") is True
    try:
        route = call.route = gateway.router.resolve(payload["model"])
    except UnknownModel as exc:
        return gateway.refused("openai", "unknown_model",
                               openai_error(404, str(exc), param="model", code="model_not_found"))

    outcome = await gateway.optimize(call, payload, route, request_headers)
    hit = outcome is not None and outcome.cached_response is not None
    if hit and (answer := _cached_answer(gateway, call, outcome, payload)) is not None:  # type: ignore[arg-type]
        return answer
    asked = payload
    body_raw: bytes | None = raw
    if outcome is not None and outcome.changed:
        payload, body_raw = outcome.request, None

    if not await gateway.slots.take(request.scope):
        return gateway.busy(request)
    try:
        sent = await _send(gateway, payload, body_raw, route, request_headers,
                           _wants_drop(gateway, request_headers))
    except TranslationError as exc:
        return gateway.refused("openai", "untranslatable",
                               openai_error(400, exc.message, param=exc.param, code=exc.code))
    except ProviderRefusal as exc:
        return gateway.refused("openai", "provider_refusal", openai_error(exc.status, exc.message))
    result = sent.result
    if not isinstance(result, Opened):
        call.finish(result.status)
        gateway.completed(call)
        body = as_openai_error_body(result.status, result.body, result.provider)
        return Response(body, result.status, headers=result.headers(), media_type="application/json")
    call.target, call.upstream_model = result.target, result.request.model
    headers = _response_headers(result, sent.translated)
    if call.optimization:
        headers[RESULT_HEADER] = orjson.dumps(call.optimization).decode()
    post = _PostCall(gateway, call, outcome, asked)
    if sent.translated is not None:
        return await _relay_translated(gateway, call, result, sent.translated, payload["model"], headers, post)
    return await _relay_openai(gateway, call, result, headers, sent.hide_usage_chunk, post)


@dataclass(slots=True)
class _PostCall:
    """After the answer: write it back when the optimizer asked to cache it, and report post-call."""

    gateway: Gateway
    call: Call
    outcome: OptimizeOutcome | None
    request: dict[str, Any]

    @property
    def wants_answer(self) -> bool:
        return self.outcome is not None and self.outcome.cache_key is not None

    def __call__(self, completion: dict[str, Any] | None) -> None:
        self.gateway.after_answer(self.call, self.outcome, self.request, completion)


def _cached_answer(gateway: Gateway, call: Call, outcome: OptimizeOutcome, payload: dict[str, Any]) -> Response | None:
    """A chat.completion from the optimizer's cache, as JSON or as the chunk stream the SDK expects."""
    cached = outcome.cached_response
    if not (isinstance(cached, dict) and cached.get("object") == "chat.completion"
            and isinstance(cached.get("choices"), list)):
        if gateway.optimizer is not None:
            gateway.optimizer.fail_open["invalid_cached_response"] += 1
        call.optimization["status"] = "fail_open"
        return None
    completion = {**cached, "id": f"chatcmpl-anyray-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                  "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
    call.cache_hit = True
    call.upstream_model = str(cached.get("model", ""))
    call.first_byte()
    _finish(gateway, call, 200)
    headers = {"x-anyray-cache": "hit", RESULT_HEADER: orjson.dumps(call.optimization).decode()}
    if call.stream:
        options = payload.get("stream_options")
        include = isinstance(options, dict) and options.get("include_usage") is True
        body = sse_bytes(completion_to_chunks(completion, include_usage=include))
        return Response(body, 200, headers=headers, media_type="text/event-stream")
    return Response(orjson.dumps(completion), 200, headers=headers, media_type="application/json")


def _response_headers(opened: Opened, translated: Translated | None) -> dict[str, str]:
    upstream = opened.response.headers
    headers = {k: upstream[k] for k in PASSED_OPENAI_HEADERS if k in upstream}
    if translated is None:
        headers.update({k: v for k, v in upstream.items() if k.lower().startswith("x-ratelimit-")})
    elif "request-id" in upstream:
        headers["x-request-id"] = upstream["request-id"]
    if translated is not None and translated.dropped:
        headers[DROPPED_HEADER] = ",".join(translated.dropped)
    headers["x-anyray-provider"] = opened.target.provider
    headers["x-anyray-model"] = opened.request.model
    return headers


def _finish(gateway: Gateway, call: Call, status: int) -> None:
    call.finish(status)
    gateway.completed(call)


# ---------------------------------------------------------------------------------------------- relay: Claude


async def _relay_translated(
    gateway: Gateway, call: Call, opened: Opened, translated: Translated, model: str, headers: dict[str, str],
    post: _PostCall,
) -> Response:
    response = opened.response
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        _, message = await read_whole(response)
        call.first_byte()
        if not isinstance(message, dict):
            _finish(gateway, call, 502)
            return openai_error(502, f"{opened.target.provider}: upstream answered with something that is not JSON")
        call.usage.update(message.get("usage"))
        completion = message_to_completion(message, model=model, json_tool=translated.json_tool)
        call.finish(response.status)

        def then() -> None:
            gateway.completed(call)
            post(completion)

        return AnswerThen(orjson.dumps(completion), response.status, headers=headers, media_type="application/json",
                          then=then)
    translator = ChatStreamTranslator(
        model=model, include_usage=translated.include_usage, json_tool=translated.json_tool, created=int(time.time())
    )
    def assemble(message: dict[str, Any]) -> dict[str, Any]:
        return message_to_completion(message, model=model, json_tool=translated.json_tool)

    return RelayResponse(
        _translated_stream(response, translator, gateway, call, post, assemble),
        response.status,
        headers=headers,
        media_type="text/event-stream",
        on_end=let_go(response, gateway, call),
    )


async def _translated_stream(
    response: UpstreamResponse,
    translator: ChatStreamTranslator,
    gateway: Gateway,
    call: Call,
    post: _PostCall,
    assemble: Any,
) -> AsyncIterator[bytes]:
    """Each upstream chunk is translated and sent at once; a cut stream ends with an error the SDK raises."""
    done = cut = False
    # the whole answer is rebuilt (a parse per event) only when the optimizer will cache it
    assembler = AnthropicMessageAssembler() if post.wants_answer else None
    try:
        async for chunk in response.iter_chunks():
            call.first_byte()
            if assembler is not None:
                assembler.feed(chunk)
            if out := translator.feed(chunk):
                yield out
        done = True
        if not translator.complete and not translator.errored:
            cut = True
            yield stream_error("upstream stream ended before the answer was complete")
    except (UpstreamError, TimeoutError) as exc:
        log.warning("upstream stream ended early: %s", type(exc).__name__)
        cut = True
        yield stream_error("upstream stream ended before the answer was complete")
    finally:
        if done:
            response.release()
        else:  # the client went away or the upstream broke: drop the connection so generation stops
            response.close()
        call.usage.update(translator.usage)
        call.partial = not translator.complete
        # a client may hang up right after `data: [DONE]`, before the upstream's last bytes: still a success
        _finish(gateway, call, 502 if cut else response.status if done or translator.complete else 499)
        whole = assembler.message if assembler is not None and not assembler.broken else None
        post(assemble(whole) if whole is not None else None)


# ---------------------------------------------------------------------------------------------- relay: OpenAI


async def _relay_openai(
    gateway: Gateway, call: Call, opened: Opened, headers: dict[str, str], hide_usage_chunk: bool, post: _PostCall
) -> Response:
    response = opened.response
    content_type = response.headers.get("content-type", "application/json")
    if not content_type.startswith("text/event-stream"):
        body, data = await read_whole(response)
        call.first_byte()
        if isinstance(data, dict):
            fold_openai_usage(data.get("usage"), call.usage)
        call.finish(response.status)

        def then() -> None:
            gateway.completed(call)
            post(data if isinstance(data, dict) else None)

        return AnswerThen(body, response.status, headers=headers, media_type=content_type, then=then)
    tap = OpenAIStreamTap(call.usage, hide_usage_chunk)
    return RelayResponse(
        _openai_stream(response, tap, gateway, call, post), response.status, headers=headers, media_type=content_type,
        on_end=let_go(response, gateway, call),
    )


async def _openai_stream(
    response: UpstreamResponse, tap: OpenAIStreamTap, gateway: Gateway, call: Call, post: _PostCall
) -> AsyncIterator[bytes]:
    done = cut = False
    try:
        async for chunk in response.iter_chunks():
            call.first_byte()
            if out := tap.feed(chunk):
                yield out
        if rest := tap.flush():
            yield rest
        done = True
        if not tap.complete:  # the upstream closed cleanly, but before `data: [DONE]`
            cut = True
            if not tap.errored:  # an upstream error event already told the client
                yield stream_error("upstream stream ended before the answer was complete")
    except (UpstreamError, TimeoutError) as exc:
        log.warning("upstream stream ended early: %s", type(exc).__name__)
        cut = True
        yield stream_error("upstream stream ended before the answer was complete")
    finally:
        if done:
            response.release()
        else:
            response.close()
        call.partial = not tap.complete
        _finish(gateway, call, 502 if cut else response.status if done or tap.complete else 499)
        post(None)  # a direct OpenAI stream is reported, not cached (no assembler for OpenAI chunks here)
