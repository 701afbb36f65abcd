"""The price table and cost computation: usage the upstream reported -> integer micro-dollars.

Money is exact here. Prices are `Decimal` USD per million tokens, so one token at $3/MTok costs exactly
3 micro-dollars; a request's cost is computed in `Decimal` and rounded once, to a whole micro-dollar
(half up). Stores and counters then only ever add integers, so a sum over millions of rows is exact.

The base is genai-prices' maintained data (price_source.py); the table shipped in the package
(anyray/data/prices.yaml, with its sources and date) is laid over it, and a user file (`pricing.file`)
can replace any (provider, model) entry, e.g. for negotiated rates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from anyray.server.gateway.call import Usage

PRICE_FIELDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
MICROS_PER_USD = 1_000_000
_ONE = Decimal(1)

# `claude-sonnet-4-5@20250929`, `claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`, `...-v1:0`, `...-latest`
_SUFFIXES = (
    re.compile(r"@.*$"),
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),
    re.compile(r"-\d{8}$"),
    re.compile(r"-latest$"),
)


class PricingError(ValueError):
    """A price file that cannot be used; names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens for each kind of token."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal


@dataclass(frozen=True, slots=True)
class Price:
    base: Rates
    long_context_above: int | None = None
    long_context: Rates | None = None
    regional_uplift: Decimal = Decimal(0)

    def rates_for(self, usage: Usage) -> Rates:
        """Long-context rates apply to the whole request once its total input is above the threshold."""
        if self.long_context is not None and self.long_context_above is not None:
            total_input = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
            if total_input > self.long_context_above:
                return self.long_context
        return self.base


def base_model_id(model: str) -> str:
    """The id a price is filed under: provider date/version suffixes removed, lower case."""
    model = model.strip().lower()
    for suffix in _SUFFIXES:
        model = suffix.sub("", model)
    return model


def to_micros(value: Decimal) -> int:
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def format_usd(micros: int | None) -> str:
    """Micro-dollars as a dollar string with all six decimals, e.g. 1234 -> '$0.001234'."""
    if micros is None:
        return "-"
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_USD)
    return f"{sign}${whole:,}.{frac:06d}"


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PricingError(f"{where}: expected a number of USD per million tokens, got {value!r}")
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise PricingError(f"{where}: not a number: {value!r}") from None
    if not result.is_finite() or result < 0:
        raise PricingError(f"{where}: expected a non-negative number, got {value!r}")
    return result


def _rates(raw: Mapping[str, Any], where: str) -> Rates:
    if "input" not in raw or "output" not in raw:
        raise PricingError(f"{where}: needs at least `input` and `output`")
    values = {name: _decimal(raw[name], f"{where}.{name}") for name in PRICE_FIELDS if name in raw}
    # Unpublished cache prices: no write charge (OpenAI caches for free); reads at the full input price.
    values.setdefault("cache_write_5m", Decimal(0))
    values.setdefault("cache_write_1h", Decimal(0))
    values.setdefault("cache_read", values["input"])
    return Rates(**values)


def _price(raw: Any, where: str) -> Price:
    if not isinstance(raw, Mapping):
        raise PricingError(f"{where}: expected a mapping of prices")
    unknown = set(raw) - {*PRICE_FIELDS, "long_context", "regional_uplift"}
    if unknown:
        raise PricingError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    base = _rates(raw, where)
    long_context = above = None
    if raw.get("long_context") is not None:
        lc = raw["long_context"]
        if not isinstance(lc, Mapping) or not isinstance(lc.get("above"), int) or lc["above"] <= 0:
            raise PricingError(f"{where}.long_context: needs `above` (a token count) and its rates")
        above = lc["above"]
        long_context = _rates({k: v for k, v in lc.items() if k != "above"}, f"{where}.long_context")
    uplift = _decimal(raw.get("regional_uplift", 0), f"{where}.regional_uplift")
    return Price(base, above, long_context, uplift)


def parse_table(raw: Any, source: str) -> dict[tuple[str, str], Price]:
    if not isinstance(raw, Mapping):
        raise PricingError(f"{source}: expected a mapping of provider -> model -> prices")
    table: dict[tuple[str, str], Price] = {}
    for provider, models in raw.items():
        if not isinstance(models, Mapping):
            raise PricingError(f"{source}: {provider}: expected a mapping of model -> prices")
        for model, price in models.items():
            table[(str(provider), base_model_id(str(model)))] = _price(price, f"{source}: {provider}.{model}")
    return table


def _read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PricingError(f"{source}: not valid YAML: {exc}") from None


def builtin_table() -> dict[tuple[str, str], Price]:
    text = resources.files("anyray").joinpath("data/prices.yaml").read_text()
    return parse_table(_read_yaml(text, "anyray/data/prices.yaml"), "anyray/data/prices.yaml")


@dataclass(frozen=True, slots=True)
class Cost:
    micros: int
    rates: Rates
    long_context: bool
    priced_as: str | None = None  # an estimate: the price of this related model (the model itself has none)


# Claude model ids name a family and a version, in two spellings: `claude-opus-4-6`, `claude-3-5-haiku`
_NEW_ID = re.compile(r"^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d+))?$")
_OLD_ID = re.compile(r"^claude-(\d+)(?:-(\d+))?-(opus|sonnet|haiku)$")


def claude_family(model: str) -> tuple[str, tuple[int, int]] | None:
    """(family, (major, minor)) of a Claude base id, or None: `claude-opus-4-8` -> ("opus", (4, 8))."""
    if m := _NEW_ID.match(model):
        return m.group(1), (int(m.group(2)), int(m.group(3) or 0))
    if m := _OLD_ID.match(model):
        return m.group(3), (int(m.group(1)), int(m.group(2) or 0))
    return None


class PriceBook:
    """Looks prices up by (provider, upstream model) and turns usage into micro-dollars."""

    def __init__(self, table: Mapping[tuple[str, str], Price]) -> None:
        self._table = dict(table)
        self._resolved: dict[tuple[str, str], tuple[Price, str | None] | None] = {}  # skips the regexes
        # each provider's priced Claude models by family and version: a model released after this table
        # (Claude Code moves to it the day it ships) is priced as its family's nearest version, marked so
        self._families: dict[tuple[str, str], list[tuple[tuple[int, int], str]]] = {}
        for provider, model in self._table:
            if (found := claude_family(model)) is not None:
                self._families.setdefault((provider, found[0]), []).append((found[1], model))

    @classmethod
    def load(cls, override_file: str | Path | None = None) -> PriceBook:
        """genai-prices' maintained data (price_source.py), anyray's prices.yaml over it, `override_file`
        over both: a (provider, model) entry of a later layer replaces the earlier one whole."""
        from anyray.price_source import maintained_table

        table = maintained_table()
        table.update(builtin_table())
        if override_file is not None:
            path = Path(override_file).expanduser()
            try:
                text = path.read_text()
            except OSError as exc:
                raise PricingError(f"{path}: cannot read: {exc.strerror or exc}") from None
            table.update(parse_table(_read_yaml(text, str(path)), str(path)))
        return cls(table)

    def price(self, provider: str, model: str) -> Price | None:
        found = self.priced(provider, model)
        return None if found is None else found[0]

    def priced(self, provider: str, model: str) -> tuple[Price, str | None] | None:
        """The price, and the model it is borrowed from when it is an estimate (None: the model's own)."""
        key = (provider, model)
        try:
            return self._resolved[key]
        except KeyError:
            found = self._lookup(provider, base_model_id(model))
            if len(self._resolved) < 4096:
                self._resolved[key] = found
            return found

    def _lookup(self, provider: str, model: str) -> tuple[Price, str | None] | None:
        if (price := self._table.get((provider, model))) is not None:
            return price, None
        family = claude_family(model)
        known = self._families.get((provider, family[0])) if family else None
        if not family or not known:
            return None
        same = [m for v, m in known if v == family[1]]
        if same:  # another spelling of a priced model (`claude-opus-4-0` is `claude-opus-4`)
            return self._table[(provider, same[0])], None
        # the nearest version below (a newer release), else the nearest above
        below = [(v, m) for v, m in known if v < family[1]]
        _, borrowed = max(below) if below else min(known)
        return self._table[(provider, borrowed)], borrowed

    def models(self) -> list[tuple[str, str]]:
        return sorted(self._table)

    def cost(self, provider: str, model: str, usage: Usage, region: str | None = None) -> Cost | None:
        """The request's cost, or None when the model has no price (recorded as unpriced, never as $0)."""
        found = self.priced(provider, model)
        if found is None:
            return None
        price, priced_as = found
        rates = price.rates_for(usage)
        write_1h = min(usage.cache_creation_1h_input_tokens, usage.cache_creation_input_tokens)
        write_5m = usage.cache_creation_input_tokens - write_1h
        total = (
            usage.input_tokens * rates.input
            + usage.output_tokens * rates.output
            + write_5m * rates.cache_write_5m
            + write_1h * rates.cache_write_1h
            + usage.cache_read_input_tokens * rates.cache_read
        )  # tokens x USD/MTok = micro-dollars
        if price.regional_uplift and region and region != "global":  # only regional endpoints set one
            total *= 1 + price.regional_uplift
        return Cost(to_micros(total), rates, rates is not price.base, priced_as)

    def input_saving(
        self, provider: str, model: str, tokens_saved: int, usage: Usage, region: str | None = None
    ) -> int | None:
        """What `tokens_saved` fewer uncached input tokens are worth for this request, in micro-dollars."""
        price = self.price(provider, model)
        if price is None or tokens_saved <= 0:
            return None if price is None else 0
        total = tokens_saved * price.rates_for(usage).input
        if price.regional_uplift and region and region != "global":  # only regional endpoints set one
            total *= 1 + price.regional_uplift
        return to_micros(total)


def fold_openai_usage(raw: Any, usage: Usage) -> None:
    """Fold an OpenAI `usage` object into anyray's Anthropic-shaped Usage.

    OpenAI's `prompt_tokens` *includes* the cached ones (`prompt_tokens_details.cached_tokens`), while
    Anthropic's `input_tokens` excludes cache reads; the Usage keeps Anthropic's meaning so one price
    computation serves both dialects. For the OpenAI dialect's routes (non-streaming body, and the final
    chunk of a stream sent with `stream_options.include_usage`).
    """
    if not isinstance(raw, Mapping):
        return
    prompt = raw.get("prompt_tokens")
    completion = raw.get("completion_tokens")
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    cached = cached if isinstance(cached, int) and cached > 0 else 0
    if isinstance(prompt, int):
        usage.input_tokens = max(0, prompt - cached)
        usage.cache_read_input_tokens = cached
    if isinstance(completion, int):
        usage.output_tokens = completion
