"""Logs and structured data: application and access logs, JSON APIs, CSV exports, cluster events."""

from __future__ import annotations

import json

from benchmarks.workloads._build import Workload, anthropic, hexid, insert, openai, rng, sentence, ts


def app_log_error() -> Workload:
    r = rng("app_log_error")
    lines = [
        f"{ts(r, 0, i)} INFO  [{r.choice(['api', 'worker', 'scheduler'])}-{r.randint(1, 4)}] "
        f"req={hexid(r)} {sentence(r)}"
        for i in range(3000)
    ]
    trace = [
        f"{ts(r, 5000)} ERROR [payment-worker-2] req=9f31c07a charge failed for order ord_55120",
        "Traceback (most recent call last):",
        '  File "/app/payments/gateway.py", line 212, in charge',
        "    response = self.session.post(url, json=payload, timeout=self.timeout)",
        '  File "/usr/lib/python3.12/site-packages/requests/sessions.py", line 637, in post',
        "ConnectionResetError: [Errno 104] Connection reset by peer",
    ]
    log = "\n".join(insert(lines, 0.62, trace))
    return anthropic(
        "app_log_error",
        "Why did the charge for order ord_55120 fail? Check the app log.",
        [
            "ConnectionResetError: [Errno 104] Connection reset by peer",
            'payments/gateway.py", line 212',
            "req=9f31c07a",
        ],
        [[("Bash", {"command": "tail -n 3006 /var/log/app/app.log"}, log)]],
    )


def nginx_5xx() -> Workload:
    r = rng("nginx_5xx")
    paths = ["/api/v2/cart", "/api/v2/products", "/static/app.js", "/api/v2/search", "/healthz"]
    lines = []
    for i in range(2500):
        ip = f"10.0.{r.randint(0, 255)}.{r.randint(1, 254)}"
        path, status = r.choice(paths), r.choice([200, 200, 200, 304, 201])
        if i in (1411, 1412, 1419, 1800):
            path, status = "/api/v2/checkout", 502
        lines.append(
            f'{ip} - - [24/Nov/2026:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] "GET {path} HTTP/1.1" {status} '
            f'{r.randint(200, 40000)} "-" "Mozilla/5.0" rt={r.random():.3f} upstream="10.1.4.{r.randint(2, 9)}:8080"'
        )
    return anthropic(
        "nginx_5xx",
        "Which endpoint is returning 502s, and from which upstream?",
        ['"GET /api/v2/checkout HTTP/1.1" 502'],
        [[("Bash", {"command": "kubectl logs deploy/ingress-nginx --tail=2500"}, "\n".join(lines))]],
    )


def orders_json() -> Workload:
    r = rng("orders_json")
    orders = [
        {
            "id": f"ord_{70000 + i}",
            "customer": f"cus_{hexid(r, 10)}",
            "amount_cents": r.randint(500, 90000),
            "currency": "EUR",
            "status": r.choice(["paid", "shipped", "delivered"]),
            "created_at": ts(r, 0, i),
            "items": r.randint(1, 6),
        }
        for i in range(400)
    ]
    orders[312] = {**orders[312], "status": "on_hold", "hold_reason": "address_verification_pending"}
    body = json.dumps({"data": orders, "has_more": False}, indent=2)
    return anthropic(
        "orders_json",
        "What's the status of order ord_70312 and why?",
        ["ord_70312", "address_verification_pending"],
        [[("http_get", {"url": "https://orders.internal/v1/orders?limit=400"}, body)]],
    )


def alerts_json() -> Workload:
    r = rng("alerts_json")
    alerts = [
        {
            "labels": {
                "alertname": r.choice(["DiskUsage", "CertExpiry", "QueueDepth"]),
                "instance": f"node-{r.randint(1, 40)}",
                "severity": "info",
            },
            "state": "inactive",
            "activeAt": ts(r, 0, i),
            "value": f"{r.random():.3f}",
        }
        for i in range(300)
    ]
    alerts[207] = {
        "labels": {"alertname": "PostgresReplicationLag", "instance": "pg-replica-3", "severity": "critical"},
        "state": "firing",
        "activeAt": "2026-11-24T10:41:07Z",
        "value": "412.5",
    }
    body = json.dumps({"status": "success", "data": {"alerts": alerts}}, indent=2)
    return openai(
        "alerts_json",
        "Is anything firing right now in Prometheus? Which instance?",
        ["PostgresReplicationLag", "pg-replica-3", "412.5"],
        [[("http_get", {"url": "http://prometheus:9090/api/v1/alerts"}, body)]],
    )


def csv_export() -> Workload:
    r = rng("csv_export")
    first = ["ana", "ben", "chen", "dmitri", "eva", "farah", "goran", "hana"]
    rows = ["id,email,plan,seats,country,signup_date,mrr_eur"]
    for i in range(3000):
        name = f"{r.choice(first)}.{hexid(r, 5)}"
        rows.append(
            f"{10000 + i},{name}@example.com,{r.choice(['free', 'team', 'business'])},{r.randint(1, 80)},"
            f"{r.choice(['DE', 'FR', 'PL', 'US'])},2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d},"
            f"{r.randint(0, 4000)}"
        )
    rows[2217] = "12216,dana.kowalski@example.com,enterprise,450,PL,2024-03-11,38250"
    return anthropic(
        "csv_export",
        "How many seats does dana.kowalski@example.com have, and on which plan?",
        ["12216,dana.kowalski@example.com,enterprise,450,PL,2024-03-11,38250"],
        [[("Bash", {"command": "cat exports/customers.csv"}, "\n".join(rows))]],
    )


def k8s_events() -> Workload:
    r = rng("k8s_events")
    lines = ["LAST SEEN   TYPE      REASON      OBJECT                                MESSAGE"]
    for _ in range(900):
        pod = f"pod/{r.choice(['web', 'api', 'worker'])}-{hexid(r, 5)}"
        reason, msg = r.choice(
            [
                ("Scheduled", "Successfully assigned"),
                ("Pulled", "Container image already present"),
                ("Created", "Created container"),
                ("Started", "Started container"),
            ]
        )
        lines.append(f"{r.randint(1, 59)}m         Normal    {reason:<11} {pod:<37} {msg}")
    lines = insert(
        lines,
        0.4,
        [
            "3m          Warning   BackOff     pod/billing-7c9f4d-x2kqp              "
            "Back-off restarting failed container billing in pod billing-7c9f4d-x2kqp"
        ],
    )
    return anthropic(
        "k8s_events",
        "Is any pod unhealthy in the payments namespace?",
        ["pod/billing-7c9f4d-x2kqp", "Back-off restarting failed container billing"],
        [[("Bash", {"command": "kubectl get events -n payments"}, "\n".join(lines))]],
    )


def journal_oom() -> Workload:
    r = rng("journal_oom")
    lines = [
        f"Nov 24 10:{i // 60 % 60:02d}:{i % 60:02d} node-7 {r.choice(['kubelet', 'containerd', 'systemd'])}"
        f"[{r.randint(100, 9999)}]: {sentence(r, 7)}"
        for i in range(2500)
    ]
    lines = insert(
        lines,
        0.81,
        [
            "Nov 24 10:33:41 node-7 kernel: java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0",
            "Nov 24 10:33:41 node-7 kernel: Out of memory: Killed process 4121 (java) total-vm:9812344kB, "
            "anon-rss:7340032kB",
        ],
    )
    return anthropic(
        "journal_oom",
        "Why did the search service on node-7 restart around 10:33?",
        ["Out of memory: Killed process 4121 (java)", "anon-rss:7340032kB"],
        [[("Bash", {"command": "journalctl -n 2502 --no-pager"}, "\n".join(lines))]],
    )


def audit_json_lines() -> Workload:
    r = rng("audit_json_lines")
    events = [
        json.dumps(
            {
                "ts": ts(r, 0, i),
                "actor": f"svc-{r.choice(['ci', 'deployer', 'backup'])}",
                "action": r.choice(["storage.objects.get", "storage.objects.list"]),
                "resource": f"projects/_/buckets/artifacts/objects/{hexid(r, 12)}",
                "result": "ALLOW",
            }
        )
        for i in range(1800)
    ]
    events = insert(
        events,
        0.55,
        [
            json.dumps(
                {
                    "ts": "2026-11-24T10:12:09.114Z",
                    "actor": "user:intern@corp.example",
                    "action": "storage.buckets.setIamPolicy",
                    "resource": "projects/_/buckets/customer-exports",
                    "result": "ALLOW",
                }
            )
        ],
    )
    return anthropic(
        "audit_json_lines",
        "Who changed the IAM policy on a bucket today?",
        ["user:intern@corp.example", "storage.buckets.setIamPolicy", "customer-exports"],
        [[("Bash", {"command": "gcloud logging read --format=json | jq -c '.[]'"}, "\n".join(events))]],
    )


WORKLOADS = [app_log_error, nginx_5xx, orders_json, alerts_json, csv_export, k8s_events, journal_oom, audit_json_lines]
