"""What a call must pass after it is read and attributed, before the optimizer or any upstream is asked:
its gateway key's model allow-list, its key's and team's budgets, their rate limits.

Each check is in memory (budgets: the ledger's sums; rate limits: this process, or one Redis script when
replicas share counts), so admission costs no database query. Each refusal is in the caller's dialect and
recorded as a refusal (status and reason, nothing spent).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from anyray.errors import anthropic_error
from anyray.errors_openai import openai_error
from anyray.keys import GatewayKey
from anyray.providers.base import Endpoint
from anyray.server.gateway.budgets import WARNING_HEADER
from anyray.server.gateway.call import Call
from anyray.server.gateway.gateway import Gateway


def model_refused(dialect: str, key: GatewayKey, model: str) -> Response:
    """A model this key may not use: 403, as each provider answers a credential without access to a model
    (Anthropic `permission_error`; OpenAI `invalid_request_error` with code `model_not_found`)."""
    allowed = ", ".join(key.models or ())
    message = (f"gateway key {key.id} may not use model {model!r} (it may use: {allowed}); pick one of those, "
               "or ask your platform team")
    if dialect == "anthropic":
        return anthropic_error(403, message, "permission_error")
    return openai_error(403, message, "invalid_request_error", param="model", code="model_not_found")


async def admit(gateway: Gateway, dialect: str, call: Call, scope: Scope, endpoint: Endpoint) -> Response | None:
    """None: go on (with any budget warning left in `call.notices`); else the refusal to answer with."""
    key: GatewayKey | None = (scope.get("state") or {}).get("gateway_key")
    if key is not None:
        call.key_id = key.id
        if not key.may_use(call.model_asked):
            return gateway.refused(dialect, "model_not_allowed", model_refused(dialect, key, call.model_asked), call)
    team = call.metadata.get("team")
    verdict = gateway.budgets.admit(team, call.key_id)
    if verdict is not None:
        if verdict.over is not None:
            return gateway.over_budget(dialect, call, verdict.over)
        if verdict.warnings:
            call.notices[WARNING_HEADER] = "; ".join(verdict.warnings)
    if gateway.rate_limits.active and endpoint is not Endpoint.COUNT_TOKENS:  # counting tokens costs nothing
        limited = await gateway.rate_limits.admit(team, call.key_id)
        if limited is not None:
            return gateway.rate_limited(dialect, call, limited)
    return None
