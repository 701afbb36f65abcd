"""One spend record: a finished call, priced, attributed and content-free.

Every field is a number, a flag, an id the gateway made, or a short label (team, app, model). Nothing
the caller wrote or the model answered is copied here, and decision summaries are filtered down to
their kind and numbers before they are stored (`sanitize_decisions`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

COLUMNS = (
    "ts_ms",
    "request_id",
    "team",
    "app",
    "user_name",
    "tags",
    "dialect",
    "endpoint",
    "provider",
    "model_asked",
    "model_used",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "cost_micros",
    "savings_micros",
    "decisions",
    "latency_ms",
    "ttfb_ms",
    "status",
    "streamed",
    "cache_hit",
    "fail_open",
    "partial",
    "priced_as",
    "key_id",
)

_LABEL = re.compile(r"[A-Za-z0-9_.:/@-]{1,64}")
MAX_DECISIONS = 32
MAX_DECISION_KEYS = 16


@dataclass(slots=True)
class SpendRecord:
    ts_ms: int
    request_id: str
    dialect: str
    endpoint: str
    model_asked: str
    status: int
    team: str | None = None
    app: str | None = None
    user_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    provider: str | None = None
    model_used: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    cost_micros: int | None = None  # None: the model has no price; never silently $0
    priced_as: str | None = None  # set: an estimate, at this related model's price (its own is unknown)
    savings_micros: int = 0
    decisions: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float | None = None
    ttfb_ms: float | None = None
    streamed: bool = False
    cache_hit: bool = False
    fail_open: bool = False
    partial: bool = False
    key_id: str | None = None  # the gateway key's id (key_...), when the caller presented one


def _label(value: Any) -> str | None:
    return value if isinstance(value, str) and _LABEL.fullmatch(value) else None


def sanitize_decisions(decisions: Iterable[Any]) -> list[dict[str, Any]]:
    """Keep a decision's kind/strategy label and its numbers and flags; drop every other string.

    The optimizer promises content-free decisions; this makes the store keep that promise even if a
    strategy one day puts a snippet into a field.
    """
    out: list[dict[str, Any]] = []
    for decision in decisions:
        if not isinstance(decision, dict):
            continue
        clean: dict[str, Any] = {}
        for key, value in decision.items():
            if not isinstance(key, str) or not _LABEL.fullmatch(key) or len(clean) >= MAX_DECISION_KEYS:
                continue
            if key in ("kind", "strategy", "action", "reason"):
                if (label := _label(value)) is not None:
                    clean[key] = label
            elif isinstance(value, bool) or (isinstance(value, int | float) and abs(value) < 1e15):
                clean[key] = value
        if clean:
            out.append(clean)
        if len(out) >= MAX_DECISIONS:
            break
    return out


_SAVED_MICROS_KEYS = ("savedMicros", "saved_micros", "estimatedSavingMicros", "estimated_saving_micros")
_BEFORE_KEYS = ("tokensBefore", "tokens_before")
_AFTER_KEYS = ("tokensAfter", "tokens_after")


def _first_int(d: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def decision_saved_micros(decision: dict[str, Any]) -> int | None:
    """The saving a decision states in micro-dollars, when it states one (either naming style)."""
    return _first_int(decision, _SAVED_MICROS_KEYS)


def decision_tokens_saved(decision: dict[str, Any]) -> int | None:
    """Input tokens a decision removed (before - after), when it says both and removed some."""
    before, after = _first_int(decision, _BEFORE_KEYS), _first_int(decision, _AFTER_KEYS)
    if before is not None and after is not None and before > after:
        return before - after
    return None
