"""Cross-session recall: memory notes in the system prompt, earlier transcripts pasted into the first turn, long
earlier assistant answers, meeting notes, ticket histories; the question asks about one detail from long ago."""

from __future__ import annotations

import json
from datetime import date, timedelta

from benchmarks.heldout import _shapes as s
from benchmarks.heldout._text import (
    FIRST,
    SERVICES,
    TEAMS,
    Clock,
    chatter,
    email,
    hexs,
    ip,
    iso,
    paragraph,
    person,
    seeded,
    sentence,
    syslog_time,
    token,
)
from benchmarks.workloads._build import Workload

TAGS = ["infra", "db", "billing", "frontend", "oncall", "hiring", "security", "release", "perf", "data"]


def _note(r, day: date) -> str:
    return f"- {day.isoformat()} [{r.choice(TAGS)}] {sentence(r)}"


def memory_system() -> Workload:
    name = "recall_system_memory_pg_upgrade"
    r = seeded(name)
    day = date(2024, 9, 2)
    notes = []
    for _ in range(260):
        day += timedelta(days=r.choice([0, 0, 1, 1, 2]))
        notes.append(_note(r, day))
    special = {
        60: "- 2024-11-18 [db] Looked at PG16 for orders-db; pgvector build for 16 not in our base image yet.",
        140: "- 2025-02-20 [db] Considering upgrading orders-db to PG16 in March, Aisha to check extension support.",
        200: "- 2025-03-04 [db] Decision: hold orders-db on PostgreSQL 15.6 until pgvector 0.7 is packaged for 16; "
             "revisit 2025-04-15. Aisha agreed. Ticket PLAT-2291.",
    }
    for k, v in special.items():
        notes[k] = v
    system = ("You are the user's long-running engineering assistant. Below are notes you saved from earlier "
              "sessions (newest last). Use them when the user refers to past conversations.\n\n## Memory\n"
              + "\n".join(notes) + "\n\n## Preferences\n- Answer briefly; link tickets when you mention them.")
    question = "what did we end up deciding about the Postgres 16 upgrade?"
    facts = ["Decision: hold orders-db on PostgreSQL 15.6 until pgvector 0.7 is packaged for 16", "PLAT-2291"]
    return s.claude(name, question, facts, [s.user(question)], bulk="system", system=system)


def _transcript(r, clock: Clock, n: int, people: list[str]) -> list[str]:
    out = []
    for _ in range(n):
        t = clock.tick(5_000, 90_000)
        who = r.choice(people)
        out.append(f"[{t.strftime('%H:%M')}] {who}: {chatter(r) if r.random() < 0.5 else sentence(r)}")
    return out


def transcript_first_turn() -> Workload:
    name = "recall_transcript_flag_name"
    r = seeded(name)
    clock = Clock("2025-03-05T14:00:00", r)
    people = ["Sam", "Ana", "Jonas", "Priya"]
    lines = _transcript(r, clock, 120, people)
    lines += [
        "[14:52] Sam: for the new single-page checkout, let's gate it behind checkout_v3_rollout like last time?",
        "[14:53] Ana: no, v3 is already taken by the address form experiment, we'll confuse the dashboards",
        "[14:53] Jonas: what about ff.checkout.onepage",
        "[14:54] Ana: we namespace by surface now: ff.checkout.single_page",
        "[14:55] Sam: fine by me. agreed: ff.checkout.single_page, default off, 5% ramp on Monday",
        "[14:55] Priya: +1, I'll add it to the flag registry",
    ]
    lines += _transcript(r, clock, 260, people)
    pasted = ("Context from our planning call last Wednesday (exported from the meeting bot):\n\n" + "\n".join(lines)
              + "\n\nI'll have questions about this as I work today.")
    question = "remind me, what was the feature flag name we agreed on for the new checkout flow?"
    messages = [
        s.o_sys("You are a helpful assistant for a product engineering team."),
        s.o_user(pasted),
        s.o_asst("Got it, I've read the transcript. What would you like to know?"),
        s.o_user("who's owning the flag registry change?"),
        s.o_asst("Priya said she'd add it to the flag registry near the end of the checkout discussion."),
        s.o_user("and when is the ramp supposed to start?"),
        s.o_asst("Sam proposed a 5% ramp on Monday, default off until then."),
        s.o_user(question),
    ]
    return s.chat(name, question, ["agreed: ff.checkout.single_page"], messages, bulk="user", model="gpt-4o")


def long_assistant_plan() -> Workload:
    name = "recall_assistant_backfill_batch"
    r = seeded(name)

    def long_answer(title: str, phases: list[str], special: dict[int, str]) -> list[str]:
        blocks = [f"# {title}\n\n{paragraph(r, 3, 4)}"]
        for i, ph in enumerate(phases):
            body = [f"## Phase {i + 1}: {ph}", "", paragraph(r, 3, 5), ""]
            body += [f"- {sentence(r)}" for _ in range(r.randint(3, 6))]
            if i in special:
                body += ["", special[i]]
            body += ["", paragraph(r, 2, 4)]
            blocks.append("\n".join(body))
        return blocks

    plan = long_answer("Backfill plan: events -> events_partitioned",
                       ["Create the partitioned table", "Dual-write", "Backfill historical rows", "Verify",
                        "Cut over reads", "Drop the old table"],
                       {2: "**Batch size:** 25,000 rows per transaction, keyed on `event_id` ranges. This keeps each "
                           "transaction under ~2 s, so replication lag on the read replicas stays below 5 s; sleep "
                           "200 ms between batches and stop automatically if lag exceeds 30 s."})
    other1 = long_answer("Read path after the cut-over", ["Query routing", "Partition pruning", "Caching",
                                                           "Dashboards"], {})
    other2 = long_answer("Retention and archival", ["Retention policy", "Archive format", "Restores"],
                         {0: "**Batch size for archival exports:** 250,000 rows per Parquet file."})
    question = "In your backfill plan earlier, what batch size did you recommend, and why that number?"
    messages = [
        s.user("We need to move the 1.8B-row events table into the new partitioned schema without downtime. "
               "Can you write up a plan?"),
        s.assistant(*plan),
        s.user("Nice. How should reads work after the cut-over?"),
        s.assistant(*other1),
        s.user("And retention: how do we archive partitions older than 13 months?"),
        s.assistant(*other2),
        s.user("ok. " + question),
    ]
    facts = ["25,000 rows per transaction", "keeps each transaction under ~2 s",
             "replication lag on the read replicas stays below 5 s"]
    return s.claude(name, question, facts, messages, bulk="assistant")


def meeting_notes() -> Workload:
    name = "recall_document_meeting_actions"
    r = seeded(name)
    day = date(2024, 10, 7)
    meetings = []
    for k in range(24):
        attendees = ", ".join(sorted({person(r) for _ in range(r.randint(4, 8))}))
        items = [f"* {sentence(r)}" for _ in range(r.randint(4, 8))]
        decisions = [f"* DECISION: {sentence(r)}" for _ in range(r.randint(0, 2))]
        actions = [f"* ACTION {person(r)}: {sentence(r).rstrip('.').lower()} (due "
                   f"{(day + timedelta(days=r.randint(3, 20))).isoformat()})" for _ in range(r.randint(1, 4))]
        if k == 19:
            actions.insert(1, "* ACTION Priya Raman: regenerate the Stripe restricted API keys used by billing-worker "
                              "and update the vault path secret/billing/stripe (due 2025-03-21)")
        if k == 9:
            actions.append("* ACTION Tomasz Kowalski: audit which services still read the old Stripe publishable key "
                           "(due 2024-12-20)")
        meetings.append(f"Platform weekly, {day.isoformat()}\nAttendees: {attendees}\n\nDiscussion\n"
                        + "\n".join(items) + ("\n\nDecisions\n" + "\n".join(decisions) if decisions else "")
                        + "\n\nAction items\n" + "\n".join(actions))
        day += timedelta(days=7)
    doc = "\n\n----------------------------------------\n\n".join(meetings)
    question = "who took the action item to rotate the Stripe keys, and when is it due?"
    facts = ["ACTION Priya Raman: regenerate the Stripe restricted API keys used by billing-worker", "(due 2025-03-21)"]
    return s.claude(name, question, facts, [s.user(s.text("These are our platform weekly notes since October."),
                                                   s.document(doc, title="platform-weekly-notes.txt"),
                                                   s.text(question))],
                    bulk="document", system=[s.text("You are an assistant for an engineering manager.", cache=True)])


def ticket_history() -> Workload:
    name = "recall_ticket_export_workaround"
    r = seeded(name)
    clock = Clock("2025-01-06T08:00:00", r)
    issues = []
    for n in range(4400, 4500, 3):
        created = iso(clock.tick(3_600_000, 40_000_000), False)
        comments = [{"author": person(r), "created": iso(clock.tick(60_000, 9_000_000), False),
                     "body": paragraph(r, 1, 3)}
                    for _ in range(r.randint(1, 5))]
        issues.append({"key": f"INC-{n}", "summary": sentence(r).rstrip("."), "status": r.choice(
            ["Resolved", "Closed", "In Progress", "Waiting for customer"]), "priority": r.choice(["P2", "P3", "P4"]),
            "reporter": email(r), "created": created, "components": r.sample(SERVICES, 2), "comments": comments})
    target = {
        "key": "INC-4471", "summary": "Customer cannot sign in after SSO redirect, loops back to login page",
        "status": "Resolved", "priority": "P2", "reporter": "it-admin@contoso.net", "created": "2025-02-11T07:52:19Z",
        "components": ["auth-broker", "session-store"],
        "comments": [
            {"author": "Carmen Ortega", "created": "2025-02-11T08:30:02Z",
             "body": "Reproduced with the customer's IdP metadata. The sso_state cookie from an old tenant is sent "
                     "along and the broker rejects the assertion."},
            {"author": "Carmen Ortega", "created": "2025-02-11T09:14:40Z",
             "body": "Workaround sent to customer: clear the sso_state cookie for console.northwind.dev and sign in "
                     "via /login?legacy=1 until the fix ships."},
            {"author": "Hiro Tanaka", "created": "2025-02-19T16:03:11Z",
             "body": "Fixed in auth-broker 3.14.2 (state cookie now scoped per tenant). Closing."},
        ],
    }
    issues.insert(len(issues) // 3, target)
    dup = dict(target, key="INC-4488", created="2025-02-24T10:11:05Z", status="Closed",
               summary="Duplicate of INC-4471: SSO login loop",
               comments=[{"author": "Hiro Tanaka", "created": "2025-02-24T10:40:00Z",
                          "body": "Duplicate, see INC-4471. Customer confirmed the fix after upgrading."}])
    issues.insert(2 * len(issues) // 3, dup)
    export = json.dumps({"issues": issues, "total": len(issues)}, indent=1)
    question = "When was INC-4471 first reported, and what workaround did support give the customer?"
    return s.chat(name, question, ['"key": "INC-4471"', '"created": "2025-02-11T07:52:19Z"',
                                   "clear the sso_state cookie", "/login?legacy=1"], [
        s.o_sys("You help the support team review incident history."),
        s.o_user("Jira export of the INC project from Q1:", export, question),
    ], bulk="user", model="gpt-4o-mini")


def openai_long_assistant() -> Workload:
    name = "recall_assistant_cache_option_two"
    r = seeded(name)

    def essay(title: str, extra: str = "") -> str:
        parts = [f"### {title}", "", paragraph(r, 4, 6), ""]
        for k in range(r.randint(3, 5)):
            parts += [f"**{k + 1}. {sentence(r).rstrip('.')}**", "", paragraph(r, 3, 5), ""]
        if extra:
            parts.insert(4, extra)
        return "\n".join(parts)

    options = ("There are three realistic ways to keep the catalog cache consistent after product edits:\n\n"
               "Option 1: write-through invalidation. The admin service deletes `catalog:item:{id}` right after "
               "the commit. " + paragraph(r, 3, 4) + "\n\n"
               "Option 2: versioned keys. Prefix every cache key with `catalog:v{schema_version}:` and bump the "
               "version on each catalog import; stale entries simply age out with their TTL. "
               + paragraph(r, 3, 4) + "\n\n"
               "Option 3: change-data-capture. A small consumer reads the products table's logical replication "
               "stream and evicts affected keys. " + paragraph(r, 3, 4) + "\n\n" + paragraph(r, 3, 5))
    question = "What was the second option you suggested for cache invalidation? I want to pitch it to the team."
    messages = [
        s.o_sys("You are a senior backend engineer acting as a design reviewer."),
        s.o_user("Our product catalog is cached in Redis and editors complain their changes take minutes to show. "
                 "What are our options?"),
        s.o_asst(options),
        s.o_user("How would we measure staleness today?"),
        s.o_asst(essay("Measuring staleness")),
        s.o_user("What TTLs do you suggest for search results vs. product pages?"),
        s.o_asst(essay("TTL recommendations")),
        s.o_user("Could the CDN layer make this worse?"),
        s.o_asst(essay("CDN interaction")),
        s.o_user("Write me a short incident summary for last week's stale-price bug."),
        s.o_asst(essay("Incident summary: stale prices on 2025-03-03")),
        s.o_user(question),
    ]
    facts = ["Option 2: versioned keys", "catalog:v{schema_version}:"]
    return s.chat(name, question, facts, messages, bulk="assistant", model="gpt-4.1")


def memory_tool() -> Workload:
    name = "recall_tool_customer_sla"
    r = seeded(name)
    hits = []
    for i in range(14):
        call = r.choice(["Initech QBR", "Umbrella renewal", "Hooli onboarding", "Globex security review",
                         "Soylent pricing call", "Vandelay kickoff"])
        when = f"2025-0{r.randint(1, 3)}-{r.randint(10, 28)}"
        lines = [f"{r.choice(FIRST)} {r.choice(['Bellini', 'Okafor', 'Haddad', 'Moreau'])}: "
                 f"{chatter(r) if r.random() < 0.4 else sentence(r)}" for _ in range(r.randint(6, 14))]
        if i == 6:
            call, when = "Globex renewal call", "2025-02-27"
            lines.insert(4, "Marco Bellini: Their MSA has 99.95% monthly availability for the API, with service "
                            "credits starting below that, and 99.9% for the dashboard.")
        if i == 2:
            call = "Globex security review"
            lines.insert(2, "Marco Bellini: They asked about our uptime history; I said we'd share the status page "
                            "export, nothing contractual yet.")
        hits.append(f"[match {i + 1}] transcript: {call} ({when}) score={0.9 - i * 0.04:.2f}\n" + "\n".join(lines))
    question = "What did Marco say Globex's uptime commitment is in their contract?"
    messages = [
        s.user(question),
        s.assistant("Searching earlier call transcripts.",
                    s.use("toolu_01Mem", "memory_search", query="Globex uptime SLA Marco")),
        s.user(s.result("toolu_01Mem", "\n\n".join(hits))),
    ]
    facts = ["Globex renewal call (2025-02-27)", "Marco Bellini: Their MSA has 99.95% monthly availability for the API"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.DESK_TOOLS)


def long_chat_history() -> Workload:
    name = "recall_history_disk_full_host"
    r = seeded(name)
    hosts = [f"ci-runner-{k:02d}.build.internal" for k in range(1, 25)]
    df = ["Filesystem      Size  Used Avail Use% Mounted on  Host"]
    for h in hosts:
        for mnt in ["/", "/var/lib/docker", "/home"]:
            use = r.randint(12, 88)
            if h == "ci-runner-14.build.internal" and mnt == "/var/lib/docker":
                use = 100
            size = r.choice([50, 100, 200, 500])
            df.append(f"/dev/nvme{r.randint(0, 2)}n1p{r.randint(1, 3)}  {size}G  {size * use // 100}G  "
                      f"{size - size * use // 100}G  {use}% {mnt:<16} {h}")
    clock = Clock("2025-03-10T07:00:00", r)
    def dockerd(_: int) -> str:
        msg = r.choice([f"Layer sha256:{hexs(r, 64)} cleaned up", "ignoring event", "API listen on /run/docker.sock",
                        f"Container {hexs(r, 12)} failed to exit within 10 seconds of signal 15 - using the force"])
        host = r.choice(hosts).split(".")[0]
        return (f"{syslog_time(clock.tick(500, 8000))} {host} dockerd[{r.randint(900, 1500)}]: "
                f'time="{iso(clock.t, False)}" level=info msg="{msg}"')

    daemon = [dockerd(k) for k in range(500)]
    daemon.insert(260, f"{syslog_time(clock.t)} ci-runner-14 dockerd[1207]: time=\"{iso(clock.t, False)}\" "
                       "level=error msg=\"failed to register layer: write /var/lib/docker/overlay2/" + hexs(r, 64)
                       + "/diff/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on device\"")

    def filler_paste(title: str, n: int) -> str:
        return title + "\n\n" + "\n".join(
            f"{iso(clock.tick(100, 4000))} {r.choice(SERVICES)} {r.choice(['INFO', 'INFO', 'WARN', 'DEBUG'])} "
            f"{sentence(r)} trace={hexs(r, 16)} peer={ip(r)}" for _ in range(n))

    question = "what was the hostname of the box that ran out of disk yesterday? I need to file the ticket"
    messages = [
        s.o_sys("You are an SRE assistant helping the build-infra team."),
        s.o_user("Builds are failing randomly since this morning with weird layer errors. Here's dockerd from the "
                 "fleet:\n\n" + "\n".join(daemon)),
        s.o_asst("One of the runners is failing to register layers because its disk is full (`no space left on "
                 "device`). Can you send `df -h` from the fleet so we can confirm which mount?"),
        s.o_user("df from all runners:\n\n" + "\n".join(df)),
        s.o_asst("Confirmed: one runner's Docker data mount is at 100%. The quickest fix is `docker system prune -af "
                 "--volumes` on that host and then adding a nightly prune timer. " + paragraph(r, 2, 3)),
        s.o_user(filler_paste("unrelated, but the artifact cache is slow too, logs:", 300)),
        s.o_asst("The artifact cache slowness looks unrelated to disk: " + paragraph(r, 6, 9)),
        s.o_user(filler_paste("here's the cache server's own log for the same window", 320)),
        s.o_asst(paragraph(r, 8, 12)),
        s.o_user("can you draft the prune timer unit?"),
        s.o_asst("```ini\n[Unit]\nDescription=Nightly docker prune\n\n[Timer]\nOnCalendar=*-*-* 03:30:00\n"
                 "Persistent=true\n\n[Install]\nWantedBy=timers.target\n```\n\n" + paragraph(r, 3, 5)),
        s.o_user(filler_paste("and the runner registration logs, in case it matters:", 300)),
        s.o_asst(paragraph(r, 6, 10)),
        s.o_user(question),
    ]
    facts = ["ci-runner-14.build.internal", "no space left on device"]
    df_line = next(x for x in df if x.endswith("ci-runner-14.build.internal") and "100%" in x)
    facts.append(df_line)
    return s.chat(name, question, facts, messages, bulk="history", model="claude-sonnet-4-5", max_tokens=None)


def small_preferences() -> Workload:
    name = "recall_system_small_pytest_flags"
    r = seeded(name)
    prefs = [
        "Prefers British spelling in docs, American in code identifiers.",
        "Runs tests with `pytest -x -q --ff -p no:cacheprovider` and wants that exact command suggested.",
        "Uses uv, not pip or poetry, for Python environments.",
        "Likes answers that start with the command or the code, then the explanation.",
        "Time zone Europe/Berlin; standup at 09:45, avoid suggesting deploys after 16:00 on Fridays.",
        "Has admin on the staging cluster (ctx: stg-euw1) but read-only on prod (ctx: prd-euw1).",
        "Wrote the original outbox relay in orders; knows it well, no need to explain the pattern.",
        "Main repos: northwind/orders (Python 3.12), northwind/console (TypeScript, pnpm).",
        "Does not want emojis in commit messages.",
        "On-call rotation: platform-infra, primary every 6th week.",
        f"Editor: {r.choice(['neovim', 'VS Code', 'Helix'])}, prefers unified diffs in answers.",
    ]
    extra = [f"- {sentence(r)}" for _ in range(22)]
    system = ("You are a coding assistant. What you remember about this user:\n" + "\n".join(f"- {p}" for p in prefs)
              + "\n\nProject notes:\n" + "\n".join(extra) + "\n\nTeam: " + ", ".join(TEAMS[:4]) + ". Contact: "
              + email(r) + ". Build id " + token(r, 10) + ".")
    question = "what flags do I usually run pytest with? I forgot"
    return s.chat(name, question, ["pytest -x -q --ff -p no:cacheprovider"],
                  [s.o_sys(system), s.o_user("hey"), s.o_asst("Hi! What are we working on today?"), s.o_user(question)],
                  bulk="system", model="gpt-4o-mini", max_tokens=512)


WORKLOADS = [memory_system, transcript_first_turn, long_assistant_plan, meeting_notes, ticket_history,
             openai_long_assistant, memory_tool, long_chat_history, small_preferences]
