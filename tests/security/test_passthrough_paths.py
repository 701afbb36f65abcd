"""Proxied paths (`/v1/...` the gateway does not model) go upstream signed with the gateway's key: a path
that could name something else upstream (`..`, `%2e%2e`, `%2f`, double encoding, NUL) is refused with a 400
in the caller's dialect and never leaves the gateway (issue 22, item 6)."""

from __future__ import annotations

import orjson
import pytest

from tests.kit.server import ServerThread, answer_lifespan, whole_body
from tests.security.wire import Answers, connect

OPENAI_KEY = "sk-proj-gateway-upstream-key-000000000000"
ANTHROPIC_KEY = "sk-ant-api03-gateway-upstream-key-0000000000"

ATTACKS = [
    b"/v1/../admin",
    b"/v1/files/../../organization/api_keys",
    b"/v1/%2e%2e/admin",
    b"/v1/files/%2E%2E/%2e%2e/admin",
    b"/v1/files/..%2fadmin",
    b"/v1/files/a%2Fb",
    b"/v1/files/a%5cb",
    b"/v1/files/%00",
    b"/v1/files/file-1%00.json",
    b"/v1/files/%252e%252e/admin",
    b"/v1/./files",
    b"/v1//files",
]


@pytest.fixture
def upstream():
    seen: list[bytes] = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return await answer_lifespan(receive, send)
        await whole_body(receive)
        seen.append(scope["raw_path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})

    with ServerThread(app) as server:
        server.seen = seen  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def gateway_to(upstream, start_gateway):
    return start_gateway({
        "providers": {"openai": {"base_url": f"{upstream.url}/v1", "api_key": OPENAI_KEY},
                      "anthropic": {"base_url": upstream.url, "api_key": ANTHROPIC_KEY}},
        "store": {"enabled": False},
    })


def _ask(gateway, target: bytes, anthropic: bool) -> tuple[int, dict]:
    dialect = b"anthropic-version: 2023-06-01\r\n" if anthropic else b""
    with connect(gateway.server) as sock:
        sock.sendall(b"GET %s HTTP/1.1\r\nhost: x\r\n%s\r\n" % (target, dialect))
        [(status, _, body)] = Answers(sock).read()
    return status, orjson.loads(body) if body else {}


@pytest.mark.parametrize("target", ATTACKS, ids=[a.decode() for a in ATTACKS])
def test_a_path_that_could_escape_upstream_is_refused_in_the_callers_dialect(gateway_to, upstream, target):
    status, body = _ask(gateway_to, target, anthropic=False)
    assert status == 400 and "message" in body["error"] and "type" not in body  # OpenAI's shape
    status, body = _ask(gateway_to, target, anthropic=True)
    assert status == 400 and body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert upstream.seen == [], "nothing reached the upstream"


def test_an_ordinary_proxied_path_still_goes_through(gateway_to, upstream):
    assert _ask(gateway_to, b"/v1/files/file-abc123/content?limit=2", anthropic=False) == (200, {"ok": True})
    assert _ask(gateway_to, b"/v1/messages/batches/msgbatch_01/results", anthropic=True) == (200, {"ok": True})
    assert upstream.seen == [b"/v1/files/file-abc123/content", b"/v1/messages/batches/msgbatch_01/results"]
