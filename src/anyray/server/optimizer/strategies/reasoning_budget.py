"""reasoning_budget (off by default): cap the extended-thinking budget a request asks for.

Thinking tokens are billed as output, the dearest tokens there are, and agents often ask for a budget
far above what their tasks use. This lowers `thinking.budget_tokens` to `max_budget_tokens` (never
below the API's minimum of 1,024), and leaves `max_tokens` alone (it stays above the budget, as the API
requires). Per session or per team: an admin rule matching `team` or a tag sets a different ceiling.

Prefix stability: the same ceiling gives the same value on every turn. Changing the thinking budget
invalidates cached message prefixes, so a ceiling should be set once, not flipped mid-session.
Off by default: it can change answers, so it is a policy choice, not a free saving.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy

API_MINIMUM = 1024


class BudgetParams(Params):
    max_budget_tokens: int = Field(8192, ge=API_MINIMUM, description="ceiling for thinking.budget_tokens")


class ReasoningBudget(Strategy):
    kind = "reasoning_budget"
    default_enabled = False
    endpoints = ("/v1/messages",)
    Params = BudgetParams
    summary = "cap thinking.budget_tokens at a ceiling (per team through rules)"

    def apply(self, request: dict[str, Any], ctx: Context, params: BudgetParams) -> Applied | NotApplied:
        thinking = request.get("thinking")
        if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
            return NotApplied("no extended thinking", quiet=True)
        asked = thinking.get("budget_tokens")
        if not isinstance(asked, int) or isinstance(asked, bool) or asked <= params.max_budget_tokens:
            return NotApplied("thinking budget within the ceiling")
        cap = max(params.max_budget_tokens, API_MINIMUM)
        return Applied({**request, "thinking": {**thinking, "budget_tokens": cap}},
                       Decision(self.kind, f"thinking.budget_tokens {asked}->{cap}", asked, cap))
