"""When and how long to wait before asking the same upstream target again.

Retries happen only before anything reached the client (the pipeline never retries an answer it has
started relaying), so they are invisible to the client except as latency. That latency is bounded:
one request's retries, waits included, stop once `budget_s` has passed since its first attempt, and
a `retry-after` the budget cannot afford is not waited for at all: the route's next target (or the
error) is the better answer. Hand-written rather than tenacity: the loop also has to interleave the
providers' request corrections and the fallback hand-over, which a decorator would hide.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

# what an upstream says when it is busy or broken, not when the request is wrong
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


def retry_after_s(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The wait an upstream asked for: `retry-after-ms` (Anthropic, OpenAI) or `retry-after` (seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass(slots=True)
class RetryPolicy:
    attempts: int = 2
    base_s: float = 0.5
    max_s: float = 8.0
    budget_s: float = 20.0
    final_for_clients: bool = False  # a failure retried `attempts` times is final for the client too
    clock: Callable[[], float] = time.monotonic
    rand: Callable[[], float] = field(default=random.random)

    def backoff(self, retry: int) -> float:
        """Exponential from base_s, capped at max_s, with up to 25% taken off so replicas do not stampede."""
        return min(self.max_s, self.base_s * 2**retry) * (1 - 0.25 * self.rand())

    def budget(self) -> RetryBudget:
        return RetryBudget(self, self.clock() + self.budget_s)


@dataclass(slots=True)
class RetryBudget:
    """One client request's allowance: shared by every target of its route."""

    policy: RetryPolicy
    deadline: float

    def wait_for(self, retry: int, asked_s: float | None) -> float | None:
        """How long to wait before retry number `retry` (0-based), or None: stop retrying this target.

        The upstream's own `retry-after` wins over the backoff when it fits in what is left of the
        budget; when it does not, waiting would only delay the fallback or the error.
        """
        if retry >= self.policy.attempts:
            return None
        delay = asked_s if asked_s is not None else self.policy.backoff(retry)
        if self.policy.clock() + delay > self.deadline:
            return None
        return delay
