"""The optimizer's HTTP face (:8088): a hook backend that decides and never forwards traffic."""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from anyray.server.optimizer.engine import PROTOCOL_VERSION, Optimizer, ProtocolError


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def create_optimizer_app(optimizer: Optimizer | None = None) -> Starlette:
    engine = optimizer or Optimizer()

    async def health(_: Request) -> Response:
        return _json({"status": "ok", "protocolVersion": PROTOCOL_VERSION})

    async def capabilities(_: Request) -> Response:
        return _json(engine.capabilities())

    def _handler(method):  # type: ignore[no-untyped-def]
        async def handle(request: Request) -> Response:
            try:
                message = orjson.loads(await request.body())
                return _json(await method(message))
            except orjson.JSONDecodeError as exc:
                return _json({"error": {"field": "<body>", "message": f"malformed JSON: {exc}"}}, 400)
            except ProtocolError as exc:
                return _json({"error": {"field": exc.field, "message": str(exc)}}, 400)

        return handle

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/v1/capabilities", capabilities, methods=["GET"]),
        Route("/v1/optimize", _handler(engine.optimize), methods=["POST"]),
        Route("/v1/optimize-response", _handler(engine.optimize_response), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.optimizer = engine
    return app
