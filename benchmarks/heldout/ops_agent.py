"""Agent operations: CI and test-runner output, terraform plans, kubectl output, docker and package-manager logs,
git history, and long multi-step agent sessions."""

from __future__ import annotations

import random

from benchmarks.heldout import _code as c
from benchmarks.heldout import _shapes as s
from benchmarks.heldout._text import (
    SERVICES,
    Clock,
    blob,
    hexs,
    ip,
    iso,
    paragraph,
    person,
    seeded,
    token,
    uid,
)
from benchmarks.workloads._build import Workload

PYPI = ["fastapi==0.110.0", "starlette==0.36.3", "pydantic==2.6.4", "pydantic-core==2.16.3", "sqlalchemy==2.0.29",
        "asyncpg==0.29.0", "alembic==1.13.1", "httpx==0.27.0", "anyio==4.3.0", "redis==5.0.3", "celery==5.3.6",
        "kombu==5.3.5", "boto3==1.34.69", "botocore==1.34.69", "structlog==24.1.0", "orjson==3.10.0",
        "pytest==8.1.1", "pytest-xdist==3.5.0", "pytest-asyncio==0.23.6", "freezegun==1.4.0", "respx==0.21.1",
        "factory-boy==3.3.0", "faker==24.4.0", "mypy==1.9.0", "ruff==0.3.4", "uvicorn==0.29.0", "gunicorn==21.2.0",
        "jinja2==3.1.3", "cryptography==42.0.5", "python-dateutil==2.9.0.post0", "tenacity==8.2.3"]


def _gha(clock: Clock, line: str) -> str:
    return f"{iso(clock.tick(1, 300))[:-1]}{random.Random(line).randint(0, 9999):04d}Z {line}"


def ci_pytest() -> Workload:
    name = "ops_ci_pytest_two_failures"
    r = seeded(name)
    clock = Clock("2025-03-11T10:02:00", r)
    out = ["##[group]Run actions/checkout@v4", "with:", "  repository: northwind/orders", "  fetch-depth: 1",
           "##[endgroup]", "Syncing repository: northwind/orders", "##[group]Run actions/setup-python@v5",
           "Successfully set up CPython (3.12.2)", "##[endgroup]", "##[group]Run pip install -r requirements-dev.txt"]
    for pkg in PYPI:
        n, v = pkg.split("==")
        out += [f"Collecting {pkg}", f"  Downloading {n.replace('-', '_')}-{v}-py3-none-any.whl "
                                     f"({r.randint(12, 2400)} kB)",
                f"     {'━' * 40} {r.randint(12, 2400)}.0/{r.randint(12, 2400)}.0 kB {r.uniform(5, 60):.1f} MB/s "
                "eta 0:00:00"]
    out += ["Installing collected packages: " + ", ".join(p.split("==")[0] for p in PYPI),
            "Successfully installed " + " ".join(p.replace("==", "-") for p in PYPI), "##[endgroup]",
            "##[group]Run pytest -n 4 --maxfail=20 -p no:cacheprovider",
            "============================= test session starts ==============================",
            "platform linux -- Python 3.12.2, pytest-8.1.1, pluggy-1.4.0",
            "rootdir: /home/runner/work/orders/orders", "configfile: pyproject.toml",
            "plugins: xdist-3.5.0, asyncio-0.23.6, respx-0.21.1",
            "created: 4/4 workers", "4 workers [642 items]", ""]
    mods = ["tests/api/test_orders.py", "tests/api/test_carts.py", "tests/api/test_customers.py",
            "tests/worker/test_retry.py", "tests/worker/test_outbox.py", "tests/domain/test_pricing.py",
            "tests/domain/test_tax.py", "tests/domain/test_inventory.py", "tests/db/test_repositories.py"]
    taken: set[str] = set()
    names = c.test_names(r, 642, ["order", "cart", "refund", "outbox", "tax", "price", "stock", "customer"], taken)
    fails = {200: ("tests/api/test_orders.py", "test_cancel_after_capture_refunds"),
             470: ("tests/worker/test_retry.py", "test_dead_letter_after_max_attempts")}
    for i, nm in enumerate(names):
        mod, status = r.choice(mods), "PASSED"
        if i in fails:
            mod, nm = fails[i]
            status = "FAILED"
        elif r.random() < 0.01:
            status = "SKIPPED"
        out.append(f"[gw{r.randint(0, 3)}] [{100 * (i + 1) // 642:3d}%] {status} {mod}::{nm} ")
    out += ["", "=================================== FAILURES ===================================",
            "______________________ test_cancel_after_capture_refunds _______________________",
            "[gw1] linux -- Python 3.12.2 /opt/hostedtoolcache/Python/3.12.2/x64/bin/python", "",
            "client = <httpx.AsyncClient object at 0x7f1c2d3e8b90>, captured_order = <Order ord_5XkQ status=captured>",
            "", "    async def test_cancel_after_capture_refunds(client, captured_order):",
            '        resp = await client.post(f"/v1/orders/{captured_order.id}/cancel", json={"reason": "customer"})',
            ">       assert resp.status_code == 200, resp.text",
            "E       AssertionError: {\"error\":\"order_not_cancellable\",\"detail\":\"captured orders must be "
            "refunded "
            "via /refunds\"}",
            "E       assert 409 == 200", "E        +  where 409 = <Response [409 Conflict]>.status_code", "",
            "tests/api/test_orders.py:218: AssertionError",
            "_____________________ test_dead_letter_after_max_attempts ______________________",
            "[gw3] linux -- Python 3.12.2 /opt/hostedtoolcache/Python/3.12.2/x64/bin/python", "",
            "broker = <InMemoryBroker queues=3>, failing_handler = <Mock id='139758863'>", "",
            "    def test_dead_letter_after_max_attempts(broker, failing_handler):",
            '        broker.publish("orders.created", {"id": "ord_1"})',
            ">       wait_for(lambda: broker.dead_letters(\"orders.created\"), timeout=5.0)", "",
            "tests/worker/test_retry.py:77: ", "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _",
            "tests/helpers.py:31: in wait_for",
            "    raise TimeoutError(f\"condition not met within {timeout}s\")",
            "E   TimeoutError: condition not met within 5.0s", "",
            "----------------------------- Captured log call ------------------------------",
            *[f"WARNING  worker.retry:retry.py:64 handler failed (attempt {k}/5), retrying in {2 ** k}s"
              for k in range(1, 4)],
            "=========================== short test summary info ============================",
            "FAILED tests/api/test_orders.py::test_cancel_after_capture_refunds - AssertionError: "
            "{\"error\":\"order_not_cancellable\",...",
            "FAILED tests/worker/test_retry.py::test_dead_letter_after_max_attempts - TimeoutError: condition not "
            "met within 5.0s",
            "============ 2 failed, 634 passed, 6 skipped in 187.42s (0:03:07) =============",
            "##[error]Process completed with exit code 1."]
    log = "\n".join(_gha(clock, ln) for ln in out)
    question = "CI is red on my PR (#1842). Which tests failed and why?"
    messages = [
        s.user(question),
        s.assistant("I'll pull the failed run's log.",
                    s.use("toolu_01Gh", "Bash", command="gh run view 8241197730 --log | cut -f3-")),
        s.user(s.result("toolu_01Gh", log)),
    ]
    facts = ["tests/api/test_orders.py::test_cancel_after_capture_refunds", "assert 409 == 200",
             "tests/worker/test_retry.py::test_dead_letter_after_max_attempts",
             "TimeoutError: condition not met within 5.0s"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


def terraform_plan() -> Workload:
    name = "ops_terraform_plan_replacement"
    r = seeded(name)
    blocks = ["data.aws_caller_identity.current: Reading...", "data.aws_region.current: Reading...",
              "data.aws_caller_identity.current: Read complete after 0s [id=421987003317]", ""]
    kinds = [("aws_iam_role_policy", "policy"), ("aws_security_group_rule", "cidr_blocks"),
             ("aws_lambda_function", "source_code_hash"), ("aws_cloudwatch_log_group", "retention_in_days"),
             ("aws_ecs_service", "desired_count"), ("aws_sqs_queue", "visibility_timeout_seconds"),
             ("aws_ssm_parameter", "value")]
    for k in range(60):
        blocks.append(f"{kinds[k % 7][0]}.{r.choice(SERVICES).replace('-', '_')}_{k}: Refreshing state... "
                      f"[id={token(r, 17)}]")
    blocks += ["", "Terraform used the selected providers to generate the following execution plan. Resource "
               "actions are indicated with the following symbols:", "  + create", "  ~ update in-place",
               "  - destroy", "-/+ destroy and then create replacement", "",
               "Terraform will perform the following actions:", ""]
    changes, adds = 0, 0
    body = []
    refreshed = [ln.split(":")[0] for ln in blocks if "Refreshing state" in ln]
    for k in range(44):
        kind, attr = r.choice(kinds)
        res = f"{kind}.{r.choice(SERVICES).replace('-', '_')}_{k + 60}"
        create = r.random() < 0.25
        if not create:
            res = refreshed.pop(r.randrange(len(refreshed)))
            kind, attr = next(x for x in kinds if x[0] == res.split(".")[0])
        if create:
            adds += 1
            body += [f"  # {res} will be created", f'  + resource "{kind}" "{res.split(".")[1]}" {{',
                     '      + arn  = (known after apply)', '      + id   = (known after apply)',
                     f'      + name = "{res.split(".")[1].replace("_", "-")}"',
                     *[f'      + {a} = "{token(r, 12)}"' for a in r.sample(["description", "kms_key_id", "role",
                                                                             "handler", "runtime"], 3)],
                     "      + tags_all = {", '          + "env"   = "prod"', '          + "owner" = "platform"',
                     "        }", "    }", ""]
        else:
            changes += 1
            lines = [f"  # {res} will be updated in-place", f'  ~ resource "{kind}" "{res.split(".")[1]}" {{',
                     f'        id   = "{token(r, 17)}"']
            if attr in ("policy", "value"):
                lines += [f"      ~ {attr} = jsonencode(", "          ~ {", "              ~ Statement = [",
                          "                  ~ {", '                      ~ Resource = [',
                          *[f'                          + "arn:aws:s3:::{token(r, 8).lower()}/*",' for _ in range(3)],
                          "                        ]", "                    }", "                ]",
                          "            }", "        )"]
            elif attr == "source_code_hash":
                lines.append(f'      ~ {attr} = "{blob(r, 32)}" -> "{blob(r, 32)}"')
            elif attr == "cidr_blocks":
                lines += [f"      ~ {attr} = [", f'          - "{ip(r)}/32",', f'          + "{ip(r)}/32",',
                          "        ]"]
            else:
                old, new = r.sample({"retention_in_days": [7, 14, 30, 90, 365], "desired_count": [2, 3, 4, 6, 8],
                                     "visibility_timeout_seconds": [30, 60, 120, 300, 900]}[attr], 2)
                lines.append(f"      ~ {attr} = {old} -> {new}")
            lines += [f"        # ({r.randint(3, 14)} unchanged attributes hidden)", "    }", ""]
            body += lines
    db = ["  # aws_db_instance.reporting must be replaced", '-/+ resource "aws_db_instance" "reporting" {',
          "      ~ address                       = \"reporting-db.c9xk2lq0wz1m.eu-west-1.rds.amazonaws.com\" -> "
          "(known after apply)", '      ~ arn                           = "arn:aws:rds:eu-west-1:421987003317:db:'
          'reporting-db" -> (known after apply)', '      ~ engine_version                = "14.10" -> "15.5"',
          '      ~ identifier                    = "reporting-db" -> "reporting-db-v15" # forces replacement',
          "      ~ latest_restorable_time        = \"2025-03-11T09:55:00Z\" -> (known after apply)",
          "        # (41 unchanged attributes hidden)", "    }", ""]
    bucket = ["  # aws_s3_bucket.legacy_exports will be destroyed",
              "  # (because aws_s3_bucket.legacy_exports is not in configuration)",
              '  - resource "aws_s3_bucket" "legacy_exports" {',
              '      - bucket = "northwind-legacy-exports-prod" -> null',
              '      - arn    = "arn:aws:s3:::northwind-legacy-exports-prod" -> null',
              "      - force_destroy = true -> null",
              "        # (11 unchanged attributes hidden)", "    }", ""]
    third = len(body) // 3
    body = [*body[:third], *db, *body[third: 2 * third], *bucket, *body[2 * third:]]
    summary = f"Plan: {adds + 1} to add, {changes} to change, 2 to destroy."
    blocks += [*body, summary, "", "Changes to Outputs:",
               '  ~ reporting_endpoint = "reporting-db.c9xk2lq0wz1m.eu-west-1.rds.amazonaws.com" '
               "-> (known after apply)",
               "", "Saved the plan to: tfplan", "",
               "To perform exactly these actions, run the following command to apply:", '    terraform apply "tfplan"']
    question = "Before I apply this: is the plan going to delete or recreate anything?"
    facts = ["# aws_db_instance.reporting must be replaced",
             '"reporting-db" -> "reporting-db-v15" # forces replacement',
             "# aws_s3_bucket.legacy_exports will be destroyed", summary]
    return s.chat(name, question, facts, [
        s.o_sys(s.AGENT_SYSTEM),
        s.o_user("I'm in infra/live/prod. " + question),
        s.o_calls(("call_tf01", "Bash", {"command": "terraform plan -no-color -out=tfplan"})),
        s.o_tool("call_tf01", "\n".join(blocks)),
    ], bulk="tool_result", tools=s.CLI_TOOLS)


def describe_pod() -> Workload:
    name = "ops_kubectl_describe_restarts"
    r = seeded(name)

    def pod(pname: str, podip: str, restarts: int, bad: bool) -> str:
        events = []
        if bad:
            events = [
                "  Warning  Unhealthy  12m (x41 over 3h)   kubelet  Liveness probe failed: Get "
                f'"http://{podip}:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting '
                "headers)",
                "  Normal   Killing    12m (x14 over 3h)   kubelet  Container api failed liveness probe, will be "
                "restarted",
                "  Normal   Pulled     12m (x14 over 3h)   kubelet  Container image \"registry.internal.example/api:"
                "7.3.0\" already present on machine",
                "  Warning  BackOff    9m (x22 over 2h)    kubelet  Back-off restarting failed container api in pod "
                f"{pname}_prod",
            ]
        else:
            events = ["  <none>"]
        env = "\n".join(f"      {k}:  {v}" for k, v in [
            ("APP_ENV", "prod"), ("DB_POOL_SIZE", "20"), ("DB_HOST", "orders-db.prod.svc"),
            ("REDIS_URL", "<set to the key 'url' in secret 'api-redis'>  Optional: false"),
            ("GUNICORN_WORKERS", "4"), ("GUNICORN_TIMEOUT", "60"), ("OTEL_EXPORTER_OTLP_ENDPOINT",
                                                                   "http://otel-collector.observability:4317")])
        return f"""Name:             {pname}
Namespace:        prod
Priority:         0
Service Account:  api
Node:             ip-10-20-{r.randint(1, 40)}-{r.randint(2, 250)}.eu-west-1.compute.internal/{ip(r)}
Start Time:       Tue, 11 Mar 2025 06:{r.randint(10, 59)}:{r.randint(10, 59)} +0000
Labels:           app.kubernetes.io/name=api
                  pod-template-hash=7c9d8f6b4
Annotations:      kubectl.kubernetes.io/restartedAt: 2025-03-10T17:02:11Z
Status:           Running
IP:               {podip}
Controlled By:  ReplicaSet/api-7c9d8f6b4
Containers:
  api:
    Container ID:   containerd://{hexs(r, 64)}
    Image:          registry.internal.example/api:7.3.0
    Image ID:       registry.internal.example/api@sha256:{hexs(r, 64)}
    Port:           8080/TCP
    State:          Running
      Started:      Tue, 11 Mar 2025 09:{r.randint(10, 59)}:{r.randint(10, 59)} +0000
    Last State:     Terminated
      Reason:       {'Error' if bad else 'Completed'}
      Exit Code:    {137 if bad else 0}
    Ready:          {'False' if bad else 'True'}
    Restart Count:  {restarts}
    Limits:
      memory:  1Gi
    Requests:
      cpu:      500m
      memory:   1Gi
    Liveness:   http-get http://:8080/healthz delay=5s timeout=1s period=10s #success=1 #failure=3
    Readiness:  http-get http://:8080/readyz delay=5s timeout=1s period=5s #success=1 #failure=3
    Environment:
{env}
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-{token(r, 5).lower()} (ro)
Conditions:
  Type              Status
  Initialized       True
  Ready             {'False' if bad else 'True'}
  ContainersReady   {'False' if bad else 'True'}
  PodScheduled      True
QoS Class:                   Burstable
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                 From     Message
  ----     ------     ----                ----     -------
{chr(10).join(events)}"""

    pods = [pod(f"api-7c9d8f6b4-{token(r, 5).lower()}", ip(r), r.randint(0, 1), False) for _ in range(2)]
    pods.insert(1, pod("api-7c9d8f6b4-wq2lz", "10.42.3.17", 14, True))
    top = "\n".join(["NAME                      CPU(cores)   MEMORY(bytes)"] + [
        f"api-7c9d8f6b4-{token(r, 5).lower()}   {r.randint(200, 990)}m        {r.randint(300, 700)}Mi"
        for _ in range(2)] + ["api-7c9d8f6b4-wq2lz       998m         612Mi"])
    logs = "\n".join(
        f"{iso(Clock('2025-03-11T09:40:00', r).tick(0, 600_000))} [{r.choice(['INFO', 'INFO', 'WARNING'])}] "
        f"gunicorn.access: {ip(r)} \"GET /v1/orders/{uid(r)} HTTP/1.1\" 200 {r.randint(300, 4000)} "
        f"{r.uniform(0.05, 2.9):.3f}s" for _ in range(60))
    paste = ("$ kubectl -n prod describe pod -l app.kubernetes.io/name=api\n" + "\n\n\n".join(pods)
             + "\n\n$ kubectl -n prod top pod -l app.kubernetes.io/name=api\n" + top
             + "\n\n$ kubectl -n prod logs api-7c9d8f6b4-wq2lz --previous --tail=60\n" + logs)
    question = "why does one of the api pods keep restarting? the other two are fine"
    facts = ["api-7c9d8f6b4-wq2lz", "Liveness probe failed: Get \"http://10.42.3.17:8080/healthz\": context deadline "
             "exceeded", "Liveness:   http-get http://:8080/healthz delay=5s timeout=1s period=10s #success=1 "
             "#failure=3", "Restart Count:  14"]
    return s.claude(name, question, facts, [s.user(s.text(paste), s.text(question))], bulk="user")


def docker_build() -> Workload:
    name = "ops_docker_build_pip_failure"
    r = seeded(name)
    out = ["#0 building with \"default\" instance using docker driver", "",
           "#1 [internal] load build definition from Dockerfile", "#1 transferring dockerfile: 1.91kB done",
           "#1 DONE 0.0s", "", "#2 [internal] load metadata for docker.io/nvidia/cuda:12.1.1-runtime-ubuntu22.04",
           "#2 DONE 1.2s", "", "#3 [internal] load .dockerignore", "#3 transferring context: 412B done",
           "#3 DONE 0.0s", ""]
    step = 4
    for label in ["[base 1/4] FROM docker.io/nvidia/cuda:12.1.1-runtime-ubuntu22.04@sha256:" + hexs(r, 64),
                  "[base 2/4] RUN apt-get update && apt-get install -y --no-install-recommends python3.11 "
                  "python3-pip git curl", "[base 3/4] WORKDIR /app", "[base 4/4] COPY requirements.txt ."]:
        out += [f"#{step} {label}"]
        if "apt-get" in label:
            for _ in range(150):
                pkg = f"{r.choice(['lib', 'python3-', ''])}{token(r, 6).lower()}"
                out.append(f"#{step} {r.uniform(1, 40):.3f} Get:{r.randint(1, 400)} http://archive.ubuntu.com/ubuntu "
                           f"jammy/main amd64 {pkg} amd64 {r.randint(1, 9)}.{r.randint(0, 30)}-{r.randint(1, 9)} "
                           f"[{r.randint(10, 2000)} kB]")
        out += [f"#{step} DONE {r.uniform(0.1, 40):.1f}s", ""]
        step += 1
    out.append("#12 [builder 6/9] RUN pip install --no-cache-dir -r requirements.txt")
    for pkg in [*PYPI, "numpy==1.26.4", "transformers==4.39.3", "tokenizers==0.15.2", "safetensors==0.4.2",
                "accelerate==0.28.0"]:
        out += [f"#12 {r.uniform(1, 60):.3f} Collecting {pkg} (from -r requirements.txt (line {r.randint(1, 60)}))",
                f"#12 {r.uniform(1, 60):.3f}   Downloading {pkg.split('==')[0]}-{pkg.split('==')[1]}-cp311-cp311-"
                f"manylinux_2_17_x86_64.whl.metadata ({r.randint(2, 90)} kB)"]
    out += [
        "#12 61.204 ERROR: Could not find a version that satisfies the requirement torch==2.3.1+cu121 (from versions: "
        "2.2.0, 2.2.1, 2.2.2, 2.3.0, 2.3.1, 2.4.0)",
        "#12 61.205 ERROR: No matching distribution found for torch==2.3.1+cu121",
        "#12 ERROR: process \"/bin/sh -c pip install --no-cache-dir -r requirements.txt\" did not complete "
        "successfully: exit code: 1", "------",
        " > [builder 6/9] RUN pip install --no-cache-dir -r requirements.txt:",
        "61.204 ERROR: Could not find a version that satisfies the requirement torch==2.3.1+cu121",
        "------", "Dockerfile:18", "--------------------",
        "  16 |     COPY requirements.txt .",
        "  17 |     # --extra-index-url https://download.pytorch.org/whl/cu121",
        "  18 | >>> RUN pip install --no-cache-dir -r requirements.txt", "  19 |     COPY . .",
        "--------------------",
        "ERROR: failed to solve: process \"/bin/sh -c pip install --no-cache-dir -r requirements.txt\" did not "
        "complete successfully: exit code: 1"]
    question = "why did the image build fail? it worked last week and nobody touched requirements.txt"
    body = ("docker build output:\n\n" + "\n".join(out) + "\n\n" + question)
    facts = ["No matching distribution found for torch==2.3.1+cu121",
             "  17 |     # --extra-index-url https://download.pytorch.org/whl/cu121"]
    return s.chat(name, question, facts, [s.o_sys("You are a DevOps assistant."), s.o_user(body)], bulk="user",
                  model="gpt-4o")


def npm_install() -> Workload:
    name = "ops_npm_eresolve_peer"
    r = seeded(name)
    pkgs = ["react", "react-dom", "next", "@tanstack/react-query", "zod", "date-fns", "clsx", "lodash-es",
            "react-hook-form", "@radix-ui/react-dialog", "@radix-ui/react-popover", "framer-motion", "axios",
            "typescript", "eslint", "prettier", "vitest", "@testing-library/react", "msw", "tailwindcss",
            "postcss", "autoprefixer", "react-beautiful-dnd", "recharts", "i18next", "react-i18next"]
    lines = []
    for _ in range(420):
        p = r.choice(pkgs)
        lines.append(f"npm http fetch GET 200 https://registry.npmjs.org/{p.replace('/', '%2f')} "
                     f"{r.randint(4, 900)}ms (cache {r.choice(['revalidated', 'hit', 'miss', 'updated'])})")
    lines += ["npm ERR! code ERESOLVE", "npm ERR! ERESOLVE unable to resolve dependency tree", "npm ERR!",
              "npm ERR! While resolving: northwind-dashboard@3.8.0", "npm ERR! Found: react@18.3.1",
              "npm ERR! node_modules/react", "npm ERR!   react@\"^18.3.1\" from the root project", "npm ERR!",
              "npm ERR! Could not resolve dependency:",
              "npm ERR! peer react@\"^16.8.5 || ^17.0.0\" from react-beautiful-dnd@13.1.1",
              "npm ERR! node_modules/react-beautiful-dnd",
              "npm ERR!   react-beautiful-dnd@\"^13.1.1\" from the root project", "npm ERR!",
              "npm ERR! Fix the upstream dependency conflict, or retry",
              "npm ERR! this command with --force or --legacy-peer-deps",
              "npm ERR! to accept an incorrect (and potentially broken) dependency resolution.", "npm ERR!",
              "npm ERR! For a full report see:",
              "npm ERR! /home/dev/.npm/_logs/2025-03-11T08_14_52_118Z-eresolve-report.txt", "",
              "npm ERR! A complete log of this run can be found in: "
              "/home/dev/.npm/_logs/2025-03-11T08_14_52_118Z-debug-0.log"]
    split = len(lines) // 2
    question = "npm install started failing after I bumped react to 18. What exactly is blocking it?"
    messages = [
        s.user(question),
        s.assistant(s.use("toolu_01Npm", "Bash", command="npm install --loglevel http 2>&1")),
        s.user(s.result("toolu_01Npm", ["\n".join(lines[:split]), "\n".join(lines[split:])], error=True)),
    ]
    facts = ["npm ERR! Could not resolve dependency:",
             "peer react@\"^16.8.5 || ^17.0.0\" from react-beautiful-dnd@13.1.1"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


def git_blame() -> Workload:
    name = "ops_git_log_blame_samesite"
    r = seeded(name)
    clock = Clock("2024-11-02T09:00:00", r)
    commits = []
    for _ in range(90):
        t = clock.tick(3_600_000, 90_000_000)
        who = person(r)
        commits.append((hexs(r, 40), who, t, r.choice([
            "fix flaky session test", "bump deps", "add request id to access log", "refactor cookie helpers",
            "chore: lint", "cache user lookups for 30s", "feat: remember-me checkbox", "docs: session lifecycle",
            "rotate signing key on deploy", "make csrf header configurable", "drop node 16 from CI"])))
    target = ("4e1a9c3b7d2f8a06e5c4b3a2918f7e6d5c4b3a29", "Lena Fischer", None,
              "auth: allow embedding the dashboard in partner iframes")
    commits.insert(52, (target[0], target[1], commits[51][2], target[3]))
    log = []
    for sha, who, t, msg in reversed(commits):
        log += [f"commit {sha}", f"Author: {who} <{who.split()[0].lower()}@northwind.dev>",
                f"Date:   {t.strftime('%a %b %d %H:%M:%S %Y')} +0100", "", f"    {msg}", "",
                *[f" {p} | {r.randint(1, 60)} {'+' * r.randint(1, 12)}{'-' * r.randint(0, 6)}"
                  for p in r.sample(["src/server/session.ts", "src/server/csrf.ts", "src/server/app.ts",
                                     "test/session.test.ts", "package.json", "docs/auth.md"], 2)], ""]
    src = ["import session from \"express-session\";", "import RedisStore from \"connect-redis\";",
           "import { redis } from \"./redis\";", "", "export function sessionMiddleware(config: Config) {",
           "  return session({", "    store: new RedisStore({ client: redis, prefix: \"sess:\" }),",
           "    name: \"nw.sid\",", "    secret: config.sessionSecrets,", "    resave: false,",
           "    saveUninitialized: false,", "    rolling: true,", "    cookie: {", "      httpOnly: true,",
           "      secure: true,", "      sameSite: \"none\",", "      maxAge: 1000 * 60 * 60 * 12,",
           "      domain: config.cookieDomain,", "    },", "  });", "}"]
    blame = []
    for i, ln in enumerate(src, 1):
        if "sameSite" in ln:
            sha, who, t = target[0][:8], "Lena Fischer", commits[51][2]
        else:
            sha, who, t, _ = r.choice(commits)
            sha = sha[:8]
        blame.append(f"{sha} ({who:<16} {t.strftime('%Y-%m-%d %H:%M:%S')} +0100 {i:3d}) {ln}")
    question = "Who changed the session cookie to SameSite=None, and in which commit? I need to ask them why."
    facts = ["4e1a9c3b", "Lena Fischer", "auth: allow embedding the dashboard in partner iframes"]
    return s.chat(name, question, facts,
                  [s.o_sys(s.AGENT_SYSTEM), s.o_user(question),
                   s.o_calls(("call_gl01", "Bash", {"command": "git log --stat -n 120 -- src/server"}),
                             ("call_gl02", "Bash", {"command": "git blame src/server/session.ts"})),
                   s.o_tool("call_gl01", "\n".join(log)), s.o_tool("call_gl02", "\n".join(blame))],
                  bulk="tool_result", tools=s.CLI_TOOLS)


def long_agent_session() -> Workload:
    name = "ops_long_session_failed_migration"
    r = seeded(name)
    migs = ["0041_add_invoice_due_index", "0042_split_address_lines", "0043_customer_tax_region",
            "0044_drop_legacy_coupons", "0045_outbox_partition_by_day", "0046_add_refund_reason_enum",
            "0047_backfill_invoice_tax_ids", "0048_invoice_tax_region_not_null", "0049_payments_idempotency_keys",
            "0050_orders_archived_at"]
    messages = [s.user("Run the pending migrations on staging one by one, then run the smoke suite against "
                       "staging and tell me if we're good to promote.")]
    plan = "\n".join(f"[ ] {m}" for m in migs)
    messages += [s.assistant("Checking the migration plan first.",
                             s.use("toolu_00pl", "Bash",
                                   command="./manage.py showmigrations billing --plan -s staging")),
                 s.user(s.result("toolu_00pl", "[X] 0001_initial\n" + "\n".join(
                     f"[X] {k:04d}_{token(r, 10).lower()}" for k in range(2, 41)) + "\n" + plan))]
    clock = Clock("2025-03-11T13:00:00", r)
    for k, m in enumerate(migs):
        tid = f"toolu_{k + 1:02d}mg"
        lines = [f"Operations to perform:\n  Target specific migration: {m}, from billing",
                 "Running migrations:", f"  Applying billing.{m}..."]
        if "backfill" in m or "split" in m or "partition" in m:
            total = r.randint(1_500_000, 3_000_000)
            lines += [f"{iso(clock.tick(800, 4000))} backfill batch {b} rows {b * 10000}/{total} ok "
                      f"({r.uniform(0.4, 1.9):.2f}s)" for b in range(1, r.randint(120, 260))]
        if m == "0047_backfill_invoice_tax_ids":
            lines += ["Traceback (most recent call last):",
                      '  File "/app/billing/migrations/0047_backfill_invoice_tax_ids.py", line 38, in forwards',
                      "    Invoice.objects.filter(pk__in=batch).update(tax_region=F(\"customer__tax_region\"))",
                      '  File "/app/.venv/lib/python3.12/site-packages/django/db/backends/utils.py", line 105, '
                      "in _execute", "    return self.cursor.execute(sql, params)",
                      "psycopg.errors.NotNullViolation: null value in column \"tax_region\" of relation \"invoices\" "
                      "violates not-null constraint",
                      "DETAIL:  Failing row contains (88412, INV-0088412, 2024-07-01, ..., null).",
                      "django.db.utils.IntegrityError: null value in column \"tax_region\" of relation \"invoices\" "
                      "violates not-null constraint", "exit status 1"]
            say = ("One of the backfills errored out partway. I'll carry on with the remaining schema migrations "
                   "and come back to it.")
        else:
            lines.append(" OK")
            say = r.choice(["Applied cleanly. Next one.", "Done, moving on.", "That one's in. Continuing.",
                            "OK. Next migration."])
        messages += [s.assistant(say, s.use(tid, "Bash", command=f"./manage.py migrate billing {m} -s staging")),
                     s.user(s.result(tid, "\n".join(lines)))]
    smoke = []
    for _ in range(880):
        smoke.append(f"{iso(clock.tick(50, 900))} smoke {r.choice(['GET', 'POST', 'PATCH'])} "
                     f"https://staging.northwind.dev/api/{r.choice(c.RESOURCES)}/{uid(r)} -> "
                     f"{r.choice([200, 200, 200, 201, 204])} in {r.randint(8, 600)}ms")
    smoke.append("smoke: 880 checks, 0 failures, 0 flaky (retried) in 00:04:51")
    messages += [s.assistant("Migrations done. Running the smoke suite.",
                             s.use("toolu_20sm", "Bash", command="make smoke ENV=staging")),
                 s.user(s.result("toolu_20sm", "\n".join(smoke))),
                 s.assistant("The smoke suite passed: 880 checks, no failures. Staging looks healthy; the schema "
                             "migrations are applied and the API responds normally across all resources.")]
    question = "wait, did any of the migrations fail earlier? which one and what was the error?"
    messages.append(s.user(question))
    facts = ["0047_backfill_invoice_tax_ids",
             "null value in column \"tax_region\" of relation \"invoices\" violates not-null constraint"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


def rollout_history() -> Workload:
    name = "ops_history_canary_rollback"
    r = seeded(name)
    clock = Clock("2025-03-10T15:00:00", r)

    def ctrl(rollout: str, n: int) -> list[str]:
        return [f'time="{iso(clock.tick(200, 5000), False)}" level=info msg="{m}" namespace=prod rollout={rollout}'
                for m in (r.choice(["Reconciliation completed", "Started syncing rollout", "Set step index",
                                    "Patched: {\"status\":{\"currentStepIndex\":" + str(r.randint(0, 6)) + "}}",
                                    "No StableRS exists to reconcile or matches newRS", "Found 1 TrafficRouting "
                                    "Reconcilers", "Reconciling TrafficRouting with type 'Istio'",
                                    "Event(v1.ObjectReference{Kind:\"Rollout\"}): type: 'Normal' reason: "
                                    "'RolloutStepCompleted'"]) for _ in range(n))]

    log = ctrl("search-gateway", 180) + ctrl("checkout-api", 60) + [
        f'time="{iso(clock.tick(), False)}" level=info msg="Starting analysis run checkout-api-5b8d9c-2" '
        "namespace=prod rollout=checkout-api",
        *ctrl("checkout-api", 40),
        f'time="{iso(clock.tick(), False)}" level=warning msg="Metric \\"http-5xx-ratio\\" assessed Failed due to '
        'failed (3) > failureLimit (2)" analysisrun=checkout-api-5b8d9c-2 namespace=prod',
        f'time="{iso(clock.tick(), False)}" level=info msg="measurement: value=[0.047] phase=Failed" '
        "analysisrun=checkout-api-5b8d9c-2 metric=http-5xx-ratio namespace=prod",
        f'time="{iso(clock.tick(), False)}" level=info msg="Rollout aborted: RolloutAborted: Rollout aborted update to '
        'revision 14: Metric \\"http-5xx-ratio\\" assessed Failed due to failed (3) > failureLimit (2)" '
        "namespace=prod rollout=checkout-api",
        f'time="{iso(clock.tick(), False)}" level=info msg="Scaling down canary, shifting traffic to stable '
        'revision 13" namespace=prod rollout=checkout-api',
        *ctrl("search-gateway", 160)]
    analysis = """apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: http-5xx-ratio
spec:
  metrics:
    - name: http-5xx-ratio
      interval: 1m
      failureLimit: 2
      successCondition: result[0] < 0.02
      provider:
        prometheus:
          address: http://prometheus.observability:9090
          query: |
            sum(rate(istio_requests_total{destination_workload="{{args.workload}}",response_code=~"5.."}[2m]))
            / sum(rate(istio_requests_total{destination_workload="{{args.workload}}"}[2m]))
"""
    question = "ok, bottom line: why did the checkout deploy roll back yesterday?"
    messages = [
        s.o_sys("You are a deployment assistant for the platform team."),
        s.o_user("Pasting the argo-rollouts controller logs from yesterday afternoon. search-gateway took forever "
                 "to roll out, any idea why?\n\n" + "\n".join(log)),
        s.o_asst("search-gateway's rollout was slow because it has long pause steps between canary weights and the "
                 "controller kept re-reconciling TrafficRouting; there is no error for it in the log. "
                 + paragraph(r, 6, 9)),
        s.o_user("Here's the analysis template we use for every service:\n\n" + analysis
                 + "\nIs 2% too strict for search?"),
        s.o_asst("For search-gateway 2% is reasonable: its baseline 5xx ratio is well under 0.5%. "
                 + paragraph(r, 5, 8)),
        s.o_user("makes sense. also what does failureLimit actually mean here?"),
        s.o_asst("`failureLimit: 2` means the analysis tolerates two failed measurements; the third failed "
                 "measurement marks the whole AnalysisRun as Failed, and the rollout aborts and shifts traffic back "
                 "to the stable ReplicaSet. With `interval: 1m` that is roughly three bad minutes. "
                 + paragraph(r, 3, 5)),
        s.o_user(question),
    ]
    facts = ["Rollout aborted update to revision 14", "measurement: value=[0.047] phase=Failed",
             "failed (3) > failureLimit (2)"]
    return s.chat(name, question, facts, messages, bulk="history", model="gpt-4o", max_tokens=None)


def crashloop_pods() -> Workload:
    name = "ops_kubectl_get_crashloop"
    r = seeded(name)
    rows = []
    bad = {"payments/ledger-writer-6b7f9d8c4-k2v9p": 37, "search/indexer-worker-5d6c7b8f9-qq4mx": 12,
           "observability/vector-agent-tz8wn": 211}
    nss = ["payments", "search", "storefront", "observability", "kube-system", "identity"]
    for _ in range(40):
        ns = r.choice(nss)
        rows.append([ns, f"{r.choice(SERVICES)}-{hexs(r, 9)}-{token(r, 5).lower()}", "1/1", "Running",
                     str(r.choice([0, 0, 0, 1, 2])), f"{r.randint(1, 30)}d"])
    for full, restarts in bad.items():
        ns, pod = full.split("/")
        rows.insert(r.randrange(len(rows)), [ns, pod, "0/1", "CrashLoopBackOff", f"{restarts} ({r.randint(1, 5)}m ago)",
                                             f"{r.randint(2, 9)}d"])
    rows.insert(10, ["storefront", "checkout-api-7d9f8b6c5-bm4rt", "0/1", "Running", "0", "12s"])
    rows.insert(20, ["identity", "auth-broker-54c8d7f6b9-hl7wd", "0/1", "Init:0/1", "0", "40s"])
    rows.sort(key=lambda x: x[0])
    widths = [max(len(x[i]) for x in [*rows, ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]])
              for i in range(6)]
    out = ["   ".join(h.ljust(w) for h, w in zip(["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
                                                  widths, strict=True)).rstrip()]
    out += ["   ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    question = "which pods are crashlooping right now?"
    facts = [f"{full.split('/')[1]}" for full in bad]
    paste = "$ kubectl get pods -A\n" + "\n".join(out)
    return s.claude(name, question, facts, [s.user(s.text(question), s.text(paste))],
                    bulk="user", system=None, max_tokens=1024)


WORKLOADS = [ci_pytest, terraform_plan, describe_pod, docker_build, npm_install, git_blame, long_agent_session,
             rollout_history, crashloop_pods]
