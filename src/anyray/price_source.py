"""The maintained base of the price table: pydantic's genai-prices data, read from the package's snapshot.

A hand-kept table goes stale with every model release (Claude Code moved to claude-opus-4-8 before the
table knew it); genai-prices is updated with each release by its maintainers and ships its data inside
the package, so reading it needs no network (its auto-update is never started here). anyray's own
prices.yaml is layered over it (it carries what genai-prices does not: Vertex's regional uplift, the
exact long-context rule) and the user's `pricing.file` over both; the family fallback still covers a
model newer than all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anyray.pricing import Price


def _billed() -> dict[str, list[tuple[str, Decimal]]]:
    """genai-prices provider -> (anyray provider, its uplift) for each provider that bills at its list prices
    (each provider's `bills_at` and `list_uplift`, providers/)."""
    from anyray.providers import PROVIDERS

    out: dict[str, list[tuple[str, Decimal]]] = {}
    for name, cls in PROVIDERS.items():
        if cls.bills_at is not None:
            out.setdefault(cls.bills_at, []).append((name, cls.list_uplift))
    return out


def _base_and_tier(value: Any) -> tuple[Decimal | None, tuple[int, Decimal] | None]:
    """A flat price, or a tiered one's base and (when it has exactly one) its threshold and price."""
    if value is None:
        return None, None
    if isinstance(value, Decimal | int | float):
        return Decimal(str(value)), None
    base, tiers = getattr(value, "base", None), getattr(value, "tiers", None) or []
    tier = (int(tiers[0].start), Decimal(str(tiers[0].price))) if len(tiers) == 1 else None
    return (None if base is None else Decimal(str(base))), tier


def _price(model_price: Any, source: str, uplift: Decimal) -> Price | None:
    """One model's price from genai-prices' `source` list (a Claude list: "anthropic"), plus `uplift`."""
    from anyray.pricing import Price, Rates

    fields = {"input": "input_mtok", "output": "output_mtok", "cache_read": "cache_read_mtok",
              "cache_write_5m": "cache_write_mtok", "cache_write_1h": "cache_write_1h_mtok"}
    base: dict[str, Decimal] = {}
    long: dict[str, Decimal] = {}
    above: set[int] = set()
    for ours, theirs in fields.items():
        flat, tier = _base_and_tier(getattr(model_price, theirs, None))
        if flat is not None:
            base[ours] = flat
        if tier is not None:
            above.add(tier[0])
            long[ours] = tier[1]
    if "input" not in base or "output" not in base or len(above) > 1:
        return None  # not priced per token, or tiers this table cannot express
    if source == "anthropic" and "cache_write_5m" not in base:
        return None  # a retired Claude model (claude-2, instant): no prompt caching, served nowhere now
    base.setdefault("cache_write_5m", Decimal(0))
    base.setdefault("cache_write_1h", base["cache_write_5m"] if source == "anthropic" else Decimal(0))
    base.setdefault("cache_read", base["input"])
    long_rates = Rates(**{k: long.get(k, v) for k, v in base.items()}) if above else None
    return Price(Rates(**base), next(iter(above)) if above else None, long_rates, uplift)


def maintained_table(now: datetime | None = None) -> dict[tuple[str, str], Price]:
    """(anyray provider, base model id) -> price, from genai-prices' bundled snapshot; {} without it."""
    from anyray.pricing import base_model_id

    try:
        from genai_prices import data_snapshot
    except ImportError:  # an install without it still has prices.yaml
        return {}
    when = now or datetime.now(UTC)
    table: dict[tuple[str, str], Price] = {}
    billed = _billed()
    for provider in data_snapshot.get_snapshot().providers:
        for ours, uplift in billed.get(provider.id, ()):
            for model in provider.models:
                try:
                    price = _price(model.get_prices(when), provider.id, uplift)
                except Exception:  # one odd entry never costs the whole table
                    continue
                if price is not None:
                    table.setdefault((ours, base_model_id(model.id)), price)
    return table
