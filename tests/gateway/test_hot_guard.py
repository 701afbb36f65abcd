"""The `/v1/` guard answers alike on the hot paths (one coroutine, server/gateway/hot.py) and on the routes
behind Starlette's router (the same guard as middleware): the same refusals, bytes for bytes, the same
x-request-id, the same counts, and the slot given back on every path, an exception's too."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from anyray.server.gateway.auth import KeyCheck
from anyray.server.gateway.hot import Guard, Guarded, HotPaths

GOOD = "good-key"


class _Key:
    id, team, active, revoked_ms, expired, expires_ms = "k1", "search", True, None, False, None


class _Ring:
    required, ready = True, True

    def find(self, presented: str | None) -> _Key | None:
        return _Key() if presented == GOOD else None


class _Slots:
    """Takes a slot as the pipeline does (scope state), and counts what is given back."""

    def __init__(self) -> None:
        self.given = 0

    def give(self, scope: dict[str, Any]) -> None:
        if scope.get("state", {}).pop("anyray_upstream_slot", False):
            self.given += 1


class _Limits:
    def __init__(self, slots: _Slots, refused: list[str]) -> None:
        from anyray.server.gateway.limits import Limits

        self._limits = Limits(max_header_bytes=300, slots=slots, on_refused=refused.append)  # type: ignore[arg-type]
        self.slots = slots
        self.refusal = self._limits.refusal


def _app(hot: bool) -> tuple[Any, list[str], _Slots]:
    refused: list[str] = []
    slots = _Slots()

    async def messages(request: Request) -> Response:
        request.scope["state"]["anyray_upstream_slot"] = True  # a slot taken before the upstream call
        if request.headers.get("x-explode"):
            raise RuntimeError("a bug")
        return JSONResponse({"team": request.state.key_team})

    guard = Guard(tracer=None, limits=_Limits(slots, refused),  # type: ignore[arg-type]
                  keys=KeyCheck(ring=lambda: _Ring(), on_refused=refused.append))  # type: ignore[arg-type, return-value]
    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])],
                    middleware=[Middleware(Guarded, guard=guard)])
    return (HotPaths(app, {"/v1/messages": messages}, guard) if hot else app), refused, slots


def _call(app: Any, headers: dict[str, str]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/messages", "raw_path": b"/v1/messages",
             "root_path": "", "query_string": b"", "server": ("127.0.0.1", 1), "client": ("127.0.0.1", 2),
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()], "state": {}}

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except RuntimeError:
            sent.append({"type": "raised"})

    asyncio.run(run())
    if sent[-1]["type"] == "raised":
        return -1, [], b""
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], list(sent[0]["headers"]), re.sub(rb"req_anyray_[0-9a-f]+", b"req_anyray_<id>", body)


ANTHROPIC = {"anthropic-version": "2023-06-01"}


@pytest.mark.parametrize("headers", [
    {**ANTHROPIC},  # no key: 401 in Anthropic's shape
    {},  # no key, an OpenAI caller: its shape
    {**ANTHROPIC, "x-api-key": "wrong"},
    {**ANTHROPIC, "x-api-key": GOOD, "x-big": "x" * 400},  # over the header limit: 431, before the key check
    {**ANTHROPIC, "x-api-key": GOOD},  # let through
    {**ANTHROPIC, "x-api-key": GOOD, "x-request-id": "req-1"},  # echoed
    {**ANTHROPIC, "x-api-key": "wrong", "x-request-id": "req-2"},  # echoed on a refusal too
    {**ANTHROPIC, "x-api-key": GOOD, "x-request-id": "bad id"},  # not well formed: not echoed
])
def test_the_hot_path_and_the_router_answer_the_same_bytes(headers):
    hot, hot_refused, hot_slots = _app(hot=True)
    routed, routed_refused, routed_slots = _app(hot=False)
    assert _call(hot, headers) == _call(routed, headers)
    assert hot_refused == routed_refused
    assert hot_slots.given == routed_slots.given


def test_the_slot_is_given_back_when_the_handler_fails():
    hot, _, slots = _app(hot=True)
    status, _, body = _call(hot, {**ANTHROPIC, "x-api-key": GOOD, "x-explode": "1"})
    assert status == 500 and b"the gateway failed on this request" in body  # the hot path answers in dialect
    assert slots.given == 1
    routed, _, slots = _app(hot=False)
    _call(routed, {**ANTHROPIC, "x-api-key": GOOD, "x-explode": "1"})  # Starlette's own error middleware
    assert slots.given == 1


def test_an_asgi_server_that_guesses_the_interface_sees_asgi3():
    """HotPaths and Guarded hand back the coroutine instead of being coroutine functions (no frame of their own);
    uvicorn's "auto" interface must still take them for ASGI 3 (the tests' servers run the gateway on it)."""
    import uvicorn

    hot, _, _ = _app(hot=True)
    for candidate in (hot, Guarded(hot.app, hot.guard)):
        config = uvicorn.Config(candidate, lifespan="off")
        config.load()
        assert config.interface == "asgi3", candidate
