"""A circuit breaker for the optimizer hook: stop waiting on an optimizer that keeps failing.

After `failures` consecutive failures of the optimizer itself (timeouts, 5xx, unreachable, answers that are
not answers) the circuit opens and requests skip the optimizer at once (no budget spent). After `reset_s`
one request is let through as a probe; its success closes the circuit, its failure opens it again for
another `reset_s`. A refusal of what a caller sent (a 400 naming a field) is neither: it says nothing
about the optimizer's health, and counting it would let any caller open the circuit for every team.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, failures: int = 5, reset_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.reset_s = reset_s
        self.clock = clock
        self.state = "closed"
        self.consecutive = 0
        self.opened_at = 0.0
        self.opened_total = 0
        self._probing = False

    def allow(self) -> bool:
        if self.state == "closed":
            return True
        if self.state == "open" and self.clock() - self.opened_at >= self.reset_s:
            self.state = "half_open"
        if self.state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self.state, self.consecutive, self._probing = "closed", 0, False

    def neutral(self) -> None:
        """An outcome that is not the optimizer's (it refused a caller's input): counts for nothing, but a
        probe that ended so no longer holds the half-open circuit, so the next request probes."""
        self._probing = False

    def failure(self) -> None:
        self.consecutive += 1
        if self.state == "half_open" or self.consecutive >= self.failures:
            if self.state != "open":
                self.opened_total += 1
            self.state, self.opened_at, self._probing = "open", self.clock(), False
