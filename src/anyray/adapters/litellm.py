"""anyray as a LiteLLM proxy callback: LiteLLM keeps the credentials and the call; the optimizer decides.

Register it in LiteLLM's config (`litellm_settings.callbacks: ["anyray.adapters.litellm.proxy_handler"]`).
The pre-call hook sends an allow-listed copy of the request (never a key, a header that carries one, or
LiteLLM's own metadata) to `/v1/optimize` within the budget and applies what came back to the fields
it is allowed to change; any failure leaves LiteLLM's request exactly as it was. The success hook reports
to `/v1/optimize-response` in the background. Cache hits are left to LiteLLM's own cache.

Env: ANYRAY_OPTIMIZER_URL (default http://127.0.0.1:8088), ANYRAY_OPTIMIZER_BUDGET_MS (800),
ANYRAY_OPTIMIZER_TOKEN (the optimizer's service token, if it requires one).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from anyray.extras import MissingExtra
from anyray.server.gateway.metadata import MetadataError, attribute
from anyray.server.gateway.optimizer_client import HttpOptimizerClient, OptimizerClient, build_message

try:  # the [litellm] extra
    from litellm.integrations.custom_logger import CustomLogger
except ImportError:
    raise MissingExtra("litellm", "litellm") from None

log = logging.getLogger("anyray.adapters.litellm")

_ENDPOINTS = {
    "anthropic_messages": "/v1/messages",
    "aanthropic_messages": "/v1/messages",
    "completion": "/v1/chat/completions",
    "acompletion": "/v1/chat/completions",
}
# What the optimizer may see of a request, and what it may change: prompt and sampling fields only.
_REQUEST_FIELDS = (
    "model", "messages", "system", "tools", "tool_choice", "max_tokens", "max_completion_tokens", "temperature",
    "top_p", "top_k", "stop", "stop_sequences", "thinking", "stream", "response_format", "n",
)
_APPLIED_FIELDS = frozenset(_REQUEST_FIELDS) - {"model", "stream", "n"}


class AnyrayOptimizerHook(CustomLogger):
    def __init__(self, url: str | None = None, budget_ms: int | None = None, token: str | None = None) -> None:
        super().__init__()
        self.url = url or os.environ.get("ANYRAY_OPTIMIZER_URL", "http://127.0.0.1:8088")
        budget = budget_ms or int(os.environ.get("ANYRAY_OPTIMIZER_BUDGET_MS", "800"))
        self.client: OptimizerClient = HttpOptimizerClient(self.url, budget, token or os.environ.get(
            "ANYRAY_OPTIMIZER_TOKEN") or None)
        self._started = False

    async def _ensure_started(self) -> None:
        if not self._started:
            await self.client.start()
            self._started = True

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any) -> dict:
        endpoint = _ENDPOINTS.get(str(getattr(call_type, "value", call_type)))
        if endpoint is None:
            return data
        try:
            await self._ensure_started()
            request = {k: data[k] for k in _REQUEST_FIELDS if k in data}
            message = build_message(endpoint, request, {"provider": "litellm", "model": str(data.get("model", ""))},
                                    _attribution(user_api_key_dict, data), _headers(data), False)
            outcome = await self.client.optimize(message)
        except Exception:  # the adapter's own bug must not break LiteLLM's request either
            log.exception("anyray pre-call hook failed; request passed through")
            return data
        if outcome is not None and outcome.changed:
            for key in _APPLIED_FIELDS & outcome.request.keys():
                data[key] = outcome.request[key]
            data.setdefault("metadata", {})["anyray_decisions"] = [d.get("kind") for d in outcome.decisions]
        return data

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        try:
            await self._ensure_started()
            dump = response_obj.model_dump() if hasattr(response_obj, "model_dump") else response_obj
            if not isinstance(dump, dict):
                return
            usage = dump.get("usage") if isinstance(dump.get("usage"), dict) else {}
            # content-free: the optimizer's post-call hook learns what happened, not what was said
            self.client.report({"response": {"type": "summary", "model": dump.get("model"), "usage": usage},
                                "metadata": _attribution(None, kwargs.get("litellm_params") or {})})
        except Exception:
            log.debug("anyray post-call report skipped", exc_info=True)


def _headers(data: dict) -> dict[str, str]:
    proxy = data.get("proxy_server_request") or {}
    headers = proxy.get("headers") if isinstance(proxy, dict) else None
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _attribution(user_api_key_dict: Any, data: dict) -> dict[str, Any]:
    """Team and key alias from LiteLLM's auth, refined by x-anyray-metadata; never the key itself."""
    try:
        meta = attribute(_headers(data), {}, None).as_dict()
    except MetadataError:
        meta = {}
    if user_api_key_dict is not None:
        team = getattr(user_api_key_dict, "team_alias", None) or getattr(user_api_key_dict, "team_id", None)
        if team and "team" not in meta:
            meta["team"] = str(team)
        alias = getattr(user_api_key_dict, "key_alias", None)
        if alias:
            meta.setdefault("tags", {})["litellm_key_alias"] = str(alias)[:128]
        user = getattr(user_api_key_dict, "user_id", None)
        if user and "user" not in meta:
            meta["user"] = str(user)[:128]
    return meta


proxy_handler = AnyrayOptimizerHook()
