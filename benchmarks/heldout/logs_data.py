"""Logs and data: application logs in several formats, CSV and JSON exports, metrics and SQL result tables."""

from __future__ import annotations

import json

from benchmarks.heldout import _shapes as s
from benchmarks.heldout._text import (
    REGIONS,
    SERVICES,
    Clock,
    blob,
    clf_time,
    email,
    grow,
    hexs,
    ip,
    iso,
    public_ip,
    put,
    seeded,
    syslog_time,
    table,
    token,
    uid,
    ulid,
)
from benchmarks.workloads._build import Workload

UAS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "okhttp/4.12.0", "python-requests/2.31.0", "StorefrontApp/8.3.1 (Android 14; Pixel 8)", "curl/8.5.0",
]


def payments_jsonl() -> Workload:
    name = "logs_jsonl_payment_declines"
    r = seeded(name)
    clock = Clock("2025-03-11T13:00:00", r)
    msgs = [
        ("info", "charge authorized", {"amount_minor": None, "currency": "EUR", "processor": "adyen"}),
        ("info", "payment intent created", {"amount_minor": None, "currency": "EUR"}),
        ("info", "webhook delivered", {"event": "charge.succeeded", "attempt": 1}),
        ("debug", "merchant profile cache hit", {"merchant": None}),
        ("info", "card tokenized", {"brand": None, "bin_country": None}),
        ("warn", "3ds challenge required", {"flow": "redirect"}),
        ("info", "capture settled", {"batch": None}),
        ("debug", "idempotency key replayed", {"key_age_s": None}),
    ]

    def line(i: int) -> str:
        lvl, msg, extra = r.choice(msgs)
        rec = {"ts": iso(clock.tick(5_000, 40_000)), "level": lvl, "svc": "payments-api",
               "pod": f"payments-api-6d4f9-{token(r, 5).lower()}",
               "req_id": f"req_{token(r, 16)}", "order_id": f"ord_{token(r, 10)}", "msg": msg}
        for k, v in extra.items():
            if v is not None:
                rec[k] = v
            elif k == "amount_minor":
                rec[k] = r.randint(499, 89900)
            elif k == "merchant":
                rec[k] = f"m_{r.randint(1000, 9999)}"
            elif k == "brand":
                rec[k] = r.choice(["visa", "mastercard", "amex"])
            elif k == "bin_country":
                rec[k] = r.choice(["DE", "FR", "NL", "ES", "IT", "GB"])
            elif k == "batch":
                rec[k] = f"stl_{hexs(r, 8)}"
            else:
                rec[k] = r.randint(1, 3600)
        rec["latency_ms"] = r.randint(3, 480)
        return json.dumps(rec, separators=(",", ":"))

    lines = grow(38_000, line)

    def at(frac: float) -> str:
        return json.loads(lines[int(len(lines) * frac)])["ts"]

    def decline(order: str, code: str, amount: int, ts: str) -> str:
        return json.dumps({"ts": ts, "level": "error", "svc": "payments-api",
                           "pod": "payments-api-6d4f9-q8wnv", "req_id": f"req_{token(r, 16)}", "order_id": order,
                           "msg": "charge declined by processor", "processor": "adyen", "decline_code": code,
                           "amount_minor": amount, "currency": "EUR", "latency_ms": r.randint(200, 900)},
                          separators=(",", ":"))

    timeout = json.dumps({"ts": at(0.47), "level": "warn", "svc": "payments-api",
                          "pod": "payments-api-6d4f9-hx2mt", "req_id": f"req_{token(r, 16)}",
                          "order_id": "ord_Lr5cYpW2Qa", "msg": "processor timeout, retry scheduled",
                          "attempt": 1, "retry_in_ms": 2000, "latency_ms": 10003}, separators=(",", ":"))
    retry_ok = json.dumps({"ts": at(0.49), "level": "info", "svc": "payments-api",
                           "pod": "payments-api-6d4f9-hx2mt", "req_id": f"req_{token(r, 16)}",
                           "order_id": "ord_Lr5cYpW2Qa", "msg": "charge authorized", "attempt": 2,
                           "amount_minor": 2599, "currency": "EUR", "latency_ms": 311}, separators=(",", ":"))
    lines = put(lines, 0.22, decline("ord_8QxF21LmZp", "insufficient_funds", 12999, at(0.22)))
    lines = put(lines, 0.47, timeout)
    lines = put(lines, 0.49, retry_ok)
    lines = put(lines, 0.81, decline("ord_3JkT90WcRe", "do_not_honor", 45900, at(0.81)))
    question = ("Can you tell me which orders failed to charge in that window and what the decline reason was "
                "for each?")
    body = ("Here's the last hour of payments-api logs from prod (pulled from Loki, json lines):\n\n"
            + "\n".join(lines) + "\n\n" + question)
    return s.claude(name, question, ["ord_8QxF21LmZp", "insufficient_funds", "ord_3JkT90WcRe", "do_not_honor"],
                    [s.user(body)], bulk="user", system="You are a helpful assistant for the payments team.")


def nginx_502() -> Workload:
    name = "logs_nginx_502_upstream"
    r = seeded(name)
    clock = Clock("2025-03-11T11:52:00", r)
    paths = ["/api/v1/catalog/items?page={n}", "/api/v1/catalog/items/{sku}", "/api/v1/cart", "/api/v1/cart/items",
             "/api/v1/session", "/static/js/app.{h}.js", "/static/css/main.{h}.css", "/api/v1/search?q={q}",
             "/api/v1/cart/checkout", "/healthz", "/api/v1/recommendations?slot=home", "/favicon.ico"]
    ups = {"/api/v1/cart/checkout": ["10.0.14.76:8080", "10.0.14.77:8080"]}

    def line(i: int) -> str:
        p = r.choice(paths)
        method = "POST" if p in ("/api/v1/cart/items", "/api/v1/cart/checkout") else "GET"
        path = p.format(n=r.randint(1, 40), sku=f"SKU-{r.randint(10000, 99999)}", h=hexs(r, 8),
                        q=r.choice(["boots", "rain+jacket", "usb-c", "desk+lamp", "socks"]))
        t = clock.tick(1_000, 5_000)
        late = i >= 140
        if p.startswith("/static") or p == "/favicon.ico":
            return (f'{public_ip(r)} - - [{clf_time(t)}] "{method} {path} HTTP/2.0" 200 {r.randint(900, 90000)} '
                    f'"https://shop.example.com/" "{r.choice(UAS)}" rt=0.000 uct="-" uht="-" urt="-" ua="-"')
        upstream = r.choice(ups.get(p, ["10.0.14.21:8080", "10.0.14.22:8080", "10.0.14.23:8080"]))
        status, rt = 200, r.randint(4, 220) / 1000
        if p == "/api/v1/cart/checkout" and upstream == "10.0.14.77:8080" and late:
            status, rt = 502, r.randint(1, 3) / 1000
        elif r.random() < 0.01:
            status = r.choice([404, 499, 401])
        size = 157 if status == 502 else r.randint(80, 24000)
        urt = f"{rt:.3f}"
        return (f'{public_ip(r)} - - [{clf_time(t)}] "{method} {path} HTTP/2.0" {status} {size} '
                f'"https://shop.example.com/" "{r.choice(UAS)}" rt={rt + 0.001:.3f} uct="0.000" uht="{urt}" '
                f'urt="{urt}" ua="{upstream}"')

    lines = grow(60_000, line)
    err = (f'{iso(clock.tick())[:19].replace("T", " ").replace("-", "/")} [error] 3117#3117: *918273 connect() failed '
           '(111: Connection refused) while connecting to upstream, client: 81.44.120.9, server: shop.example.com, '
           'request: "POST /api/v1/cart/checkout HTTP/2.0", upstream: "http://10.0.14.77:8080/api/v1/cart/checkout"')
    lines.append(err)
    question = ("We're getting 502s on the storefront since around lunchtime. Which endpoint is returning them and "
                "which upstream is behind it?")
    cmd = "ssh edge-03 'tail -n 250 /var/log/nginx/access.log; tail -n 1 /var/log/nginx/error.log'"
    return s.chat(name, question, ["/api/v1/cart/checkout", "10.0.14.77:8080", "(111: Connection refused)"], [
        s.o_sys(s.AGENT_SYSTEM),
        s.o_user(question),
        s.o_calls(("call_nx01", "Bash", {"command": cmd})),
        s.o_tool("call_nx01", "\n".join(lines)),
    ], bulk="tool_result", tools=s.CLI_TOOLS)


def journal_oom() -> Workload:
    name = "logs_journal_worker_oom"
    r = seeded(name)
    clock = Clock("2025-03-11T00:30:00", r)
    host = "batch-07"
    tasks = ["reports.render_pdf", "reports.aggregate_daily", "exports.push_sftp", "mail.send_digest",
             "reports.warm_cache"]

    def worker_line(i: int) -> str:
        t = clock.tick(10_000, 120_000)
        task, tid = r.choice(tasks), uid(r)
        kind = r.random()
        if kind < 0.45:
            msg = f"[{iso(t, False)}: INFO/MainProcess] Task {task}[{tid}] received"
        elif kind < 0.9:
            msg = f"[{iso(t, False)}: INFO/ForkPoolWorker-{r.randint(1, 8)}] Task {task}[{tid}] succeeded in " \
                  f"{r.uniform(0.05, 40):.3f}s: None"
        else:
            msg = f"[{iso(t, False)}: WARNING/ForkPoolWorker-{r.randint(1, 8)}] {task}: template cache miss, " \
                  f"rebuilding ({r.randint(20, 400)} partials)"
        return f"{syslog_time(t)} {host} celery[{pid[0]}]: {msg}"

    pid = [48213]
    worker = grow(15_000, worker_line)
    t = clock.jump(minutes=3)
    crash = [
        f"{syslog_time(t)} {host} celery[48213]: [{iso(t, False)}: INFO/MainProcess] Task reports.render_pdf"
        f"[{uid(r)}] received",
        f"{syslog_time(clock.tick())} {host} systemd[1]: report-worker.service: A process of this unit has been "
        "killed by the OOM killer.",
        f"{syslog_time(clock.tick())} {host} systemd[1]: report-worker.service: Main process exited, code=killed, "
        "status=9/KILL",
        f"{syslog_time(clock.tick())} {host} systemd[1]: report-worker.service: Failed with result 'oom-kill'.",
        f"{syslog_time(clock.tick())} {host} systemd[1]: report-worker.service: Consumed 2h 41min 7.113s CPU time.",
        f"{syslog_time(clock.tick(20000, 30000))} {host} systemd[1]: report-worker.service: Scheduled restart job, "
        "restart counter is at 1.",
        f"{syslog_time(clock.tick())} {host} systemd[1]: Started report-worker.service - Report rendering workers.",
    ]
    pid[0] = 51877
    worker += crash + grow(7_000, worker_line)
    kclock = Clock("2025-03-11T00:30:00", r)
    ktimes = []

    def kernel_line(i: int) -> str:
        t = kclock.tick(60_000, 300_000)
        ktimes.append(t)
        choice = r.random()
        if choice < 0.4:
            return f"{syslog_time(t)} {host} kernel: TCP: request_sock_TCP: Possible SYN flooding on port 5555. " \
                   "Sending cookies."
        if choice < 0.7:
            return f"{syslog_time(t)} {host} kernel: EXT4-fs (nvme1n1): mounted filesystem with ordered data mode."
        return f"{syslog_time(t)} {host} kernel: audit: type=1400 audit({t.timestamp():.3f}:{r.randint(100, 999)}): " \
               f'apparmor="ALLOWED" operation="open" profile="celery" name="/srv/reports/tmp/{hexs(r, 12)}.pdf"'

    kernel = grow(9_000, kernel_line)
    oom = [
        f"{syslog_time(t)} {host} kernel: celery invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
        "oom_score_adj=0",
        f"{syslog_time(t)} {host} kernel: memory: usage 6291456kB, limit 6291456kB, failcnt 1183",
        f"{syslog_time(t)} {host} kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
        "mems_allowed=0,oom_memcg=/system.slice/report-worker.service,task=celery,pid=48213,uid=998",
        f"{syslog_time(t)} {host} kernel: Memory cgroup out of memory: Killed process 48213 (celery) "
        "total-vm:7321044kB, anon-rss:6204112kB, file-rss:1820kB, shmem-rss:0kB, UID:998 pgtables:12604kB "
        "oom_score_adj:0",
    ]
    at = next((i for i, kt in enumerate(ktimes) if kt > t), len(kernel))
    kernel = [*kernel[:at], *oom, *kernel[at:]]
    question = ("report-worker on batch-07 fell over sometime overnight and the morning PDFs are missing. "
                "Why did it die?")
    messages = [
        s.user(question),
        s.assistant("I'll check the unit's journal and the kernel log on batch-07.",
                    s.use("toolu_01Jrn", "Bash", command="ssh batch-07 journalctl -u report-worker --since '-10h' "
                                                         "--no-pager"),
                    s.use("toolu_02Krn", "Bash", command="ssh batch-07 journalctl -k --since '-10h' --no-pager")),
        s.user(s.result("toolu_01Jrn", ["\n".join(worker[: len(worker) // 2]), "\n".join(worker[len(worker) // 2:])]),
               s.result("toolu_02Krn", ["\n".join(kernel)])),
    ]
    facts = ["Killed process 48213 (celery)", "limit 6291456kB",
             "report-worker.service: Failed with result 'oom-kill'."]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


def k8s_events() -> Workload:
    name = "logs_k8s_events_checkout"
    r = seeded(name)
    apps = ["search-gateway", "cart-svc", "pricing-engine", "catalog-reader", "session-store", "notification-hub",
            "feature-flags", "geo-lookup"]
    rows = []
    for _ in range(230):
        app = r.choice(apps)
        rs = hexs(r, 9)
        pod = f"{app}-{rs}-{token(r, 5).lower()}"
        age = f"{r.randint(1, 59)}m"
        kind = r.random()
        if kind < 0.2:
            rows.append([age, "Normal", "Scheduled", f"pod/{pod}",
                         f"Successfully assigned staging/{pod} to ip-10-20-{r.randint(1, 40)}-{r.randint(2, 250)}"
                         ".eu-west-1.compute.internal"])
        elif kind < 0.4:
            rows.append([age, "Normal", "Pulled", f"pod/{pod}",
                         f'Container image "registry.internal.example/{app}:{r.randint(1, 4)}.{r.randint(0, 30)}.'
                         f'{r.randint(0, 9)}" already present on machine'])
        elif kind < 0.55:
            rows.append([age, "Normal", "Created", f"pod/{pod}", f"Created container {app}"])
        elif kind < 0.7:
            rows.append([age, "Normal", "Started", f"pod/{pod}", f"Started container {app}"])
        elif kind < 0.8:
            rows.append([age, "Normal", "ScalingReplicaSet", f"deployment/{app}",
                         f"Scaled up replica set {app}-{rs} to {r.randint(2, 6)}"])
        elif kind < 0.88:
            rows.append([age, "Normal", "SuccessfulCreate", f"replicaset/{app}-{rs}", f"Created pod: {pod}"])
        elif kind < 0.95:
            rows.append([age, "Warning", "Unhealthy", f"pod/{pod}",
                         "Readiness probe failed: HTTP probe failed with statuscode: 503"])
        else:
            rows.append([age, "Normal", "Killing", f"pod/{pod}", f"Stopping container {app}"])
    pod = "checkout-api-7d9f8b6c5-x2kqp"
    bad = [
        ["14m", "Normal", "Scheduled", f"pod/{pod}",
         f"Successfully assigned staging/{pod} to ip-10-20-7-41.eu-west-1.compute.internal"],
        ["14m", "Normal", "Pulling", f"pod/{pod}", 'Pulling image "registry.internal.example/checkout-api:2.14.0-rc3"'],
        ["13m", "Warning", "Failed", f"pod/{pod}",
         'Failed to pull image "registry.internal.example/checkout-api:2.14.0-rc3": rpc error: code = NotFound desc '
         '= failed to pull and unpack image "registry.internal.example/checkout-api:2.14.0-rc3": failed to resolve '
         'reference "registry.internal.example/checkout-api:2.14.0-rc3": registry.internal.example/checkout-api:'
         '2.14.0-rc3: not found'],
        ["13m", "Warning", "Failed", f"pod/{pod}", "Error: ErrImagePull"],
        ["2m", "Normal", "BackOff", f"pod/{pod}",
         'Back-off pulling image "registry.internal.example/checkout-api:2.14.0-rc3"'],
        ["2m", "Warning", "Failed", f"pod/{pod}", "Error: ImagePullBackOff"],
    ]
    for i, row in enumerate(bad):
        rows.insert(60 + i * 25, row)
    rows.insert(40, ["15m", "Normal", "ScalingReplicaSet", "deployment/checkout-api",
                     "Scaled up replica set checkout-api-7d9f8b6c5 to 1"])
    rows.sort(key=lambda row: -int(row[0][:-1]))
    lines = table(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], rows, sep="   ", edge=False)
    lines[1] = ""
    lines = [ln.rstrip() for ln in lines if ln]
    question = "why aren't the checkout pods coming up in staging? events below"
    paste = "$ kubectl get events -n staging --sort-by=.lastTimestamp\n" + "\n".join(lines)
    facts = ['Failed to pull image "registry.internal.example/checkout-api:2.14.0-rc3"',
             "code = NotFound", "Error: ImagePullBackOff"]
    return s.chat(name, question, facts, [
        s.o_sys("You are a Kubernetes troubleshooting assistant."),
        s.o_user(question, paste),
    ], bulk="user", model="gpt-4o")


def refunds_csv() -> Workload:
    name = "logs_csv_refund_lookup"
    r = seeded(name)
    clock = Clock("2025-10-01T06:00:00", r)
    reasons = ["damaged_in_transit", "wrong_size", "not_as_described", "duplicate_charge", "late_delivery",
               "changed_mind", "missing_parts"]
    approvers = ["m.okafor", "s.duarte", "j.lindqvist", "auto", "auto", "auto", "r.alvarez"]
    rows = ["refund_id,created_at,invoice_id,customer_id,customer_email,amount,currency,reason,approved_by,status"]
    used = set()

    def row(i: int) -> str:
        inv = r.randint(18000, 24999)
        while inv in used or inv in (20931, 20913):
            inv = r.randint(18000, 24999)
        used.add(inv)
        amt = f"{r.randint(5, 900)}.{r.choice(['00', '50', '99', '95', '20', '49'])}"
        return (f"rf_{token(r, 12)},{iso(clock.tick(600_000, 8_000_000), False)},INV-{inv},cus_{token(r, 8)},"
                f"{email(r)},{amt},{r.choice(['EUR', 'EUR', 'GBP', 'USD'])},{r.choice(reasons)},"
                f"{r.choice(approvers)},{r.choice(['succeeded'] * 8 + ['pending', 'failed'])}")

    rows += grow(68_000, row)
    at = len(rows) // 2
    when = rows[at].split(",")[1][:-1]
    target = (f"rf_Z4kq9TnW2xLm,{when[:-2]}09Z,INV-20931,cus_7Hq2LmA0,dana.whitfield@fastmail.com,412.50,EUR,"
              "damaged_in_transit,m.okafor,succeeded")
    decoy = (f"rf_Pp3sE8vB1cQa,{when[:-2]}51Z,INV-20913,cus_2Wc9XeL4,dan.whitley@outlook.com,41.25,EUR,"
             "wrong_size,auto,succeeded")
    rows = [*rows[:at + 1], target, decoy, *rows[at + 1:]]
    question = "Find the refund for invoice INV-20931 in this export: how much was it and who approved it?"
    doc = s.document("\n".join(rows), title="refunds_2025-10.csv")
    facts = ["INV-20931,cus_7Hq2LmA0,dana.whitfield@fastmail.com", "412.50,EUR,damaged_in_transit,m.okafor"]
    return s.claude(name, question, facts, [s.user(doc, question)], bulk="document", system=None)


def scheduler_json() -> Workload:
    name = "logs_json_jobs_failed_ids"
    r = seeded(name)
    clock = Clock("2025-03-10T22:00:00", r)
    names = ["rollup-hourly-metrics", "rotate-partner-tokens", "compact-event-store", "send-dunning-emails",
             "refresh-search-synonyms", "sync-crm-accounts", "vacuum-analytics", "warm-pricing-cache",
             "snapshot-feature-flags", "prune-upload-staging"]
    jobs = []
    owners = ["data-platform", "payments-core", "growth-web", "platform-infra"]
    for _ in range(118):
        start = clock.tick(30_000, 300_000)
        jobs.append({
            "id": f"job_{ulid(r)[:13]}",
            "name": r.choice(names),
            "schedule": r.choice(["0 * * * *", "*/15 * * * *", "30 2 * * *", "0 3 * * 1-5"]),
            "owner": r.choice(owners),
            "started_at": iso(start),
            "finished_at": iso(clock.tick(1_000, 90_000)),
            "attempts": 1,
            "worker": f"sched-worker-{r.randint(1, 6)}",
            "status": r.choice(["succeeded"] * 12 + ["skipped"]),
            "exit_code": 0,
            "error": None,
            "tags": r.sample(["nightly", "critical", "batch", "io-heavy", "pii", "cheap"], 2),
            "artifacts": {"log_url": f"https://sched.internal/logs/{uid(r)}", "bytes": r.randint(200, 900_000)},
        })
    for j in r.sample(range(len(jobs)), 6):
        jobs[j]["artifacts"]["log_tail_b64"] = blob(r, 600)
    failures = [
        (31, "job_01HQ8Z3K4M2XB", "nightly-ledger-reconcile", 1,
         "psycopg.errors.DeadlockDetected: deadlock detected on relation ledger_entries"),
        (64, "job_01HQ8Z9P0XAQ7", "export-warehouse-snapshots", 1,
         "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation"),
        (97, "job_01HQ90B7T6CME", "purge-expired-sessions", 137, "worker exited with signal SIGKILL"),
    ]
    for pos, jid, jname, code, err in failures:
        jobs[pos].update({"id": jid, "name": jname, "status": "failed", "exit_code": code, "error": err,
                          "attempts": 3})
    jobs[12].update({"attempts": 2, "error": "attempt 1: connection reset by peer (retried)"})  # passed on retry
    payload = json.dumps({"data": jobs, "next_cursor": None, "count": len(jobs)}, indent=2)
    question = "Which jobs failed last night and why? I just need the ids and the error for each."
    url = "https://sched.internal/api/v2/runs?since=2025-03-10T22:00:00Z&limit=500"
    facts = ["job_01HQ8Z3K4M2XB", "job_01HQ8Z9P0XAQ7", "job_01HQ90B7T6CME", "deadlock detected",
             "(AccessDenied) when calling the PutObject operation"]
    return s.chat(name, question, facts, [
        s.o_sys(s.AGENT_SYSTEM),
        s.o_user(question),
        s.o_calls(("call_jobs1", "http_get", {"url": url}), say="Pulling the scheduler's run history for last night."),
        s.o_tool("call_jobs1", payload),
    ], bulk="tool_result", tools=s.DESK_TOOLS, model="claude-sonnet-4-5")


def metrics_table() -> Workload:
    name = "logs_metrics_p99_slo"
    r = seeded(name)
    rows = []
    for svc in SERVICES[:16]:
        for region in REGIONS[:3]:
            p50 = r.randint(8, 90)
            p95 = p50 + r.randint(20, 250)
            p99 = p95 + r.randint(30, 330)
            rows.append([svc, region, f"{r.randint(20, 4000)}", str(p50), str(p95), str(p99),
                         f"{r.uniform(0, 0.4):.2f}%"])
    over = {("search-gateway", "eu-west-1"): "1243", ("pricing-engine", "eu-west-1"): "912",
            ("media-resizer", "us-east-1"): "1530"}
    for row in rows:
        row[5] = over.get((row[0], row[1]), str(min(int(row[5]), 790)))
    lines = table(["service", "region", "rps", "p50_ms", "p95_ms", "p99_ms", "5xx"], rows)
    question = "Which services are over the 800ms p99 SLO in eu-west-1? Table from grafana (last 24h):"
    facts = [lines[2 + i] for i, row in enumerate(rows) if row[1] == "eu-west-1" and row[5] in ("1243", "912")]
    return s.claude(name, question, facts, [s.user(s.text(question), s.text("\n".join(lines)))], bulk="user",
                    system=[s.text("You are an SRE assistant. Answer briefly.")])


def sql_dupes() -> Workload:
    name = "logs_sql_duplicate_email"
    r = seeded(name)
    rows = []
    seen = set()
    for acct in range(10210, 10210 + 520):
        if r.random() < 0.15:
            continue
        mail = email(r)
        while mail in seen or mail.startswith("j.tanaka"):
            mail = email(r)
        seen.add(mail)
        rows.append([str(acct), mail, f"2023-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                     r.choice(["free", "pro", "pro", "team", "enterprise"]), r.choice(["active"] * 6 + ["closed"]),
                     r.choice(["tenant_a", "tenant_b"])])
    dup = "j.tanaka@northwind-labs.io"
    a, b = rows[len(rows) // 6], rows[-40]
    a[1], b[1] = dup, dup
    a[5], b[5] = "tenant_a", "tenant_b"
    near = rows[len(rows) // 3]
    near[1] = "j.tanaka@northwind-labs.com"
    widths = [max(len(x[i]) for x in rows) for i in range(6)]
    head = ["account_id", "email", "created_at", "plan", "status", "source"]
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    out = [" " + " | ".join(h.center(w) for h, w in zip(head, widths, strict=True)),
           "-" + "-+-".join("-" * w for w in widths) + "-"]
    for x in rows:
        out.append(" " + x[0].rjust(widths[0]) + " | " + " | ".join(c.ljust(w) for c, w in
                                                                    zip(x[1:], widths[1:], strict=True)))
    out.append(f"({len(rows)} rows)")
    question = ("After merging the two tenant databases, which email address ended up on two different accounts? "
                "This is the output of `select account_id, email, created_at, plan, status, source from accounts "
                "order by account_id;`")
    body = question + "\n\n```\n" + "\n".join(out) + "\n```"
    facts = [f"{a[0]} | {dup}", f"{b[0]} | {dup}"]
    return s.chat(name, question, facts, [s.o_user(body)], bulk="user", max_tokens=None)


def envoy_504() -> Workload:
    name = "logs_envoy_inventory_504"
    r = seeded(name)
    clock = Clock("2025-03-11T09:05:00", r)
    routes = [("GET", "/v1/stock/{sku}", "inventory-v2"), ("POST", "/v1/stock/reserve", "inventory-v2"),
              ("GET", "/v1/price/{sku}", "pricing-v1"), ("POST", "/v1/quote", "pricing-v1"),
              ("GET", "/v1/cart/{cart}", "cart-v3"), ("PUT", "/v1/cart/{cart}/items", "cart-v3"),
              ("GET", "/v1/profile", "accounts-v1")]
    pods = {c: [f"10.1.{r.randint(1, 30)}.{r.randint(2, 250)}:8080" for _ in range(4)]
            for c in ("inventory-v2", "pricing-v1", "cart-v3", "accounts-v1")}

    def line(i: int) -> str:
        method, path, cluster = r.choice(routes)
        path = path.format(sku=f"SKU-{r.randint(10000, 99999)}", cart=uid(r)[:13])
        code, flags, dur = 200, "-", r.randint(2, 180)
        roll = r.random()
        if roll < 0.02 and cluster == "pricing-v1":
            code, flags, dur = 504, "UT", 15000
        elif roll < 0.02:
            code = r.choice([404, 409, 429])
        up = r.choice(pods[cluster])
        return (f'[{iso(clock.tick(1_000, 10_000))}] "{method} {path} HTTP/2" {code} {flags} via_upstream - "-" '
                f'{r.randint(0, 900)} {r.randint(40, 6000)} {dur} {max(dur - 1, 0)} "{ip(r)}" '
                f'"{r.choice(UAS[3:])}" "{uid(r)}" "{cluster.split("-")[0]}.svc.cluster.local" "{up}" '
                f"outbound|8080||{cluster}.prod.svc.cluster.local {ip(r)}:{r.randint(30000, 60000)} {up} "
                f"{ip(r)}:{r.randint(30000, 60000)} - default")

    lines = grow(205_000, line)
    hit = ('[2025-03-11T09:41:07.733Z] "POST /v1/stock/reserve HTTP/2" 504 UT response_timeout - "-" 388 24 15001 - '
           '"10.1.4.22" "okhttp/4.12.0" "3b6f0d7e-91c4-4d5a-b2e8-5f0a7c1d9e42" "inventory.svc.cluster.local" '
           '"10.1.9.41:8080" outbound|8080||inventory-v2.prod.svc.cluster.local 10.1.4.8:43122 10.1.9.41:8080 '
           '10.1.4.22:51934 - default')
    idx = next(i for i, ln in enumerate(lines) if ln[1:25] > "2025-03-11T09:41:07.733Z")
    lines.insert(idx, hit)
    question = ("A customer got a timeout reserving stock around 09:40 this morning. What's the request id of the "
                "504 that came back from the inventory cluster, and which pod served it?")
    messages = [
        s.user(question),
        s.assistant(s.use("toolu_01Env", "Bash", command="kubectl -n mesh logs deploy/ingress-envoy --since=1h")),
        s.user(s.result("toolu_01Env", "\n".join(lines))),
    ]
    facts = ["3b6f0d7e-91c4-4d5a-b2e8-5f0a7c1d9e42", "[2025-03-11T09:41:07.733Z]", '"10.1.9.41:8080"']
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


WORKLOADS = [payments_jsonl, nginx_502, journal_oom, k8s_events, refunds_csv, scheduler_json, metrics_table, sql_dupes,
             envoy_504]
