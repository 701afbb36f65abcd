"""Money and pace: budgets per team and key, rate limits, and price overrides."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from anyray.config.base import Section

BudgetPeriod = Literal["day", "week", "month"]


class Budget(Section):
    """A spend limit in USD for one team or one key, over a calendar period (UTC)."""

    limit_usd: float = Field(gt=0, description="hard limit: past it, calls are refused before any upstream cost")
    soft_usd: float | None = Field(
        None, gt=0, description="soft limit: past it, answers carry anyray-budget-warning and a metric counts them"
    )
    period: BudgetPeriod = Field("month", description="day, week (from Monday) or month, in UTC; spend resets then")

    @model_validator(mode="after")
    def _soft_below_hard(self) -> Budget:
        if self.soft_usd is not None and self.soft_usd > self.limit_usd:
            raise ValueError(f"soft_usd ({self.soft_usd}) is above limit_usd ({self.limit_usd}): the soft limit "
                             "warns before the hard one refuses, so it must be lower")
        return self


def _key_ids(value: dict[str, Any]) -> dict[str, Any]:
    for name in value:
        if not re.fullmatch(r"key_[0-9a-f]{12}", name):
            raise ValueError(f"{name!r} is not a key id: expected key_ and 12 hex digits (see anyray keys list)")
    return value


class BudgetSettings(Section):
    """Spend limits per team and per gateway key, counted from the spend store (docs/budgets.md)."""

    refresh_s: float = Field(
        5.0, gt=0, le=300, description="how often a gateway re-reads every replica's spend from the store; its own "
        "calls count at once. Other replicas' spend may go unseen this long: part of the overshoot bound")
    teams: dict[str, Budget] = Field(default_factory=dict, description="team name -> budget")
    keys: dict[str, Budget] = Field(default_factory=dict, description="key id (key_...) -> budget")

    _ids = field_validator("keys")(classmethod(lambda cls, v: _key_ids(v)))

    @property
    def any(self) -> bool:
        return bool(self.teams or self.keys)


class RateLimit(Section):
    """Requests and tokens (input + output) per minute for one team or one key; unset: no limit."""

    rpm: int | None = Field(None, gt=0, description="requests per minute")
    tpm: int | None = Field(None, gt=0, description="input + output tokens per minute")


class RateLimitSettings(Section):
    """Rate limits per team and per gateway key (docs/budgets.md#rate-limits)."""

    redis_url: str | None = Field(
        None, description="redis://host:port/db shared by every replica; unset: cache.url when it is redis://, else "
        "each gateway counts on its own (limits then hold per replica)")
    window_s: int = Field(
        60, ge=1, le=3600, description="the counting window; rpm and tpm are scaled to it (a shorter one spreads a "
        "minute's allowance out: rpm 60 with window_s 10 lets 10 requests through every 10 s)")
    teams: dict[str, RateLimit] = Field(default_factory=dict, description="team name -> limits")
    keys: dict[str, RateLimit] = Field(default_factory=dict, description="key id (key_...) -> limits")

    _ids = field_validator("keys")(classmethod(lambda cls, v: _key_ids(v)))

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db (or rediss://, unix://)")
        return v

    @property
    def any(self) -> bool:
        return any(limit.rpm or limit.tpm for limit in (*self.teams.values(), *self.keys.values()))


class PricingSettings(Section):
    file: Path | None = Field(None, description="a price file (same shape as anyray/data/prices.yaml) to overlay")
