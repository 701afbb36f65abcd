"""Costs for known usages against hand-computed values from the published prices (data/prices.yaml).

Each expected number is worked out in the comment beside it from the per-MTok list price, where
1 token at $X/MTok costs exactly X micro-dollars.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anyray.pricing import PriceBook, PricingError, base_model_id, fold_openai_usage, format_usd
from anyray.server.gateway.call import Usage


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook.load()


def test_model_ids_are_looked_up_without_their_date_suffix():
    assert base_model_id("claude-sonnet-4-5@20250929") == "claude-sonnet-4-5"
    assert base_model_id("claude-haiku-4-5-20251001") == "claude-haiku-4-5"
    assert base_model_id("gpt-4o-2024-08-06") == "gpt-4o"
    assert base_model_id("gpt-4.1") == "gpt-4.1"


def test_claude_sonnet_4_5_on_vertex_regional_and_global(book):
    usage = Usage(input_tokens=1000, output_tokens=500, cache_creation_input_tokens=2000, cache_read_input_tokens=10000)
    # 1000 x $3 + 500 x $15 + 2000 x $3.75 (5m write) + 10000 x $0.30 (read) = 3000+7500+7500+3000 = 21000 µ$
    assert book.cost("vertex", "claude-sonnet-4-5@20250929", usage, region="global").micros == 21_000
    # a regional endpoint (us-east5) carries Vertex's 10% premium for Sonnet 4.5: 21000 x 1.1 = 23100 µ$
    assert book.cost("vertex", "claude-sonnet-4-5@20250929", usage, region="us-east5").micros == 23_100


def test_claude_opus_4_1_on_vertex_has_no_regional_premium(book):
    usage = Usage(input_tokens=100, output_tokens=40, cache_creation_input_tokens=300, cache_read_input_tokens=1000)
    # 100 x $15 + 40 x $75 + 300 x $18.75 + 1000 x $1.50 = 1500 + 3000 + 5625 + 1500 = 11625 µ$
    assert book.cost("vertex", "claude-opus-4-1@20250805", usage, region="us-east5").micros == 11_625


def test_claude_haiku_4_5_on_anthropic_with_5m_and_1h_cache_writes(book):
    usage = Usage(
        input_tokens=1234,
        output_tokens=567,
        cache_creation_input_tokens=3000,
        cache_creation_1h_input_tokens=1000,
        cache_read_input_tokens=4000,
    )
    # 1234 x $1 + 567 x $5 + 2000 x $1.25 (5m) + 1000 x $2 (1h) + 4000 x $0.10 = 1234+2835+2500+2000+400 = 8969 µ$
    cost = book.cost("anthropic", "claude-haiku-4-5-20251001", usage)
    assert cost.micros == 8_969
    assert format_usd(cost.micros) == "$0.008969"


def test_sonnet_4_5_long_context_prices_the_whole_request_above_200k_input(book):
    # input + cache writes + cache reads = 150000 + 0 + 60000 = 210000 > 200000: every token at the 1M-context rates
    long = Usage(input_tokens=150_000, output_tokens=1000, cache_read_input_tokens=60_000)
    # 150000 x $6 + 1000 x $22.50 + 60000 x $0.60 = 900000 + 22500 + 36000 = 958500 µ$
    assert book.cost("anthropic", "claude-sonnet-4-5-20250929", long).micros == 958_500
    assert book.cost("anthropic", "claude-sonnet-4-5-20250929", long).long_context
    # exactly 200000 is not above the threshold: 140000 x $3 + 1000 x $15 + 60000 x $0.30 = 420000+15000+18000
    edge = Usage(input_tokens=140_000, output_tokens=1000, cache_read_input_tokens=60_000)
    assert book.cost("anthropic", "claude-sonnet-4-5-20250929", edge).micros == 453_000
    # on Vertex's global endpoint the same long request costs the same as on Anthropic
    assert book.cost("vertex", "claude-sonnet-4-5@20250929", long, region="global").micros == 958_500


def test_openai_gpt_4o_with_cached_prompt_tokens(book):
    usage = Usage()
    fold_openai_usage(
        {"prompt_tokens": 2000, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 1024}}, usage
    )
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (976, 1024, 300)
    # 976 x $2.50 + 1024 x $1.25 (cached input) + 300 x $10 = 2440 + 1280 + 3000 = 6720 µ$
    assert book.cost("openai", "gpt-4o-2024-08-06", usage).micros == 6_720
    # gpt-4o-mini: 976 x $0.15 + 1024 x $0.075 + 300 x $0.60 = 146.4 + 76.8 + 180 = 403.2 -> 403 µ$
    assert book.cost("openai", "gpt-4o-mini", usage).micros == 403


def test_rounding_is_once_per_request_half_up(book):
    # 1 output token of Sonnet 4.5 in long context is 22.5 µ$ -> 23; never a float
    usage = Usage(input_tokens=200_001, output_tokens=1)
    assert book.cost("anthropic", "claude-sonnet-4-5", usage).micros == 200_001 * 6 + 23


def test_an_unknown_model_is_unpriced_not_free(book):
    assert book.cost("anthropic", "claude-unknown-9", Usage(input_tokens=10)) is None
    assert book.cost("openai", "claude-haiku-4-5", Usage(input_tokens=10)) is None  # prices are per provider


def _newest(book: PriceBook, provider: str, family: str) -> str:
    """The newest `claude-<family>-X[-Y]` the book prices for a provider, by version (read from its ids)."""
    import re

    versions = [(tuple(int(n) for n in m.group(1).split("-")), model) for p, model in book.models()
                if p == provider and (m := re.fullmatch(rf"claude-{family}-(\d+(?:-\d+)?)", model))]
    return max(versions)[1]


def test_claude_codes_default_is_priced_from_the_maintained_source(book):
    """claude-opus-4-8 (Claude Code's default) is not in prices.yaml: genai-prices' data prices it, as itself."""
    usage = Usage(input_tokens=1000, output_tokens=100)
    for provider in ("anthropic", "vertex"):
        own = book.cost(provider, "claude-opus-4-8", usage, region="global")
        assert own is not None and own.priced_as is None
        assert own.micros == 1000 * 5 + 100 * 25  # $5 in, $25 out per MTok
    # a model only the maintained source knows, on a Vertex regional endpoint: the 10% premium applies
    assert book.cost("vertex", "claude-opus-4-8", usage, region="us-east5").micros == round((1000 * 5 + 100 * 25) * 1.1)
    assert book.cost("openai", "text-embedding-3-small", Usage(input_tokens=1_000_000)).micros == 20_000


def test_a_claude_model_newer_than_the_table_is_priced_as_its_familys_nearest_version(book):
    usage = Usage(input_tokens=1000, output_tokens=100)
    for provider in ("anthropic", "vertex"):
        opus, sonnet = _newest(book, provider, "opus"), _newest(book, provider, "sonnet")
        newer = book.cost(provider, "claude-opus-9-1", usage)  # newer than every source knows
        assert newer is not None and newer.priced_as == opus
        assert newer.micros == book.cost(provider, opus, usage).micros
        assert book.cost(provider, "claude-opus-9-1@20291201", usage).priced_as == opus
        assert book.cost(provider, "claude-sonnet-9", usage).priced_as == sonnet
        # another spelling of a priced model is that model, not an estimate: opus 4.0 at opus 4.0's $15/$75
        alias = book.cost(provider, "claude-opus-4-0", usage)
        assert alias.priced_as is None and alias.micros == 1000 * 15 + 100 * 75
        assert book.cost(provider, "claude-sonnet-3-7", usage).priced_as is None
    assert book.cost("anthropic", "claude-opus-4-6", usage).priced_as is None
    assert book.cost("openai", "claude-opus-9-1", usage) is None  # no Claude family on that provider


def test_every_model_the_installed_claude_code_names_is_priced(book):
    """The model ids inside the bundled `claude` binary (tests/node, pinned): none may be unpriced, or its
    users' spend reads $0. A new Claude Code release that names a model this table cannot place fails here."""
    import re

    binary = Path(__file__).parents[1] / "node" / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
    if not binary.exists():
        binary = Path(__file__).parents[1] / "node" / "node_modules" / "@anthropic-ai" / "claude-code" / "cli.js"
    pattern = rb"claude-(?:opus|sonnet|haiku)-\d+(?:-\d+)?(?:-\d{8})?"
    named = set(re.findall(pattern, binary.read_bytes()))
    assert len(named) >= 5, "no model ids found: the package layout changed"
    # and every Opus/Sonnet/Haiku id the installed anthropic SDK lists as a model (its `Model` literal)
    import typing

    import anthropic.types

    sdk = {m.encode() for arg in typing.get_args(anthropic.types.Model) for m in typing.get_args(arg)}
    listed = {m for m in sdk if re.fullmatch(pattern, m)}
    assert len(listed) >= 5, "no model ids in anthropic.types.Model: the SDK changed its layout"
    unpriced = [m.decode() for m in sorted(named | listed)
                if any(book.cost(p, m.decode(), Usage(input_tokens=1)) is None for p in ("anthropic", "vertex"))]
    assert unpriced == []
    # the priced ones are priced as themselves, not borrowed: every listed id is in a price source
    estimated = [m.decode() for m in sorted(listed)
                 if book.cost("anthropic", m.decode(), Usage(input_tokens=1)).priced_as]
    assert estimated == []


def test_a_user_file_overrides_one_entry_and_keeps_the_rest(tmp_path: Path):
    path = tmp_path / "prices.yaml"
    path.write_text("anthropic:\n  claude-haiku-4-5: {input: 0.5, output: 2.5, cache_read: 0.05}\n")
    book = PriceBook.load(path)
    usage = Usage(input_tokens=1000, output_tokens=100, cache_creation_input_tokens=100, cache_read_input_tokens=1000)
    # 1000 x 0.5 + 100 x 2.5 + 100 x 0 (no write price given) + 1000 x 0.05 = 500 + 250 + 0 + 50 = 800 µ$
    assert book.cost("anthropic", "claude-haiku-4-5-20251001", usage).micros == 800
    # the built-in Vertex entry is untouched: 1000 + 500 + 125 + 100 = 1725 µ$ on the global endpoint
    assert book.cost("vertex", "claude-haiku-4-5@20251001", usage, region="global").micros == 1725


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("anthropic:\n  m: {input: 1}\n", "needs at least `input` and `output`"),
        ("anthropic:\n  m: {input: 1, output: -2}\n", "non-negative"),
        ("anthropic:\n  m: {input: 1, output: 2, cache_raed: 1}\n", "unknown field(s) cache_raed"),
        ("anthropic: [1, 2]\n", "expected a mapping of model -> prices"),
        ("anthropic:\n  m: {input: 1, output: 2, long_context: {input: 2, output: 4}}\n", "needs `above`"),
    ],
)
def test_a_bad_price_file_names_the_entry(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(PricingError) as info:
        PriceBook.load(path)
    assert problem in str(info.value)
    assert str(path) in str(info.value)


def test_every_builtin_price_is_consistent(book):
    """The shipped table: cache reads cheaper than input, 5m writes cheaper than 1h writes (Anthropic rule)."""
    for provider, model in book.models():
        rates = book.price(provider, model).base
        assert rates.cache_read <= rates.input, (provider, model)
        if provider != "openai":
            assert rates.input < rates.cache_write_5m < rates.cache_write_1h, (provider, model)
            if model != "claude-3-haiku":  # published as $0.30, not 1.25 x $0.25
                assert rates.cache_write_5m == rates.input * 5 / 4, (provider, model)
