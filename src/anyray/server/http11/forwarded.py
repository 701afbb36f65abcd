"""X-Forwarded-For and X-Forwarded-Proto from trusted proxies become the scope's client and scheme.

The console's loopback check must see the real client behind a local reverse proxy. This is what
uvicorn's `ProxyHeadersMiddleware` does, which this server ran until uvicorn left the core install
(issue 23); tests/gateway/test_forwarded.py checks it against uvicorn's, input for input. Trusted are
the entries of `FORWARDED_ALLOW_IPS` (default 127.0.0.1): addresses, networks (`10.0.0.0/8`), other
literals (a unix socket path), or `*` for every peer. The client is the right-most address of
X-Forwarded-For that is not itself a trusted proxy (each proxy appends the address it saw); when all
are trusted, the left-most.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

_SCHEMES = {"http", "https", "ws", "wss"}


def host_port(value: str) -> tuple[str, int]:
    """`1.2.3.4`, `1.2.3.4:5`, `[::1]:5`: (host, port or 0); anything else whole, port 0, never normalised."""
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return value, 0
        host, rest = value[1:end], value[end + 1:]
        if not rest:
            return host, 0
        if not rest.startswith(":"):
            return value, 0
        return host, _port(rest[1:], 0)
    if value.count(":") == 1:
        host, port = value.split(":")
        port_or_none = _port(port, None)
        return (value, 0) if port_or_none is None else (host, port_or_none)
    return value, 0


def _port(text: str, otherwise: int | None) -> int | None:
    try:
        return int(text)
    except ValueError:
        return otherwise


class TrustedProxies:
    def __init__(self, spec: str | list[str]) -> None:
        self.everyone = spec in ("*", ["*"])
        entries = [e.strip() for e in spec.split(",")] if isinstance(spec, str) else list(spec)
        self.addresses: set[Any] = set()
        self.networks: list[Any] = []
        self.literals: set[str] = set()
        for entry in [] if self.everyone else entries:
            try:
                if "/" in entry:
                    self.networks.append(ipaddress.ip_network(entry))
                else:
                    self.addresses.add(ipaddress.ip_address(entry))
            except ValueError:
                self.literals.add(entry)
        self._cached = functools.lru_cache(maxsize=4096)(self._trusted)

    def __contains__(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if not host:
            return False
        return self._cached(host) if len(host) <= 253 else self._trusted(host)  # no huge keys pinned in the cache

    def _trusted(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return host in self.literals
        return ip in self.addresses or any(ip in net for net in self.networks)

    def client(self, forwarded_for: str) -> tuple[str, int]:
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if not self.everyone:
            for hop in reversed(hops):
                host, port = host_port(hop)
                if host not in self:
                    return host, port
        return host_port(hops[0])


class ForwardedHeaders:
    """For a peer in `trusted`, the forwarded scheme and client replace the socket's.

    The server applies it where it builds a request's scope (`rewrite`, once it knows the connection's peer
    is trusted: `trusts`), so no coroutine frame stays in every request's await chain for it (with thousands
    of streams open, each frame is one more object the garbage collector walks per stream). Called as an
    ASGI middleware it does the same, for any other server or a test."""

    def __init__(self, app: Any = None, trusted: str | list[str] = "127.0.0.1") -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan" and self.trusts(scope.get("client")):
            self.rewrite(scope)
        await self.app(scope, receive, send)

    def trusts(self, peer: tuple[str, int] | None) -> bool:
        """Whether forwarded headers from this peer (a connection's, as the scope names it) are believed."""
        return (peer[0] if peer else None) in self.trusted

    def rewrite(self, scope: dict[str, Any]) -> None:
        proto: bytes | None = None
        forwarded: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto":
                proto = value
            elif name == b"x-forwarded-for":
                forwarded.append(value)
        if proto is not None and (scheme := proto.decode("latin1").strip()) in _SCHEMES:
            scope["scheme"] = scheme.replace("http", "ws") if scope["type"] == "websocket" else scheme
        if forwarded:
            host, port = self.trusted.client(b", ".join(forwarded).decode("latin1"))
            if host:  # an empty X-Forwarded-For leaves the socket's client
                scope["client"] = (host, port)
