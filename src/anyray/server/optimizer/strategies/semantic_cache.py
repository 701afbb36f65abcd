"""semantic_cache: answer a repeated request from the cache instead of the model (off by default).

Only deterministic requests are eligible (temperature 0), or any request whose caller opts in with
`x-anyray-cache: on`; a caller can also refuse with `x-anyray-cache: off`. The key is exact: a keyed hash
of every field that shapes the answer, scoped by team. The engine performs the lookup (it is the only
strategy that may end a request early); this module decides eligibility and holds the settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer.strategies.base import Context, NotApplied, Params, Strategy


class SemanticCacheParams(Params):
    ttl_s: int | None = Field(None, ge=1, description="default: cache.ttl_s")
    require_deterministic: bool = Field(True, description="only temperature 0 unless the caller opts in")
    similarity: bool = Field(True, description="also match near-duplicate questions (needs cache.embeddings_url)")


class SemanticCache(Strategy):
    kind = "semantic_cache"
    default_enabled = False
    Params = SemanticCacheParams
    summary = "serve repeated deterministic requests from an encrypted, team-scoped cache"

    def eligible(self, request: dict[str, Any], ctx: Context, params: SemanticCacheParams) -> str | None:
        """None when the request may be cached, else the reason it may not."""
        opt = ctx.headers.get("x-anyray-cache", "").lower()
        if opt == "off":
            return "caller opted out (x-anyray-cache: off)"
        if opt == "on" or not params.require_deterministic:
            return None
        if request.get("temperature") != 0:
            return "not deterministic (temperature is not 0; opt in with x-anyray-cache: on)"
        if (request.get("n") or 1) != 1:
            return "n > 1"
        return None

    def apply(self, request: dict[str, Any], ctx: Context, params: Any) -> NotApplied:
        return NotApplied("looked up by the engine")
