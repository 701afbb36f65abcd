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


def test_the_question_beside_the_pastes_is_no_chunk_and_sets_no_bar(optimizer):
    """A message of pastes and the question as one more part: the question matches itself best, and as a chunk
    it pushed the pastes it asks about under the bar. Scored among the pastes only, those stay."""
    manifest = "k8s/library.yaml:\n" + "\n".join(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n"
        f"  template:\n    spec:\n      containers:\n      - name: {name}\n        resources: {{}}\n---"
        for name in ("catalog-api", "cover-thumbnailer", "loan-reminders", "search-indexer", "patron-portal",
                     "holds-queue", "opac-proxy", "ebook-gateway"))
    hpa = ("$ kubectl get hpa -n library\nNAME             REFERENCE                   TARGETS         MINPODS   "
           "MAXPODS   REPLICAS\nsearch-indexer   Deployment/search-indexer   cpu: <unknown>/70%   2         10"
           "        2\n" + "catalog-api      Deployment/catalog-api      cpu: 41%/70%         2         6         "
           "2\n" * 3)
    billing = "Billing notes for the library's vendor: invoices are sent monthly and paid within thirty days. " * 6
    question = "reindexing takes forever and the indexer never scales past 2 pods even at 100% cpu. why?"
    request = {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "You are a Kubernetes expert."},
        {"role": "user", "content": [{"type": "text", "text": t} for t in (manifest, hpa, billing, question)]}]}
    out = texts(optimize(optimizer, request, ["context_compression"], "/v1/chat/completions"))
    assert "search-indexer   Deployment/search-indexer   cpu: <unknown>/70%" in out[1]  # the answer stays
    assert "name: search-indexer" in out[0] and out[3] == question
    assert out[2].startswith("[anyray: ") and "question has no word for" in out[2]  # the one it has no word for
