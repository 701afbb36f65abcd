"""Cross-session recall: a fact stated much earlier in a long conversation, memory notes, transcripts, exports."""

from __future__ import annotations

import json

from benchmarks.blind import _code as src
from benchmarks.blind._gen import Clock, doc_text, handle, hexid, numbered, person, rng
from benchmarks.blind._req import AGENT_TOOLS, CLAUDE_CODE_SYSTEM, Anth, Oai, document, tool
from benchmarks.workloads._build import Workload

CRUISE = {
    "S": ["the science party", "the crew", "the chief scientist", "students", "the bosun", "the data manager"],
    "V": ["log", "calibrate", "deploy", "recover", "archive", "label"],
    "O": [
        "CTD cast",
        "plankton net",
        "mooring",
        "water sample",
        "sediment core",
        "ADCP record",
        "station log",
        "freezer inventory",
        "deck plan",
    ],
    "U": ["hours", "minutes", "days", "stations"],
    "E": ["leaving Tromso", "the weather window", "crossing the shelf edge", "the mid-cruise port call"],
    "A": ["night-time", "ice-edge", "repeat", "opportunistic"],
    "T": ["the chief scientist", "the captain", "the data manager", "the bridge"],
    "C": ["cruise plan", "station sheet", "daily report", "shared drive"],
}
OFFICE = {
    "S": ["the team", "the product lead", "engineering", "the support desk", "the board", "our manager"],
    "V": ["approve", "review", "sign off", "postpone", "budget", "staff"],
    "U": ["weeks", "days", "sprints", "months"],
    "E": ["the quarterly review", "the budget freeze", "the summer holidays", "the vendor demo", "the audit"],
    "A": ["urgent", "small", "cross-team", "customer-facing", "internal"],
    "O": [
        "offsite",
        "budget line",
        "vendor shortlist",
        "hiring plan",
        "roadmap item",
        "pilot",
        "support rota",
        "migration",
    ],
    "T": ["finance", "the product lead", "the platform team", "legal"],
    "C": ["planning doc", "wiki", "tracker"],
}


def cruise_history() -> Workload:
    name = "recall_oai_long_history_cruise"
    r = rng(name)
    o = Oai(name, system="You are a planning assistant for a research cruise on RV Helmer Hanssen.", model="gpt-4.1")
    o.user(
        "Some constraints before we start: the satellite uplink gives us 2 Mbit/s only between 22:00 and 06:00 "
        "ship time, and the shared drive sync must fit in that window. Daytime we only have 256 kbit/s."
    )
    o.assistant(
        "Understood: 2 Mbit/s from 22:00 to 06:00 ship time, 256 kbit/s during the day. I'll plan data "
        "transfers around that."
    )
    for _i in range(28):
        o.user(
            f"{doc_text(r, r.randint(2, 5), CRUISE)} Can you {r.choice(['draft', 'revise', 'shorten'])} the "
            f"{r.choice(CRUISE['O'])} section?"
        )
        o.assistant(doc_text(r, r.randint(10, 22), CRUISE))
    q = "The CTD team produces about 9 GB of raw data a day. Will it get home overnight, or do we have to prioritise?"
    return o.done(
        q,
        ["2 Mbit/s only between 22:00 and 06:00", "256 kbit/s"],
        "history",
        notes="8 h at 2 Mbit/s is about 7.2 GB: not quite",
    )


def memory_system() -> Workload:
    name = "recall_memory_notes_in_system"
    r = rng(name)
    notes = []
    topics = ["prefers", "works on", "asked about", "decided", "dislikes", "uses", "is waiting for"]
    for _ in range(140):
        notes.append(
            f"- [{2025 + r.randint(0, 1)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}] User "
            f"{r.choice(topics)} {r.choice(OFFICE['O'])}: {doc_text(r, 1, OFFICE)}"
        )
    notes.insert(
        88,
        "- [2026-06-03] User's staging database is pg-stage-03 (port 6432, via pgbouncer); never run "
        "migrations against pg-prod-01 from a laptop, they go through the deploy pipeline.",
    )
    notes.insert(20, "- [2026-01-19] User's team uses uv, not pip, and Python 3.12 everywhere.")
    system = [
        {"type": "text", "text": CLAUDE_CODE_SYSTEM[1]["text"]},
        {
            "type": "text",
            "text": "# Memory\nThese notes were saved from earlier sessions with this user:\n" + "\n".join(notes),
            "cache_control": {"type": "ephemeral"},
        },
    ]
    q = "I need to try the new alembic migration somewhere safe before Monday. Which database, and how do I connect?"
    return Anth(name, system=system, tools=AGENT_TOOLS).done(
        q, ["pg-stage-03 (port 6432, via pgbouncer)", "never run migrations against pg-prod-01"], "system"
    )


def meeting_transcript() -> Workload:
    name = "recall_document_meeting_transcript"
    r = rng(name)
    speakers = [person(r) for _ in range(5)]
    c = Clock(r, "2026-10-08T14:00:00", (6, 45))
    lines = []
    for _ in range(260):
        lines.append(f"[{c.tick().strftime('%H:%M:%S')}] {r.choice(speakers)}: {doc_text(r, r.randint(1, 3), OFFICE)}")
    decision = [
        f"[{c.tick().strftime('%H:%M:%S')}] {speakers[2]}: Okay, so for the archive migration we go with "
        "option B, the tape-to-object-storage copy, not the re-scan.",
        f"[{c.tick().strftime('%H:%M:%S')}] {speakers[0]}: Agreed. Who owns it?",
        f"[{c.tick().strftime('%H:%M:%S')}] {speakers[4]}: I'll take it. First batch of 400 reels by "
        "November 20th, I'll report at the steering group.",
    ]
    lines[170:170] = decision
    doc = document(
        "\n".join(lines),
        "Transcript: Collections steering group 2026-10-08",
        "Auto-generated transcript; speaker labels may be wrong",
    )
    q = "I missed the steering group. What did they decide about the archive migration and who's doing it by when?"
    return Anth(name, system="You summarise meetings for the county museum's staff.").done(
        q,
        ["option B, the tape-to-object-storage copy", f"{speakers[4]}: I'll take it", "November 20th"],
        "document",
        pre=[doc],
    )


def earlier_assistant() -> Workload:
    name = "recall_oai_earlier_assistant_vendor"
    r = rng(name)
    o = Oai(name, system="You help a small municipality evaluate software vendors.", model="gpt-4o")
    o.user("Compare the booking systems we looked at for the sports halls. Be thorough.")
    vendors = [
        ("Hallbokning Pro", "NOK 4,200/month"),
        ("Aktivitetsportalen", "NOK 2,950/month + NOK 18 per booking"),
        ("Bookit Kommune", "NOK 61,000/year incl. BankID"),
        ("Idrettsplan", "NOK 3,400/month"),
    ]
    parts = []
    for v, price in vendors:
        parts.append(f"## {v}\n\nPrice: {price}\n\n" + doc_text(r, 24, OFFICE))
    o.assistant(
        "# Comparison\n\n" + "\n\n".join(parts) + "\n\n**Recommendation:** the second option fits your volume "
        "best if bookings stay under about 60 a month."
    )
    for _ in range(3):
        o.user(doc_text(r, 2, OFFICE) + " What about data protection?")
        o.assistant(doc_text(r, 20, OFFICE))
    return o.done(
        "remind me what the one you recommended costs, and what happens to the price if we do 200 bookings a month?",
        ["Aktivitetsportalen", "NOK 2,950/month + NOK 18 per booking", "the second option fits your volume"],
        "assistant",
    )


def recall_tool() -> Workload:
    name = "recall_tool_notes_search"
    r = rng(name)
    rec = tool("recall", "Search notes and transcripts from earlier sessions.", query="Query")
    hits = []
    for _ in range(40):
        hits.append(
            {
                "session": f"2026-{r.randint(5, 10):02d}-{r.randint(1, 28):02d}/{hexid(r, 6)}",
                "kind": r.choice(["note", "transcript", "decision"]),
                "score": round(r.uniform(0.3, 0.7), 3),
                "text": doc_text(r, r.randint(2, 5), OFFICE),
            }
        )
    hits.insert(
        23,
        {
            "session": "2026-08-21/9c41ab",
            "kind": "decision",
            "score": 0.58,
            "text": "Greenhouse climate controller: keep night setpoint at 17.5 C for the tomato houses; "
            "Farah Lindqvist tried 16 C in week 31 and blossom end rot went up, so we reverted. Do not "
            "go below 17 C before the harvest ends.",
        },
    )
    hits.sort(key=lambda h: -h["score"])
    return (
        Anth(name, system="You are an assistant for a market garden. You can recall earlier sessions.", tools=[rec])
        .user("energy prices are up again, should we drop the night temperature in the tomato houses?")
        .calls(
            "Let me check what we decided before.",
            [("recall", {"query": "night temperature tomato"}, json.dumps(hits, indent=1))],
        )
        .done(
            "didn't we try that already?",
            ["night setpoint at 17.5 C", "tried 16 C in week 31", "blossom end rot"],
            "tool_result",
        )
    )


def slack_export() -> Workload:
    name = "recall_slack_export_cert_owner"
    r = rng(name)
    users = [handle(r) for _ in range(9)]
    c = Clock(r, "2026-09-01T08:00:00", (60, 9000))
    msgs = []
    for _ in range(300):
        msgs.append(
            {
                "ts": f"{c.tick().timestamp():.6f}",
                "user": r.choice(users),
                "type": "message",
                "text": doc_text(r, r.randint(1, 2), OFFICE),
            }
        )
    msgs.insert(
        121,
        {
            "ts": f"{c.tick().timestamp():.6f}",
            "user": users[6],
            "type": "message",
            "text": "heads up: the wildcard cert for *.ferjeportal.no expires 2026-11-02. I'll renew it "
            "through the DigiCert account and put it in Vault under secret/tls/ferjeportal",
        },
    )
    msgs.insert(
        122,
        {
            "ts": f"{c.tick().timestamp():.6f}",
            "user": users[2],
            "type": "message",
            "text": "thanks! remember the load balancer pulls it only on restart",
        },
    )
    q = "who said they would renew the ferjeportal certificate, and where will it be?"
    return Oai(name, model="gpt-4.1-mini").done(
        q,
        [users[6], "*.ferjeportal.no expires 2026-11-02", "secret/tls/ferjeportal"],
        "user",
        parts=["#infra channel export (JSON):\n" + json.dumps(msgs, indent=2)],
    )


def long_agent_session() -> Workload:
    name = "recall_long_claude_code_session"
    r = rng(name)
    a = Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS, model="claude-opus-4-1", max_tokens=64000)
    a.user("set up the bird survey app locally and get the tests green")
    env = (
        "# .env.example\nDATABASE_URL=postgresql://survey@localhost:5432/survey\nREDIS_URL=redis://cache-3.internal"
        ":6380/2\nTILE_SERVER=https://tiles.birdcount.example\nSENTRY_DSN=\nFEATURE_OFFLINE_SYNC=1\n"
    )
    a.calls("Looking at the config first.", [("Bash", {"command": "cat .env.example"}, env)])
    nouns = [["survey", "observer", "species", "transect"], ["count", "site", "visit"], ["photo", "upload", "tag"]]
    for i in range(15):
        ns = nouns[i % 3]
        f = f"/home/dev/birdcount/app/{ns[0]}s/{r.choice(['models', 'views', 'services', 'tasks'])}.py"
        a.calls(
            r.choice(["Reading the module.", "Checking this file.", None]),
            [("Read", {"file_path": f}, numbered(src.python(r, ns, r.randint(14, 30))))],
        )
        if i % 4 == 3:
            a.calls(
                "Running the tests.",
                [
                    (
                        "Bash",
                        {"command": "uv run pytest -q -x"},
                        "\n".join(f"tests/test_{ns[0]}_{k}.py ...." for k in range(30))
                        + f"\nFAILED tests/test_{ns[1]}.py::test_{ns[1]}_{hexid(r, 4)} - "
                        "ConnectionError: Error 111 connecting to localhost:6379",
                    )
                ],
            )
            a.assistant([{"type": "text", "text": "The tests expect Redis; I'll keep going with the other failures."}])
            a.user("ok continue")
    return a.done(
        "the redis tests still fail. what host, port and db does the app expect again?",
        ["REDIS_URL=redis://cache-3.internal:6380/2", "localhost:6379"],
        "tool_result",
    )


def support_chat() -> Workload:
    name = "recall_support_chat_order"
    r = rng(name)
    o = Oai(name, system="You are the support agent of Fjellsko, an online shop for hiking boots.", model="gpt-4o-mini")
    o.user("Hi, I ordered boots last week, order FS-2026-118274, size 43 but they're too small")
    o.assistant("Sorry about that! I can help you exchange order FS-2026-118274. Which size would you like instead?")
    for _ in range(18):
        o.user(
            doc_text(
                r,
                r.randint(1, 2),
                {**OFFICE, "O": ["boot", "return label", "insole", "sock", "lace", "gift card", "parcel"]},
            )
            + "?"
        )
        o.assistant(
            doc_text(
                r,
                r.randint(4, 8),
                {**OFFICE, "O": ["exchange", "return window", "refund", "warehouse", "courier", "size chart"]},
            )
        )
    return o.done(
        "ok let's do the exchange to 44, what info do you need from me? I've lost the order email",
        ["FS-2026-118274", "size 43"],
        "history",
    )


def small_recall() -> Workload:
    name = "recall_small_vet_appointment"
    a = Anth(name, system="You are a friendly personal assistant.", model="claude-haiku-4-5", max_tokens=1024)
    a.user(
        "Can you help me plan next week? Monday I have the dentist at 9, and Luna (my dog) has her vaccination at "
        "Dyreklinikken Sagene on Thursday at 16:30."
    )
    a.assistant(
        "Of course! So far: Monday 09:00 dentist, Thursday 16:30 Luna's vaccination at Dyreklinikken Sagene. "
        "What else is on?"
    )
    a.user("Tuesday and Wednesday are office days, I usually leave at 17. Friday I'm working from home.")
    a.assistant(
        "Got it. Tuesday and Wednesday in the office until 17:00, Friday from home. Anything you want to fit "
        "in, like exercise or errands?"
    )
    a.user("I want to go swimming twice and buy a birthday present for my sister, her birthday is on Saturday.")
    a.assistant(
        "Suggestion: swim Tuesday at 17:30 and Friday at lunch; shop for the present Wednesday after work so "
        "you have it before Saturday."
    )
    return a.done(
        "wait, what time was the vet again? I need to leave work early that day",
        ["Thursday at 16:30", "Dyreklinikken Sagene"],
        "history",
    )


def novel_history() -> Workload:
    name = "recall_anthropic_novel_collab_history"
    r = rng(name)
    a = Anth(
        name, system="You are a writing partner helping draft a mystery novel set in a lighthouse.", max_tokens=4000
    )
    a.user(
        "Character sheet. Inspector Maren Haddad: 52, grey-green eyes, walks with a cane since the 2019 avalanche, "
        "hates coffee, drinks lapsang souchong. The keeper, Eero Brennan, is left-handed."
    )
    a.assistant(
        "Lovely. I have Maren Haddad (52, grey-green eyes, cane since the 2019 avalanche, lapsang souchong) "
        "and a left-handed keeper, Eero Brennan."
    )
    story = {
        **CRUISE,
        "S": ["the inspector", "the keeper", "the ferryman", "the widow", "the boy"],
        "O": ["lamp room", "logbook", "fog signal", "boathouse", "letter", "key", "storm"],
        "T": ["the keeper", "the harbour master", "the inspector"],
    }
    for i in range(24):
        a.user(f"Chapter {i + 1}: {doc_text(r, 2, story)} Write the scene.")
        a.assistant(doc_text(r, r.randint(22, 40), story))
    q = "In chapter 25 the killer's knot has to give him away. Which hand does the keeper use, and what's the clue?"
    return a.done(q, ["Eero Brennan, is left-handed"], "history")


ALL = [
    cruise_history,
    memory_system,
    meeting_transcript,
    earlier_assistant,
    recall_tool,
    slack_export,
    long_agent_session,
    support_chat,
    small_recall,
    novel_history,
]
