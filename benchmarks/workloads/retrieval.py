"""Tools and retrieval: fetched docs, knowledge-base chunks, issue trackers, SQL results, API specs, chat."""

from __future__ import annotations

import json

from benchmarks.workloads._build import Workload, anthropic, hexid, openai, rng, sentence


def _prose(r, n: int, topic: str) -> list[str]:
    starts = [
        "This section describes",
        "Operators should note",
        "In most deployments",
        "By default the service",
        "For compatibility",
        "When scaling out",
    ]
    return [f"{r.choice(starts)} how {topic} interacts with {sentence(r, 6)}." for _ in range(n)]


def fetched_docs() -> Workload:
    r = rng("fetched_docs")
    lines = ["# PgBouncer configuration reference", ""]
    for s in range(60):
        lines += [f"## Section {s}: {r.choice(['logging', 'tls', 'admin console', 'timeouts', 'auth'])}", ""]
        lines += _prose(r, 20, "the pooler")
        lines.append("")
    lines[700:700] = [
        "### default_pool_size",
        "",
        "How many server connections to allow per user/database pair. Default: 20.",
        "",
        "### max_client_conn",
        "",
        "Maximum number of client connections allowed. Default: 100.",
    ]
    return anthropic(
        "fetched_docs",
        "What are the defaults for default_pool_size and max_client_conn in pgbouncer?",
        ["per user/database pair. Default: 20.", "Maximum number of client connections allowed. Default: 100."],
        [[("WebFetch", {"url": "https://www.pgbouncer.org/config.html"}, "\n".join(lines))]],
    )


def kb_chunks() -> Workload:
    r = rng("kb_chunks")
    chunks = []
    for c in range(40):
        body = _prose(r, 30, r.choice(["invoicing", "onboarding", "SSO", "data export"]))
        if c == 27:
            body[12] = (
                "Refund policy: customers on annual plans can request a prorated refund within 30 days "
                "of renewal; after that, credit is issued instead."
            )
        chunks.append(f"--- chunk {c} (doc kb-{hexid(r, 6)}, score {0.9 - c * 0.01:.2f}) ---\n" + "\n".join(body))
    return anthropic(
        "kb_chunks",
        "What is our refund window for annual plans?",
        ["prorated refund within 30 days of renewal"],
        [[("search_docs", {"query": "refund annual plan"}, "\n\n".join(chunks))]],
    )


def jira_issues() -> Workload:
    r = rng("jira_issues")
    issues = [
        {
            "key": f"PAY-{1000 + i}",
            "summary": f"{sentence(r, 5)}",
            "status": r.choice(["Done", "In Progress", "To Do"]),
            "assignee": r.choice(["mlopez", "jkim", "asharma", None]),
            "priority": "P3",
            "labels": ["payments"],
            "updated": f"2026-11-{r.randint(1, 24):02d}",
        }
        for i in range(250)
    ]
    issues[143] = {
        "key": "PAY-1143",
        "summary": "Webhook retries double-charge when provider times out",
        "status": "In Progress",
        "assignee": "asharma",
        "priority": "P1",
        "labels": ["payments", "incident"],
        "updated": "2026-11-24",
    }
    return openai(
        "jira_issues",
        "Who is working on PAY-1143 and what's its priority?",
        ["PAY-1143", "asharma", "P1"],
        [
            [
                (
                    "http_get",
                    {"url": "https://jira/rest/api/3/search?jql=project=PAY"},
                    json.dumps({"issues": issues, "total": 250}, indent=2),
                )
            ]
        ],
    )


def sql_result() -> Workload:
    r = rng("sql_result")
    rows = [
        " customer_slug        | region   | open_invoices | overdue_eur ",
        "----------------------+----------+---------------+-------------",
    ]
    for _ in range(2000):
        rows.append(
            f" {r.choice(['acme', 'globex', 'initech', 'umbrella'])}-{hexid(r, 6):<13} | "
            f"{r.choice(['eu-west', 'us-east']):<8} | {r.randint(0, 9):>13} | {r.randint(0, 900):>11} "
        )
    rows.insert(1502, " acme-logistics       | eu-west  |            14 |       48210 ")
    rows.append("(2001 rows)")
    return anthropic(
        "sql_result",
        "How much does acme-logistics owe us in overdue invoices?",
        ["acme-logistics", "48210"],
        [[("Bash", {"command": "psql -c 'select * from ar_summary'"}, "\n".join(rows))]],
    )


def openapi_spec() -> Workload:
    r = rng("openapi_spec")
    paths = {}
    for _i in range(260):
        res = f"/v1/{r.choice(['accounts', 'invoices', 'plans', 'users', 'reports'])}/{hexid(r, 4)}"
        paths[res] = {
            "get": {
                "operationId": f"get{hexid(r, 6)}",
                "summary": sentence(r, 6),
                "responses": {"200": {"description": "OK"}},
            }
        }
    paths["/v1/webhooks"] = {
        "post": {
            "operationId": "createWebhookEndpoint",
            "summary": "Register a webhook URL",
            "requestBody": {"required": True},
            "responses": {"201": {"description": "Created"}},
        }
    }
    spec = json.dumps({"openapi": "3.1.0", "info": {"title": "Billing API", "version": "2.4.0"}, "paths": paths})
    return anthropic(
        "openapi_spec",
        "Which operation registers a webhook, and on what path?",
        ["createWebhookEndpoint", "/v1/webhooks"],
        [[("http_get", {"url": "https://api.internal/openapi.json"}, spec)]],
    )


def chat_history() -> Workload:
    r = rng("chat_history")
    people = ["maria", "tom", "li", "sam", "ola"]
    msgs = [
        {"ts": f"17323{i:05d}.000{r.randint(100, 999)}", "user": r.choice(people), "text": sentence(r, 9)}
        for i in range(500)
    ]
    msgs[377] = {
        "ts": "1732300377.000412",
        "user": "ola",
        "text": "Reminder: deploy freeze starts Thursday 18:00 UTC until Monday 08:00 UTC for the sale.",
    }
    return anthropic(
        "chat_history",
        "When does the deploy freeze start and end?",
        ["deploy freeze starts Thursday 18:00 UTC until Monday 08:00 UTC"],
        [
            [
                (
                    "http_get",
                    {"url": "https://slack/api/conversations.history?channel=C0DEPLOY"},
                    json.dumps({"ok": True, "messages": msgs}),
                )
            ]
        ],
    )


def web_search_then_fetch() -> Workload:
    r = rng("web_search_then_fetch")
    results = [
        {
            "title": f"{sentence(r, 4)}",
            "url": f"https://blog.example/{hexid(r, 8)}",
            "snippet": " ".join(_prose(r, 2, "connection pooling")),
        }
        for _ in range(30)
    ]
    page = ["# Release notes: Redis 7.4", "", *_prose(r, 900, "the keyspace")]
    page[611] = "- CLIENT KILL now accepts MAXAGE to close connections older than N seconds."
    return anthropic(
        "web_search_then_fetch",
        "Which Redis 7.4 command option closes connections older than N seconds?",
        ["CLIENT KILL now accepts MAXAGE"],
        [
            [("WebFetch", {"url": "https://search.example/?q=redis+7.4+client+kill"}, json.dumps(results))],
            [("WebFetch", {"url": "https://redis.io/docs/latest/release-notes/7.4"}, "\n".join(page))],
        ],
    )


WORKLOADS = [fetched_docs, kb_chunks, jira_issues, sql_result, openapi_spec, chat_history, web_search_then_fetch]
