"""The model-call routes: each names its dialect and endpoint and hands over to the one pipeline.

`POST /v1/messages`, `/v1/messages/count_tokens` and the Vertex-shaped paths are the Anthropic dialect;
`POST /v1/chat/completions` the OpenAI one. Other Anthropic paths (batches, files, models for an
Anthropic client) are forwarded unchanged; the OpenAI dialect's other paths live in openai_proxy.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anyray.providers.base import Endpoint
from anyray.server.gateway import anthropic_models
from anyray.server.gateway.body import BadJSON, BodyTooLarge, parse_object, read_body
from anyray.server.gateway.dialects import ANTHROPIC, OPENAI
from anyray.server.gateway.dialects.anthropic import PASSED_HEADERS, cut_event_for
from anyray.server.gateway.gateway import Gateway
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.limits import dialect_error
from anyray.server.gateway.metadata import MetadataError, attribute
from anyray.server.gateway.model_call import serve
from anyray.server.gateway.passthrough import forward_unchanged
from anyray.server.gateway.retrieve.tool import select

_VERTEX_VERBS = {"rawPredict": False, "streamRawPredict": True}


async def messages(request: Request) -> Response:
    return await serve(request, ANTHROPIC, Endpoint.MESSAGES)


async def count_tokens(request: Request) -> Response:
    return await serve(request, ANTHROPIC, Endpoint.COUNT_TOKENS)


async def chat_completions(request: Request) -> Response:
    return await serve(request, OPENAI, Endpoint.CHAT_COMPLETIONS)


async def vertex_in(request: Request) -> Response:
    """Clients run with CLAUDE_CODE_USE_VERTEX=1 and ANTHROPIC_VERTEX_BASE_URL pointed here."""
    model, _, verb = request.path_params["model_verb"].rpartition(":")
    if model == "count-tokens" and verb == "rawPredict":
        return await serve(request, ANTHROPIC, Endpoint.COUNT_TOKENS)
    if not model or verb not in _VERTEX_VERBS:
        return request.app.state.gateway.refused(ANTHROPIC.name, "unknown_method", ANTHROPIC.error(
            404, f"unknown Vertex method {request.path_params['model_verb']!r}"))
    return await serve(request, ANTHROPIC, Endpoint.MESSAGES, model=model, stream=_VERTEX_VERBS[verb])


async def anthropic_proxy(request: Request) -> Response:
    """Any other Anthropic path (models, batches, files): forwarded unchanged when a key is configured."""
    gateway: Gateway = request.app.state.gateway
    provider = gateway.proxy_for(ANTHROPIC.name)
    if provider is None:  # Claude through Vertex only: the models from the route table, the rest refused with why
        path = request.url.path
        if request.method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            return anthropic_models.models(request)
        return anthropic_models.not_proxied(request)
    return await forward_unchanged(
        request, gateway, provider, ANTHROPIC.error,
        cut_event_for, PASSED_HEADERS, dialect=ANTHROPIC.name,
    )


async def retrieve(request: Request) -> Response:
    """`POST /v1/retrieve {"handle", "query"?, "lines"?}`: what the optimizer elided, for the caller's own team
    (its gateway key's, else its x-anyray-metadata team). The same answer the model's retrieve tool gets."""
    gateway: Gateway = request.app.state.gateway
    headers = headers_of(request.scope)

    def refuse(status: int, message: str, code: str) -> Response:
        return dialect_error(request.scope, headers, status, message, code)

    try:
        message = parse_object(await read_body(request, 1 << 16), 8)
        team = attribute(headers, None, getattr(request.state, "key_team", None)).team
    except (BadJSON, BodyTooLarge, MetadataError) as exc:
        return refuse(400, str(exc), "invalid_request")
    handle, query, lines = message.get("handle"), message.get("query"), message.get("lines")
    if not isinstance(handle, str) or not handle or not all(v is None or isinstance(v, str) for v in (query, lines)):
        return refuse(400, 'expected {"handle": "h_...", "query"?: string, "lines"?: "120-159"}', "invalid_request")
    content = await gateway.optimizer.retrieve(handle, team) if gateway.optimizer is not None else None
    if content is None:
        return refuse(404, f"unknown or expired handle {handle[:64]!r} for this team", "not_found")
    text = select(content, query, lines) if query or lines else content
    return JSONResponse({"handle": handle, "content": text}, headers={"cache-control": "no-store"})
