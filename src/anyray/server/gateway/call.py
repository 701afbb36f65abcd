"""One client request's life through the gateway, content-free.

This is what spend records, metrics and the optimizer's post-call hook are made of: who asked, for
which model, where it went, what it cost in tokens and time. It never holds prompt or answer text.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from anyray.routing import Route, Target


def _new_id() -> str:
    """A 128-bit hex id: 48 bits of milliseconds, then 80 random bits (UUIDv7's layout, without its urandom
    syscall: a request id, not a secret). Ids made later sort later, so the spend store's unique index on
    them grows at its right edge instead of at random pages (17 vs 17-27 us a row, rising with the table,
    measured on SQLite)."""
    return f"{time.time_ns() // 1_000_000:012x}{random.getrandbits(80):020x}"


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    # the part of cache_creation_input_tokens written with a 1h TTL (priced higher than the 5m default)
    cache_creation_1h_input_tokens: int = 0

    def update(self, usage: Any) -> None:
        """Fold in an Anthropic `usage` object (message_start carries input, message_delta output)."""
        if not isinstance(usage, dict):
            return
        for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            value = usage.get(name)
            if isinstance(value, int) and value:
                setattr(self, name, value)
        creation = usage.get("cache_creation")
        if isinstance(creation, dict):
            one_hour = creation.get("ephemeral_1h_input_tokens")
            if isinstance(one_hour, int) and one_hour:
                self.cache_creation_1h_input_tokens = one_hour

    def as_anthropic(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


@dataclass(slots=True)
class Call:
    dialect: str
    endpoint: str
    id: str = field(default_factory=_new_id)
    started: float = field(default_factory=time.perf_counter)
    model_asked: str = ""
    stream: bool = False
    route: Route | None = None
    target: Target | None = None
    region: str | None = None  # where the target serves, when its price depends on it
    upstream_model: str = ""
    status: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None  # the gateway key that authenticated the call (its id, never the secret)
    notices: dict[str, str] = field(default_factory=dict)  # response headers the gateway adds (budget warnings)
    decisions: Sequence[dict[str, Any]] = ()  # replaced, never appended to: no list made for a call without any
    optimization: dict[str, Any] = field(default_factory=dict)
    fail_open: bool = False
    cache_hit: bool = False
    partial: bool = False
    usage: Usage = field(default_factory=Usage)
    # a cache hit: the usage of the answer it replayed, which no upstream was asked for (the saving)
    avoided: Usage | None = None
    first_byte_s: float | None = None
    duration_s: float | None = None

    def first_byte(self) -> None:
        if self.first_byte_s is None:
            self.first_byte_s = time.perf_counter() - self.started

    def finish(self, status: int) -> None:
        self.status = status
        self.duration_s = time.perf_counter() - self.started


CallListener = Callable[[Call], None]


def avoided_usage(raw: Any) -> Usage:
    """A cached answer's own usage (either API's shape): what replaying it saved the caller from paying for."""
    usage = Usage()
    if not isinstance(raw, dict):
        return usage
    if "prompt_tokens" in raw or "completion_tokens" in raw:  # OpenAI's shape: its prompt includes cache reads
        prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
        usage.input_tokens = prompt if isinstance(prompt, int) and prompt > 0 else 0
        usage.output_tokens = completion if isinstance(completion, int) and completion > 0 else 0
        return usage
    for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        value = raw.get(name)
        if isinstance(value, int) and value > 0:
            setattr(usage, name, value)  # as the original call was billed: asked again, it would be much the same
    return usage
