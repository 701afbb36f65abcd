"""Tools and retrieval: RAG chunks in the system prompt or the user turn, API reference pages, search results,
fetched web pages, runbooks, policy documents."""

from __future__ import annotations

from datetime import date, timedelta

from benchmarks.heldout import _shapes as s
from benchmarks.heldout._text import SERVICES, TEAMS, paragraph, person, seeded, sentence, token
from benchmarks.workloads._build import Workload

COUNTRIES = [("FR", "France"), ("DE", "Germany"), ("AT", "Austria"), ("NL", "Netherlands"), ("BE", "Belgium"),
             ("ES", "Spain"), ("IT", "Italy"), ("PL", "Poland"), ("SE", "Sweden"), ("DK", "Denmark"),
             ("IE", "Ireland"), ("PT", "Portugal"), ("CZ", "Czechia"), ("FI", "Finland")]


def section(r, title: str, level: int = 2, paras: tuple[int, int] = (2, 4)) -> str:
    out = ["#" * level + " " + title, ""]
    for _ in range(r.randint(*paras)):
        out += [paragraph(r), ""]
    if r.random() < 0.4:
        out += [f"- {sentence(r)}" for _ in range(r.randint(2, 5))] + [""]
    return "\n".join(out)


def returns_policy() -> Workload:
    name = "rag_system_returns_policy"
    r = seeded(name)
    chunks = []
    for code, country in COUNTRIES:
        days = {"DE": 30, "AT": 30}.get(code, r.choice([14, 14, 21, 28]))
        chunk_id = f"returns-policy-eu.md#{code.lower()}"
        body = (f"{country} ({code}). Unopened items can be returned within 60 days of delivery for a full refund. "
                f"Opened items in resaleable condition may be returned within {days} days of delivery; "
                f"a restocking fee of {r.choice([0, 5, 10, 15])}% applies to opened electronics. "
                + paragraph(r, 2, 3))
        chunks.append((chunk_id, body))
    for topic in ["shipping-times", "warranty", "gift-cards", "price-match", "loyalty-points", "damaged-items",
                  "marketplace-sellers", "carrier-claims", "exchanges", "international-orders"]:
        for k in range(r.randint(1, 3)):
            chunks.append((f"help-center/{topic}.md#{k + 1}", paragraph(r, 4, 7)))
    r.shuffle(chunks)
    context = "\n\n".join(f"[doc {i + 1}] source={cid} score={r.uniform(0.55, 0.93):.2f}\n{body}"
                          for i, (cid, body) in enumerate(chunks))
    system = ("You are the customer support assistant for Northwind Outfitters. Answer only from the retrieved "
              "context below. If the answer depends on the customer's country, say which rule you used and cite "
              "the source.\n\n<retrieved_context>\n" + context + "\n</retrieved_context>")
    question = ("She's in Munich, opened the box and used the jacket once. How long does she have to send it back, "
                "and is there a fee?")
    messages = [
        s.o_sys(system),
        s.o_user("Hi, I'm handling ticket #88213, a customer wants to return a rain jacket."),
        s.o_asst("Happy to help. Which country is the customer in, and was the item opened or used?"),
        s.o_user(question),
    ]
    de = next(b for cid, b in chunks if cid.endswith("#de"))
    facts = ["returns-policy-eu.md#de", de[: de.index("electronics.") + len("electronics.")]]
    return s.chat(name, question, facts, messages, bulk="system", model="gpt-4o-mini",
                  notes="vocabulary: Munich -> Germany (DE), send it back -> returned")


def api_reference() -> Workload:
    name = "rag_api_reference_rate_limit"
    r = seeded(name)
    endpoints = []
    for res in ["projects", "datasets", "jobs", "exports", "webhooks", "members", "tokens", "usage", "audit-log",
                "schedules", "alerts", "dashboards"]:
        for method, suffix in [("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PATCH", "/{id}"), ("DELETE", "/{id}")]:
            endpoints.append((method, f"/v3/{res}{suffix}"))
    endpoints.insert(17, ("POST", "/v3/exports/bulk"))
    endpoints.insert(18, ("GET", "/v3/exports/bulk/{export_id}"))
    pages = []
    for method, path in endpoints:
        if path == "/v3/exports/bulk" and method == "POST":
            limit = "Rate limit: 12 requests per minute per organization (shared by all API keys of the org)."
        else:
            limit = f"Rate limit: {r.choice([60, 120, 300, 600, 1200])} requests per minute per API key."
        params = "\n".join(f"| `{p}` | {t} | {'yes' if req else 'no'} | {sentence(r)} |" for p, t, req in r.sample(
            [("limit", "integer", False), ("cursor", "string", False), ("name", "string", True),
             ("format", "enum(csv, parquet, jsonl)", False), ("filter", "string", False),
             ("include_archived", "boolean", False), ("project_id", "string", True), ("since", "RFC 3339", False)],
            4))
        pages.append(f"""## {method} {path}

{paragraph(r, 1, 3)}

{limit}

### Parameters

| Name | Type | Required | Description |
|---|---|---|---|
{params}

### Example

```bash
curl -X {method} https://api.tessellate.dev{path.replace("{id}", "prj_" + token(r, 10))} \\
  -H "Authorization: Bearer $TESSELLATE_TOKEN"
```

### Errors

`400 invalid_request`, `401 unauthenticated`, `403 forbidden`, `404 not_found`, `429 rate_limited` (see `Retry-After`).
""")
    half = len(pages) // 2
    system = [
        s.text("You are Tessellate's developer support assistant. Use the API reference below to answer. Quote the "
               "endpoint and the exact limit."),
        s.text("# Tessellate API reference (v3), part 1\n\n" + "\n".join(pages[:half]), cache=True),
        s.text("# Tessellate API reference (v3), part 2\n\n" + "\n".join(pages[half:]), cache=True),
    ]
    question = "What's the rate limit on the bulk export endpoint, and is it counted per key or per org?"
    facts = ["## POST /v3/exports/bulk", "Rate limit: 12 requests per minute per organization"]
    return s.claude(name, question, facts, [s.user(question)], bulk="system", system=system)


def search_results() -> Workload:
    name = "rag_kb_search_metrics_port"
    r = seeded(name)
    results = []
    titles = ["Service mesh migration FAQ", "Observability onboarding", "Sidecar resource budgets",
              "Prometheus federation design", "Grafana folder conventions", "Alert routing (Alertmanager)",
              "Mesh mTLS rollout plan", "Legacy telemetry container (deprecated)", "Envoy admin interface",
              "Tracing sampling defaults", "Log shipping with vector", "Network policies for scraping"]
    for i, title in enumerate(titles):
        space = r.choice(["PLAT", "SRE", "OBS", "NET"])
        body = paragraph(r, 5, 9)
        if title == "Observability onboarding":
            body += (" In the new mesh setup every pod gets the stats-agent sidecar, which exposes Prometheus "
                     "metrics on :9464/metrics; add the pod label scrape=mesh and the shared ServiceMonitor picks it "
                     "up. " + paragraph(r, 2, 3))
        if title == "Legacy telemetry container (deprecated)":
            body += (" The old telemetry container listened on :9102 and is removed from all namespaces after "
                     "the mesh cut-over. " + paragraph(r, 1, 2))
        if title == "Envoy admin interface":
            body += " The Envoy admin port 15000 is bound to localhost only and must never be scraped. "
        results.append(f"Result {i + 1} | {title} | confluence/{space}/{r.randint(100000, 999999)} | updated "
                       f"2025-0{r.randint(1, 3)}-{r.randint(10, 28)} | score {0.91 - i * 0.03:.2f}\n\n{body}")
    question = "what port does the metrics sidecar listen on in the new mesh setup?"
    messages = [
        s.user(question),
        s.assistant(s.use("toolu_01Kb", "kb_search", query="metrics sidecar port mesh")),
        s.user(s.result("toolu_01Kb", results)),
    ]
    facts = ["stats-agent sidecar", ":9464/metrics"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.DESK_TOOLS)


def changelog_page() -> Workload:
    name = "rag_webfetch_changelog_python38"
    r = seeded(name)
    nav = "\n".join(["Skip to content", "Navigation Menu", "Toggle navigation", "Sign in", "Product", "Solutions",
                     "Resources", "Open Source", "Enterprise", "Pricing", "Search or jump to...",
                     "qdrift / fastqueue Public", "Notifications", "Fork 312", "Star 4.8k", "Code", "Issues 87",
                     "Pull requests 14", "Actions", "Security", "Insights", "Releases: qdrift/fastqueue", ""])
    releases = []
    versions = []
    for major in range(5, 2, -1):
        for minor in range(4, -1, -1):
            for patch in range(r.randint(0, 3), -1, -1):
                versions.append(f"{major}.{minor}.{patch}")
    versions = versions[3:]
    when = date(2025, 11, 20)
    for v in versions:
        when -= timedelta(days=r.randint(9, 40))
        if v == "4.2.0":
            when = date(2024, 10, 2)
        day = when.isoformat()
        items = []
        for _ in range(r.randint(3, 9)):
            kind = r.choice(["Added", "Fixed", "Changed", "Fixed", "Docs"])
            items.append(f"* {kind}: {sentence(r)} (#{r.randint(800, 2400)}) by @{token(r, 7).lower()}")
        if v == "4.2.0":
            items.insert(0, "* Removed: support for Python 3.8, which reached end of life. The minimum supported "
                            "version is now Python 3.9. (#1873)")
        if v == "4.0.0":
            items.insert(0, "* Deprecated: Python 3.8 support; it will be removed in a future minor release. (#1702)")
        if v == "5.0.0":
            items.insert(0, "* Removed: the `fastqueue.compat` shims and the `legacy_ack` option. (#2210)")
        assets = f"Assets {r.randint(2, 4)}\nSource code (zip)\nSource code (tar.gz)"
        releases.append(f"## {v} ({day})\n\n{'Latest' if v == versions[0] else ''}\n" + "\n".join(items)
                        + f"\n\n{assets}\n{r.randint(0, 40)} people reacted")
    js = "!function(){" + ";".join(f"var {token(r, 2).lower()}{i}=function(e,t){{return e[{r.randint(0, 99)}]^t}}"
                                   for i in range(260)) + "}();"
    page = nav + "\n".join(releases) + "\n\nFooter\n© 2025 GitHub, Inc.\nTerms Privacy Security Status Docs\n\n" + js
    question = "Which release of fastqueue dropped Python 3.8, and what's the minimum Python now?"
    facts = ["## 4.2.0 (2024-10-02)", "The minimum supported version is now Python 3.9"]
    return s.chat(name, question, facts, [
        s.o_sys("You are a research assistant. Use tools to fetch pages and answer from them."),
        s.o_user(question),
        s.o_calls(("call_wf01", "WebFetch", {"url": "https://github.com/qdrift/fastqueue/releases?page=1",
                                             "prompt": "release notes"})),
        s.o_tool("call_wf01", page),
    ], bulk="tool_result", tools=s.CLI_TOOLS)


def runbook() -> Workload:
    name = "rag_runbook_replica_lag"
    r = seeded(name)
    alerts = [("PGConnectionsSaturated", "orders-db"), ("PGDiskUsageHigh", "orders-db"),
              ("RedisEvictionsSpike", "session-store"), ("KafkaConsumerLagHigh", "events"),
              ("PGReplicationDelayHigh", "orders-db"), ("CertificateExpiringSoon", "edge"),
              ("PGLongRunningTransaction", "orders-db"), ("NodeNotReady", "k8s"), ("S3ErrorRateHigh", "media"),
              ("CronJobMissed", "scheduler")]
    parts = ["# Database & platform on-call runbook", "", "Owner: platform-infra. Last reviewed 2025-02-14.", "",
             paragraph(r, 3, 4), ""]
    for alert, system in alerts:
        parts += [f"## {alert}", "", f"**System:** {system}  ", f"**Severity:** {r.choice(['P2', 'P3', 'P2'])}", "",
                  paragraph(r, 2, 3), "", "### Steps", ""]
        if alert == "PGReplicationDelayHigh":
            parts += [
                "1. Check whether the replica is still replaying WAL: on orders-db-replica-1 run "
                "`SELECT now() - pg_last_xact_replay_timestamp();`. If the value keeps growing, replay is stuck.",
                "2. Look for a long-running query on the replica holding back replay (`pg_stat_activity`, "
                "state = 'active', oldest `xact_start`) and cancel it with `pg_cancel_backend(pid)`.",
                "3. If lag is above 15 minutes, take the replica out of the read pool: "
                "`pgbouncer-ctl disable orders-ro orders-db-replica-1`.",
                "4. Do NOT restart the primary. Escalate to #dba-oncall if lag is still growing after 30 minutes.",
            ]
        else:
            parts += [f"{i + 1}. {sentence(r)}" for i in range(r.randint(3, 6))]
        parts += ["", "### Background", "", paragraph(r, 3, 6), "", paragraph(r, 2, 4), ""]
    question = ("The replica lag alert just fired for orders-db and I'm on call for the first time. What do I "
                "do first? Our runbook is below.")
    body = question + "\n\n---\n" + "\n".join(parts)
    facts = ["## PGReplicationDelayHigh", "SELECT now() - pg_last_xact_replay_timestamp();"]
    return s.claude(name, question, facts, [s.user(body)], bulk="user",
                    system="You are a calm, precise SRE mentor.")


def service_catalog() -> Workload:
    name = "rag_user_chunks_ledger_oncall"
    r = seeded(name)
    entries = []
    for svc in [*SERVICES, "ledger-exporter", "ledger-reconciler", "payout-scheduler", "tax-calculator"]:
        team = "data-platform" if svc == "ledger-exporter" else r.choice(TEAMS)
        policy = f"PD-{svc.upper().replace('-', '')[:10]}-{r.choice(['P1', 'P2'])}"
        chan = f"#{team}-oncall"
        if svc == "ledger-service":
            team, policy, chan = "payments-core", "PD-LEDGER-P1", "#payments-core-oncall"
        entries.append(f"""service: {svc}
tier: {r.choice(['tier-0', 'tier-1', 'tier-2'])}
owner: team-{team}
tech lead: {person(r)}
on-call rotation: {team} primary/secondary (weekly, hand-off Monday 10:00 CET)
escalation policy: {policy}
slack: {chan}
repos: github.com/northwind/{svc}
dashboards: https://grafana.internal/d/{token(r, 9)}/{svc}
notes: {paragraph(r, 2, 4)}""")
    r.shuffle(entries)
    parts = [f"Retrieved document {i + 1} (service-catalog.yaml, chunk {r.randint(1, 80)}):\n{e}"
             for i, e in enumerate(entries)]
    for _ in range(6):
        parts.insert(r.randrange(len(parts)), f"Retrieved document (oncall-handbook.md):\n{paragraph(r, 5, 8)}")
    question = "Who owns on-call for the ledger service, and what's the escalation policy if nobody answers?"
    facts = ["service: ledger-service", "escalation policy: PD-LEDGER-P1", "slack: #payments-core-oncall"]
    return s.chat(name, question, facts, [
        s.o_sys("Answer using only the retrieved documents in the user message."),
        s.o_user(*parts, question),
    ], bulk="user")


def product_docs() -> Workload:
    name = "rag_system_full_docs_sso_timeout"
    r = seeded(name)
    areas = ["Getting started", "Workspaces", "Members and roles", "Authentication", "API keys", "Webhooks",
             "Data retention", "Exports", "Billing", "Audit log", "Integrations", "Self-hosting", "Networking",
             "Backups", "Upgrades", "Troubleshooting"]
    keys = ["enabled", "timeout", "max_items", "retention", "region", "batch_size", "log_level", "endpoint",
            "concurrency", "ttl", "sample_rate", "buffer", "grace_period", "window"]
    out = ["# Relay Console documentation", "", paragraph(r, 3, 5), ""]
    for area in areas:
        out.append(section(r, area, 2, (3, 5)))
        for sub in range(r.randint(4, 7)):
            out.append(section(r, f"{area}: {r.choice(['overview', 'configuration', 'limits', 'examples', 'FAQ'])}"
                               f" ({sub + 1})", 3, (2, 4)))
            rows = []
            slug = area.lower().replace(" ", "_")
            for k in r.sample(keys, 6):
                rows.append(f"| `{slug}.{k}` | `{r.choice(['true', '30s', '500', '14d', 'info', '4', '1h'])}` | "
                            f"{sentence(r)} |")
            out += ["| Key | Default | Description |", "|---|---|---|", *rows, ""]
        if area == "Authentication":
            out += ["### Single sign-on sessions", "",
                    "Sessions created through SAML or OIDC sign-in expire after 8 hours of inactivity by default "
                    "(`auth.sso.idle_timeout`, default `8h`); the absolute lifetime is 7 days "
                    "(`auth.sso.max_lifetime`). Password sessions use `auth.password.idle_timeout`, default `24h`.",
                    "", paragraph(r, 2, 3), ""]
    docs = "\n".join(out)
    system = ("You are the in-app help assistant for Relay Console. The complete product documentation follows; "
              "answer from it and name the configuration key when there is one.\n\n" + docs)
    question = "What's the default session timeout for people who log in with SSO, and can we change it?"
    facts = ["expire after 8 hours of inactivity by default", "auth.sso.idle_timeout"]
    return s.claude(name, question, facts, [s.user(question)], bulk="system", system=system)


def plan_comparison() -> Workload:
    name = "rag_compare_team_business"
    r = seeded(name)
    features = [("Seats included", "3", "10", "25", "custom"), ("Projects", "5", "unlimited", "unlimited", "unlimited"),
                ("Audit log retention", "7 days", "30 days", "400 days", "custom"),
                ("SAML SSO", "-", "-", "yes", "yes"), ("SCIM provisioning", "-", "-", "yes", "yes"),
                ("Uptime SLA", "-", "99.5%", "99.9%", "99.95%"), ("Support", "community", "email", "priority",
                                                                  "dedicated TAM"),
                ("API rate limit (req/min)", "60", "600", "3000", "custom"), ("Data residency", "-", "-", "EU/US",
                                                                              "any region")]
    table = ["| Feature | Starter | Team | Business | Enterprise |", "|---|---|---|---|---|"]
    table += [f"| {f} | {a} | {b} | {c} | {d} |" for f, a, b, c, d in features]
    chunks = [("pricing.md#plans", "## Plans at a glance\n\n" + "\n".join(table)),
              ("pricing.md#billing", section(r, "How billing works", 2, (3, 4))),
              ("faq/security.md#sso", "SAML single sign-on is available on Business and Enterprise. "
               + paragraph(r, 2, 3)),
              ("faq/plans.md#upgrade", section(r, "Upgrading and downgrading", 2, (2, 4))),
              ("changelog/2025-01.md", section(r, "January 2025", 2, (2, 3)))]
    chunks += [(f"blog/{token(r, 6).lower()}.md", paragraph(r, 5, 8)) for _ in range(8)]
    r.shuffle(chunks)
    context = "\n\n".join(f"<chunk source=\"{cid}\">\n{body}\n</chunk>" for cid, body in chunks)
    question = "How do the Team and Business plans differ on audit log retention and SSO?"
    facts = ["| Audit log retention | 7 days | 30 days | 400 days | custom |", "| SAML SSO | - | - | yes | yes |"]
    return s.chat(name, question, facts, [
        s.o_sys(["You are a sales engineer assistant. Use the context.", context]),
        s.o_user(question),
    ], bulk="system", model="claude-sonnet-4-5")


def expense_policy() -> Workload:
    name = "rag_document_expense_contractors"
    r = seeded(name)
    doc = "\n".join([
        "Expense Policy v3.2 (effective 2025-01-01)", "",
        "1. Scope", "This policy covers employees of Northwind Labs GmbH and its subsidiaries. " + paragraph(r, 1, 2),
        "", "2. Travel", paragraph(r, 4, 6), paragraph(r, 3, 5), "",
        "2.1 Rail and air", paragraph(r, 4, 6), "", "2.2 Hotels", paragraph(r, 4, 6), "",
        "3. Home office and workspace", "Employees may claim up to EUR 600 per year for home-office equipment. "
        "Coworking memberships are reimbursable for employees without an assigned office, up to EUR 250 per month.",
        "Contractors (non-employees) are not eligible for reimbursement of workspace costs, including coworking "
        "memberships; these must be included in their invoiced rate.", "",
        "4. Meals and entertainment", paragraph(r, 4, 6), paragraph(r, 3, 4), "",
        "4.1 Client events", paragraph(r, 3, 5), "",
        "5. Approvals", "Claims above EUR 1,000 need approval from the budget owner. " + paragraph(r, 1, 1),
    ])
    question = "Can our contractors expense a coworking membership?"
    fact = "Contractors (non-employees) are not eligible for reimbursement of workspace costs"
    return s.claude(name, question, [fact],
                    [s.user(s.document(doc, title="Expense Policy v3.2"), s.text(question))], bulk="document",
                    system="You answer HR and finance policy questions.", max_tokens=1024)


WORKLOADS = [returns_policy, api_reference, search_results, changelog_page, runbook, service_catalog, product_docs,
             plan_comparison, expense_policy]
