"""The gateway's ASGI app (:8787)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from anyray import __version__
from anyray.config import Config
from anyray.console import console_for_gateway
from anyray.logs import install_redaction
from anyray.server.gateway import openai_proxy
from anyray.server.gateway import routes as calls
from anyray.server.gateway.auth import KeyCheck
from anyray.server.gateway.gateway import Gateway
from anyray.server.gateway.hot import Guard, Guarded, HotPaths
from anyray.server.gateway.limits import Limits
from anyray.server.gateway.metrics import CONTENT_TYPE

VERTEX_PATH = "/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model_verb}"


async def root(_: Request) -> Response:
    # Claude Code probes `HEAD /` before its first call; answer it like any health check.
    return JSONResponse({"name": "anyray", "version": __version__, "status": "ok"})


async def healthz(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    providers = {name: p.readiness().ready for name, p in gateway.providers.items()}
    optimizer = gateway.optimizer.status() if gateway.optimizer else {"breaker": "disabled"}
    return JSONResponse({"status": "ok", "version": __version__, "providers": providers, "optimizer": optimizer})


async def selftest(request: Request) -> Response:
    """What `anyray doctor` asks: is the optimizer there, does its protocol match, is fail-open armed."""
    from anyray.server.optimizer.protocol import PROTOCOL_VERSION

    gateway: Gateway = request.app.state.gateway
    if gateway.optimizer is None:
        return JSONResponse({"protocolVersion": PROTOCOL_VERSION, "optimizer": {"reachable": False,
                             "mode": "disabled"}, "failOpen": {"armed": True, "outcome": "optimizer disabled"}})
    return JSONResponse({
        "protocolVersion": PROTOCOL_VERSION,
        "optimizer": await gateway.optimizer.probe(),
        "failOpen": await gateway.optimizer.drill() | {"breaker": gateway.optimizer.breaker.state},
    })


async def metrics(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    return Response(gateway.metrics.render(), media_type=CONTENT_TYPE)


def create_gateway_app(config: Config, gateway: Gateway | None = None, optimizer_token: str | None = None) -> Starlette:
    """`optimizer_token`: the optimizer's service token, accepted from the optimizer on /v1/embeddings of a
    keyed gateway (default: ANYRAY_OPTIMIZER_TOKEN)."""
    install_redaction()  # no credential in any log line of this process (anyray.logs)
    gw = gateway or Gateway(config)
    console = console_for_gateway(gw)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await gw.start()
        try:
            yield
        finally:
            await gw.close()
            await asyncio.to_thread(console.state.console.close)

    routes = [
        Route("/", root, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/_anyray/selftest", selftest, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Mount("/console", app=console),
        Route("/v1/messages", calls.messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", calls.count_tokens, methods=["POST"]),
        Route(VERTEX_PATH, calls.vertex_in, methods=["POST"]),
        Route("/v1/chat/completions", calls.chat_completions, methods=["POST"]),
        Route("/v1/retrieve", calls.retrieve, methods=["POST"]),
        Route("/v1/models", openai_proxy.models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", openai_proxy.model, methods=["GET"]),
        # the rest, split by dialect: Anthropic clients (anthropic-version / x-api-key) to Anthropic, others to OpenAI
        Route("/v1/{path:path}", openai_proxy.proxy, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    optimizer_token = optimizer_token or os.environ.get("ANYRAY_OPTIMIZER_TOKEN") or None
    limits = config.gateway.limits

    # the trace (x-request-id), the limits (an oversized header is refused before anything else reads it), then
    # the key check: one coroutine (hot.py), in front of the model calls and, as middleware, of every /v1/ route
    guard = Guard(
        tracer=gw.tracer,
        limits=Limits(max_header_bytes=limits.max_header_bytes, slots=gw.slots,
                      on_refused=gw.metrics.limit_refused_inc),
        keys=KeyCheck(ring=lambda: gw.keys, on_refused=gw.metrics.auth_refused_inc,
                      optimizer_token=optimizer_token),
    )
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(Guarded, guard=guard)])
    app.state.gateway = gw
    if os.environ.get("ANYRAY_HOT_PATHS", "1") == "0":
        return app
    # the model calls skip Starlette's stack (hot.py); the routes above still serve their other methods
    return HotPaths(app, {"/v1/messages": calls.messages, "/v1/chat/completions": calls.chat_completions},
                    guard)  # type: ignore[return-value]
