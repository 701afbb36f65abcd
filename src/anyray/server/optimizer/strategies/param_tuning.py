"""param_tuning: cap runaway `max_tokens`, and tame out-of-range sampling params where asked.

Why cap: Claude Code asks for 64,000 output tokens on every call and SDK apps often copy the model's
maximum. Nothing is billed for tokens not generated, but the provider reserves `max_tokens` against the
output-tokens-per-minute limit when the request starts, so a 64K ask holds four times the quota of a 16K
answer and makes 429s come sooner for the whole organisation. The default ceiling, 32,000, is the
value Claude Code itself uses for most models when not told otherwise: long enough for any single
answer an agent produces (a whole file rewrite is ~10-20K), short enough to halve the reservation.
Extended thinking counts against `max_tokens`, so the cap never goes below the thinking budget plus a
margin for the answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy

_LIMITS = {  # endpoint -> sampling param -> (low, high)
    "/v1/messages": {"temperature": (0.0, 1.0), "top_p": (0.0, 1.0)},
    "/v1/chat/completions": {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0)},
}


class ParamTuningParams(Params):
    max_tokens_ceiling: int = Field(32_000, ge=1)
    thinking_margin: int = Field(4_096, ge=0, description="room for the answer above the thinking budget")
    clamp_sampling: bool = Field(False, description="clamp temperature/top_p into the provider's range")


class ParamTuning(Strategy):
    kind = "param_tuning"
    default_enabled = True
    Params = ParamTuningParams
    summary = "cap max_tokens at a ceiling (never below the thinking budget plus a margin)"

    def apply(self, request: dict[str, Any], ctx: Context, params: ParamTuningParams) -> Applied | NotApplied:
        field = "max_tokens"
        if ctx.endpoint == "/v1/chat/completions" and "max_completion_tokens" in request:
            field = "max_completion_tokens"
        asked = request.get(field)
        changes: dict[str, Any] = {}
        notes: list[str] = []
        before = after = 0
        if isinstance(asked, int) and not isinstance(asked, bool):
            floor = _thinking_budget(request) + params.thinking_margin if _thinking_budget(request) else 0
            cap = max(params.max_tokens_ceiling, floor)
            if asked > cap:
                changes[field] = cap
                notes.append(f"{field} {asked}->{cap}")
                before, after = asked, cap
        if params.clamp_sampling:
            for name, (low, high) in _LIMITS.get(ctx.endpoint, {}).items():
                value = request.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool) and not low <= value <= high:
                    changes[name] = min(max(value, low), high)
                    notes.append(f"{name} clamped")
        if not changes:
            return NotApplied("max_tokens within the ceiling" if asked is not None else "no max_tokens to cap")
        decision = Decision(self.kind, ", ".join(notes), details={"outputTokensReservedBefore": before,
                                                                   "outputTokensReservedAfter": after})
        return Applied({**request, **changes}, decision)


def _thinking_budget(request: dict[str, Any]) -> int:
    thinking = request.get("thinking")
    if isinstance(thinking, dict) and isinstance(thinking.get("budget_tokens"), int):
        return int(thinking["budget_tokens"])
    return 0
