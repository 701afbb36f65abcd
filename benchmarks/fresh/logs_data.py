"""Logs and structured data: the bulk is a log export, a table or a metrics page; the answer is a few records."""

from __future__ import annotations

import json
from datetime import timedelta

from benchmarks.fresh._gen import (
    Clock,
    b62,
    delimited,
    fill,
    hexs,
    ip_private,
    ip_public,
    psql,
    rnd,
    splice,
    uuid,
)
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


def ledger_logfmt_settlement() -> Workload:
    name = "logs_ledger_logfmt_settlement"
    r = rnd(name)
    clock = Clock(r, "2026-11-18T01:58:00", (80, 1400))
    merchants = [
        "mrc_bergstrom_bikes",
        "mrc_casa_lumen",
        "mrc_nordlys_tea",
        "mrc_oakridge_pharmacy",
        "mrc_pixelforge_games",
        "mrc_tidewater_foods",
        "mrc_umbra_optics",
        "mrc_verdant_home",
        "mrc_wolfe_and_daughters",
        "mrc_zephyr_cycles",
        "mrc_halvorsen_outdoor",
        "mrc_kestrel_books",
        "mrc_marigold_bakery",
        "mrc_quartz_audio",
        "mrc_saffron_lane",
    ]
    pods = [f"settlement-runner-6b4f9d-{b62(r, 5).lower()}" for _ in range(3)]

    def noise(i: int) -> str:
        m = r.choice(merchants[:10] + merchants[11:])
        kind = r.random()
        t = clock.iso()
        pod = r.choice(pods)
        if kind < 0.45:
            return (
                f"ts={t} level=info svc=settlement-runner pod={pod} batch_id=stl_20261118_{r.randint(100, 999):04d} "
                f'merchant={m} msg="batch posted" entries={r.randint(3, 900)} amount_minor={r.randint(1000, 9000000)} '
                f"currency={r.choice(['EUR', 'GBP', 'SEK', 'NOK', 'DKK'])} dur_ms={r.randint(90, 2400)}"
            )
        if kind < 0.7:
            return (
                f"ts={t} level=debug svc=ledger-writer pod=ledger-writer-0 txn={uuid(r)} account=acct_{hexs(r, 10)} "
                f'msg="journal line appended" side={r.choice(["debit", "credit"])} seq={r.randint(10**6, 10**7)}'
            )
        if kind < 0.85:
            return (
                f'ts={t} level=info svc=settlement-runner pod={pod} merchant={m} msg="fx snapshot applied" '
                f"pair={r.choice(['EURSEK', 'EURNOK', 'GBPEUR', 'EURDKK'])} rate=1.{r.randint(1000, 9999)} "
                f"source=ecb_ref"
            )
        if kind < 0.95:
            return (
                f'ts={t} level=info svc=ledger-compactor pod=ledger-compactor-5d8b7c-xk2pq msg="segment compacted" '
                f"segment=seg_{r.randint(4000, 4999)} rows_in={r.randint(10000, 90000)} "
                f"rows_out={r.randint(1000, 9000)}"
            )
        return f'ts={t} level=info svc=settlement-runner pod={pod} msg="heartbeat" inflight={r.randint(0, 6)}'

    lines = fill(42_000, noise)
    near_miss = [
        f"ts={clock.iso()} level=warn svc=settlement-runner pod={pods[1]} batch_id=stl_20261118_0431 "
        'merchant=mrc_kestrel_books msg="ledger lock busy, retrying" attempt=1 wait_ms=2000',
        f"ts={clock.iso()} level=info svc=settlement-runner pod={pods[1]} batch_id=stl_20261118_0431 "
        'merchant=mrc_kestrel_books msg="batch posted" entries=58 amount_minor=412077 currency=EUR dur_ms=4120',
    ]
    incident = [
        f"ts={clock.iso()} level=info svc=settlement-runner pod={pods[0]} batch_id=stl_20261118_0442 "
        'merchant=mrc_halvorsen_outdoor msg="batch assembled" entries=311 amount_minor=2290415 currency=NOK',
        f"ts={clock.iso()} level=warn svc=settlement-runner pod={pods[0]} batch_id=stl_20261118_0442 "
        'merchant=mrc_halvorsen_outdoor msg="ledger lock busy, retrying" attempt=1 wait_ms=10000',
        f"ts={clock.iso()} level=warn svc=settlement-runner pod={pods[0]} batch_id=stl_20261118_0442 "
        'merchant=mrc_halvorsen_outdoor msg="ledger lock busy, retrying" attempt=2 wait_ms=10000',
        f"ts={clock.iso()} level=error svc=settlement-runner pod={pods[0]} batch_id=stl_20261118_0442 "
        'merchant=mrc_halvorsen_outdoor msg="batch aborted" err="ledger lock timeout after 30s" '
        "holder=ledger-compactor-5d8b7c-xk2pq requeue=false",
    ]
    lines = splice(lines, [(0.38, near_miss), (0.61, incident)])
    question = (
        "Halvorsen Outdoor says last night's payout never landed in their account. Go through the settlement "
        "logs and tell me what happened to their batch."
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools(
        [
            (
                "query_logs",
                {"query": '{app=~"settlement-runner|ledger-.*"} | logfmt | ts >= "2026-11-18T02:00:00Z"'},
                "\n".join(lines),
            )
        ],
        thought="I'll pull the settlement and ledger logs for the overnight window.",
    )
    req = anthropic_request(
        conv.messages,
        system="You are the on-call assistant for the payments platform team. Be specific and cite log lines.",
        tools=["query_logs", "sql", "kb_search"],
    )
    facts = ["stl_20261118_0442", "ledger lock timeout after 30s", "holder=ledger-compactor-5d8b7c-xk2pq"]
    return workload(name, question, facts, req, "tool_result", "logfmt; merchant name differs from id")


def matchmaking_jsonl_oom() -> Workload:
    name = "logs_matchmaking_jsonl_oom"
    r = rnd(name)
    clock = Clock(r, "2026-11-21T21:05:00", (30, 900))
    workers = [f"mm-worker-{reg}-{i}" for reg in ("euw1", "use1", "usw2", "apse2", "sae1") for i in range(1, 5)]
    modes = ["ranked_5v5", "casual_5v5", "arena_2v2", "coop_horde", "custom_lobby"]

    def ev(i: int) -> str:
        w = r.choice(workers)
        k = r.random()
        base = {"ts": clock.iso(), "level": "info", "worker": w}
        if k < 0.4:
            base |= {
                "event": "match_formed",
                "mode": r.choice(modes),
                "match_id": f"m_{b62(r, 12)}",
                "players": r.choice([4, 10, 10, 10, 6]),
                "wait_p50_ms": r.randint(900, 42000),
                "mmr_spread": r.randint(12, 410),
            }
        elif k < 0.7:
            base |= {
                "event": "ticket_enqueued",
                "ticket": uuid(r),
                "party_size": r.randint(1, 5),
                "mode": r.choice(modes),
                "platform": r.choice(["pc", "ps5", "xsx", "switch"]),
            }
        elif k < 0.85:
            base |= {
                "event": "queue_stats",
                "depth": r.randint(0, 3800),
                "oldest_ticket_s": r.randint(0, 240),
                "rss_mb": r.randint(700, 2100),
            }
        elif k < 0.95:
            base |= {
                "event": "session_handoff",
                "match_id": f"m_{b62(r, 12)}",
                "gameserver": f"gs-{r.randint(1000, 9999)}.fleet.internal",
                "latency_ms": r.randint(4, 120),
            }
        else:
            base |= {"level": "warn", "event": "ticket_expired", "ticket": uuid(r), "waited_s": r.randint(300, 600)}
        return json.dumps(base, separators=(",", ":"))

    lines = fill(27_000, ev)
    doom = [
        json.dumps(
            {
                "ts": clock.iso(),
                "level": "warn",
                "worker": "mm-worker-apse2-3",
                "event": "queue_stats",
                "depth": 9120,
                "oldest_ticket_s": 410,
                "rss_mb": 3710,
            },
            separators=(",", ":"),
        ),
        json.dumps(
            {
                "ts": clock.iso(),
                "level": "warn",
                "worker": "mm-worker-apse2-3",
                "event": "gc_pause",
                "pause_ms": 2380,
                "heap_mb": 3902,
            },
            separators=(",", ":"),
        ),
        json.dumps(
            {
                "ts": clock.iso(),
                "level": "error",
                "worker": "supervisor",
                "event": "child_exit",
                "child": "mm-worker-apse2-3",
                "exit_code": 137,
                "restarts": 4,
                "backoff_s": 60,
            },
            separators=(",", ":"),
        ),
        json.dumps(
            {
                "ts": clock.iso(),
                "level": "warn",
                "worker": "supervisor",
                "event": "tickets_orphaned",
                "region": "apse2",
                "count": 9120,
            },
            separators=(",", ":"),
        ),
    ]
    lines = splice(lines, [(0.72, doom)])
    question = (
        "During last night's playtest one of the matchmaking workers crashed and players in one region sat in "
        "queue forever. Which worker was it and what brought it down?"
    )
    conv = OpenAIConversation(name)
    conv.system("You help the live-ops team at a multiplayer game studio read backend telemetry.")
    conv.user(
        "Here's the matchmaker log dump from the playtest window (JSON lines):\n\n"
        + "\n".join(lines)
        + "\n\n"
        + question
    )
    facts = ["mm-worker-apse2-3", '"exit_code":137', '"rss_mb":3710']
    return workload(
        name,
        question,
        facts,
        openai_request(conv.messages),
        "user",
        "question says crashed, log says child_exit exit_code 137 after memory growth",
    )


def nginx_search_ratelimit() -> Workload:
    name = "logs_nginx_search_ratelimit"
    r = rnd(name)
    clock = Clock(r, "2026-11-19T14:00:00", (5, 400))
    uas = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
        "Safari/605.1",
        "ShopApp/7.3.0 (Android 15; Pixel 8)",
        "ShopApp/7.3.0 (iOS 18.1; iPhone15,2)",
    ]
    terms = [
        "running shoes",
        "rain jacket",
        "usb-c hub",
        "espresso grinder",
        "yoga mat",
        "kids raincoat",
        "led strip",
        "hiking boots women",
        "air fryer",
        "phone case",
        "wool socks",
        "desk lamp",
        "gift card",
    ]
    clients = [ip_public(r) for _ in range(60)]
    bot = "198.51.100.23"
    bot_ua = "Mozilla/5.0 (compatible; PriceHarvester/2.3; +https://priceharvester.example/bot)"

    def line(i: int) -> str:
        if r.random() < 0.16:
            ip, ua = bot, bot_ua
            path = f"/api/search?q={r.choice(terms).replace(' ', '+')}&page={r.randint(1, 60)}&sort=price_asc"
            status = 429 if r.random() < 0.85 else 200
        else:
            ip, ua = r.choice(clients), r.choice(uas)
            p = r.random()
            if p < 0.55:
                path = f"/api/search?q={r.choice(terms).replace(' ', '+')}&page={r.randint(1, 3)}"
            elif p < 0.8:
                path = f"/api/products/{r.randint(100000, 999999)}"
            elif p < 0.9:
                path = "/api/cart"
            else:
                path = f"/static/js/app.{hexs(r, 8)}.js"
            status = r.choice([200] * 30 + [304, 404, 499, 502, 429])
        size = 0 if status in (304, 429) else r.randint(300, 48000)
        rt = r.uniform(0.001, 0.35) if status != 429 else 0.0
        return (
            f'{ip} - - [{clock.clf()}] "GET {path} HTTP/1.1" {status} {size} "-" "{ua}" '
            f'rt={rt:.3f} uct="{r.uniform(0, 0.002):.3f}" req_id={hexs(r, 16)}'
        )

    body = "\n".join(fill(56_000, line))
    question = (
        "This is an hour of access log from the search edge. Who is getting throttled on the search API, and what "
        "does that client call itself? I want to decide whether to block it."
    )
    conv = AnthropicConversation(name)
    conv.user([document(body, title="edge-search-access.log (14:00-15:00 UTC)"), text_part(question)])
    req = anthropic_request(conv.messages, system="You are a search-infrastructure engineer's assistant.")
    facts = [bot, "PriceHarvester/2.3"]
    return workload(name, question, facts, req, "document", "throttled = 429; many matching records")


def winevent_failed_logons() -> Workload:
    name = "logs_winevent_failed_logons"
    r = rnd(name)
    clock = Clock(r, "2026-11-20T06:00:00", (500, 30000))
    hosts = [
        f"WS-{d}-{r.choice(range(100, 999, 7)):04d}"
        for d in ("ED", "ICU", "RAD", "LAB", "PHARM", "ADM")
        for _ in range(3)
    ]
    users = ["n.okafor", "dr.lindqvist", "svc_backup", "svc_hl7_bridge", "t.moretti", "pharm.kiosk", "j.navarro"]

    def event(i: int) -> str:
        k = r.random()
        t = clock.tick().strftime("%m/%d/%Y %I:%M:%S %p")
        host = r.choice(hosts)
        if k < 0.55:
            return "\n".join(
                [
                    f"TimeCreated  : {t}",
                    "Id           : 4624",
                    "LevelDisplayName : Information",
                    "Message      : An account was successfully logged on.",
                    f"               Account Name: {r.choice(users)}",
                    "               Account Domain: STMARYS",
                    f"               Logon Type: {r.choice([2, 3, 3, 10])}",
                    f"               Workstation Name: {host}",
                    f"               Source Network Address: {ip_private(r)}",
                    f"               Logon ID: 0x{hexs(r, 8).upper()}",
                    "",
                ]
            )
        if k < 0.8:
            return "\n".join(
                [
                    f"TimeCreated  : {t}",
                    "Id           : 4634",
                    "LevelDisplayName : Information",
                    "Message      : An account was logged off.",
                    f"               Account Name: {r.choice(users)}",
                    f"               Logon ID: 0x{hexs(r, 8).upper()}",
                    "",
                ]
            )
        if k < 0.93:
            return "\n".join(
                [
                    f"TimeCreated  : {t}",
                    "Id           : 4672",
                    "LevelDisplayName : Information",
                    "Message      : Special privileges assigned to new logon.",
                    "               Account Name: svc_backup",
                    "               Privileges: SeBackupPrivilege SeRestorePrivilege SeSecurityPrivilege",
                    "",
                ]
            )
        return "\n".join(
            [
                f"TimeCreated  : {t}",
                "Id           : 4625",
                "LevelDisplayName : Information",
                "Message      : An account failed to log on.",
                f"               Account Name: {r.choice(['jnavarro', 'admin', 'tmoreti'])}",
                f"               Workstation Name: {host}",
                "               Status: 0xC000006D",
                "               Sub Status: 0xC0000064",
                "               Failure Reason: Unknown user name or bad password.",
                "",
            ]
        )

    def bad(host: str) -> str:
        return "\n".join(
            [
                f"TimeCreated  : {clock.tick().strftime('%m/%d/%Y %I:%M:%S %p')}",
                "Id           : 4625",
                "LevelDisplayName : Information",
                "Message      : An account failed to log on.",
                "               Account Name: svc_pacs_sync",
                "               Account Domain: STMARYS",
                "               Logon Type: 3",
                f"               Workstation Name: {host}",
                "               Source Network Address: 10.40.17.88",
                "               Status: 0xC000006D",
                "               Sub Status: 0xC000006A",
                "               Failure Reason: Unknown user name or bad password.",
                "",
            ]
        )

    events = fill(33_000, event)
    burst = [bad("WS-RAD-0417") for _ in range(5)]
    lockout = "\n".join(
        [
            f"TimeCreated  : {clock.tick().strftime('%m/%d/%Y %I:%M:%S %p')}",
            "Id           : 4740",
            "LevelDisplayName : Information",
            "Message      : A user account was locked out.",
            "               Account That Was Locked Out: svc_pacs_sync",
            "               Caller Computer Name: WS-RAD-0417",
            "",
        ]
    )
    events = splice(events, [(0.3, burst[:2]), (0.55, burst[2:]), (0.56, lockout)])
    question = (
        "The PACS sync service account keeps getting locked out every morning. Which machine is sending the bad "
        "logons, and what's the specific failure code?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are a Windows and Active Directory assistant for a hospital IT service desk.")
    conv.user(question)
    conv.tools(
        [
            (
                "run_shell",
                {
                    "cmd": "Get-WinEvent -ComputerName DC02 -FilterHashtable @{LogName='Security';"
                    "Id=4624,4625,4634,4672,4740;StartTime='11/20/2026 06:00'} | Format-List"
                },
                "\n".join(events),
            )
        ],
    )
    req = openai_request(conv.messages, tools=["run_shell", "kb_search"])
    facts = ["WS-RAD-0417", "Sub Status: 0xC000006A", "Account That Was Locked Out: svc_pacs_sync"]
    return workload(name, question, facts, req, "tool_result", "Windows events; bad password substatus")


def csv_shipment_scans() -> Workload:
    name = "logs_csv_shipment_scans"
    r = rnd(name)
    clock = Clock(r, "2026-11-13T18:00:00", (20_000, 200_000))
    facilities = ["MEM-HUB-02", "LOU-HUB-01", "DFW-SRT-04", "ATL-SRT-01", "IND-HUB-03", "ORD-SRT-07"]
    rows: list[list[object]] = []
    stuck = "1ZW4T7R60390416625"
    n_ship = 0
    while sum(len(",".join(map(str, row))) + 1 for row in rows) < 46_000:
        n_ship += 1
        trk = f"1ZW4T7R6{r.randint(10**9, 10**10 - 1)}"
        path = r.sample(facilities, 3)
        if r.random() < 0.4 and "MEM-HUB-02" not in path:
            path[1] = "MEM-HUB-02"
        for fac in path:
            handler = f"H{r.randint(1000, 9999)}"
            wt = f"{r.uniform(0.2, 31):.2f}"
            rows.append(
                [trk, clock.tick().strftime("%Y-%m-%d %H:%M:%S"), fac, "ARR", "Arrived at facility", handler, wt]
            )
            rows.append([trk, clock.tick().strftime("%Y-%m-%d %H:%M:%S"), fac, "DEP", "Departed facility", handler, wt])
        if n_ship == 57:
            rows.append([stuck, "2026-11-14 06:52:10", "MEM-HUB-02", "ARR", "Arrived at facility", "H4471", "12.80"])
            rows.append(
                [
                    stuck,
                    "2026-11-14 09:15:44",
                    "MEM-HUB-02",
                    "EXC",
                    "Exception: label unreadable - awaiting relabel",
                    "H4471",
                    "12.80",
                ]
            )
        if n_ship == 120:
            # a held shipment that was later released: not stuck
            t = "1ZW4T7R60388120047"
            rows.append([t, "2026-11-15 11:02:37", "MEM-HUB-02", "ARR", "Arrived at facility", "H2203", "4.10"])
            rows.append(
                [t, "2026-11-15 11:40:05", "MEM-HUB-02", "EXC", "Exception: customs docs pending", "H2203", "4.10"]
            )
            rows.append([t, "2026-11-16 08:12:51", "MEM-HUB-02", "DEP", "Departed facility", "H2203", "4.10"])
    csv = delimited(["tracking_no", "scan_ts", "facility", "event_code", "event_desc", "handler_id", "weight_kg"], rows)
    question = (
        "Attached is the scan export for this week's lane. Is any shipment stuck at the Memphis hub (arrived but never "
        "left)? Give me the tracking number and what the last scan says."
    )
    conv = AnthropicConversation(name)
    conv.user([text_part("scan_events_2026-W46.csv\n\n" + csv), text_part(question)])
    req = anthropic_request(conv.messages, system="You are an operations analyst for a parcel carrier.")
    facts = [stuck, "Exception: label unreadable - awaiting relabel"]
    return workload(
        name, question, facts, req, "user", "CSV; answer is an absence of a DEP row; a near miss was released"
    )


def prometheus_pool_wait() -> Workload:
    name = "logs_prometheus_pool_wait"
    r = rnd(name)
    routes = [
        "/v1/checkout",
        "/v1/checkout/confirm",
        "/v1/cart",
        "/v1/cart/items",
        "/v1/payment-methods",
        "/v1/shipping/quotes",
        "/v1/promotions/apply",
        "/healthz",
    ]
    buckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
    out = [
        "# HELP http_request_duration_seconds Request latency.",
        "# TYPE http_request_duration_seconds histogram",
    ]
    for route in routes:
        for method in ("GET", "POST"):
            for code in ("200", "500"):
                c = 0
                for b in buckets:
                    c += r.randint(0, 4000)
                    out.append(
                        f'http_request_duration_seconds_bucket{{service="checkout-api",route="{route}",method="{method}",'
                        f'code="{code}",le="{b}"}} {c}'
                    )
                out.append(
                    f'http_request_duration_seconds_sum{{service="checkout-api",route="{route}",method="{method}",'
                    f'code="{code}"}} {r.uniform(10, 9000):.3f}'
                )
                out.append(
                    f'http_request_duration_seconds_count{{service="checkout-api",route="{route}",method="{method}",'
                    f'code="{code}"}} {c}'
                )
    pools = ["orders-primary", "orders-replica-1", "orders-replica-2", "inventory-primary", "sessions-redis"]
    for metric, help_ in [
        ("db_pool_max_connections", "Configured pool size."),
        ("db_pool_in_use", "Connections checked out."),
        ("db_pool_idle", "Idle connections."),
        ("db_pool_waiting_clients", "Callers blocked waiting for a connection."),
        ("db_pool_acquire_timeouts_total", "Acquire attempts that hit the timeout."),
    ]:
        out += [f"# HELP {metric} {help_}", f"# TYPE {metric} {'counter' if metric.endswith('total') else 'gauge'}"]
        for p in pools:
            v = {
                "db_pool_max_connections": 20,
                "db_pool_in_use": r.randint(2, 9),
                "db_pool_idle": r.randint(5, 12),
                "db_pool_waiting_clients": 0,
                "db_pool_acquire_timeouts_total": r.randint(0, 3),
            }[metric]
            if p == "orders-replica-2":
                v = {
                    "db_pool_max_connections": 20,
                    "db_pool_in_use": 20,
                    "db_pool_idle": 0,
                    "db_pool_waiting_clients": 48,
                    "db_pool_acquire_timeouts_total": 1312,
                }[metric]
            out.append(f'{metric}{{pool="{p}",service="checkout-api"}} {v}')
    for m in ("go_goroutines", "go_threads", "process_open_fds", "process_resident_memory_bytes"):
        out += [f"# HELP {m} Runtime metric.", f"# TYPE {m} gauge", f"{m} {r.randint(20, 900_000_000)}"]
    for q in ("0", "0.25", "0.5", "0.75", "1"):
        out.append(f'go_gc_duration_seconds{{quantile="{q}"}} {r.uniform(0.00001, 0.004):.6f}')
    text = "\n".join(out)
    question = (
        "Checkout p99 jumped at 13:20. Here is checkout-api's /metrics. Does anything here point to database "
        "connection starvation, and where?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are an SRE assistant for an e-commerce platform.")
    conv.user(question)
    conv.tools([("api_get", {"url": "http://checkout-api.shop.svc:9090/metrics"}, text)])
    req = openai_request(conv.messages, tools=["api_get", "query_logs"])
    facts = [
        'db_pool_waiting_clients{pool="orders-replica-2",service="checkout-api"} 48',
        'db_pool_acquire_timeouts_total{pool="orders-replica-2",service="checkout-api"} 1312',
    ]
    return workload(name, question, facts, req, "tool_result", "Prometheus exposition; histograms dominate")


def psql_stuck_dag_runs() -> Workload:
    name = "logs_psql_stuck_dag_runs"
    r = rnd(name)
    dags = [
        "ingest_clickstream_hourly",
        "warehouse_snapshot_nightly",
        "dbt_marts_build",
        "export_partner_feeds",
        "reverse_etl_crm_sync",
        "ml_feature_refresh",
        "quality_checks_core",
        "gdpr_erasure_sweep",
    ]
    rows: list[list[object]] = []
    clock = Clock(r, "2026-11-12T00:00:00", (600_000, 3_600_000))
    for _ in range(150):
        d = r.choice(dags)
        start = clock.tick()
        end = start + timedelta(seconds=r.randint(40, 5400))
        state = r.choice(["success"] * 12 + ["failed"])
        rows.append(
            [
                d,
                f"scheduled__{start.strftime('%Y-%m-%dT%H:00:00')}+00:00",
                state,
                start.strftime("%Y-%m-%d %H:%M:%S") + "+00",
                end.strftime("%Y-%m-%d %H:%M:%S") + "+00",
                "f",
            ]
        )
    stuck = [
        [
            "finance_fx_rates_daily",
            "scheduled__2026-11-18T05:17:00+00:00",
            "running",
            "2026-11-18 05:17:04+00",
            None,
            "f",
        ],
        [
            "cdp_identity_merge",
            "manual__2026-11-17T14:22:31.118402+00:00",
            "running",
            "2026-11-17 14:22:33+00",
            None,
            "t",
        ],
        ["ml_feature_backfill", "backfill__2026-11-15T00:00:00+00:00", "running", "2026-11-16 22:40:19+00", None, "f"],
    ]
    fresh_running = [
        "ingest_clickstream_hourly",
        "scheduled__2026-11-20T09:00:00+00:00",
        "running",
        "2026-11-20 09:00:06+00",
        None,
        "f",
    ]
    queued = ["dbt_marts_build", "scheduled__2026-11-20T10:00:00+00:00", "queued", None, None, "f"]
    rows = [*rows[:40], stuck[0], *rows[40:95], stuck[1], fresh_running, *rows[95:], stuck[2], queued]
    table = psql(["dag_id", "run_id", "state", "start_date", "end_date", "external_trigger"], rows)
    question = (
        "Output of `select dag_id, run_id, state, start_date, end_date, external_trigger from dag_run order by "
        "id` from the Airflow metadata DB. It's 2026-11-20 10:00 UTC now. Which runs have been stuck in running for "
        "more than a day?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are a data-platform engineer's assistant. Answer with dag_id and run_id.")
    conv.user([{"type": "text", "text": question}, {"type": "text", "text": table}])
    facts = [
        "scheduled__2026-11-18T05:17:00+00:00",
        "manual__2026-11-17T14:22:31.118402+00:00",
        "backfill__2026-11-15T00:00:00+00:00",
    ]
    return workload(
        name,
        question,
        facts,
        openai_request(conv.messages),
        "user",
        "psql table; three matching rows; a running run from today is not stuck",
    )


def cloudwatch_lambda_timeouts() -> Workload:
    name = "logs_cloudwatch_lambda_timeouts"
    r = rnd(name)
    clock = Clock(r, "2026-11-19T12:00:00", (15, 900))
    timed_out = {57: "3f9b1c2e-7d44-4a1b-9e0f-5b8c2d61aa07", 118: "c41e08d9-2b7a-4f63-8d15-0e9a7c3b6f52"}
    orders = {57: "ORD-2026-118734", 118: "ORD-2026-119002"}

    def invocation(i: int) -> str:
        rid = timed_out.get(i) or uuid(r)
        order = orders.get(i) or f"ORD-2026-{r.randint(100000, 129999)}"
        carrier = r.choice(["dhl_express", "ups_ground", "postnord", "dpd_classic", "fedex_intl"])
        out = [
            f"{clock.iso()}\tSTART RequestId: {rid} Version: $LATEST",
            f"{clock.iso()}\t{rid}\tINFO\trender request order={order} carrier={carrier} format=ZPL dpi=203",
            f"{clock.iso()}\t{rid}\tINFO\tfetched template s3://label-templates-prod/{carrier}/v{r.randint(3, 9)}.zpl",
        ]
        if i in timed_out:
            out += [
                f"{clock.iso()}\t{rid}\tINFO\tcalling customs-docs service for commercial invoice",
                f"{clock.iso()}\t{rid}\tWARN\tcustoms-docs slow response, retry 1/3",
                f"{clock.iso()}\t{rid}\tWARN\tcustoms-docs slow response, retry 2/3",
                f"{clock.jump(seconds=14).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z\t{rid} Task timed out after 15.01 "
                "seconds",
                f"{clock.iso()}\tEND RequestId: {rid}",
                f"{clock.iso()}\tREPORT RequestId: {rid}\tDuration: 15011.44 ms\tBilled Duration: 15000 ms\t"
                "Memory Size: 1024 MB\tMax Memory Used: 412 MB",
            ]
        else:
            for _ in range(r.randint(1, 4)):
                out.append(f"{clock.iso()}\t{rid}\tDEBUG\tglyph cache hit font=DejaVuSansMono size={r.randint(8, 24)}")
            d = r.uniform(80, 2900)
            out += [
                f"{clock.iso()}\t{rid}\tINFO\tlabel stored s3://labels-out-prod/{order}/{hexs(r, 12)}.zpl "
                f"bytes={r.randint(900, 9000)}",
                f"{clock.iso()}\tEND RequestId: {rid}",
                f"{clock.iso()}\tREPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\t"
                f"Memory Size: 1024 MB\tMax Memory Used: {r.randint(180, 420)} MB",
            ]
        return "\n".join(out)

    export = "\n".join(fill(150_000, invocation))
    system = [
        text_part(
            "You are the support engineer's copilot for the shipping-label platform. The user has attached "
            "a CloudWatch Logs export for /aws/lambda/label-render-prod below; answer from it."
        ),
        cached_text("=== /aws/lambda/label-render-prod  2026/11/19/[$LATEST]  export ===\n" + export),
    ]
    question = (
        "A couple of label renders just hung for the customer at around noon. Which requests were they, and for "
        "which orders?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    req = anthropic_request(conv.messages, system=system)
    facts = [timed_out[57], timed_out[118], orders[57], orders[118]]
    return workload(name, question, facts, req, "system", "large; hung = Task timed out; two matching invocations")


def excel_crash_free() -> Workload:
    name = "logs_excel_crash_free"
    r = rnd(name)
    rows = []
    top = {
        "Android": [
            "SIGSEGV in libhermes.so",
            "OutOfMemoryError in ImageDecoder",
            "ANR in CheckoutActivity",
            "IllegalStateException: Fragment not attached",
        ],
        "iOS": ["NSInternalInconsistencyException", "EXC_BAD_ACCESS in MapKit", "SIGABRT in AVFoundation"],
    }
    builds = []
    for minor in range(9, 16):
        for patch in range(0, 3 if minor < 15 else 1):
            v = f"6.{minor}.{patch}" if minor < 15 else "6.15.0-beta3"
            builds.append((v, "Android", f"6{minor:02d}0{patch}" if minor < 15 else "61503"))
            builds.append((v, "iOS", f"{v}.{r.randint(1, 6)}"))
    for v, plat, build in builds:
        sessions = r.randint(80_000, 2_400_000)
        rate = r.uniform(99.2, 99.93)
        anr = r.randint(40, 380) if plat == "Android" else ""
        if build == "61402":
            rate, anr = 98.41, 1207
        crashes = int(sessions * (100 - rate) / 100)
        users = int(sessions / r.uniform(3.5, 6))
        rows.append(
            [
                f"{v} ({build})",
                plat,
                f"{sessions:,}",
                f"{users:,}",
                f"{crashes:,}",
                f"{rate:.2f}%",
                f"{anr:,}" if anr != "" else "n/a",
                r.choice(top[plat]),
                f"2026-{r.randint(3, 11):02d}-{r.randint(1, 28):02d}",
            ]
        )
    table = "\n".join(
        "\t".join(map(str, row))
        for row in [
            [
                "Version (build)",
                "Platform",
                "Sessions",
                "Users",
                "Crashes",
                "Crash-free sessions",
                "ANRs",
                "Top crash",
                "Released",
            ],
            *rows,
        ]
    )
    question = "Which Android build dropped below 99% crash-free, and how many ANRs did it have?"
    conv = OpenAIConversation(name)
    conv.user(f"pasted from the crash dashboard sheet:\n\n{table}\n\n{question}")
    facts = ["6.14.2 (61402)", "98.41%", "1,207"]
    return workload(name, question, facts, openai_request(conv.messages, temperature=0.2), "user", "small TSV paste")


def syslog_claims_stacktrace() -> Workload:
    name = "logs_syslog_claims_stacktrace"
    r = rnd(name)
    clock = Clock(r, "2026-11-19T01:00:00", (50, 3000))
    host = "claims-adj-02"
    frames_npe = [
        'java.lang.NullPointerException: Cannot invoke "java.math.BigDecimal.multiply(java.math.BigDecimal)" '
        'because "tierMultiplier" is null',
        "\tat org.stmarys.claims.pricing.ClaimPricingEngine.applyCopay(ClaimPricingEngine.java:247)",
        "\tat org.stmarys.claims.pricing.ClaimPricingEngine.price(ClaimPricingEngine.java:131)",
        "\tat org.stmarys.claims.adjudication.AdjudicationWorker.adjudicate(AdjudicationWorker.java:88)",
        "\tat org.stmarys.claims.adjudication.AdjudicationWorker.run(AdjudicationWorker.java:54)",
        "\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1144)",
        "\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:642)",
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
    ]
    cause = [
        "Caused by: java.lang.IllegalStateException: formulary tier missing for NDC 00093-7146-56 (plan BCX-GOLD-2026)",
        "\tat org.stmarys.claims.formulary.FormularyLookup.tierFor(FormularyLookup.java:73)",
        "\tat org.stmarys.claims.pricing.ClaimPricingEngine.resolveTier(ClaimPricingEngine.java:212)",
        "\t... 6 more",
    ]

    def prefix(pid: int = 2211) -> str:
        return f"{clock.syslog()} {host} claims-adjudicator[{pid}]:"

    def normal(i: int) -> str:
        k = r.random()
        thread = f"pool-3-thread-{r.randint(1, 16)}"
        claim = f"CLM-{r.randint(10**7, 10**8 - 1)}"
        if k < 0.6:
            return (
                f"{prefix()} {clock.plain()} INFO  [{thread}] o.s.c.a.AdjudicationWorker - claim {claim} "
                f"adjudicated outcome={r.choice(['PAID', 'PAID', 'PAID', 'DENIED', 'PENDED'])} "
                f"allowed={r.randint(5, 4000)}.{r.randint(0, 99):02d}"
            )
        if k < 0.8:
            return (
                f"{prefix()} {clock.plain()} DEBUG [{thread}] o.s.c.f.FormularyLookup - cache hit "
                f"ndc={r.randint(10000, 99999)}-{r.randint(1000, 9999)}-{r.randint(10, 99)}"
            )
        if k < 0.9:
            return f"{prefix(1)} {host} systemd[1]: Started claims-metrics-push.service."
        return (
            f"{prefix()} {clock.plain()} INFO  [kafka-consumer-1] o.s.c.i.ClaimIntake - polled "
            f"{r.randint(0, 500)} records partition={r.randint(0, 11)} lag={r.randint(0, 90)}"
        )

    def trace(claim: str) -> list[str]:
        p = prefix()
        head = [
            f"{p} {clock.plain()} ERROR [pool-3-thread-{r.randint(1, 16)}] o.s.c.a.AdjudicationWorker - "
            f"claim {claim} failed, sending to DLQ"
        ]
        return head + [f"{p} {f}" for f in frames_npe + cause]

    lines = fill(38_000, normal)
    inserts = [(at, trace(f"CLM-{r.randint(10**7, 10**8 - 1)}")) for at in (0.12, 0.33, 0.47, 0.69, 0.88)]
    lines = splice(lines, inserts)
    question = (
        "The claims adjudicator has been throwing NullPointerExceptions all night and sending claims to the DLQ. "
        "What's the actual root cause, and where in the code does it come from?"
    )
    conv = AnthropicConversation(name)
    conv.user("from /var/log/syslog on claims-adj-02:\n```\n" + "\n".join(lines) + "\n```\n\n" + question)
    req = anthropic_request(conv.messages, system="You are a senior Java engineer on a hospital claims team.")
    facts = ["formulary tier missing for NDC 00093-7146-56", "ClaimPricingEngine.java:212"]
    return workload(name, question, facts, req, "user", "syslog with repeated multiline traces; cause is the root")


WORKLOADS = [
    ledger_logfmt_settlement,
    matchmaking_jsonl_oom,
    nginx_search_ratelimit,
    winevent_failed_logons,
    csv_shipment_scans,
    prometheus_pool_wait,
    psql_stuck_dag_runs,
    cloudwatch_lambda_timeouts,
    excel_crash_free,
    syslog_claims_stacktrace,
]
