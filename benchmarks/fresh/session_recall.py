"""Cross-session recall: memory notes, transcripts, meeting notes, tickets, emails and long earlier answers."""

from __future__ import annotations

from benchmarks.fresh._code import py_function, ts_handler
from benchmarks.fresh._gen import Clock, b62, mysql, person, rnd, uuid
from benchmarks.fresh._prose import GAMEDEV, MOBILE, PROCUREMENT, WIKI, paragraph
from benchmarks.fresh._req import (
    AnthropicConversation,
    OpenAIConversation,
    anthropic_request,
    document,
    openai_request,
    text_part,
    workload,
)
from benchmarks.workloads._build import Workload

ENG_TALK = (
    "The simplest fix is to make the retry idempotent so that a replay cannot double-apply.",
    "I'd keep the change behind a flag until we have a week of metrics from production.",
    "The connection pool is sized per process, so doubling the workers doubles the connections.",
    "That error usually means the client closed the connection before the server finished writing.",
    "You can confirm it by comparing the trace ids in the gateway log with the service log.",
    "Caching this at the edge is safe because the response does not vary by user.",
    "The migration can run online if we add the column as nullable first and backfill in batches.",
    "A p99 regression of that size usually comes from lock contention rather than CPU.",
    "We should add a test that reproduces the race before changing the code.",
    "The queue depth is a lagging indicator; alert on the age of the oldest message instead.",
    "If we move the validation to the boundary, the inner functions can assume well-formed input.",
    "The timeout on the client is shorter than the server's, so the client gives up first and retries.",
)

TICKET_KINDS = ["Crash", "Wrong copy", "Slow load", "Layout broken", "Flaky test", "Missing event"]
IOS_TOPICS = [
    "the iOS build",
    "fastlane match",
    "TestFlight upload",
    "push entitlements",
    "Xcode 16 upgrade",
    "the widget extension",
]
INCIDENT_KINDS = [
    "Phishing campaign",
    "Suspicious login",
    "Exposed S3 object",
    "Dependency compromise",
    "Credential stuffing",
    "Misconfigured CORS",
]


def long_answer(r, n_par: int = 4, code: bool = True) -> str:
    parts = [paragraph(r, ENG_TALK, r.randint(3, 6)) for _ in range(n_par)]
    if code:
        snippet = py_function(r, r.choice(["order", "invoice", "session", "shipment", "player_profile"]), method=False)
        parts.insert(r.randint(1, len(parts)), "```python\n" + snippet + "\n```")
    return "\n\n".join(parts)


def memory_notes_idempotency() -> Workload:
    name = "recall_memory_notes_idempotency"
    r = rnd(name)
    clock = Clock(r, "2026-03-02T09:00:00", (3_600_000 * 5, 3_600_000 * 60))
    topics = [
        "webhook signing",
        "payout batching",
        "ledger partitioning",
        "FX quote caching",
        "dispute evidence upload",
        "merchant onboarding KYC",
        "card token vault",
        "API versioning",
        "rate limiting",
        "reconciliation jobs",
        "SCA exemptions",
        "refund windows",
    ]
    notes = []
    for i in range(150):
        t = clock.tick().strftime("%Y-%m-%d")
        topic = r.choice(topics)
        kind = r.choice(["note", "note", "decision", "todo"])
        ident = f"DEC-2026-{i + 200:03d}" if kind == "decision" else f"N-{b62(r, 6)}"
        notes.append(f"- [{t}] ({kind}, {ident}) {topic}: {paragraph(r, ENG_TALK, r.randint(1, 3))}")
    notes[40] = (
        "- [2026-05-11] (note, N-q8Rk2P) idempotency keys: proposal from Bogdan to keep idempotency keys for "
        "24 hours, same as the card networks' retry window. Not decided; Carmen worried about batch "
        "importers that retry the next day."
    )
    notes[97] = (
        "- [2026-08-19] (decision, DEC-2026-031) idempotency keys: idempotency keys expire after 72 hours; "
        "the key is scoped per merchant and per endpoint, and a replay with a different body returns 422 "
        "idempotency_key_reused. Agreed by Carmen Salazar and Bogdan Petrov."
    )
    system = (
        "You are the payments API team's long-running assistant. Notes you saved in earlier sessions are "
        "listed below, oldest first. Use them when they are relevant.\n\n<memory>\n" + "\n".join(notes) + "\n</memory>"
    )
    question = "Remind me what we settled on for how long idempotency keys live, and what happens on a reuse?"
    conv = AnthropicConversation(name)
    conv.user("morning! picking up the API docs work again")
    conv.assistant("Morning! Ready when you are. Which part of the API docs do you want to continue with?")
    conv.user(question)
    req = anthropic_request(conv.messages, system=system)
    facts = ["DEC-2026-031", "idempotency keys expire after 72 hours", "idempotency_key_reused"]
    return workload(name, question, facts, req, "system", "an earlier undecided proposal says 24 hours")


def history_staging_host() -> Workload:
    name = "recall_history_staging_host"
    r = rnd(name)
    conv = OpenAIConversation(name)
    conv.system("You are a helpful database engineer.")
    conv.user(
        "I'm chasing slow queries on the order-history page. Staging read replica is "
        "pg-stg-replica-03.int.fjord.example on port 6433 (pgbouncer in transaction mode), database "
        "orders_stg. Here's the slow query:\n\nSELECT o.*, array_agg(i.*) FROM orders o JOIN order_items i ON "
        "i.order_id = o.id WHERE o.customer_id = $1 GROUP BY o.id ORDER BY o.placed_at DESC LIMIT 50;"
    )
    conv.assistant(long_answer(r, 5))
    for q in [
        "here's EXPLAIN ANALYZE:\n"
        + "\n".join(
            f"  ->  {r.choice(['Index Scan using', 'Bitmap Heap Scan on', 'Hash Join', 'Sort', 'Seq Scan on'])} "
            f"{r.choice(['orders', 'order_items', 'orders_customer_id_idx'])}  (cost={r.uniform(0, 900):.2f}.."
            f"{r.uniform(900, 90000):.2f} rows={r.randint(1, 90000)} width={r.randint(8, 400)}) (actual "
            f"time={r.uniform(0, 9):.3f}..{r.uniform(9, 3000):.3f} rows={r.randint(1, 9000)} loops=1)"
            for _ in range(60)
        ),
        "what about a covering index instead?",
        "the backfill job also hits this table, does that matter?",
        "ok and for the pagination, keyset vs offset?",
        "we use prisma on the API side btw",
        "can you write the migration for the index?",
    ]:
        conv.user(q)
        conv.assistant(long_answer(r, r.randint(3, 6)))
    question = "Before I run it: what was the host and port of the staging replica I gave you at the very start?"
    conv.user(question)
    facts = ["pg-stg-replica-03.int.fjord.example", "port 6433"]
    return workload(name, question, facts, openai_request(conv.messages), "history", "15 messages; detail in turn 1")


def meeting_notes_shader_cache() -> Workload:
    name = "recall_meeting_notes_shader_cache"
    r = rnd(name)
    people = [person(r) for _ in range(10)]
    items = [
        "crash on PS5 devkit when streaming level 4",
        "patch size budget for the holiday update",
        "audio middleware licence renewal",
        "nav mesh rebake times",
        "perf capture automation",
        "localisation vendor handoff",
        "build farm disk usage",
        "anti-cheat SDK upgrade",
        "lighting bake queue",
        "QA matrix for Switch 2",
    ]
    notes = []
    clock = Clock(r, "2026-09-01T10:00:00", (6 * 86_400_000, 8 * 86_400_000))
    for wk in range(14):
        day = clock.tick().strftime("%Y-%m-%d")
        lines = [f"# Engine/Tools weekly sync, {day}", f"Attendees: {', '.join(r.sample(people, 6))}", "", "## Updates"]
        lines += [f"- {r.choice(people)}: {r.choice(items)} - {paragraph(r, GAMEDEV, 1)}" for _ in range(6)]
        lines += ["", "## Decisions"]
        lines += [f"- {r.choice(items).capitalize()}: {paragraph(r, GAMEDEV, 1)}" for _ in range(2)]
        lines += ["", "## Action items"]
        lines += [
            f"- [ ] {r.choice(items)} - owner: {r.choice(people)}, due {day[:8]}{r.randint(10, 28)}" for _ in range(4)
        ]
        if wk == 4:
            lines += [
                "- [ ] Move the shader cache from the NFS share to S3 (bucket forge-shadercache-prod, "
                "CloudFront in front) - owner: Ines Ferreira, due 2026-12-12",
                "  - note: Oskar to share the cache key format; keep NFS read-only until January",
            ]
        if wk == 9:
            lines += [
                "- [x] Shader cache: benchmarked S3 vs NFS for cold builds (Oskar) - S3 is 18% slower on cold, "
                "faster on warm; migration stays on track"
            ]
        notes.append("\n".join(lines))
    question = "Who owns moving the shader cache off the NFS share, and by when is it due?"
    conv = AnthropicConversation(name)
    conv.user([document("\n\n".join(notes), title="Engine-Tools weekly sync notes, Sep-Dec 2026"), text_part(question)])
    req = anthropic_request(conv.messages, system="You are a producer's assistant at a game studio.")
    facts = ["owner: Ines Ferreira, due 2026-12-12", "forge-shadercache-prod"]
    return workload(name, question, facts, req, "document", "notes from 14 meetings")


def ticket_dump_android_push() -> Workload:
    name = "recall_ticket_dump_android_push"
    r = rnd(name)
    comps = ["Push", "Onboarding", "Cards", "Payments", "Accessibility", "Performance", "Login", "Statements"]
    tickets = []
    for i in range(75):
        key = f"MOB-{4200 + i * 3 + r.randint(0, 2)}"
        comp = r.choice(comps)
        status = r.choice(["Done", "Done", "In Progress", "To Do", "Won't Do"])
        tickets.append(
            "\n".join(
                [
                    f"{key} | {comp} | {status} | Priority: {r.choice(['P1', 'P2', 'P3'])} | Assignee: {person(r)}",
                    f"Summary: {r.choice(TICKET_KINDS)} "
                    f"on {r.choice(['Android 13', 'Android 14', 'iOS 17', 'iOS 18', 'tablets'])} in "
                    f"{comp.lower()} {r.choice(['screen', 'flow', 'widget'])}",
                    f"Description: {paragraph(r, MOBILE, r.randint(2, 4))}",
                    f"Resolution: {r.choice(['Fixed', 'Duplicate', 'Cannot Reproduce', 'Unresolved'])}",
                ]
            )
        )
    tickets.insert(
        31,
        "\n".join(
            [
                "MOB-4471 | Push | Done | Priority: P1 | Assignee: Deniz Yilmaz",
                "Summary: Users on Android 14 receive every push notification twice",
                "Description: Since 6.12.0 some Android 14 devices show duplicates. Root cause: the FCM token refresh "
                "registered a second device record because onNewToken ran before the old installation id was migrated, "
                "so the "
                "backend held two tokens for the same device.",
                "Resolution: Fixed in 6.13.1 - dedupe device records by installation id on the backend and migrate the "
                "id "
                "before token registration.",
            ]
        ),
    )
    tickets.insert(
        52,
        "\n".join(
            [
                "MOB-4519 | Push | Done | Priority: P3 | Assignee: Fiona Nieminen",
                "Summary: Duplicate in-app banners on iOS 18 when push arrives while app is foregrounded",
                "Description: " + paragraph(r, MOBILE, 2),
                "Resolution: Fixed",
            ]
        ),
    )
    system = (
        "You are the mobile team's triage assistant. The issue tracker export for the last two quarters is "
        "below.\n\n" + "\n\n".join(tickets)
    )
    question = "Which ticket was about Android users getting each push twice, and how did we end up fixing it?"
    conv = OpenAIConversation(name)
    conv.system(system)
    conv.user(question)
    facts = ["MOB-4471", "Fixed in 6.13.1 - dedupe device records by installation id"]
    return workload(name, question, facts, openai_request(conv.messages), "system", "ticket export in system message")


def email_thread_carrier_discount() -> Workload:
    name = "recall_email_thread_carrier_discount"
    r = rnd(name)
    clock = Clock(r, "2026-04-02T08:00:00", (3_600_000, 90_000_000))
    ours = ["Ximena Ortega", "Gaurav Iyer", "Lucia Navarro"]
    theirs = ["Sven Brandt", "Hanne Visser"]
    mails = []

    def mail(frm: str, to: str, body: str) -> str:
        d = clock.tick().strftime("%a, %d %b %Y %H:%M")
        dom = "tidewater-logistics.example" if frm in ours else "nordfreight.example"
        return (
            f"From: {frm} <{frm.split()[0].lower()}@{dom}>\nTo: {to}\nDate: {d}\nSubject: RE: 2026 Q3 rate "
            f"review - Tidewater x NordFreight\n\n{body}\n\n-- \n{frm}"
        )

    pleasant = (
        "Thanks for the quick turnaround.",
        "Looping in finance for visibility.",
        "Happy to jump on a call.",
        "Attaching the updated lane sheet.",
        "Let me check with our network planning team.",
    )
    for _ in range(8):
        a, b = r.choice(ours), r.choice(theirs)
        mails.append(mail(a, b, r.choice(pleasant) + " " + paragraph(r, PROCUREMENT, 3)))
        mails.append(mail(b, a, r.choice(pleasant) + " " + paragraph(r, PROCUREMENT, 3)))
    mails.insert(
        4,
        mail(
            "Sven Brandt",
            "Ximena Ortega",
            "We can offer 8% off the base tariff for Q3 if volumes stay above 30,000 parcels per month.",
        ),
    )
    mails.insert(9, mail("Ximena Ortega", "Sven Brandt", "8% is below what DHL quoted us. We'd need double digits."))
    mails.insert(12, mail("Sven Brandt", "Ximena Ortega", "Best I can do without a bigger commitment is 10%."))
    mails.insert(
        15,
        mail(
            "Hanne Visser",
            "Ximena Ortega",
            "Following our call: NordFreight agrees to 11.5% off the "
            "base tariff for July-September, conditional on at least "
            "42,000 parcels per month across the Nordic lanes. Fuel "
            "surcharge unchanged. Formal addendum to follow.",
        ),
    )
    mails.insert(17, mail("Ximena Ortega", "Hanne Visser", "Confirmed on our side, thanks Hanne."))
    thread = "\n\n-----\n\n".join(reversed(mails))
    question = "What discount did NordFreight finally agree to for Q3, and what volume was it tied to?"
    conv = AnthropicConversation(name)
    conv.user(
        [text_part("Here's the whole email thread with NordFreight (newest first):\n\n" + thread), text_part(question)]
    )
    req = anthropic_request(conv.messages, system="You are an assistant for a logistics procurement team.")
    facts = ["11.5% off the base tariff", "at least 42,000 parcels per month"]
    return workload(name, question, facts, req, "user", "earlier offers 8% and 10% are near misses")


def assistant_migration_plan() -> Workload:
    name = "recall_assistant_migration_plan"
    r = rnd(name)
    plan = "\n\n".join(
        [
            "Here's a migration plan for moving the player-profile data from the monolith's MySQL to the new "
            "profile-service (PostgreSQL).",
            "## Principles\n" + paragraph(r, ENG_TALK, 5),
            "## Order\nMigrate in this order, each as its own release: 1) `player_settings`, 2) `cosmetics_owned`, "
            "3) `friend_links`, 4) `player_profiles`, 5) `match_history`. `player_profiles` is the only table that "
            "needs "
            "a dual-write period (two weeks, writes go to both stores, reads from MySQL) because the matchmaker and "
            "the "
            "store both write to it. `match_history` is append-only, so we copy it with a backfill and then tail the "
            "binlog.",
            "## Risks\n" + paragraph(r, ENG_TALK, 6),
            "## Per-table details\n"
            + "\n\n".join(
                f"### `{t}`\n{paragraph(r, ENG_TALK, 4)}\n\n```sql\n{sql}\n```"
                for t, sql in [
                    (
                        "player_settings",
                        "CREATE TABLE player_settings (player_id uuid PRIMARY KEY, prefs jsonb NOT NULL);",
                    ),
                    (
                        "cosmetics_owned",
                        "CREATE TABLE cosmetics_owned (player_id uuid, item_id int, acquired_at timestamptz,"
                        " PRIMARY KEY (player_id, item_id));",
                    ),
                    (
                        "friend_links",
                        "CREATE TABLE friend_links (a uuid, b uuid, since timestamptz, PRIMARY KEY (a, b));",
                    ),
                    (
                        "player_profiles",
                        "CREATE TABLE player_profiles (player_id uuid PRIMARY KEY, handle citext UNIQUE, "
                        "region text, mmr int, updated_at timestamptz);",
                    ),
                    (
                        "match_history",
                        "CREATE TABLE match_history (match_id uuid, player_id uuid, result smallint, "
                        "played_at timestamptz) PARTITION BY RANGE (played_at);",
                    ),
                ]
            ),
            "## Rollback\n" + paragraph(r, ENG_TALK, 5),
        ]
    )
    conv = AnthropicConversation(name)
    conv.user(
        "We need to move player profiles off the monolith's MySQL into profile-service. Can you draft a migration plan?"
    )
    conv.assistant(plan)
    for q in [
        "unrelated: our matchmaker p99 went up after the last patch, any ideas?",
        "the lobby service logs show lots of 'context canceled', related?",
        "can you write a quick TS handler for the new /profiles/:id endpoint?",
        "ok now back to leaderboard caching, redis sorted sets or something else?",
    ]:
        conv.user(q)
        if "TS handler" in q:
            conv.assistant("```ts\n" + ts_handler(r, "player_profile") + "\n```\n\n" + long_answer(r, 2, code=False))
        else:
            conv.assistant(long_answer(r, r.randint(3, 5)))
    question = (
        "Going back to your migration plan from earlier: what order did you say to migrate the tables in, and which "
        "one needed dual writes?"
    )
    conv.user(question)
    req = anthropic_request(conv.messages, system="You are a backend engineer's assistant at a game studio.")
    facts = [
        "1) `player_settings`, 2) `cosmetics_owned`, 3) `friend_links`, 4) `player_profiles`, 5) `match_history`",
        "`player_profiles` is the only table that needs a dual-write period",
    ]
    return workload(name, question, facts, req, "assistant", "answer is in the assistant's own first reply")


def memory_tool_ios_signing() -> Workload:
    name = "recall_memory_tool_ios_signing"
    r = rnd(name)
    snippets = []
    clock = Clock(r, "2026-08-01T09:00:00", (3_600_000, 200_000_000))
    for _ in range(40):
        snippets.append(
            f"[session {uuid(r)[:8]} | {clock.tick().strftime('%Y-%m-%d')} | score {r.uniform(0.3, 0.7):.2f}]\n"
            f"user: {r.choice(IOS_TOPICS)} "
            f"{r.choice(['is failing again', 'needs a look', 'broke overnight', 'is slow'])}\n"
            f"assistant: {paragraph(r, MOBILE, r.randint(2, 4))}"
        )
    snippets.insert(
        6,
        "\n".join(
            [
                "[session 7be2c91a | 2026-10-21 | score 0.86]",
                "user: release builds are being signed with the development profile again, why??",
                "assistant: Found it: the PocketBankWidget extension target had CODE_SIGN_STYLE = Automatic while the "
                "app "
                "target is Manual, so Xcode picked 'iOS Team Provisioning Profile: *' for the extension and the "
                "archive "
                "inherited it. Setting the extension to Manual with PROVISIONING_PROFILE_SPECIFIER = 'match AppStore "
                "com.pocketbank.app.widget' fixed it (commit 5c1e9ab).",
            ]
        ),
    )
    question = (
        "Last month we figured out why release builds were getting signed with the wrong provisioning profile. "
        "What was the cause again?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are the mobile team's assistant with access to notes from earlier sessions.")
    conv.user(question)
    conv.tools([("memory_lookup", {"query": "release build signed wrong provisioning profile"}, "\n\n".join(snippets))])
    req = openai_request(conv.messages, tools=["memory_lookup", "run_shell"])
    facts = ["PocketBankWidget", "CODE_SIGN_STYLE = Automatic", "5c1e9ab"]
    return workload(name, question, facts, req, "tool_result", "memory tool results")


def long_transcript_checkout_flag() -> Workload:
    name = "recall_long_transcript_checkout_flag"
    r = rnd(name)
    conv = OpenAIConversation(name)
    conv.system("You are a senior full-stack engineer pairing with the user on the web storefront.")
    conv.user(
        "Context for today: we're cleaning up the checkout. The new checkout is gated by the flag "
        "checkout_v3_rollout, currently at 12% of sessions in NL only (BE and DE are at 0%). Old checkout code "
        "lives in src/legacy/checkout. First thing: the address form re-renders on every keystroke, look:\n\n"
        "```tsx\n" + "\n\n".join(ts_handler(r, n) for n in ["address", "cart", "session"] * 4) + "\n```"
    )
    for _i in range(7):
        conv.assistant(
            long_answer(r, r.randint(8, 14))
            + "\n\n```ts\n"
            + "\n\n".join(
                ts_handler(r, r.choice(["address", "cart", "payment_method", "shipping_quote", "coupon"]))
                for _ in range(r.randint(30, 45))
            )
            + "\n```"
        )
        conv.user(
            r.choice(
                [
                    "ok, next: the coupon field validation",
                    "now the shipping quote component is slow",
                    "can you look at the payment methods list?",
                    "this test is flaky, why?",
                    "let's refactor the cart context",
                    "what about SSR for the summary?",
                ]
            )
            + "\n\n```ts\n"
            + "\n\n".join(ts_handler(r, r.choice(["cart", "coupon", "address"])) for _ in range(r.randint(20, 30)))
            + "\n```"
        )
    conv.assistant(long_answer(r, 10))
    question = "Before I write the PR description: which flag gates the new checkout, and what's its rollout right now?"
    conv.user(question)
    facts = ["checkout_v3_rollout", "12% of sessions in NL only"]
    return workload(name, question, facts, openai_request(conv.messages), "history", "large 17-message transcript")


COMPOSE = """  order-service:
    build:
      context: ./services/order-service
      dockerfile: Dockerfile.dev
    image: tidewater/order-service:dev
    depends_on:
      postgres:
        condition: service_healthy
      kafka:
        condition: service_started
    environment:
      SPRING_PROFILES_ACTIVE: local
      SPRING_DATASOURCE_URL: jdbc:postgresql://postgres:5432/orders
      SPRING_DATASOURCE_USERNAME: orders
      SPRING_KAFKA_BOOTSTRAP_SERVERS: kafka:9092
      JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=70 -XX:+UseG1GC
      OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317
      OTEL_SERVICE_NAME: order-service
    ports:
      - "8080:8080"
    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://localhost:8080/actuator/health"]
      interval: 5s
      timeout: 2s
      retries: 20
      start_period: 40s
    volumes:
      - ./services/order-service/build/libs:/app:ro
      - gradle-cache:/root/.gradle
    command: ["sh", "-c", "java $$DEBUG_OPTS -jar /app/order-service.jar"]"""


def small_debug_port() -> Workload:
    name = "recall_small_debug_port"
    conv = OpenAIConversation(name)
    conv.user(
        "I start the order service with `java -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,"
        "address=*:5006 -jar order-service.jar` inside the container, and map it in compose. IntelliJ can't "
        "attach though."
    )
    conv.assistant(
        'Check three things: that compose publishes the debug port (ports: - "5006:5006"), that nothing '
        "else on the host already uses it, and that IntelliJ's Remote JVM Debug configuration points at "
        "localhost with the same port. With JDK 9+ the `*:` prefix is needed so the agent listens on all "
        "interfaces rather than only the container's loopback."
    )
    conv.user(
        'compose has ports: - "8080:8080" only. Also we have a healthcheck hitting /actuator/health every 5s, '
        "could that interfere? here's the service block:\n\n" + COMPOSE
    )
    conv.assistant(
        "The missing port mapping is the problem: add the debug port next to 8080. The healthcheck won't "
        "interfere; it talks HTTP to 8080 and never touches the JDWP socket. One caveat: if you ever set "
        "suspend=y, the healthcheck will fail while the JVM waits for the debugger and compose may restart "
        "the container."
    )
    conv.user("makes sense. another thing, the gradle build takes 4 minutes in docker, anything quick?")
    conv.assistant(
        "Use a BuildKit cache mount for ~/.gradle (RUN --mount=type=cache,target=/root/.gradle ./gradlew "
        "bootJar), copy the build files before the sources so dependency resolution is cached in its own "
        "layer, and turn on the Gradle configuration cache. Those usually bring a warm build under a "
        "minute."
    )
    question = "ok adding the port mapping now - which port did I say the debugger listens on?"
    conv.user(question)
    facts = ["address=*:5006"]
    return workload(name, question, facts, openai_request(conv.messages), "history", "small, 7 messages")


def security_incident_key_leak() -> Workload:
    name = "recall_security_incident_key_leak"
    r = rnd(name)
    incidents = []
    for i in range(110, 134):
        incidents.append(
            "\n".join(
                [
                    f"## SEC-INC-{i:04d}: {r.choice(INCIDENT_KINDS)}",
                    f"Severity: {r.choice(['SEV3', 'SEV2', 'SEV4'])} | Commander: {person(r)} | Status: Closed",
                    "### Timeline (UTC)",
                    *[
                        f"- 2026-{r.randint(1, 11):02d}-{r.randint(1, 28):02d} "
                        f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d} "
                        f"{paragraph(r, WIKI, 1)}"
                        for _ in range(r.randint(4, 8))
                    ],
                    "### Follow-ups",
                    *[f"- {paragraph(r, WIKI, 1)} ({person(r)})" for _ in range(3)],
                ]
            )
        )
    incidents.insert(
        9,
        "\n".join(
            [
                "## SEC-INC-0117: CI credential pushed to a public GitHub repository",
                "Severity: SEV2 | Commander: Jonas Weber | Status: Closed",
                "### Timeline (UTC)",
                "- 2026-10-08 02:41 GitHub secret scanning alert: credential for service account svc-ci-artifacts "
                "found in a "
                "public fork of the mobile-sdk-samples repository.",
                "- 2026-10-08 02:55 On-call confirms the credential is live and scoped to the artifacts bucket "
                "(read/write).",
                "- 2026-10-08 03:17 Credential revoked and replaced; CI secrets rotated in all pipelines.",
                "- 2026-10-08 05:30 CloudTrail review: no use of the credential from outside our CI egress ranges.",
                "### Follow-ups",
                "- Move CI to short-lived OIDC credentials (Paulina Kowalczyk)",
                "- Add pre-receive secret scanning on internal forks (Yusuf Rahman)",
            ]
        ),
    )
    system = [
        text_part("You are the security team's assistant. Closed incident reports for 2026 are provided as context."),
        text_part("\n\n".join(incidents)),
    ]
    question = (
        "Which service account's credential leaked in the October GitHub incident, and how long after the alert did "
        "we revoke it?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    req = anthropic_request(conv.messages, system=system)
    facts = ["SEC-INC-0117", "svc-ci-artifacts", "2026-10-08 02:41", "2026-10-08 03:17"]
    return workload(name, question, facts, req, "system", "system as two text blocks, no cache_control")


def mysql_earlier_turn() -> Workload:
    name = "recall_mysql_earlier_turn"
    r = rnd(name)
    sites = [
        ("RTM-01", "Rotterdam Waalhaven"),
        ("RTM-02", "Rotterdam Maasvlakte"),
        ("ANR-01", "Antwerp Noord"),
        ("HAM-03", "Hamburg Billbrook"),
        ("GOT-01", "Gothenburg Arendal"),
        ("GDN-02", "Gdansk Port"),
        ("DUI-01", "Duisburg Logport"),
        ("LEJ-01", "Leipzig Airport"),
    ]
    rows = []
    for code, label in sites:
        for zone in ["ambient", "chilled", "frozen", "hazmat", "bulk"]:
            cap = r.randint(1200, 16000)
            if code == "RTM-02" and zone == "ambient":
                cap = 18400
            rows.append(
                [
                    code,
                    label,
                    zone,
                    f"{cap:,}",
                    f"{r.randint(40, 99)}%",
                    r.randint(2, 60),
                    f"2026-11-{r.randint(1, 20):02d} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00",
                ]
            )
    table = mysql(
        ["site_code", "site_name", "zone", "max_pallets", "utilisation", "dock_doors", "updated_at"], rows, 0.07
    )
    conv = AnthropicConversation(name)
    conv.user("Pull the current capacity table for our EU warehouses, then let's plan peak season.")
    conv.tools(
        [
            (
                "sql",
                {
                    "statement": "SELECT site_code, site_name, zone, max_pallets, utilisation, dock_doors, "
                    "updated_at FROM wms.site_capacity ORDER BY site_code, zone;"
                },
                table,
            )
        ],
        thought="Querying the WMS replica.",
    )
    conv.assistant(
        "Here's the capacity by site and zone. Most sites are between 60% and 90% utilised; frozen is the "
        "tightest zone overall. What would you like to plan first?"
    )
    for q in [
        "how should we think about buffer stock for the December peak?",
        "and temp labour, how many extra pickers per 1000 orders/day?",
        "draft a short note to the site leads about cut-off times",
        "what KPIs should the daily peak stand-up look at?",
    ]:
        conv.user(q)
        conv.assistant(paragraph(r, WIKI + ENG_TALK, r.randint(8, 14)))
    question = "Going back to the table you pulled at the start: what's the max ambient capacity at Maasvlakte?"
    conv.user(question)
    req = anthropic_request(conv.messages, system="You are a warehouse-network planning assistant.", tools=["sql"])
    facts = ["RTM-02", "18,400"]
    return workload(name, question, facts, req, "tool_result", "mysql table in turn 2; question in the last turn")


WORKLOADS = [
    memory_notes_idempotency,
    history_staging_host,
    meeting_notes_shader_cache,
    ticket_dump_android_push,
    email_thread_carrier_discount,
    assistant_migration_plan,
    memory_tool_ios_signing,
    long_transcript_checkout_flag,
    small_debug_port,
    security_incident_key_leak,
    mysql_earlier_turn,
]
