"""The optimizer's HTTP face (:8088): a hook backend that decides and never forwards traffic.

Two tokens guard it, both from the environment: the service token (`ANYRAY_OPTIMIZER_TOKEN`) that callers
present as `authorization: Bearer`, and the admin token (`ANYRAY_OPTIMIZER_ADMIN_TOKEN`) for settings and
purges. With no admin token configured the admin API is closed, not open.

`anyray up` generates a service token for each run and the rendered deployments always set one. Without one
(`anyray serve optimizer` with nothing set) the optimizer serves on loopback only (`loopback_only`, read by
server/runner.py) and trusts no HTTP caller with its cache: `/v1/cache` is refused, and `/v1/optimize` neither
reads the cache nor hands out a key to write under. Nothing that reaches the port can then tell it what
another caller is answered. The gateway it serves in-process under `anyray up` calls the engine directly,
not over HTTP, so that is how the optimizer tells the gateway's writes from anyone else's without a token.
"""

from __future__ import annotations

import contextlib
import hmac
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from anyray.logs import install_redaction
from anyray.server.optimizer.engine import PROTOCOL_VERSION, Optimizer, ProtocolError
from anyray.server.optimizer.settings import SettingsInvalid

SERVICE_TOKEN_ENV = "ANYRAY_OPTIMIZER_TOKEN"
ADMIN_TOKEN_ENV = "ANYRAY_OPTIMIZER_ADMIN_TOKEN"
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def _error(field: str, message: str, status: int) -> Response:
    return _json({"error": {"field": field, "message": message}}, status)


def _bearer_ok(request: Request, expected: str | None) -> bool:
    if not expected:
        return True
    given = request.headers.get("authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), expected.encode())


def create_optimizer_app(
    optimizer: Optimizer | None = None, service_token: str | None = None, admin_token: str | None = None
) -> Starlette:
    install_redaction()  # no credential in any log line of this process (anyray.logs)
    engine = optimizer or Optimizer()
    service_token = service_token if service_token is not None else os.environ.get(SERVICE_TOKEN_ENV) or None
    admin_token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV) or None

    async def health(_: Request) -> Response:
        return _json({"status": "ok", "protocolVersion": PROTOCOL_VERSION, "worker": engine.worker.status()})

    async def capabilities(request: Request) -> Response:
        if not _bearer_ok(request, service_token):
            return _error("authorization", "a valid service token is required", 401)
        return _json(engine.capabilities())

    def protocol(
        method: Handler, admin: bool = False, untrusted: Callable[[Any], Any] | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """`untrusted`: what a message becomes when no service token authenticates its sender."""

        async def handle(request: Request) -> Response:
            if admin and not admin_token:
                return _error("authorization", f"the admin API is closed: set {ADMIN_TOKEN_ENV}", 403)
            if not _bearer_ok(request, admin_token if admin else service_token):
                return _error("authorization", "a valid bearer token is required", 401)
            try:
                message = orjson.loads(await request.body()) if request.method != "GET" else {}
                if untrusted is not None and not service_token:
                    message = untrusted(message)
                return _json(await method(message))
            except orjson.JSONDecodeError as exc:
                return _error("<body>", f"malformed JSON: {exc}", 400)
            except (ProtocolError, SettingsInvalid) as exc:
                return _error(exc.field, str(exc), getattr(exc, "status", 400))

        return handle

    async def refuse_write(_: dict[str, Any]) -> dict[str, Any]:
        raise ProtocolError("authorization", f"cache writes over HTTP need the service token ({SERVICE_TOKEN_ENV}):"
                            " without it no caller can be told from any other", status=403)

    async def cache_stats(_: dict[str, Any]) -> dict[str, Any]:
        return await engine.cache_stats()

    async def get_settings(_: dict[str, Any]) -> dict[str, Any]:
        return engine.get_settings()

    async def put_settings(message: dict[str, Any]) -> dict[str, Any]:
        return await engine.put_settings(message)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await engine.start()
        try:
            yield
        finally:
            await engine.close()

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/v1/capabilities", capabilities, methods=["GET"]),
        Route("/v1/optimize", protocol(engine.optimize, untrusted=_without_cache), methods=["POST"]),
        Route("/v1/optimize-response", protocol(engine.optimize_response), methods=["POST"]),
        Route("/v1/cache", protocol(engine.cache_write if service_token else refuse_write), methods=["POST"]),
        Route("/v1/cache/stats", protocol(cache_stats), methods=["GET"]),
        Route("/v1/cache/purge", protocol(engine.cache_purge, admin=True), methods=["POST"]),
        Route("/v1/retrieve", protocol(engine.retrieve), methods=["POST"]),
        Route("/admin/optimizer/settings", protocol(get_settings, admin=True), methods=["GET"]),
        Route("/admin/optimizer/settings", protocol(put_settings, admin=True), methods=["PUT"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.optimizer = engine
    app.state.loopback_only = not service_token  # server/runner.py listens on 127.0.0.1 then, whatever the host
    return app


def _without_cache(message: Any) -> Any:
    """An OptimizeRequest from a sender no token vouches for: optimized, but it may not short-circuit (no cache
    read, no key to write under) and its claim of an authenticated team is dropped."""
    if isinstance(message, dict):
        message = {k: v for k, v in message.items() if k != "authenticatedTeam"}
        if message.get("canShortCircuit"):
            message["canShortCircuit"] = False
    return message
