"""A plan's steps run on one request: the part of a decision that is pure computation.

It takes the request and a `Context` and touches nothing else, which is why it can run on the event loop
(short requests), in the optimizer's thread, or in its decider process (worker.py, decider.py) and give
the same answer in each.
"""

from __future__ import annotations

import logging
from typing import Any

from anyray.server.optimizer.settings import Planned
from anyray.server.optimizer.strategies.base import Applied, Context
from anyray.server.optimizer.strategies.semantic_cache import SemanticCache

log = logging.getLogger("anyray.optimizer")

Step = tuple[Planned, str | None]  # a step, and why it does not run (None: it runs)
# (request, decisions, applied, skipped, preserved, the cache step to consult last)
Outcome = tuple[dict[str, Any], list[dict[str, Any]], list[str], list[dict[str, str]], list[str], Planned | None]


def apply_steps(steps: list[Step], request: dict[str, Any], ctx: Context) -> Outcome:
    """Every step that runs, in order, on the request as the last one left it."""
    current = request
    decisions: list[dict[str, Any]] = []
    applied: list[str] = []
    skipped: list[dict[str, str]] = []
    preserved: list[str] = []
    caching: Planned | None = None
    for step, reason in steps:
        if reason is not None:
            skipped.append({"kind": step.kind, "reason": reason})
            continue
        if isinstance(step.strategy, SemanticCache):
            caching = step  # looked up last, on exactly what would be sent
            continue
        try:
            result = step.strategy.apply(current, ctx, step.params)
        except Exception:  # a strategy's bug must never cost a request: skip it, say so
            log.exception("strategy %s failed; skipped", step.kind)
            skipped.append({"kind": step.kind, "reason": "internal error (logged)"})
            continue
        if result.preserved:
            preserved += [p for p in result.preserved if p not in preserved]
        if isinstance(result, Applied):
            current = result.request
            decisions.append(result.decision.as_json())
            applied.append(step.kind)
        elif not result.quiet:
            skipped.append({"kind": step.kind, "reason": result.reason})
    return current, decisions, applied, skipped, preserved, caching
