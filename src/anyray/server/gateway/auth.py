"""The gateway-key check, in front of every API route.

It runs as ASGI middleware, before any body is read, so a caller without a valid key never reaches the
optimizer or an upstream, whatever route it aims at. The key arrives where each SDK already puts its
API key (`x-api-key` for Anthropic clients, `Authorization: Bearer` for OpenAI ones), so a workload
switches to a gateway key by changing the API-key variable it already has. The key's team is handed
to the routes (`request.state.key_team`) and wins over the caller's own `x-anyray-metadata`; the key
itself goes no further: providers send their own credentials upstream, from an allow-list of headers.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from starlette.responses import Response
from starlette.types import Scope

from anyray.keys import KeyRing
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.limits import dialect_error

# the optimizer's similarity lookups embed through the gateway with its service token, on this path only
OPTIMIZER_PATH, OPTIMIZER_TEAM = "/v1/embeddings", "anyray-optimizer"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _when(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def presented_key(headers: Mapping[str, str]) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def refusal(scope: Scope, headers: Mapping[str, str], status: int, message: str) -> Response:
    if status == 401:
        return dialect_error(scope, headers, status, message, "invalid_api_key", "authentication_error")
    return dialect_error(scope, headers, status, message, "service_unavailable")


class KeyCheck:
    """The gateway-key check of every `/v1/` request (`hot.guarded` runs it)."""

    def __init__(
        self,
        ring: Callable[[], KeyRing],
        on_refused: Callable[[str], None],
        optimizer_token: str | None = None,
    ) -> None:
        self.ring = ring
        self.on_refused = on_refused
        self.optimizer_token = optimizer_token

    def refusal(self, scope: Scope) -> Response | None:
        """The check itself, for a `/v1/` request: None to let it through (its key's team and id put in the
        scope's state), else the refusal to answer, counted. A plain call, so the hot paths (hot.py) run it
        without a middleware's coroutine frame."""
        ring = self.ring()
        headers = headers_of(scope)
        presented = presented_key(headers)
        found = ring.find(presented)
        key = found if found is not None and found.active else None
        if key is None and ring.required and self._is_optimizer(scope, presented):
            scope.setdefault("state", {})["key_team"] = OPTIMIZER_TEAM
        elif key is None and ring.required:
            if not ring.ready:
                reason, status, message = "unready", 503, "gateway keys cannot be checked yet; try again shortly"
            elif presented is None:
                reason, status, message = "missing", 401, (
                    "this gateway needs a gateway key: send it as x-api-key or Authorization: Bearer "
                    "(ask your platform team for one: anyray keys create --team <team>)"
                )
            elif found is not None and found.revoked_ms is None and found.expired:
                reason, status, message = "expired", 401, (
                    f"gateway key {found.id} expired at {_when(found.expires_ms)}: ask your platform team for a new "
                    "one (anyray keys create)")
            else:
                reason, status, message = "invalid", 401, "invalid or revoked gateway key"
            self.on_refused(reason)
            return refusal(scope, headers, status, message)
        elif key is not None:
            state = scope.setdefault("state", {})
            state["key_team"] = key.team
            state["gateway_key_id"] = key.id
            state["gateway_key"] = key
        return None

    def _is_optimizer(self, scope: Scope, presented: str | None) -> bool:
        token = self.optimizer_token
        return bool(token and presented and scope["path"] == OPTIMIZER_PATH and _same(presented, token))
