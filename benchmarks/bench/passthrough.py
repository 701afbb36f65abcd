"""The floor: a bare Starlette app relaying POSTs to the upstream with one pooled aiohttp session.

No auth, routing, optimizer, spend, metrics or error shaping: what any Python gateway built on
Starlette + aiohttp pays at least, served the way `anyray up` serves (uvicorn, httptools, uvloop, no
access log). `anyray bench --passthrough` drives it beside anyray so the gap is anyray's own work.

    python -m benchmarks.bench.passthrough --upstream http://127.0.0.1:9999 --port 8790
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

_FORWARDED = ("content-type", "anthropic-version", "anthropic-beta")


def create_app(upstream: str) -> Starlette:
    session: aiohttp.ClientSession | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal session
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await session.close()

    async def relay(request: Request) -> Response:
        assert session is not None
        body = await request.body()
        headers = {k: v for k in _FORWARDED if (v := request.headers.get(k))}
        resp = await session.post(upstream + request.url.path, data=body, headers=headers)
        content_type = resp.headers.get("content-type", "application/json")
        if content_type.startswith("text/event-stream"):
            async def chunks() -> AsyncIterator[bytes]:
                try:
                    async for chunk in resp.content.iter_any():
                        yield chunk
                finally:
                    resp.release()

            return StreamingResponse(chunks(), resp.status, media_type=content_type)
        data = await resp.read()
        resp.release()
        return Response(data, resp.status, media_type=content_type)

    return Starlette(routes=[Route("/v1/{path:path}", relay, methods=["POST"])], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench.passthrough", description=__doc__)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.upstream.rstrip("/")), host=args.host, port=args.port, log_level="warning",
                http="httptools", loop="uvloop", access_log=False)


if __name__ == "__main__":
    main()
