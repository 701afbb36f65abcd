"""The server's X-Forwarded-* handling (server/http11/forwarded.py) does what uvicorn's ProxyHeadersMiddleware,
which it replaced when uvicorn left the core install, does: same client and scheme for every input here."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from anyray.server.http11.forwarded import ForwardedHeaders

TRUSTED = ["127.0.0.1", "*", ["*"], "10.0.0.0/8, 192.168.1.1", "::1, fd00::/8", "unix:/run/proxy.sock, 10.0.0.1",
           "not-an-ip/99, 10.0.0.1", ""]
PEERS = [("127.0.0.1", 5000), ("10.1.2.3", 5000), ("192.168.1.1", 1), ("::1", 2), ("fd00::5", 3), ("8.8.8.8", 4),
         ("unix:/run/proxy.sock", 0), None]
HEADERS = [
    [],
    [(b"x-forwarded-for", b"1.2.3.4")],
    [(b"x-forwarded-for", b"1.2.3.4, 10.0.0.7"), (b"x-forwarded-proto", b"https")],
    [(b"x-forwarded-for", b"1.2.3.4:8080"), (b"x-forwarded-proto", b" wss ")],
    [(b"x-forwarded-for", b"[2001:db8::1]:443, 127.0.0.1")],
    [(b"x-forwarded-for", b"[2001:db8::1]"), (b"x-forwarded-for", b"10.9.9.9")],
    [(b"x-forwarded-for", b"[2001:db8::1]x"), (b"x-forwarded-proto", b"gopher")],
    [(b"x-forwarded-for", b"10.0.0.1, 10.0.0.2")],
    [(b"x-forwarded-for", b"")],
    [(b"x-forwarded-for", b"2001:db8::2, host:port:x, a:b")],
    [(b"x-forwarded-for", b"  , 5.6.7.8 ,")],
    [(b"x-forwarded-proto", b"http")],
]


def outcome(middleware: type, trusted: str | list[str], scope_type: str, peer, headers) -> tuple:
    seen: dict = {}

    async def app(scope, receive, send):
        seen.update(client=scope.get("client"), scheme=scope.get("scheme"))

    scope = {"type": scope_type, "headers": list(headers), "scheme": "ws" if scope_type == "websocket" else "http"}
    if peer is not None:
        scope["client"] = peer
    kwargs = {"trusted_hosts": trusted} if middleware is ProxyHeadersMiddleware else {"trusted": trusted}
    asyncio.run(middleware(app, **kwargs)(scope, None, None))
    return seen["client"], seen["scheme"]


@pytest.mark.parametrize("trusted", TRUSTED, ids=str)
def test_same_client_and_scheme_as_uvicorns_middleware(trusted):
    for scope_type, peer, headers in itertools.product(("http", "websocket"), PEERS, HEADERS):
        ours = outcome(ForwardedHeaders, trusted, scope_type, peer, headers)
        theirs = outcome(ProxyHeadersMiddleware, trusted, scope_type, peer, headers)
        assert ours == theirs, (trusted, scope_type, peer, headers)


def test_a_forwarded_client_is_used_only_from_a_trusted_proxy():
    headers = [(b"x-forwarded-for", b"203.0.113.9, 10.0.0.7"), (b"x-forwarded-proto", b"https")]
    assert outcome(ForwardedHeaders, "10.0.0.0/8", "http", ("10.0.0.8", 1), headers) == (("203.0.113.9", 0), "https")
    assert outcome(ForwardedHeaders, "10.0.0.0/8", "http", ("8.8.8.8", 1), headers) == (("8.8.8.8", 1), "http")
