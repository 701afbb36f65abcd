"""Logs and structured data: syslog, logfmt, JSON lines, nginx/envoy, Windows events, k8s events, CSV, SQL."""

from __future__ import annotations

import json

from benchmarks.blind._gen import Clock, handle, hexid, ip, place, rng, table, uuid
from benchmarks.blind._req import AGENT_TOOLS, CLAUDE_CODE_SYSTEM, Anth, Oai
from benchmarks.workloads._build import Workload


def postfix_syslog() -> Workload:
    name = "logs_postfix_syslog_deferred"
    r = rng(name)
    c = Clock(r, "2026-10-14T06:00:02", (0.2, 3))
    domains = ["gmail.com", "outlook.com", "kommune.no", "uni-bremen.de", "yahoo.co.jp", "posteo.de", "gmx.net"]
    lines = []
    for _ in range(420):
        qid = hexid(r, 10).upper()
        pid = r.randint(1000, 32000)
        k = r.random()
        if k < 0.4:
            lines.append(
                f"{c.syslog()} relay02 postfix/smtpd[{pid}]: {qid}: client=app{r.randint(1, 6)}.internal[{ip(r)}]"
            )
        elif k < 0.6:
            lines.append(
                f"{c.syslog()} relay02 postfix/qmgr[{pid}]: {qid}: from=<noreply@tidepool.example>, "
                f"size={r.randint(2000, 90000)}, nrcpt=1 (queue active)"
            )
        elif k < 0.95:
            d = r.choice(domains)
            lines.append(
                f"{c.syslog()} relay02 postfix/smtp[{pid}]: {qid}: to=<{handle(r)}@{d}>, relay=mx.{d}"
                f"[{ip(r, False)}]:25, delay={r.uniform(0.2, 3):.1f}, delays=0.01/0/0.3/0.4, dsn=2.0.0, "
                f"status=sent (250 2.0.0 OK {hexid(r, 12)})"
            )
        else:
            lines.append(f"{c.syslog()} relay02 postfix/cleanup[{pid}]: {qid}: message-id=<{uuid(r)}@tidepool.example>")
    bad = []
    for _ in range(14):
        qid = hexid(r, 10).upper()
        bad.append(
            f"{c.syslog()} relay02 postfix/smtp[{r.randint(1000, 32000)}]: {qid}: to=<{handle(r)}@kommune.no>,"
            f" relay=mx2.kommune.no[{ip(r, False)}]:25, delay=412, delays=0.02/410/1.1/0, dsn=4.7.28, "
            "status=deferred (host mx2.kommune.no said: 421 4.7.28 Rate limited: too many messages from "
            "your IP 185.44.12.9, try again later)"
        )
    lines = place(lines, 0.63, bad)
    out = "\n".join(lines)
    q = "Why are the notification emails to the municipality addresses stuck in the queue? Everything else goes out."
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("our outbound mail relay has a growing queue since this morning")
        .calls(
            "I'll look at the relay's mail log.",
            [("Bash", {"command": "ssh relay02 'sudo grep postfix /var/log/mail.log | tail -n 1000'"}, out)],
        )
        .done(q, ["mx2.kommune.no", "421 4.7.28 Rate limited", "185.44.12.9"], "tool_result")
    )


def logfmt_tiles() -> Workload:
    name = "logs_logfmt_tile_renderer_slow"
    r = rng(name)
    c = Clock(r, "2026-10-14T11:40:00", (0.01, 0.4))
    lines = []
    for i in range(330):
        z = r.randint(3, 16)
        dur = r.randint(8, 140)
        lines.append(
            f'ts={c.iso()} level=info msg="tile rendered" layer={r.choice(["streets", "terrain", "transit"])}'
            f" z={z} x={r.randint(0, 2**z - 1)} y={r.randint(0, 2**z - 1)} dur_ms={dur} cache=miss "
            f"worker=w{r.randint(1, 8)} req_id={hexid(r, 12)}"
        )
        if i % 50 == 7:
            lines.append(
                f'ts={c.iso()} level=debug msg="pool stats" idle={r.randint(2, 6)} busy={r.randint(1, 8)} waiting=0'
            )
    slow = []
    for _ in range(9):
        slow.append(
            f'ts={c.iso()} level=warn msg="tile rendered" layer=hillshade z=14 x={r.randint(8000, 9000)} '
            f"y={r.randint(5000, 6000)} dur_ms={r.randint(4200, 9800)} cache=miss worker=w{r.randint(1, 8)} "
            f"req_id={hexid(r, 12)} dem_fetch_ms={r.randint(4000, 9500)} dem_source=s3://dem-eu-north/srtm30"
        )
    slow.append(f'ts={c.iso()} level=debug msg="pool stats" idle=0 busy=8 waiting=37')
    lines = place(lines, 0.44, slow)
    q = "why is this slow? users say the map freezes when they zoom in on the mountains"
    return Oai(name, system="You are a senior SRE. Be direct.").done(
        q,
        ["layer=hillshade z=14", "dem_source=s3://dem-eu-north/srtm30", "waiting=37"],
        "user",
        parts=["here's 10 min of logs from the renderer:\n\n" + "\n".join(lines)],
    )


def jsonl_greenhouse() -> Workload:
    name = "logs_jsonl_greenhouse_sensors"
    r = rng(name)
    c = Clock(r, "2026-10-13T22:00:00", (5, 20))
    sensors = {f"gh{h}-bay{b}-{k}": None for h in (1, 2, 3) for b in range(1, 7) for k in ("rh", "temp", "soil")}
    lines = []
    for _ in range(420):
        s = r.choice(list(sensors))
        kind = s.rsplit("-", 1)[1]
        val = {"rh": r.uniform(62, 81), "temp": r.uniform(18, 24), "soil": r.uniform(0.28, 0.41)}[kind]
        rec = {
            "ts": c.iso(),
            "sensor": s,
            "kind": kind,
            "value": round(val, 3),
            "battery": round(r.uniform(3.4, 4.1), 2),
            "rssi": r.randint(-88, -55),
            "fw": "2.4.1",
        }
        if s == "gh2-bay5-rh":
            rec["value"] = 100.0
        lines.append(json.dumps(rec, separators=(",", ":")))
    lines.append(
        json.dumps(
            {
                "ts": c.iso(),
                "sensor": "gh2-bay5-valve",
                "kind": "event",
                "event": "misting_on",
                "reason": "rh_below_setpoint",
                "setpoint": 70,
            },
            separators=(",", ":"),
        )
    )
    text = "\n".join(lines)
    q = "The misting in greenhouse 2 keeps going off at odd times and bay 5 is soaked. Which sensor can't I trust?"
    return Anth(name, system="You help a horticulture team read their sensor data.").done(
        q,
        ['"sensor":"gh2-bay5-rh"', '"value":100.0', "misting_on"],
        "document",
        pre=[
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": text},
                "title": "sensors-2026-10-13.jsonl",
            }
        ],
    )


def nginx_library() -> Workload:
    name = "logs_nginx_catalogue_499"
    r = rng(name)
    c = Clock(r, "2026-10-14T09:00:00", (0.02, 1.2))
    routes = [
        "/search?q={}",
        "/record/{}",
        "/static/app.{}.js",
        "/account/loans",
        "/api/availability/{}",
        "/covers/{}.jpg",
        "/account/holds",
    ]
    agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    ]
    lines = []
    for i in range(240):
        route = r.choice(routes).format(r.choice(["tolkien", "moomin", "bread", hexid(r, 6), "climate"]))
        st, rt = r.choice([200] * 12 + [304, 404, 302]), r.uniform(0.004, 0.35)
        if route.startswith("/account/holds") and i > 110 and r.random() < 0.8:
            st, rt = 499, r.uniform(29.9, 30.0)
        lines.append(
            f'{ip(r, False)} - - [{c.clf()}] "GET {route} HTTP/2.0" {st} {r.randint(0, 40000)} '
            f'"https://catalogue.northshire-libraries.org/" "{r.choice(agents)}" rt={rt:.3f} '
            f'uct="0.001" urt="{rt if st != 499 else "-"}"'
        )
    text = "\n".join(lines)
    q = "what's wrong? patrons are phoning in that they can't see their holds"
    return (
        Oai(name)
        .user("nginx access log from the catalogue front end, last ~20 minutes:\n" + text)
        .done(q, ["/account/holds", 'HTTP/2.0" 499', "rt=29.9"], "user")
    )


def envoy_big() -> Workload:
    name = "logs_envoy_ingress_upstream_reset"
    r = rng(name)
    c = Clock(r, "2026-10-14T14:02:00", (0.001, 0.05))
    clusters = [
        "outbound|8080||roster-api.clinic.svc.cluster.local",
        "outbound|8080||shift-swap.clinic.svc.cluster.local",
        "outbound|9000||notify.clinic.svc.cluster.local",
        "outbound|8080||ward-board.clinic.svc.cluster.local",
    ]
    paths = {
        clusters[0]: "/v2/rosters/{}",
        clusters[1]: "/swap/{}/offers",
        clusters[2]: "/push",
        clusters[3]: "/wards/{}/board",
    }
    lines = []
    for i in range(780):
        cl = r.choice(clusters)
        flags, code, up = "-", 200, f"10.44.{r.randint(1, 9)}.{r.randint(2, 250)}:8080"
        if cl == clusters[1] and 300 < i < 560 and r.random() < 0.35:
            flags, code, up = "UF,URX", 503, "-"
        lines.append(
            f'[{c.iso()}] "{r.choice(["GET", "GET", "POST"])} {paths[cl].format(r.randint(100, 999))} '
            f'HTTP/1.1" {code} {flags} {r.randint(0, 900)} {r.randint(0, 9000)} {r.randint(1, 80)} '
            f'{r.randint(1, 70) if code == 200 else "-"} "{ip(r)}" "okhttp/4.12.0" "{uuid(r)}" '
            f'"roster.clinic.example" "{up}" {cl} - 10.44.0.{r.randint(2, 9)}:8443 {ip(r)}:{r.randint(30000, 60000)}'
            f" - -"
            + (
                " upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111}"
                if code == 503
                else ""
            )
        )
    lines = place(
        lines,
        0.5,
        [
            f"[{c.iso()}][warning][upstream] cds: cluster {clusters[1]} health check failed: "
            "0 healthy hosts of 3 (readiness probe /healthz returned 500)"
        ],
    )
    text = "\n".join(lines)
    q = "nurses get 503s when they try to trade shifts. roster and ward board are fine. what's going on?"
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user(q.split(".")[0] + ". can you look at the ingress gateway logs?")
        .calls(
            "Pulling the ingress gateway access log.",
            [("Bash", {"command": "kubectl -n istio-system logs deploy/istio-ingressgateway --since=20m"}, text)],
        )
        .done(
            q,
            [
                "shift-swap.clinic.svc.cluster.local",
                "UF,URX",
                "0 healthy hosts of 3",
                "readiness probe /healthz returned 500",
            ],
            "tool_result",
        )
    )


def windows_events() -> Workload:
    name = "logs_windows_security_lockout"
    r = rng(name)
    c = Clock(r, "2026-10-14T07:00:00", (1, 40))
    hosts = ["FS01", "DC02", "PRINT03", "WKS-0412", "WKS-0388", "SQL-HR01", "WKS-0271", "TS-GW01"]
    recs = []
    for i in range(130):
        t = c.tick().strftime("%m/%d/%Y %I:%M:%S %p")
        ev = r.choice([4624, 4624, 4624, 4634, 4672, 4768, 4625])
        user = r.choice(["m.lindqvist", "svc_sql", "h.tanaka", "p.okafor", "svc_print", "a.moreau"])
        src = r.choice(hosts)
        if i in range(74, 93):
            ev, user, src = 4625, "svc_backup", "WKS-0388"
        desc = {
            4624: "An account was successfully logged on.",
            4634: "An account was logged off.",
            4672: "Special privileges assigned to new logon.",
            4768: "A Kerberos authentication ticket (TGT) was requested.",
            4625: "An account failed to log on.",
        }[ev]
        body = (
            f"Log Name:      Security\nSource:        Microsoft-Windows-Security-Auditing\nDate:          {t}\n"
            f"Event ID:      {ev}\nTask Category: Logon\nLevel:         Information\nKeywords:      "
            f"{'Audit Failure' if ev == 4625 else 'Audit Success'}\nComputer:      DC02.corp.harbourschools.org\n"
            f"Description:\n{desc}\n\n{'Account For Which Logon Failed' if ev == 4625 else 'New Logon'}:\n"
            f"\tAccount Name:\t\t{user}\n"
            f"\tAccount Domain:\t\tHARBOUR\n\nNetwork Information:\n\tWorkstation Name:\t{src}\n"
            f"\tSource Network Address:\t{ip(r)}\n\tSource Port:\t\t{r.randint(49152, 65535)}\n"
        )
        if ev == 4625:
            body += (
                "\nFailure Information:\n\tFailure Reason:\t\tUnknown user name or bad password.\n\tStatus:\t\t\t"
                "0xC000006D\n\tSub Status:\t\t0xC000006A\n"
            )
        recs.append(body)
    recs.insert(
        94,
        f"Log Name:      Security\nDate:          {c.tick().strftime('%m/%d/%Y %I:%M:%S %p')}\n"
        "Event ID:      4740\nComputer:      DC02.corp.harbourschools.org\nDescription:\nA user account "
        "was locked out.\n\tAccount Name:\t\tsvc_backup\n\tCaller Computer Name:\tWKS-0388\n",
    )
    text = "\n".join(recs)
    q = "svc_backup keeps getting locked out overnight and the backups fail. Where is it coming from?"
    return (
        Oai(name, system="You are an IT admin assistant for a school district.", tools=AGENT_TOOLS[:1])
        .user(q)
        .calls([("Bash", {"command": "wevtutil qe Security /c:260 /rd:true /f:text"}, text)])
        .done(
            "so which machine is it and what should I check there?",
            ["Event ID:      4740", "svc_backup", "WKS-0388", "0xC000006A"],
            "tool_result",
        )
    )


def k8s_events() -> Workload:
    name = "logs_k8s_events_paste"
    r = rng(name)
    reasons = [
        ("Normal", "Scheduled", "Successfully assigned {ns}/{pod} to {node}"),
        ("Normal", "Pulled", 'Container image "registry.ferrylink.io/{app}:1.{v}.0" already present on machine'),
        ("Normal", "Created", "Created container {app}"),
        ("Normal", "Started", "Started container {app}"),
        ("Normal", "SuccessfulCreate", "Created pod: {pod}"),
        ("Normal", "ScalingReplicaSet", "Scaled up replica set {app}-{h} to 3"),
    ]
    apps = ["booking-api", "berth-planner", "ticket-printer", "crew-roster", "manifest-sync", "tide-feed"]
    rows = ["LAST SEEN   TYPE      REASON              OBJECT                                MESSAGE"]
    for _i in range(420):
        app = r.choice(apps)
        pod = f"{app}-{hexid(r, 9)}-{hexid(r, 5)}"
        typ, reason, msg = r.choice(reasons)
        msg = msg.format(
            ns="ferry",
            pod=pod,
            node=f"ip-10-8-{r.randint(1, 60)}-{r.randint(2, 250)}",
            app=app,
            v=r.randint(10, 40),
            h=hexid(r, 9),
        )
        rows.append(f"{str(r.randint(1, 59)) + 'm':<12}{typ:<9} {reason:<19} pod/{pod:<33} {msg}")
    bad_pod = "manifest-sync-7c9d5f8b6d-x2kqp"
    # --sort-by=.lastTimestamp puts the oldest first; the warnings are 3-4 minutes old.
    rows = rows[:1] + sorted(rows[1:], key=lambda row: -int(row.split("m", 1)[0]))
    at = next(i for i, row in enumerate(rows[1:], 1) if int(row.split("m", 1)[0]) < 4) / len(rows)
    rows = place(
        rows,
        at,
        [
            "4m          Warning   OOMKilling          node/ip-10-8-33-120                  Memory cgroup out of memory: "  # noqa: E501
            "Killed process 28812 (java) total-vm:6120340kB, anon-rss:1048576kB",
            f"4m          Warning   BackOff             pod/{bad_pod}       Back-off restarting failed container "
            "manifest-sync in pod manifest-sync-7c9d5f8b6d-x2kqp_ferry",
            f"3m          Warning   Unhealthy           pod/{bad_pod}       Liveness probe failed: Get "
            '"http://10.8.33.120:8081/actuator/health": context deadline exceeded',
        ],
    )
    q = "manifest sync keeps restarting after the 1.31 release, any idea?"
    return Anth(name, system="You are a platform engineer on call.").done(
        q,
        [bad_pod, "OOMKilling", "anon-rss:1048576kB"],
        "user",
        pre=[{"type": "text", "text": "kubectl get events -n ferry --sort-by=.lastTimestamp\n\n" + "\n".join(rows)}],
    )


def csv_bookings() -> Workload:
    name = "logs_csv_ferry_bookings_export"
    r = rng(name)
    sailings = [
        f"{route}-{d:02d}{h:02d}"
        for route in ("BRG-STV", "STV-BRG", "HAU-KOP")
        for d in (12, 13, 14)
        for h in (7, 11, 15, 19)
    ]
    cap = {s: r.choice([90, 120, 150]) for s in sailings}
    cap["STV-BRG-1415"] = 90
    rows = ["booking_ref,sailing,route,departure,passenger_count,vehicle_type,cabin,channel,status,total_nok"]
    booked = dict.fromkeys(sailings, 0)
    for _i in range(900):
        s = r.choice(sailings + ["STV-BRG-1415"] * 2)
        n = r.randint(1, 5)
        if booked[s] + n > cap[s] - 10 and s != "STV-BRG-1415":
            continue
        booked[s] += n
        rows.append(
            f"FL{r.randint(100000, 999999)},{s},{s[:7]},2026-11-{s[8:10]}T{s[10:12]}:00,{n},"
            f"{r.choice(['none', 'car', 'car', 'van', 'motorcycle', 'caravan'])},{r.choice(['', 'B2', 'A4'])},"
            f"{r.choice(['web', 'app', 'agent', 'kiosk'])},confirmed,{r.randint(300, 4800)}"
        )
    summary = "sailing,capacity\n" + "\n".join(f"{s},{cap[s]}" for s in sailings)
    q = "Can you check if any sailing is overbooked against capacity? The ops team thinks one is."
    return Oai(name, system="You are a data analyst for a ferry operator.").done(
        q,
        ["STV-BRG-1415", f"STV-BRG-1415,{cap['STV-BRG-1415']}"],
        "user",
        parts=["bookings export (confirmed only):\n" + "\n".join(rows), "capacities:\n" + summary],
        notes=f"STV-BRG-1415 booked {booked['STV-BRG-1415']} vs capacity {cap['STV-BRG-1415']}",
    )


def pg_stat_statements() -> Workload:
    name = "logs_sql_pg_stat_statements"
    r = rng(name)
    tables = ["loans", "patrons", "items", "holds", "branches", "fines", "reading_lists", "events"]
    rows = []
    for _ in range(70):
        t = r.choice(tables)
        q = (
            f"SELECT {', '.join(r.sample(['id', 'patron_id', 'item_id', 'branch_id', 'due_at', 'status'], 3))} FROM "
            f"{t} WHERE {r.choice(['id', 'patron_id', 'branch_id'])} = $1"
        )
        calls = r.randint(200, 90000)
        rows.append(
            [
                r.randint(10**8, 10**9),
                calls,
                f"{calls * r.uniform(0.05, 1.5):.1f}",
                f"{r.uniform(0.05, 1.5):.3f}",
                r.randint(1, 50),
                q[:110],
            ]
        )
    rows.append(
        [
            4471203981,
            18211,
            "2194339.7",
            "120.495",
            1,
            "SELECT h.* FROM holds h WHERE lower(h.pickup_code) = $1 AND h.expires_at > now()",
        ]
    )
    r.shuffle(rows)
    rows.sort(key=lambda x: -float(x[2]))
    text = table(["queryid", "calls", "total_exec_time", "mean_exec_time", "rows", "query"], rows)
    q = "Database CPU is pinned. Which query should I fix first, and how?"
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .calls(
            "Checking the top statements by total time.",
            [
                (
                    "Bash",
                    {
                        "command": "psql -h pg-lib-01 -d catalogue -c 'SELECT queryid, calls, round(total_exec_time::numeric,1)"  # noqa: E501
                        " total_exec_time, round(mean_exec_time::numeric,3) mean_exec_time, rows, left(query,110) query FROM "  # noqa: E501
                        "pg_stat_statements ORDER BY total_exec_time DESC LIMIT 80'"
                    },
                    text,
                )
            ],
        )
        .done(q, ["lower(h.pickup_code) = $1", "4471203981"], "tool_result")
    )


def cron_small() -> Workload:
    name = "logs_small_cron_mail"
    r = rng(name)
    c = Clock(r, "2026-10-14T02:00:00", (0.5, 2))
    lines = [f"{c.syslog()} backup01 CRON[{r.randint(1000, 9000)}]: (root) CMD (/usr/local/bin/restic-nightly.sh)"]
    lines += [
        f"{c.syslog()} backup01 restic-nightly[{r.randint(1000, 9000)}]: {m}"
        for m in [
            "repository 4f2a9c1e opened (version 2, compression level auto)",
            "using parent snapshot 8d41e0aa",
            "scan finished in 3.812s: 184220 files, 61.203 GiB",
            'Fatal: unable to save snapshot: sftp: "no space left on device" (SSH_FX_FAILURE)',
            "exit status 1",
        ]
    ]
    lines[1:1] = [
        f"{c.syslog()} backup01 restic-nightly[{r.randint(1000, 9000)}]: {m}"
        for m in [
            "starting nightly backup of /srv/nextcloud /srv/postgres-dumps /etc",
            "pg_dumpall finished: /srv/postgres-dumps/all-20261014.sql.gz (2.1 GiB)",
            "sftp backend: storagebox u31877@u31877.your-storagebox.de:/backups/backup01",
            "forget policy: keep-daily 7 keep-weekly 5 keep-monthly 12 (prune runs on sundays)",
        ]
    ]
    lines.append(
        "---\nFrom: Cron Daemon <root@backup01>\nSubject: Cron <root@backup01> /usr/local/bin/restic-nightly.sh"
        "\n\nrestic-nightly: FAILED after 00:04:12, see journal. Last good snapshot: 8d41e0aa (2026-10-06)"
    )
    lines.append(f"{c.syslog()} backup01 CRON[{r.randint(1000, 9000)}]: (root) MAILED (mail to root)")
    q = "nightly backup mail says it failed, what does this mean?"
    return Oai(name, model="gpt-4o-mini", max_tokens=800).done(
        q,
        ["no space left on device", "storagebox u31877", "Last good snapshot: 8d41e0aa (2026-10-06)"],
        "user",
        parts=["\n".join(lines)],
    )


def journald_json() -> Workload:
    name = "logs_journald_json_timesync"
    r = rng(name)
    c = Clock(r, "2026-10-14T00:00:00", (0.5, 25))
    units = ["sshd.service", "chronyd.service", "telescope-ctl.service", "dome-motor.service", "cron.service"]
    lines = []
    for i in range(300):
        u = r.choice(units)
        msg = {
            "sshd.service": f"Accepted publickey for obs from {ip(r)} port {r.randint(30000, 60000)} ssh2",
            "chronyd.service": f"Selected source 192.168.10.1 (gps-ntp.local) offset {r.uniform(-0.0004, 0.0004):+.6f}",
            "telescope-ctl.service": f"slew complete target=HD{r.randint(1000, 99999)} err_arcsec={r.uniform(0.2, 1.4):.2f}",  # noqa: E501
            "dome-motor.service": f"azimuth={r.uniform(0, 359):.1f} synced",
            "cron.service": "pam_unix(cron:session): session opened for user root",
        }[u]
        if u == "chronyd.service" and 170 < i < 215:
            msg = "Can't synchronise: no selectable sources"
        if u == "telescope-ctl.service" and 195 < i < 225:
            msg = f"slew complete target=HD{r.randint(1000, 99999)} err_arcsec={r.uniform(38, 61):.2f} WARN pointing model drift"  # noqa: E501
        lines.append(
            json.dumps(
                {
                    "__REALTIME_TIMESTAMP": str(int(c.tick().timestamp() * 1e6)),
                    "_HOSTNAME": "obs-ctl-1",
                    "_SYSTEMD_UNIT": u,
                    "PRIORITY": "4" if "WARN" in msg or "Can't" in msg else "6",
                    "_PID": str(r.randint(300, 9000)),
                    "MESSAGE": msg,
                },
                separators=(",", ":"),
            )
        )
    text = "\n".join(lines)
    q = "The telescope's pointing went bad for about an hour last night then recovered by itself. Why?"
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .calls(None, [("Bash", {"command": "journalctl -o json --since yesterday -u '*' | head -600"}, text)])
        .done(q, ["no selectable sources", "pointing model drift", "gps-ntp.local"], "tool_result")
    )


ALL = [
    postfix_syslog,
    logfmt_tiles,
    jsonl_greenhouse,
    nginx_library,
    envoy_big,
    windows_events,
    k8s_events,
    csv_bookings,
    pg_stat_statements,
    cron_small,
    journald_json,
]


def tsv_water_meters() -> Workload:
    name = "logs_tsv_water_meter_export"
    r = rng(name)
    rows = ["meter_id\taddress\tdistrict\treading_date\treading_m3\tdelta_m3\tsource\tflags"]
    meters = [
        (
            f"WM-{r.randint(100000, 999999)}",
            f"{r.choice(['Storgata', 'Kirkeveien', 'Bryggen', 'Fjellvegen', 'Havnegata'])} {r.randint(1, 120)}",
            r.choice(["Sentrum", "Nord", "Sor", "Vest"]),
        )
        for _ in range(60)
    ]
    last = {m[0]: r.uniform(100, 4000) for m in meters}
    for day in range(1, 15):
        for mid, addr, district in meters:
            delta = r.uniform(0.1, 0.9)
            if mid == meters[37][0] and day >= 9:
                delta = r.uniform(7.5, 9.0)
            last[mid] += delta
            rows.append(
                f"{mid}\t{addr}\t{district}\t2026-10-{day:02d}\t{last[mid]:.2f}\t{delta:.2f}\t"
                f"{r.choice(['lora', 'lora', 'lora', 'manual'])}\t{'' if r.random() < 0.95 else 'est'}"
            )
    q = "Anything unusual in the last two weeks? We get a few leak complaints every autumn."
    return Oai(name, system="You are an analyst at the municipal water utility.", model="gpt-4.1-mini").done(
        q,
        [meters[37][0], "2026-10-09"],
        "user",
        parts=["meter_readings_oct.tsv:\n" + "\n".join(rows)],
        notes=f"{meters[37][0]} ({meters[37][1]}) jumps to ~8 m3/day from 2026-10-09",
    )


ALL += [tsv_water_meters]
