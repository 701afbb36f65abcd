"""Tools and retrieval: RAG chunks, runbooks, API references, wiki pages, fetched web pages, search results."""

from __future__ import annotations

import json

from benchmarks.fresh._gen import Clock, hexs, markdown_table, person, rnd, uuid
from benchmarks.fresh._prose import API, ENGINE, MOBILE, POLICY, RUNBOOK, WIKI, paragraph
from benchmarks.fresh._req import (
    AnthropicConversation,
    OpenAIConversation,
    anthropic_request,
    cached_text,
    document,
    openai_request,
    text_part,
    workload,
)
from benchmarks.workloads._build import Workload


def hospital_retention_policy() -> Workload:
    name = "rag_hospital_retention_policy"
    r = rnd(name)
    docs = [
        ("POL-IT-0101", "Acceptable Use of Information Systems", "v5.0"),
        ("POL-IT-0117", "Identity and Access Management Standard", "v2.4"),
        ("POL-IT-0142", "Audit Logging and Monitoring Standard", "v3.2"),
        ("POL-HIM-0210", "Records Retention and Destruction Policy", "v7.1"),
        ("POL-IT-0150", "Email and Messaging Retention", "v1.3"),
        ("POL-PRIV-0033", "Minimum Necessary Standard", "v4.0"),
    ]
    chunks = []
    for _i in range(26):
        pid, title, ver = r.choice(docs)
        sec = f"{r.randint(2, 9)}.{r.randint(1, 6)}"
        chunks.append((pid, title, ver, sec, paragraph(r, POLICY, r.randint(5, 9))))
    chunks.insert(
        7,
        (
            "POL-IT-0150",
            "Email and Messaging Retention",
            "v1.3",
            "3.1",
            "Email and instant messages are retained for three (3) years and then deleted automatically, "
            "unless subject to a legal hold. " + paragraph(r, POLICY, 3),
        ),
    )
    chunks.insert(
        13,
        (
            "POL-IT-0142",
            "Audit Logging and Monitoring Standard",
            "v3.2",
            "4.3",
            "Audit logs recording access to the electronic health record (EHR), including view, print and "
            "export events, shall be retained for six (6) years from the date of creation. Logs may be "
            "moved to archive storage after 180 days provided they remain retrievable within two business "
            "days. Early destruction of EHR access logs requires written approval from the Health "
            "Information Management Director and must be recorded in the destruction register. "
            + paragraph(r, POLICY, 2),
        ),
    )
    chunks.insert(
        19,
        (
            "POL-IT-0142",
            "Audit Logging and Monitoring Standard",
            "v4.0-DRAFT",
            "4.3",
            "DRAFT - NOT ADOPTED. Proposed: extend retention of all audit logs to seven (7) years to align "
            "with the state records schedule. Comments due to the Information Governance Committee. "
            + paragraph(r, POLICY, 2),
        ),
    )
    blocks = [
        text_part(f"[{i + 1}] {pid} {title} ({ver}), section {sec}\n{body}")
        for i, (pid, title, ver, sec, body) in enumerate(chunks)
    ]
    question = (
        "An auditor is asking how long we keep the logs of who looked at patient charts, and who has to sign off "
        "if we want to purge them early. What does policy say?"
    )
    conv = AnthropicConversation(name)
    conv.user([text_part("Retrieved policy excerpts:"), *blocks, text_part(question)])
    req = anthropic_request(
        conv.messages,
        system="You answer policy questions for a hospital's compliance office. "
        "Cite the policy id and section. Ignore drafts.",
    )
    facts = ["POL-IT-0142", "six (6) years from the date of creation", "Health Information Management Director"]
    return workload(name, question, facts, req, "user", "chart views = EHR access logs; a draft says seven years")


FLAWS = ["heap buffer over-read", "use-after-free", "integer overflow", "NULL dereference"]
DOC_KINDS = ["RB", "KB", "ADR"]


def hsm_key_rotation_runbook() -> Workload:
    name = "rag_hsm_key_rotation_runbook"
    r = rnd(name)
    results = []
    titles = [
        "RB-SEC-012 TLS certificate renewal for edge proxies",
        "RB-SEC-019 Revoking a compromised API key",
        "RB-SEC-024 PIN block key exchange with a new processor",
        "RB-OPS-101 Draining a card-auth node",
        "RB-SEC-027 HSM firmware upgrade",
        "RB-SEC-035 Tokenization vault re-key",
    ]
    for t in titles:
        steps = [f"{j}. {paragraph(r, RUNBOOK, 2)}" for j in range(1, r.randint(6, 10))]
        cmds = [
            f"   $ hsmctl {r.choice(['status', 'partition list', 'audit export', 'cluster health'])} "
            f"--partition {r.choice(['edge-tls', 'tokenization', 'pin-exchange'])}"
            for _ in range(3)
        ]
        results.append(f"score={r.uniform(0.61, 0.79):.3f} | {t}\n\n" + "\n".join(steps[:3] + cmds + steps[3:]))
    key = "\n".join(
        [
            f"score={0.842:.3f} | RB-SEC-031 Rotating the card-issuing signing key (annual)",
            "",
            "Owner: Payment Security. Last reviewed 2026-08-30 by " + person(r) + ".",
            "",
            "1. " + paragraph(r, RUNBOOK, 2),
            "2. Generate the new key in the card-issuing partition (custodians A and B):",
            "   $ hsmctl key generate --partition card-issuing --slot 3 --label ci-sign-2027 --type ec-p384",
            "3. Export the public key and send it to the scheme for certification; wait for the signed certificate:",
            "   $ hsmctl key export-public --partition card-issuing --label ci-sign-2027 --out ci-sign-2027.pem",
            "4. Import the scheme-signed certificate:",
            "   $ hsmctl cert import --partition card-issuing --label ci-sign-2027 --in ci-sign-2027.crt",
            "5. Promote the new key to active signing; the old key stays for verification during the overlap:",
            "   $ hsmctl key promote --partition card-issuing --label ci-sign-2027 --overlap 30d",
            "6. " + paragraph(r, RUNBOOK, 2),
            "7. After the overlap, retire the previous key:",
            "   $ hsmctl key retire --partition card-issuing --label ci-sign-2026",
        ]
    )
    results.insert(2, key)
    first = "\f".join(results[:4])
    second = "\f".join(results[4:])
    question = (
        "I'm doing the yearly rotation of the card-issuing signing key on the HSM tomorrow. What's the procedure? I "
        "need the exact commands in order."
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools(
        [
            ("kb_search", {"query": "rotate card issuing signing key HSM"}, first),
            ("kb_search", {"query": "hsmctl key rotation runbook"}, second),
        ],
        thought="Searching the runbooks.",
        blocks=True,
    )
    req = anthropic_request(
        conv.messages, system="You are the payment-security team's assistant.", tools=["kb_search", "ticket_search"]
    )
    facts = [
        "RB-SEC-031",
        "hsmctl key generate --partition card-issuing --slot 3 --label ci-sign-2027 --type ec-p384",
        "hsmctl key promote --partition card-issuing --label ci-sign-2027 --overlap 30d",
    ]
    return workload(name, question, facts, req, "tool_result", "search results as list content blocks")


def shipping_api_ratelimit() -> Workload:
    name = "rag_shipping_api_ratelimit"
    r = rnd(name)
    resources = [
        ("shipments", "shipment_id"),
        ("pickups", "pickup_id"),
        ("manifests", "manifest_id"),
        ("returns", "return_id"),
        ("addresses", "address_id"),
        ("rates", "quote_id"),
        ("tracking", "tracking_number"),
        ("webhooks", "webhook_id"),
        ("customs-declarations", "declaration_id"),
    ]
    sections = [
        "# Parcelwise API v3 reference",
        "",
        paragraph(r, API, 5),
        "",
        "## Rate limits",
        "",
        "Limits apply per account across all API keys. Exceeding a limit returns `429 Too Many Requests`; "
        "the response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset-After` "
        "(seconds until the window resets). Clients should wait for `X-RateLimit-Reset-After` before retrying. "
        "`Retry-After` is only sent with `503` responses during maintenance.",
        "",
    ]
    rows = []
    for res, ident in resources:
        for method, path, lim in [
            ("GET", f"/v3/{res}", r.choice([600, 900, 1200])),
            ("GET", f"/v3/{res}/{{{ident}}}", r.choice([1200, 2400])),
            ("POST", f"/v3/{res}", r.choice([300, 600])),
        ]:
            rows.append((f"`{method} {path}`", f"{lim} requests per minute per account"))
    rows.insert(4, ("`POST /v3/shipments/{shipment_id}/labels`", "120 requests per minute per account"))
    rows.insert(9, ("`POST /v3/shipments/{shipment_id}/labels/void`", "60 requests per minute per account"))
    sections += [markdown_table(["Endpoint", "Limit"], rows), ""]
    for res, ident in resources:
        sections += [f"## {res.replace('-', ' ').title()}", "", paragraph(r, API, 4), ""]
        for method, path in [
            ("GET", f"/v3/{res}"),
            ("POST", f"/v3/{res}"),
            ("GET", f"/v3/{res}/{{{ident}}}"),
            ("PATCH", f"/v3/{res}/{{{ident}}}"),
        ]:
            fields = {
                f: r.choice(["string", "integer", "boolean", "object"])
                for f in r.sample(
                    [
                        "reference",
                        "service_level",
                        "weight_grams",
                        "length_mm",
                        "width_mm",
                        "height_mm",
                        "insured_value_minor",
                        "currency",
                        "sender",
                        "recipient",
                        "label_format",
                        "created_at",
                        "status",
                        "carrier",
                        "metadata",
                    ],
                    7,
                )
            }
            sections += [
                f"### {method} {path}",
                "",
                paragraph(r, API, 2),
                "",
                "| Field | Type | Description |",
                "|---|---|---|",
            ]
            sections += [f"| `{f}` | {t} | {paragraph(r, API, 1)} |" for f, t in fields.items()]
            sections += ["", "```json", json.dumps({f: f"<{t}>" for f, t in fields.items()}, indent=2), "```", ""]
    doc = "\n".join(sections)
    question = (
        "Our warehouse integration keeps getting 429s when printing labels in bulk. What's the rate limit on "
        "creating labels, and which header should our client read to know when to retry?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are Parcelwise's developer-support assistant. Answer from the reference below.\n\n" + doc)
    conv.user(question)
    facts = [
        "`POST /v3/shipments/{shipment_id}/labels`",
        "120 requests per minute per account",
        "X-RateLimit-Reset-After",
    ]
    return workload(name, question, facts, openai_request(conv.messages), "system", "API reference in system")


def engine_tickrate_webpage() -> Workload:
    name = "rag_engine_tickrate_webpage"
    r = rnd(name)
    nav = [
        "Skip to main content",
        "Home",
        "Docs",
        "Learn",
        "Community",
        "Marketplace",
        "Pricing",
        "Sign in",
        "Search docs (Ctrl+K)",
        "v5.4 (latest)",
        "Getting started",
        "Rendering",
        "Physics",
        "Networking",
        "  Overview",
        "  Replication",
        "  Dedicated servers",
        "  Server configuration reference",
        "  Relevancy",
        "Audio",
        "Animation",
        "Scripting",
        "Platforms",
        "Release notes",
    ]
    cookie = (
        "We use cookies to improve your experience. By clicking Accept all you agree to the storing of cookies "
        "on your device. Cookie settings | Accept all | Reject non-essential"
    )
    cvars = []
    for group in [
        "net.server",
        "net.client",
        "net.replication",
        "net.voice",
        "sv.physics",
        "sv.ai",
        "sv.log",
        "net.relay",
        "sv.match",
    ]:
        for _ in range(8):
            cv = (
                f"{group}.{r.choice(['max', 'min', 'enable', 'timeout', 'budget', 'interval', 'pool'])}"
                f"{r.choice(['Clients', 'Bandwidth', 'Rate', 'Ms', 'Bytes', 'Threads', 'Depth', 'Retries'])}"
            )
            cvars.append(
                (
                    f"`{cv}`",
                    r.choice(["int", "float", "bool"]),
                    str(r.choice([0, 1, 4, 16, 64, 250, 1000])),
                    paragraph(r, ENGINE, 1),
                )
            )
    cvars.insert(
        3, ("`net.server.tickRate`", "int", "30", "Simulation ticks per second on dedicated servers. Range 10-128.")
    )
    cvars.insert(14, ("`net.client.tickRate`", "int", "60", "Client input sampling rate. Independent of the server."))
    cvars.insert(40, ("`net.listen.tickRate`", "int", "20", "Tick rate for listen servers hosted by a player."))
    body = [
        "Server configuration reference | Forgelight Engine Docs",
        *nav,
        cookie,
        "Server configuration reference",
        "Last updated Oct 28, 2026 | 14 min read | Edit this page on GitHub",
        paragraph(r, ENGINE, 5),
        "On this page: Loading order | Console variables | Network | Physics | AI | Logging | Matchmaking",
        "Loading order",
        paragraph(r, ENGINE, 6),
        "Console variables",
        "| Variable | Type | Default | Description |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in cvars],
    ]
    for h in ["Network", "Physics", "AI", "Logging", "Matchmaking"]:
        body += [
            h,
            paragraph(r, ENGINE, 8),
            "Example",
            "```ini",
            "[Server]",
            *[f"{c[0].strip('`')}={c[2]}" for c in r.sample(cvars, 5)],
            "```",
            paragraph(r, ENGINE, 4),
        ]
    body += [
        "Was this page helpful? Yes | No",
        "Previous: Dedicated servers",
        "Next: Relevancy",
        "(c) 2026 Forgelight Interactive. Terms | Privacy | Trademarks | Status | Contact",
        *nav[1:8],
    ]
    page = "\n".join(body)
    question = (
        "Our dedicated servers feel choppy compared to the listen-server builds. What tick rate do dedicated servers "
        "run at by default, and which setting controls it?"
    )
    conv = OpenAIConversation(name)
    conv.system("You help a game studio's network programmers. Cite the docs.")
    conv.user(question)
    conv.tools(
        [("fetch_url", {"url": "https://docs.forgelight.example/v5.4/networking/server-config-reference"}, page)]
    )
    req = openai_request(conv.messages, tools=["fetch_url", "kb_search"])
    facts = ["`net.server.tickRate` | int | 30"]
    return workload(name, question, facts, req, "tool_result", "HTML converted to text; near misses for client/listen")


def kafka_oncall_wiki() -> Workload:
    name = "rag_kafka_oncall_wiki"
    r = rnd(name)
    pages = []
    for title in [
        "Data Platform on-call handbook",
        "Warehouse (Snowflake) escalation",
        "Airflow incident guide",
        "Streaming platform (Kafka) escalation",
        "Holiday and weekend coverage",
    ]:
        secs = [
            f"{title}",
            "Created by " + person(r) + f", last modified 2026-{r.randint(6, 11):02d}-{r.randint(1, 28):02d}",
            "",
        ]
        for h in ["Purpose", "Scope", "Before you page", "Escalation", "Contacts", "Related pages"]:
            secs += [h, paragraph(r, WIKI, r.randint(3, 6)), ""]
        pages.append(secs)
    kafka = pages[3]
    esc = kafka.index("Escalation") + 1
    kafka[esc] = (
        "Weekday business hours: post in #dataplat-streaming and page @dataplat-streaming-primary.\n"
        "Weekends and public holidays: page @dataplat-streaming-oncall (one person, weekly rotation). If there is no "
        "acknowledgement within 15 minutes, PagerDuty escalates to the streaming tech lead, Priya Raghunathan, and "
        "after a further 15 minutes to the Head of Data Platform.\n" + paragraph(r, WIKI, 2)
    )
    wh = pages[1]
    wh[wh.index("Escalation") + 1] = (
        "Page @dataplat-warehouse-oncall at any time. There is no secondary on weekends; escalate to the incident "
        "commander on duty. " + paragraph(r, WIKI, 2)
    )
    blocks = [document("\n".join(p), title=p[0]) for p in pages]
    question = "Kafka is down and it's Saturday morning. Who do I page first, and what happens if they don't pick up?"
    conv = AnthropicConversation(name)
    conv.user([*blocks, text_part(question)])
    req = anthropic_request(conv.messages, system="You are the data platform's incident helper.")
    facts = ["@dataplat-streaming-oncall", "no acknowledgement within 15 minutes", "Priya Raghunathan"]
    return workload(name, question, facts, req, "document", "five wiki pages as document blocks")


def search_synonyms_json() -> Workload:
    name = "rag_search_synonyms_json"
    r = rnd(name)
    groups = [
        ["tee", "t-shirt", "tshirt"],
        ["hoodie", "hooded sweatshirt"],
        ["trainers", "sneakers", "running shoes"],
        ["couch", "sofa", "settee"],
        ["tv", "television"],
        ["laptop", "notebook computer"],
        ["phone case", "phone cover"],
        ["duvet", "comforter"],
        ["pram", "stroller", "buggy"],
        ["jumper", "sweater", "pullover"],
        ["trousers", "pants"],
        ["mobile", "cell phone", "smartphone"],
        ["earbuds", "in-ear headphones"],
        ["flip flops", "thongs", "sandals"],
        ["kettle", "electric kettle"],
    ]
    clock = Clock(r, "2025-06-01T08:00:00", (3_600_000, 400_000_000))
    rules = []
    for i in range(170):
        g = r.choice(groups)
        editor = r.choice(["a.okonkwo", "l.moretti", "search-bot", "k.iyer", "s.brandt"])
        rules.append(
            {
                "id": f"syn_{i + 300:04d}",
                "type": r.choice(["equivalent", "one_way"]),
                "terms": r.sample(g, k=min(len(g), r.randint(2, 3))),
                "locale": r.choice(["en-GB", "en-US", "en-AU"]),
                "enabled": r.random() > 0.1,
                "updated_by": f"{editor}@shop.example",
                "updated_at": clock.iso_s(),
                "notes": r.choice(["", "", "merch request", "from query log review", "seasonal"]),
            }
        )
    rules[119] = {
        "id": "syn_0419",
        "type": "equivalent",
        "terms": ["sneakers", "slippers", "trainers"],
        "locale": "en-GB",
        "enabled": True,
        "updated_by": "m.castillo@shop.example",
        "updated_at": "2026-09-02T16:41:09Z",
        "notes": "footwear consolidation (bulk edit)",
    }
    payload = json.dumps(
        {"index": "products-en-gb-v41", "synonym_set": "retail-core", "total": len(rules), "rules": rules}, indent=2
    )
    question = (
        "Since September, searching 'sneakers' returns slippers. Which synonym rule causes that, and who last "
        "changed it?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are an assistant for an e-commerce search relevance team.")
    conv.user(question)
    conv.tools(
        [("api_get", {"url": "https://search-admin.internal/api/v2/synonym-sets/retail-core?locale=all"}, payload)],
        thought="Fetching the synonym set.",
    )
    req = openai_request(conv.messages, tools=["api_get", "kb_search"])
    facts = ['"id": "syn_0419"', "m.castillo@shop.example", "2026-09-02T16:41:09Z"]
    return workload(name, question, facts, req, "tool_result", "pretty-printed JSON dump")


def mobile_kb_min_ios() -> Workload:
    name = "rag_mobile_kb_min_ios"
    r = rnd(name)
    docs = []
    for _i in range(115):
        n = r.randint(10, 140)
        kind = r.choice(["ADR", "Guide", "Checklist", "Postmortem"])
        title = r.choice(
            [
                "Navigation architecture",
                "Offline sync",
                "Image caching",
                "Release process",
                "Push notification payloads",
                "Biometric login",
                "Dark mode",
                "Feature flag hygiene",
                "Crash triage",
                "App size budget",
                "Deep links",
                "Analytics tracking plan",
            ]
        )
        ident = f"ADR-{n:04d}" if kind == "ADR" else f"{kind.upper()[:4]}-{n:03d}"
        body = [
            f"## {ident}: {title}",
            f"Status: {r.choice(['Accepted', 'Accepted', 'Superseded', 'Proposed'])}",
            f"Author: {person(r)}",
            "",
        ]
        for h in ["Context", "Decision", "Consequences"] if kind == "ADR" else ["Overview", "Steps", "Notes"]:
            body += [f"### {h}", paragraph(r, MOBILE, r.randint(4, 9)), ""]
        docs.append("\n".join(body))
    old = "\n".join(
        [
            "## ADR-0052: Minimum supported OS versions",
            "Status: Superseded by ADR-0087",
            f"Author: {person(r)}",
            "",
            "### Decision",
            "Support iOS 15.0 and Android 8.0 (API 26) and later. " + paragraph(r, MOBILE, 3),
            "",
        ]
    )
    new = "\n".join(
        [
            "## ADR-0087: Raise minimum OS versions for the 6.0 release",
            "Status: Accepted",
            "Author: Hanne Visser",
            "",
            "### Context",
            paragraph(r, MOBILE, 4),
            "",
            "### Decision",
            "From app version 6.0 we support iOS 16.4 and later and Android 9 (API 28) and later. Users "
            "on older OS versions keep 5.x but receive no new features. " + paragraph(r, MOBILE, 2),
            "",
            "### Consequences",
            paragraph(r, MOBILE, 4),
            "",
        ]
    )
    docs = [*docs[:11], old, *docs[11:81], new, *docs[81:]]
    kb = "\n\n".join(docs)
    system = [
        text_part(
            "You are the mobile team's internal assistant. The team knowledge base follows; prefer Accepted "
            "decisions over Superseded ones."
        ),
        cached_text("# Mobile knowledge base export\n\n" + kb),
    ]
    question = (
        "Support is asking: what's the oldest iOS version the app supports from 6.0 on, and where was that decided?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    req = anthropic_request(conv.messages, system=system)
    facts = ["ADR-0087", "iOS 16.4 and later"]
    return workload(name, question, facts, req, "system", "large KB with cache_control; superseded ADR is a near miss")


def privacy_crash_reports() -> Workload:
    name = "rag_privacy_crash_reports"
    question = "Can we send crash reports that include device IDs to the analytics vendor?"
    clauses = [
        "Clause 2.1 Subject matter. The Processor processes Personal Data on behalf of the Controller solely to "
        "provide the analytics services described in Annex I, for the duration of the Principal Agreement.",
        "Clause 3.4 Instructions. The Processor shall inform the Controller without undue delay if, in its opinion, an "
        "instruction infringes applicable data protection law.",
        "Clause 4.2 Confidentiality. The Processor ensures that persons authorised to process Personal Data have "
        "committed themselves to confidentiality or are under an appropriate statutory obligation.",
        "Clause 5.1 Security. The Processor implements the technical and organisational measures in Annex II, "
        "including encryption in transit (TLS 1.2 or later) and at rest (AES-256).",
        "Clause 6.3 Breach notification. The Processor notifies the Controller of a Personal Data Breach within 36 "
        "hours of becoming aware of it.",
        "Clause 7.1 Sub-processors. The Processor may engage the Sub-processors listed in Annex III. Nimbus Analytics "
        "Ltd is listed for product analytics and crash diagnostics.",
        "Clause 7.2 Crash diagnostics. Crash reports may be shared with Nimbus Analytics only after device "
        "identifiers (including IDFA, GAID and the installation ID) are pseudonymised using a keyed hash that the "
        "Controller rotates at least every 90 days. Raw device identifiers must not leave the Controller's "
        "infrastructure.",
        "Clause 7.3 Location data. Precise location data must not be shared with any Sub-processor.",
        "Clause 8.1 Transfers. Transfers outside the EEA rely on the Standard Contractual Clauses (Module 2).",
        "Clause 9.4 Audit. The Controller may audit the Processor once per year with 30 days' notice.",
        "Clause 10.2 Deletion. On termination the Processor deletes all Personal Data within 30 days and certifies "
        "the deletion in writing, unless retention is required by Union or Member State law.",
        "Clause 11.1 Liability. Each party's liability under this DPA is subject to the limitations in the Principal "
        "Agreement.",
    ]
    conv = OpenAIConversation(name)
    conv.system("You are a privacy counsel assistant for a mobile banking app. Answer only from the excerpts.")
    conv.user(
        [
            {"type": "text", "text": "Excerpts from the Data Processing Agreement with Nimbus Analytics (2026):"},
            *[{"type": "text", "text": c} for c in clauses],
            {"type": "text", "text": question},
        ]
    )
    facts = [
        "Clause 7.2",
        "only after device identifiers (including IDFA, GAID and the installation ID) are pseudonymised",
    ]
    return workload(name, question, facts, openai_request(conv.messages), "user", "small")


def cve_vector_results() -> Workload:
    name = "rag_cve_vector_results"
    r = rnd(name)
    libs = ["openssl", "zlib", "libxml2", "curl", "expat", "libpng", "sqlite", "glibc", "libwebp", "pcre2"]
    hits = []
    for _ in range(28):
        lib = r.choice(libs)
        cve = f"CVE-{r.choice([2024, 2025, 2026])}-{r.randint(10000, 49999)}"
        major = r.randint(1, 3)
        hits.append(
            "\n".join(
                [
                    f"--- result (similarity {r.uniform(0.55, 0.8):.4f}) doc_id={uuid(r)}",
                    f"{cve} | {lib} | severity {r.choice(['LOW', 'MEDIUM', 'HIGH'])} | published 20{r.randint(24, 26)}-"
                    f"{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                    f"Affected: {lib} {major}.{r.randint(0, 9)}.0 through {major}.{r.randint(0, 9)}.{r.randint(1, 9)}; "
                    "fixed in "
                    f"{major}.{r.randint(0, 9)}.{r.randint(1, 12)}.",
                    f"Summary: {r.choice(FLAWS)}"
                    f" in {r.choice(['the parser', 'the decoder', 'certificate handling', 'the streaming API'])} may "
                    "allow "
                    f"{r.choice(['denial of service', 'information disclosure', 'remote code execution'])}.",
                    f"Vendor: {r.choice(['upstream', 'Debian', 'Alpine', 'Red Hat'])} tracker {hexs(r, 10)}",
                ]
            )
        )
    hits.insert(
        5,
        "\n".join(
            [
                "--- result (similarity 0.8123) doc_id=" + uuid(r),
                "CVE-2026-31877 | libxml2 | severity HIGH | published 2026-10-07",
                "Affected: libxml2 2.12.0 through 2.13.5; fixed in 2.13.6 (also backported as 2.12.10).",
                "Summary: use-after-free in xmlSchemaValidateStream when validating documents with recursive "
                "xs:redefine "
                "may allow remote code execution via crafted XML.",
                "Vendor: upstream tracker 1f0c2e9a7b",
            ]
        ),
    )
    hits.insert(
        11,
        "\n".join(
            [
                "--- result (similarity 0.7990) doc_id=" + uuid(r),
                "CVE-2025-24928 | libxml2 | severity MEDIUM | published 2025-02-18",
                "Affected: libxml2 2.9.0 through 2.11.8; fixed in 2.11.9.",
                "Summary: stack-based buffer overflow in xmlSnprintfElements during DTD validation.",
                "Vendor: upstream tracker 6d2b0aa311",
            ]
        ),
    )
    question = (
        "The ingest image ships libxml2 2.12.9. Which of these advisories actually applies to us, and what version "
        "do we need to upgrade to?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools([("kb_search", {"query": "libxml2 vulnerability advisory affected versions"}, "\n\n".join(hits))])
    req = anthropic_request(
        conv.messages,
        system="You are a product-security engineer triaging advisories.",
        tools=["kb_search", "run_shell"],
    )
    facts = ["CVE-2026-31877", "libxml2 2.12.0 through 2.13.5", "2.12.10"]
    return workload(name, question, facts, req, "tool_result", "vector search hits; version range reasoning")


def wms_failover_runbook_calls() -> Workload:
    name = "rag_wms_failover_runbook_calls"
    r = rnd(name)

    def hits(n: int, topic: str) -> str:
        out = []
        for _ in range(n):
            out.append(
                json.dumps(
                    {
                        "doc": f"{r.choice(DOC_KINDS)}-{r.choice(['WMS', 'TMS', 'DB'])}-{r.randint(100, 999)}",
                        "title": f"{topic} - {r.choice(['overview', 'procedure', 'checklist', 'FAQ', 'postmortem'])}",
                        "score": round(r.uniform(0.4, 0.75), 3),
                        "snippet": paragraph(r, WIKI + RUNBOOK, r.randint(4, 7)),
                    }
                )
            )
        return "[\n" + ",\n".join(out) + "\n]"

    key = json.dumps(
        {
            "doc": "RB-DB-204",
            "title": "WMS PostgreSQL regional failover - procedure",
            "score": 0.883,
            "snippet": "Objectives: RPO 5 minutes, RTO 30 minutes for the warehouse management database (wms-pg). "
            "Step 1: freeze writes from the pickers' handhelds: `wmsctl site freeze --all --reason failover`. "
            "Step 2: confirm replica lag is below 60s with `patronictl -c /etc/patroni.yml list wms-pg`. "
            "Step 3: promote the standby in eu-central: `patronictl -c /etc/patroni.yml failover wms-pg "
            "--candidate wms-pg-fra-2 --force`. " + paragraph(r, RUNBOOK, 2),
        }
    )
    second = hits(6, "WMS database")
    second = second[:-2] + ",\n" + key + "\n]"
    question = (
        "We might need to fail the warehouse management database over to Frankfurt tonight. How much data can we "
        "lose by design, and what's the very first command I run?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are the logistics SRE team's assistant. Use kb_search and cite documents.")
    conv.user(question)
    conv.tools(
        [("kb_search", {"query": "warehouse management failover"}, hits(7, "Warehouse failover"))],
        thought="Searching the runbooks.",
    )
    conv.tools([("kb_search", {"query": "wms-pg failover procedure RPO"}, second)])
    conv.tools([("kb_search", {"query": "handheld scanners freeze writes"}, hits(5, "Handheld scanners"))])
    req = openai_request(conv.messages, tools=["kb_search", "ticket_search"])
    facts = ["RB-DB-204", "RPO 5 minutes", "wmsctl site freeze --all --reason failover"]
    return workload(
        name, question, facts, req, "tool_result", "three search calls; answer in the second; RPO = data loss"
    )


WORKLOADS = [
    hospital_retention_policy,
    hsm_key_rotation_runbook,
    shipping_api_ratelimit,
    engine_tickrate_webpage,
    kafka_oncall_wiki,
    search_synonyms_json,
    mobile_kb_min_ios,
    privacy_crash_reports,
    cve_vector_results,
    wms_failover_runbook_calls,
]
