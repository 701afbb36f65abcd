"""Chunks that come as a list (retrieved passages, one text part each): the ones the question has no word for
go whole, each behind a marker; one the question names stays whole. An identifier most chunks hold (the
`on-call` field of every service-catalogue entry) names none of them in particular."""

from __future__ import annotations

from typing import Any

from tests.content.conftest import HANDLE, optimize, retrieve

SERVICES = ["webhook-relay", "search-gateway", "session-store", "pricing-engine", "feature-flags", "inventory-svc",
            "cart-svc", "ledger-service", "tax-calculator", "catalog-reader", "report-worker", "payout-scheduler"]


def entry(i: int, service: str) -> str:
    team = ["payments-core", "identity", "search-relevance", "data-platform"][i % 4]
    return (f"Retrieved document {i + 1} (service-catalog.yaml, chunk {i * 7 % 80}):\nservice: {service}\n"
            f"tier: tier-{i % 3}\nowner: team-{team}\non-call rotation: {team} primary/secondary (weekly)\n"
            f"escalation policy: PD-{service.upper().replace('-', '')[:10]}-P{1 + i % 2}\nslack: #{team}-oncall\n"
            f"repos: github.com/northwind/{service}\nnotes: Metrics for the {service} are scraped every {i + 5} "
            f"seconds and kept for thirty days; restarts are rolled one pod at a time.")


def request(question: str) -> dict[str, Any]:
    parts = [{"type": "text", "text": entry(i, s)} for i, s in enumerate(SERVICES)]
    return {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "Answer using only the retrieved documents in the user message."},
        {"role": "user", "content": [*parts, {"type": "text", "text": question}]}]}


def texts(answer: dict[str, Any]) -> list[str]:
    return [p["text"] for p in answer["request"]["messages"][1]["content"]]


def test_an_identifier_every_chunk_holds_does_not_keep_them_all(optimizer):
    question = "Who owns on-call for the ledger service, and what's the escalation policy?"
    out = texts(optimize(optimizer, request(question), ["context_compression"], "/v1/chat/completions"))
    ledger = entry(7, "ledger-service")
    assert out[7] == ledger and out[-1] == question  # the one it is about, and the human's words, untouched
    gone = [t for t in out[:-1] if t.startswith("[anyray: ")]
    assert len(gone) >= 8  # `on-call` is in every entry: it does not keep them
    assert all("question has no word for" in t for t in gone)
    handle = HANDLE.findall(gone[0])[0]
    assert retrieve(optimizer, handle) in [entry(i, s) for i, s in enumerate(SERVICES)]


def test_an_identifier_few_chunks_hold_keeps_each_of_them(optimizer):
    question = "Which of these does github.com/northwind/cart-svc or github.com/northwind/tax-calculator page?"
    out = texts(optimize(optimizer, request(question), ["context_compression"], "/v1/chat/completions"))
    assert out[6] == entry(6, "cart-svc") and out[8] == entry(8, "tax-calculator")
