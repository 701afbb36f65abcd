"""The Anthropic API's other paths when no provider proxies them (a Vertex-only gateway, the README's
main setup): `GET /v1/models` answered from the route table in Anthropic's list shape, and the paths
Vertex has no counterpart for refused with why, never a bare 404.

A route table holds globs (`claude-*`); the list names what a glob can serve as the models the price
table knows for that route's provider, so `client.models.list()` shows the Claude models a user can ask
for. Exact entries of the map come first, in its order.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anyray.routing import UnknownModel
from anyray.server.gateway.dialects import ANTHROPIC
from anyray.server.gateway.gateway import Gateway

_EPOCH = "1970-01-01T00:00:00Z"  # the route table has no release dates


def _entry(model_id: str) -> dict[str, Any]:
    return {"type": "model", "id": model_id, "display_name": model_id, "created_at": _EPOCH}


def configured_models(gateway: Gateway) -> list[str]:
    """Every model id a client may ask for: the map's exact ids, then the priced models a glob of it sends to
    the provider they are priced for."""
    out = [p for p in gateway.router.patterns if not any(c in p for c in "*?[")]
    globs = [p for p in gateway.router.patterns if p not in out]
    for provider, model in gateway.spend.prices.models():
        if model in out or not any(fnmatch.fnmatchcase(model, g) for g in globs):
            continue
        try:
            if gateway.router.resolve(model).primary.provider == provider:
                out.append(model)
        except UnknownModel:
            continue
    return out


def models(request: Request) -> Response:
    """`GET /v1/models` and `GET /v1/models/{id}`, Anthropic's shapes, from the route table."""
    gateway: Gateway = request.app.state.gateway
    asked = request.url.path.removeprefix("/v1/models").strip("/")
    if asked:
        try:
            gateway.router.resolve(asked)
        except UnknownModel as exc:
            return ANTHROPIC.error(404, str(exc))
        return JSONResponse(_entry(asked))
    data = [_entry(m) for m in configured_models(gateway)]
    return JSONResponse({"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                         "last_id": data[-1]["id"] if data else None})


def not_proxied(request: Request) -> Response:
    """A path only the Anthropic API itself serves, on a gateway that reaches Claude some other way."""
    path = request.url.path
    if path.startswith("/v1/messages/batches"):
        why = ("message batches are served by the Anthropic API only; this gateway reaches Claude through a "
               "provider without them (Vertex AI runs batch jobs as batch prediction, a different API)")
    elif path.startswith("/v1/files"):
        why = "the Files API is served by the Anthropic API only, and this gateway reaches Claude some other way"
    else:
        why = "this gateway has no Anthropic API provider to forward it to"
    return ANTHROPIC.error(404, f"{path} is not available here: {why}. Configure the Anthropic provider "
                                "(ANTHROPIC_API_KEY where the gateway runs) to serve it")
