"""The OpenAI dialect's other paths: `/v1/models` (the configured models) and everything else, proxied.

Chat completions go through the one model-call pipeline (routes.py). Paths both APIs have are told
apart by headers (dialects.openai.anthropic_dialect): Anthropic clients go to the Anthropic proxy.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anyray.errors_openai import openai_error
from anyray.providers import PROVIDERS
from anyray.routing import UnknownModel
from anyray.server.gateway.body import BodyTooLarge, read_body
from anyray.server.gateway.dialects import OPENAI
from anyray.server.gateway.dialects.openai import PASSED_HEADERS, anthropic_dialect
from anyray.server.gateway.gateway import Gateway
from anyray.server.gateway.h1 import UpstreamError
from anyray.server.gateway.passthrough import forward_unchanged, proxied_call
from anyray.server.gateway.routes import anthropic_proxy

log = logging.getLogger("anyray.gateway.openai")


# ---------------------------------------------------------------------------------------------- models


def _model_entry(model_id: str, owner: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owner}


async def _upstream_models(gateway: Gateway, request: Request) -> list[str]:
    """The OpenAI provider's own list, when one is ready: ids a glob like `gpt-*` sends there."""
    provider = gateway.proxy_for(OPENAI.name)
    if provider is None:
        return []
    upstream = provider.passthrough("GET", "/v1/models", "", request.headers, b"")
    assert upstream is not None
    upstream.stream = False
    try:
        response = await gateway.forwarder.client.open(upstream)
        try:
            body = await response.read()
        finally:
            response.release()
        data = orjson.loads(body) if response.status == 200 else None
    except (UpstreamError, TimeoutError, orjson.JSONDecodeError) as exc:
        log.info("could not list the OpenAI provider's models: %s", type(exc).__name__)
        return []
    items = data.get("data") if isinstance(data, dict) else None
    return [m["id"] for m in items or () if isinstance(m, dict) and isinstance(m.get("id"), str)]


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


async def models(request: Request) -> Response:
    """`GET /v1/models`: the configured models, in OpenAI's list shape (Anthropic clients are proxied)."""
    if anthropic_dialect(request.headers, request.url.path):
        return await anthropic_proxy(request)
    gateway: Gateway = request.app.state.gateway
    data, seen = [], set()
    candidates = [p for p in gateway.router.patterns if not _is_glob(p)]
    candidates += await _upstream_models(gateway, request)
    for model_id in candidates:
        if model_id in seen:
            continue
        try:
            route = gateway.router.resolve(model_id)
        except UnknownModel:
            continue
        seen.add(model_id)
        data.append(_model_entry(model_id, route.primary.provider))
    return JSONResponse({"object": "list", "data": data})


async def model(request: Request) -> Response:
    """`GET /v1/models/{id}`: one configured model, or OpenAI's 404."""
    if anthropic_dialect(request.headers, request.url.path):
        return await anthropic_proxy(request)
    gateway: Gateway = request.app.state.gateway
    model_id = request.path_params["model_id"]
    try:
        route = gateway.router.resolve(model_id)
    except UnknownModel as exc:
        return openai_error(404, str(exc), param="model", code="model_not_found")
    return JSONResponse(_model_entry(model_id, route.primary.provider))


# ---------------------------------------------------------------------------------------------- the rest


async def proxy(request: Request) -> Response:
    """Every other `/v1/...` path: Anthropic clients to Anthropic, the rest unchanged to OpenAI."""
    if anthropic_dialect(request.headers, request.url.path):
        return await anthropic_proxy(request)
    gateway: Gateway = request.app.state.gateway
    raw = None
    if request.method == "POST" and request.url.path == "/v1/responses":
        try:
            raw = await read_body(request, gateway.config.gateway.max_body_bytes)
        except BodyTooLarge as exc:
            return gateway.refused(OPENAI.name, "body_too_large", openai_error(413, str(exc)),
                                   proxied_call(request, OPENAI.name, None))
        refusal = _not_openai(gateway, raw)
        if refusal is not None:
            return gateway.refused(OPENAI.name, "untranslatable", refusal, proxied_call(request, OPENAI.name, raw))
    provider = gateway.proxy_for(OPENAI.name)
    if provider is None:
        return gateway.refused(OPENAI.name, "no_provider", openai_error(
            404, f"{request.url.path} is only served when the OpenAI provider is configured on the gateway "
            f"({_setup_hints(gateway, OPENAI.name)})", code="unknown_url"), proxied_call(request, OPENAI.name, raw))
    return await forward_unchanged(
        request, gateway, provider, _refuse, lambda _: None, PASSED_HEADERS,
        passed_prefix="x-ratelimit-", raw=raw, dialect=OPENAI.name,
    )


def _not_openai(gateway: Gateway, raw: bytes) -> Response | None:
    """A Responses API call for a model the route table sends to a provider of another API (Claude): refused
    with what to call instead, never sent to OpenAI under a Claude model's name."""
    try:
        body = orjson.loads(raw)
        route = gateway.router.resolve(body["model"]) if isinstance(body, dict) else None
    except (orjson.JSONDecodeError, KeyError, TypeError, UnknownModel):
        return None  # the upstream answers what it cannot read, as before
    if route is None or gateway.speaks.get(route.primary.key) == OPENAI.name:
        return None
    return openai_error(
        400, f"model {body['model']!r} is routed to {route.primary.provider}, which does not serve the Responses API, "
        "and anyray translates only Chat Completions to Claude: call /v1/chat/completions with this model",
        param="model", code="model_not_supported")


def _setup_hints(gateway: Gateway, wire: str) -> str:
    return "; ".join(cls.setup_hint(cls.settings_of(gateway.config))
                     for cls in PROVIDERS.values() if cls.speaks == wire)


def _refuse(status: int, message: str) -> Response:
    return openai_error(status, message, code="request_too_large" if status == 413 else None)
