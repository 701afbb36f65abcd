"""The accounting listener's own rules: savings from decisions, content-free decisions, unpriced models.

A `Call` is the gateway's plain record of a finished request; building one by hand here exercises the
recorder's arithmetic without a network round trip (the SDK tests cover the wiring).
"""

from __future__ import annotations

from anyray.pricing import PriceBook
from anyray.routing import Target
from anyray.server.gateway.call import Call, Usage
from anyray.server.gateway.metrics import GatewayMetrics
from anyray.server.gateway.spend import SpendRecorder
from anyray.store import sanitize_decisions


def recorder() -> SpendRecorder:
    return SpendRecorder(PriceBook.load(), GatewayMetrics(), writer=None)


def finished(provider: str, model: str, usage: Usage, decisions=None, region: str | None = None) -> Call:
    call = Call("anthropic", "/v1/messages", model_asked="claude-haiku-4-5")
    call.target, call.upstream_model, call.usage = Target(provider, model), model, usage
    call.region = region  # the provider's (Vertex: its location), set by the gateway when the target answers
    call.decisions = decisions or []
    call.first_byte()
    call.finish(200)
    return call


def test_savings_come_from_token_counts_or_explicit_micro_dollars():
    decisions = [
        {"kind": "param_tuning", "maxTokensBefore": 64000, "maxTokensAfter": 8000},  # no input saving
        {"kind": "context_dedupe", "tokensBefore": 12_000, "tokensAfter": 9_000},  # 3000 input tokens saved
        {"kind": "semantic_cache", "savedMicros": 250},
    ]
    call = finished("anthropic", "claude-haiku-4-5-20251001", Usage(input_tokens=9_000, output_tokens=10), decisions)
    record = recorder().build(call)
    # 3000 x $1/MTok (Haiku 4.5 input) + 250 µ$ stated = 3250 µ$
    assert record.savings_micros == 3_250
    # 9000 x $1 + 10 x $5 = 9050 µ$
    assert record.cost_micros == 9_050


def test_vertex_regional_savings_carry_the_premium_too():
    def call(region: str) -> Call:
        return finished(
            "vertex",
            "claude-sonnet-4-5@20250929",
            Usage(input_tokens=100),
            [{"kind": "context_compression", "tokens_before": 1100, "tokens_after": 100}],
            region,
        )

    # 1000 x $3 x 1.1 = 3300 µ$; cost 100 x $3 x 1.1 = 330 µ$
    record = recorder().build(call("us-east5"))
    assert (record.savings_micros, record.cost_micros) == (3_300, 330)
    assert recorder().build(call("global")).savings_micros == 3_000


def test_decisions_keep_kinds_and_numbers_only():
    dirty = [
        {"kind": "observation_mask", "tokensBefore": 10, "elided": "the secret prompt text", "ok": True},
        {"kind": "has spaces and text that could be content", "n": 1},
        "not a dict",
        {"note": "free text"},
    ]
    assert sanitize_decisions(dirty) == [{"kind": "observation_mask", "tokensBefore": 10, "ok": True}, {"n": 1}]


def test_usage_on_an_unpriced_model_is_recorded_as_unpriced_not_free():
    metrics = GatewayMetrics()
    rec = SpendRecorder(PriceBook.load(), metrics)
    call = finished("anthropic", "claude-from-the-future", Usage(input_tokens=5, output_tokens=5))
    rec(call)
    assert rec.build(call).cost_micros is None
    assert metrics.unpriced.labels("anthropic", "claude-from-the-future")._value.get() == 1
    empty = finished("anthropic", "claude-from-the-future", Usage())
    assert rec.build(empty).cost_micros == 0  # no tokens (e.g. an upstream error): nothing was billed
