"""Tools and retrieval: RAG chunks in the system prompt or user parts, search results, fetched pages, documents."""

from __future__ import annotations

import json

from benchmarks.blind._gen import doc_text, hexid, person, rng, uuid
from benchmarks.blind._req import AGENT_TOOLS, CLAUDE_CODE_SYSTEM, Anth, Oai, document, tool
from benchmarks.workloads._build import Workload

HR = {
    "S": ["employees", "staff", "doctoral candidates", "line managers", "postdocs", "part-time staff", "contractors"],
    "V": ["submit", "register", "approve", "report", "file", "confirm"],
    "O": [
        "leave request",
        "travel claim",
        "sick note",
        "overtime record",
        "training budget",
        "flexitime balance",
        "home office agreement",
        "expense report",
    ],
    "U": ["days", "working days", "weeks", "months"],
    "E": ["the end of the semester", "the annual review", "returning to work", "the payroll cut-off", "the audit"],
    "A": ["urgent", "retroactive", "cross-faculty", "externally funded", "partial"],
    "T": ["the HR service desk", "the faculty office", "payroll", "the works council", "the department head"],
    "C": ["staff portal", "collective agreement", "HR handbook", "faculty newsletter"],
}
APPLIANCE = {
    "S": ["users", "the installer", "service technicians", "owners"],
    "V": ["clean", "inspect", "replace", "descale", "reset", "check"],
    "O": [
        "spray arm",
        "filter assembly",
        "water softener",
        "door seal",
        "rinse aid dispenser",
        "inlet hose",
        "salt container",
        "cutlery basket",
    ],
    "U": ["washes", "weeks", "months", "cycles"],
    "E": ["first use", "a long absence", "moving the appliance", "a power cut", "winter storage"],
    "A": ["hard-water", "commercial", "built-in", "freestanding"],
    "T": ["customer service", "an authorised technician", "the retailer"],
    "C": ["quick start guide", "installation manual", "warranty card"],
}
HOSTING = {
    "S": ["the customer", "our support team", "the on-call engineer", "billing", "the account manager"],
    "V": ["confirm", "escalate", "credit", "investigate", "document", "report"],
    "O": ["outage", "invoice", "credit note", "SLA report", "ticket", "status page", "incident review"],
    "U": ["hours", "business days", "days", "weeks"],
    "E": ["the incident review", "the next invoice run", "the maintenance window", "month end"],
    "A": ["partial", "planned", "customer-caused", "repeat"],
    "T": ["billing", "the account manager", "the network team", "our support desk"],
    "C": ["service agreement", "status page", "customer portal"],
}
PERMITS = {
    "S": ["applicants", "property owners", "contractors", "neighbours", "the planning office"],
    "V": ["submit", "publish", "pay", "notify", "object to", "appeal"],
    "O": ["building permit", "site plan", "dispensation", "neighbour notice", "fee", "completion certificate"],
    "U": ["weeks", "days", "calendar days", "months"],
    "E": ["the hearing period", "construction start", "final inspection", "the summer holiday"],
    "A": ["minor", "listed-building", "agricultural", "temporary"],
    "T": ["the planning office", "the building authority", "the county governor"],
    "C": ["planning portal", "municipal plan", "zoning regulations"],
}


def _chunks(r, vocab, sources, n, planted, at):
    out = []
    for i in range(n):
        src = r.choice(sources)
        out.append(
            {
                "source": f"{src}#{hexid(r, 4)}",
                "score": round(0.82 - i * 0.009 - r.random() * 0.004, 3),
                "text": doc_text(r, r.randint(5, 9), vocab),
            }
        )
    out.insert(at, planted)
    return out


def hr_system_chunks() -> Workload:
    name = "rag_system_chunks_parental_leave"
    r = rng(name)
    planted = {
        "source": "hr-handbook/leave/parental.md#carry-over",
        "score": 0.741,
        "text": "Parental leave days not taken before the child turns three may be carried over for up to "
        "18 months, provided the carry-over is registered in the staff portal before the third birthday. "
        "Carry-over above 60 days requires approval from the faculty office.",
    }
    chunks = _chunks(
        r,
        HR,
        [
            "hr-handbook/leave/annual.md",
            "hr-handbook/travel.md",
            "hr-handbook/leave/sick.md",
            "collective-agreement-2025.pdf",
            "faq/payroll.md",
        ],
        34,
        planted,
        11,
    )
    ctx = "\n\n".join(f'<chunk source="{c["source"]}" score="{c["score"]}">\n{c["text"]}\n</chunk>' for c in chunks)
    system = (
        "You are the HR assistant of Nordvik University. Answer only from the context below and cite the "
        "source of each claim. If the context does not answer the question, say so.\n\n<context>\n"
        f"{ctx}\n</context>"
    )
    q = (
        "My daughter turns 3 in February and I still have 40 days of parental leave left. Do I lose them? "
        "What do I have to do?"
    )
    return Anth(name, system=system, max_tokens=1500).done(
        q,
        [
            "carried over for up to 18 months",
            "registered in the staff portal before the third birthday",
            "hr-handbook/leave/parental.md#carry-over",
        ],
        "system",
    )


def dishwasher_parts() -> Workload:
    name = "rag_user_parts_dishwasher_e24"
    r = rng(name)
    parts_ = [
        "water inlet valve",
        "heating element",
        "NTC temperature sensor",
        "circulation pump",
        "door lock",
        "aquastop sensor",
        "flow meter",
        "diverter motor",
        "control board",
        "softener valve",
    ]
    faults = [
        "{} not responding.",
        "{} reports a fault.",
        "{} took too long.",
        "Short circuit in {}.",
        "{} signal out of range.",
    ]
    actions = [
        "Switch the appliance off for 10 seconds and restart the programme.",
        "Check the mains supply.",
        "Contact customer service.",
        "Close the water tap and contact an authorised technician.",
        "Check that the appliance is level and the door closes freely.",
    ]
    codes = {
        f"E{n:02d}": f"{r.choice(faults).format(r.choice(parts_)).capitalize()} {r.choice(actions)}"
        for n in range(1, 40)
    }
    codes["E24"] = (
        "Water is not draining. Check that the drain hose is not kinked and that the filter assembly "
        "is clean. If the error persists, the drain pump impeller may be blocked: remove the filter, "
        "scoop out remaining water and turn the impeller cover (behind the filter) anti-clockwise."
    )
    codes["E25"] = "Drain pump blocked or defective. Contact an authorised technician."
    parts = []
    for i in range(12):
        parts.append(
            f"[Result {i + 1}] source: manuals/SMV68TX06E/{r.choice(['care', 'faults', 'install'])}.pdf "
            f"p.{r.randint(4, 80)} (score {0.9 - i * 0.03:.2f})\n{doc_text(r, r.randint(8, 14), APPLIANCE)}"
        )
    table = "\n".join(f"{k}: {v}" for k, v in codes.items())
    parts.insert(3, "[Result 4b] source: manuals/SMV68TX06E/faults.pdf p.41 (score 0.81)\nFault codes\n" + table)
    q = "dishwasher shows E24 and there's water standing at the bottom. can I fix it myself?"
    return Oai(
        name,
        system="You answer appliance questions using the retrieved manual excerpts the user pastes.",
        model="gpt-4o",
    ).done(
        q,
        ["E24: Water is not draining", "turn the impeller cover", "manuals/SMV68TX06E/faults.pdf p.41"],
        "user",
        parts=parts,
    )


def permits_search_json() -> Workload:
    name = "rag_tool_search_permits_json"
    r = rng(name)
    hits = []
    for _ in range(28):
        hits.append(
            {
                "id": uuid(r),
                "title": f"{r.choice(PERMITS['O']).capitalize()} - {r.choice(PERMITS['A'])} works",
                "url": f"https://kommune.example/plan/{hexid(r, 6)}",
                "score": round(r.uniform(0.4, 0.8), 3),
                "updated": f"2026-0{r.randint(1, 9)}-{r.randint(10, 28)}",
                "snippet": doc_text(r, r.randint(4, 8), PERMITS),
            }
        )
    hits.insert(
        9,
        {
            "id": uuid(r),
            "title": "Garden sheds and annexes without application",
            "url": "https://kommune.example/plan/annex-exempt",
            "score": 0.612,
            "updated": "2026-03-02",
            "snippet": "You may build a free-standing annex of up to 15 m2 without a permit if it is at least "
            "1 m from the property line and at least 1 m from other buildings, is not used for living, and "
            "the roof height is at most 3.0 m. The municipality must be notified with a site plan after "
            "construction.",
        },
    )
    search = tool("search_docs", "Search the municipality's planning knowledge base.", query="Search query")
    return (
        Anth(name, system="You are the planning office's chat assistant. Cite URLs.", tools=[search])
        .user("can I build a shed in my garden without applying?")
        .calls(
            "Let me search the planning rules.",
            [("search_docs", {"query": "shed annex permit exemption"}, json.dumps({"results": hits}, indent=2))],
        )
        .done(
            "it's 12 m2, 2.6 m high and 80 cm from the fence to the neighbour. ok?",
            [
                "up to 15 m2 without a permit",
                "at least 1 m from the property line",
                "https://kommune.example/plan/annex-exempt",
            ],
            "tool_result",
        )
    )


def webfetch_rate_limits() -> Workload:
    name = "rag_webfetch_weather_api_limits"
    r = rng(name)
    sections = []
    for title in [
        "Authentication",
        "Endpoints",
        "Forecast",
        "Historical data",
        "Marine",
        "Air quality",
        "Errors",
        "SDKs",
        "Changelog",
    ]:
        body = doc_text(
            r,
            r.randint(10, 18),
            {**APPLIANCE, "O": ["request", "API key", "forecast", "response", "webhook", "grid point", "station id"]},
        )
        sections.append(f"## {title}\n\n{body}\n\n```http\nGET /v3/{title.lower().split()[0]}?lat=60.39&lon=5.32\n```")
    limits = (
        "## Rate limits\n\n| Plan | Requests / minute | Requests / day | Burst |\n|---|---|---|---|\n"
        "| Free | 10 | 1,000 | 20 |\n| Hobby | 60 | 20,000 | 120 |\n| Pro | 600 | 500,000 | 1,200 |\n"
        "| Enterprise | custom | custom | custom |\n\nWhen you exceed a limit the API returns `429 Too Many "
        "Requests` with a `Retry-After` header in seconds. The daily quota resets at 00:00 UTC, not at "
        "local midnight. Historical endpoints count as 5 requests each."
    )
    page = "# Skyvarsel API v3 reference\n\n" + "\n\n".join([*sections[:6], limits, *sections[6:]])
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("our weather widget on the hobby plan starts failing around lunchtime every day")
        .calls(
            None, [("WebFetch", {"url": "https://docs.skyvarsel.example/v3/reference", "prompt": "rate limits"}, page)]
        )
        .done(
            "is it the daily cap? we poll the historical endpoint every 30 seconds",
            ["| Hobby | 60 | 20,000 | 120 |", "Historical endpoints count as 5 requests each", "resets at 00:00 UTC"],
            "tool_result",
        )
    )


def lab_wiki_documents() -> Workload:
    name = "rag_documents_lab_wiki_cryostat"
    r = rng(name)
    lab = {
        **HR,
        "O": [
            "booking",
            "induction",
            "safety briefing",
            "key card",
            "liquid helium order",
            "sample log",
            "cleanroom slot",
            "instrument account",
        ],
        "T": ["the lab manager", "the safety officer", "the instrument scientist", "the group leader"],
    }
    docs = []
    for title in [
        "Onboarding checklist",
        "Cleanroom rules",
        "Ordering consumables",
        "Instrument accounts",
        "Working alone policy",
        "Group meeting schedule",
    ]:
        docs.append(document(doc_text(r, r.randint(20, 34), lab), f"Wiki: {title}", "Condensed matter lab wiki"))
    docs.insert(
        3,
        document(
            doc_text(r, 14, lab) + "\n\nCryostat (PPMS DynaCool) access: complete the cryogenics "
            "safety briefing, then ask Delphine Varga (instrument scientist, room B-214) to add you "
            "to the ppms-users group. Bookings are made in LabBook under 'PPMS-2'.\n\n" + doc_text(r, 10, lab),
            "Wiki: Cryogenic instruments",
            "Condensed matter lab wiki",
        ),
    )
    for d in docs:
        d["citations"] = {"enabled": True}
    q = "I'm a new PhD student. How do I get access to the cryostat?"
    return Anth(name, system="You help new lab members find things in the lab wiki.").done(
        q, ["Delphine Varga", "ppms-users", "cryogenics safety briefing", "PPMS-2"], "document", pre=docs
    )


def holdings_http_json() -> Workload:
    name = "rag_oai_http_get_holdings"
    r = rng(name)
    branches = ["Central", "Eastside", "Harbour", "Old Town", "Northgate", "Mobile library"]
    items = []
    for _ in range(160):
        items.append(
            {
                "item_id": f"i{r.randint(100000, 999999)}",
                "branch": r.choice(branches),
                "shelfmark": f"{r.randint(100, 999)}.{r.randint(1, 99)} {r.choice(['ATW', 'GAI', 'LEG'])}",
                "status": r.choice(["on_shelf", "on_loan", "on_loan", "in_transit", "on_hold"]),
                "due": f"2026-11-{r.randint(1, 28):02d}",
                "format": r.choice(["hardback", "paperback"]),
            }
        )
    for it in items:
        if it["branch"] == "Eastside":
            it["status"] = "on_loan"
    items[97] = {
        "item_id": "i604213",
        "branch": "Eastside",
        "shelfmark": "823.91 LEG",
        "status": "on_shelf",
        "due": None,
        "format": "large print",
    }
    get = tool("http_get", "GET a JSON endpoint of the library system.", url="URL")
    q = "is there a copy I can pick up at Eastside today?"
    return (
        Oai(name, system="You are the Northshire Libraries assistant.", tools=[get])
        .user("do you have The Left Hand of Darkness?")
        .calls(
            [
                (
                    "http_get",
                    {"url": "https://api.northshire-libraries.org/v2/works/OL59863W/holdings"},
                    json.dumps({"work": "OL59863W", "title": "The Left Hand of Darkness", "items": items}),
                )
            ]
        )
        .assistant(
            "Yes, we have 160 copies across our branches. Many are on loan right now. Which branch "
            "would you like to check?"
        )
        .done(q, ['"item_id": "i604213", "branch": "Eastside"', "large print"], "tool_result")
    )


def email_ticket_thread() -> Workload:
    name = "rag_email_thread_sla_credit"
    r = rng(name)
    people = [person(r) for _ in range(6)]
    mails = []
    for i in range(16):
        who = people[i % len(people)]
        mails.append(
            f"From: {who} <{who.lower().replace(' ', '.')}@{'fjordhost.no' if i % 2 else 'bakeri-lund.se'}>\n"
            f"Date: Mon, {3 + i // 3} Nov 2026 {9 + i % 8}:{r.randint(10, 59)} +0100\n"
            f"Subject: Re: [FH-{48213}] Outage on web shop / SLA\n\n"
            f"{doc_text(r, r.randint(4, 9), HOSTING)}\n\n> {doc_text(r, 3, HOSTING)}\n"
        )
    mails.insert(
        7,
        "From: Quentin Silva <quentin.silva@fjordhost.no>\nDate: Wed, 5 Nov 2026 14:02 +0100\nSubject: "
        "Re: [FH-48213] Outage on web shop / SLA\n\nHi Ingrid,\n\nI checked the monitoring: total downtime "
        "in October was 7 h 40 min, which puts you at 98.97% availability against the 99.5% in your "
        "Business plan. Per section 6.2 that gives a 25% credit on the October hosting fee. I have asked "
        "billing to issue credit note CN-2026-0931; it will be deducted from the December invoice.\n\n"
        "Best,\nQuentin\n",
    )
    ticket = (
        "Ticket FH-48213\nStatus: Pending customer\nPriority: P2\nCustomer: Bakeri Lund AB\nPlan: Business "
        "(99.5% monthly availability)\nAssignee: Quentin Silva\n"
    )
    q = "Summarise where this ended up: are we getting money back, how much, and when?"
    return Oai(name, model="gpt-4.1-mini").done(
        q,
        ["98.97% availability", "25% credit on the October hosting fee", "CN-2026-0931", "December invoice"],
        "user",
        parts=[ticket, "\n\n".join(reversed(mails))],
    )


def agent_multi_round() -> Workload:
    name = "rag_agent_search_then_read_runbook"
    r = rng(name)
    search = tool("search_docs", "Search the internal knowledge base.", query="Query")
    read = tool("read_doc", "Read a knowledge base page by id.", doc_id="Page id")
    hits = [
        {"doc_id": f"KB-{r.randint(1000, 9999)}", "title": t, "score": round(0.8 - i * 0.04, 2)}
        for i, t in enumerate(
            [
                "Ferry ticket kiosks: restart procedure",
                "Kiosk receipt printer jams",
                "Card terminal offline mode",
                "Kiosk screen calibration",
                "Network: harbour VLANs",
                "Kiosk software release notes 4.x",
                "Ticket refunds at kiosks",
            ]
        )
    ]
    ops = {
        **PERMITS,
        "O": ["card terminal", "kiosk", "receipt printer", "offline queue", "settlement batch"],
        "T": ["the harbour IT desk", "the payment provider", "the duty manager"],
    }
    pages = []
    for h in hits[:3]:
        body = f"# {h['title']}\n\n" + doc_text(r, 26, ops)
        if "offline" in h["title"]:
            body += (
                "\n\n## Offline mode limits\nIn offline mode the terminal stores at most 250 transactions or "
                "NOK 150,000, whichever comes first. Above that it declines every card with code 'Z3 OFFLINE "
                "LIMIT'. The queue uploads when the terminal reconnects; run `termctl flush --force` if it "
                "does not within 10 minutes.\n\n" + doc_text(r, 8, ops)
            )
        pages.append(("read_doc", {"doc_id": h["doc_id"]}, body))
    return (
        Anth(name, system="You support harbour staff. Use the knowledge base.", tools=[search, read])
        .user("kiosk 3 at Halhjem declines every card since the network blip this morning, code Z3")
        .calls(
            "I'll search the knowledge base.", [("search_docs", {"query": "kiosk card declined Z3"}, json.dumps(hits))]
        )
        .calls("Reading the most relevant pages.", pages)
        .done(
            "what do I do right now, there's a queue of cars",
            ["Z3 OFFLINE LIMIT", "termctl flush --force", "250 transactions"],
            "tool_result",
        )
    )


def small_faq() -> Workload:
    name = "rag_small_faq_bike_share"
    chunks = [
        (
            "faq/pricing.md",
            0.71,
            "A single ride costs 25 NOK for the first 30 minutes, then 10 NOK per 15 minutes. Day passes cost 79 NOK.",
        ),
        (
            "faq/membership.md",
            0.66,
            "The annual pass (549 NOK) includes unlimited rides up to 60 minutes "
            "each. Rides longer than 60 minutes cost 15 NOK per extra 15 minutes.",
        ),
        ("faq/ebikes.md", 0.64, "E-bikes have a 10 NOK unlock fee for all users, including annual pass holders."),
        (
            "faq/parking.md",
            0.52,
            "Return the bike to any station; a bike left outside a station is charged a 300 NOK fee.",
        ),
        (
            "faq/accounts.md",
            0.49,
            "You can pause an annual pass once a year for up to 60 days. Student "
            "passes require a valid student ID and are renewed each semester.",
        ),
        (
            "faq/damage.md",
            0.44,
            "Report a damaged bike in the app by holding the bike number for three "
            "seconds. You are not charged for rides ended because of a defect reported within 5 minutes.",
        ),
        (
            "faq/winter.md",
            0.41,
            "From December to February only e-bikes with studded tyres are in service; "
            "about half the stations are closed. Opening hours follow the city's snow clearing schedule.",
        ),
    ]
    parts = [f"Source: {s} (relevance {sc})\n{t}" for s, sc, t in chunks]
    q = "I have the annual pass. What does a 75 minute e-bike ride cost me?"
    return Oai(
        name, system="Answer from the FAQ excerpts. Show the calculation.", model="gpt-4o-mini", max_tokens=500
    ).done(q, ["15 NOK per extra 15 minutes", "10 NOK unlock fee", "up to 60 minutes"], "user", parts=parts)


def release_notes_system() -> Workload:
    name = "rag_oai_system_release_notes_versions"
    r = rng(name)
    notes = []
    feats = [
        "CSV import",
        "dark mode",
        "offline sync",
        "webhooks",
        "SAML login",
        "audit log",
        "bulk edit",
        "calendar export",
        "API tokens",
        "custom fields",
        "reminders",
        "two-factor login",
    ]
    for minor in range(0, 24):
        v = f"5.{minor}.0"
        lines = [
            f"- {r.choice(['Added', 'Improved', 'Fixed'])} {r.choice(feats)}: {doc_text(r, 1, HR)}"
            for _ in range(r.randint(4, 9))
        ]
        if minor == 17:
            lines.insert(
                2,
                "- Changed: API tokens now expire after 90 days by default; set `token_ttl_days: 0` in "
                "workspace settings to keep the old non-expiring behaviour.",
            )
        notes.append(f"### {v} ({2024 + minor // 12}-{minor % 12 + 1:02d}-1{r.randint(0, 9)})\n" + "\n".join(lines))
    system = (
        "You are the support assistant for Tidsplan, a shift planning tool. Use these release notes:\n\n"
        + "\n\n".join(reversed(notes))
    )
    return (
        Oai(name, system=system)
        .user("hi, our integration stopped working")
        .assistant("Sorry to hear that. What error does the integration get, and which version are you on?")
        .done(
            "401 invalid_token on every call since the weekend, nothing changed on our side. we're on 5.18",
            ["### 5.17.0", "API tokens now expire after 90 days by default", "token_ttl_days: 0"],
            "system",
        )
    )


ALL = [
    hr_system_chunks,
    dishwasher_parts,
    permits_search_json,
    webfetch_rate_limits,
    lab_wiki_documents,
    holdings_http_json,
    email_ticket_thread,
    agent_multi_round,
    small_faq,
    release_notes_system,
]
