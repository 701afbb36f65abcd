"""Agent operations: CI logs, builds, test runners, terraform/kubectl/helm/ansible output, configs, deploys."""

from __future__ import annotations

from benchmarks.blind._gen import Clock, hexid, ip, place, rng
from benchmarks.blind._req import AGENT_TOOLS, CLAUDE_CODE_SYSTEM, Anth, Oai
from benchmarks.workloads._build import Workload


def terraform_plan() -> Workload:
    name = "ops_terraform_plan_forces_replacement"
    r = rng(name)
    blocks = []
    kinds = [
        ("aws_security_group_rule", "sgr"),
        ("aws_iam_role_policy", "policy"),
        ("aws_s3_bucket_lifecycle_configuration", "lifecycle"),
        ("aws_cloudwatch_metric_alarm", "alarm"),
        ("aws_route53_record", "record"),
    ]
    for i in range(70):
        kind, short = r.choice(kinds)
        res = f"{kind}.{short}_{r.choice(['ticketing', 'museum_web', 'audio_guide', 'shop'])}_{i}"
        attrs = "\n".join(
            f'      ~ {k} = {{\n          ~ "{t}" = "{old}" -> "{new}"\n            # (3 unchanged elements hidden)\n'
            "        }"
            for k, (t, old, new) in zip(
                r.sample(["tags", "tags_all"], r.randint(1, 2)),
                [("CostCenter", "museum-web", "museum-digital"), ("ManagedBy", "terraform-0.14", "terraform")],
                strict=False,
            )
        )
        blocks.append(
            f'  # {res} will be updated in-place\n  ~ resource "{kind}" "{res.split(".")[1]}" {{\n'
            f'        id = "{hexid(r, 17)}"\n{attrs}\n        # (8 unchanged attributes hidden)\n    }}\n'
        )
    blocks.insert(
        41,
        '  # aws_db_instance.collections_primary must be replaced\n-/+ resource "aws_db_instance" '
        '"collections_primary" {\n      ~ address = "collections-primary.c8x1.eu-north-1.rds.amazonaws.com"'
        ' -> (known after apply)\n      ~ arn = "arn:aws:rds:eu-north-1:381492033117:db:collections-primary" '
        "-> (known after apply)\n      ~ storage_encrypted = false -> true # forces replacement\n"
        '      ~ kms_key_id = "" -> "arn:aws:kms:eu-north-1:381492033117:key/4f0c2a9e" # forces replacement'
        "\n        # (31 unchanged attributes hidden)\n    }\n",
    )
    out = (
        "Terraform used the selected providers to generate the following execution plan. Resource actions are "
        "indicated with the following symbols:\n  ~ update in-place\n-/+ destroy and then create replacement\n\n"
        "Terraform will perform the following actions:\n\n"
        + "\n".join(blocks)
        + "\nPlan: 1 to add, 70 to change, 1 to destroy.\n"
    )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("I turned on encryption defaults in the museum infra module, can you run a plan?")
        .calls("Running terraform plan.", [("Bash", {"command": "cd infra/prod && terraform plan -no-color"}, out)])
        .done(
            "looks like mostly tag changes, safe to apply during opening hours?",
            [
                "aws_db_instance.collections_primary must be replaced",
                "storage_encrypted = false -> true",
                "Plan: 1 to add, 70 to change, 1 to destroy.",
            ],
            "tool_result",
        )
    )


def github_actions_log() -> Workload:
    name = "ops_github_actions_pip_conflict"
    r = rng(name)
    c = Clock(r, "2026-10-14T10:20:00", (0.01, 0.6))
    lines = [f"{c.iso()} ##[group]Run actions/checkout@v4", f"{c.iso()} Syncing repository: birdcount/survey-api"]
    pkgs = [
        "numpy",
        "pandas",
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "pydantic",
        "httpx",
        "shapely",
        "pyproj",
        "geopandas",
        "rasterio",
        "pytest",
        "pytest-cov",
        "ruff",
        "boto3",
        "botocore",
        "s3transfer",
    ]
    for _ in range(12):
        for p in pkgs:
            lines.append(
                f"{c.iso()} Collecting {p}>={r.randint(1, 3)}.{r.randint(0, 20)} (from -r requirements.txt "
                f"(line {r.randint(1, 40)}))"
            )
            lines.append(
                f"{c.iso()}   Downloading {p}-{r.randint(1, 3)}.{r.randint(0, 20)}.{r.randint(0, 9)}-cp312-"
                f"cp312-manylinux_2_17_x86_64.whl ({r.uniform(0.1, 40):.1f} MB)"
            )
    lines += [
        f"{c.iso()} INFO: pip is looking at multiple versions of geopandas to determine which version is "
        "compatible with other requirements. This could take a while.",
        f"{c.iso()} ERROR: Cannot install -r requirements.txt (line 14) and shapely==1.8.5 because these "
        "package versions have conflicting dependencies.",
        f"{c.iso()} ",
        f"{c.iso()} The conflict is caused by:",
        f"{c.iso()}     The user requested shapely==1.8.5",
        f"{c.iso()}     geopandas 1.0.1 depends on shapely>=2.0.0",
        f"{c.iso()} ",
        f"{c.iso()} ##[error]Process completed with exit code 1.",
    ]
    lines += [f"{c.iso()} Post job cleanup." for _ in range(3)]
    q = "CI broke on main overnight and nobody touched requirements. why?"
    return Oai(name).done(
        q,
        [
            "shapely==1.8.5",
            "geopandas 1.0.1 depends on shapely>=2.0.0",
            "Cannot install -r requirements.txt (line 14) and shapely==1.8.5",
        ],
        "user",
        parts=["\n".join(lines)],
    )


def kubectl_describe() -> Workload:
    name = "ops_kubectl_describe_imagepull"
    r = rng(name)
    pods = []
    for i in range(6):
        ok = i != 4
        pod = f"audio-guide-{hexid(r, 10)}-{hexid(r, 5)}"
        image = "ghcr.io/stadsmuseum/audio-guide:2.14.0" if ok else "ghcr.io/stadsmuseum/audio-guide:v2.15.0"
        events = (
            (
                "  Normal  Pulled   2m   kubelet  Container image already present on machine\n  Normal  Started  2m"
                "   kubelet  Started container audio-guide"
            )
            if ok
            else (
                '  Normal   Pulling  3m (x4 over 5m)  kubelet  Pulling image "ghcr.io/stadsmuseum/audio-guide:v2.15.0"\n'  # noqa: E501
                '  Warning  Failed   3m (x4 over 5m)  kubelet  Failed to pull image "ghcr.io/stadsmuseum/audio-guide:v2.15.0"'  # noqa: E501
                ": rpc error: code = NotFound desc = failed to pull and unpack image: manifest unknown\n"
                "  Warning  Failed   3m (x4 over 5m)  kubelet  Error: ErrImagePull\n"
                "  Normal   BackOff  2m (x7 over 5m)  kubelet  Back-off pulling image\n"
            )
        )
        pods.append(
            f"Name:             {pod}\nNamespace:        museum\nNode:             aks-pool1-{r.randint(10**7, 10**8)}"
            f"-vmss00000{i}\nStatus:           {'Running' if ok else 'Pending'}\nIP:               {ip(r)}\n"
            f"Controlled By:  ReplicaSet/audio-guide-{hexid(r, 10)}\nContainers:\n  audio-guide:\n    Image:"
            f"          {image}\n    Port:           8080/TCP\n    State:          "
            f"{'Running' if ok else 'Waiting'}\n      Reason:       {'-' if ok else 'ImagePullBackOff'}\n"
            "    Limits:\n      cpu:     500m\n      memory:  512Mi\n    Requests:\n      cpu:     100m\n"
            "      memory:  256Mi\n    Environment:\n      GUIDE_LANGS:  no,en,de,uk\n      CDN_BASE:     "
            "https://cdn.stadsmuseum.example/audio\nConditions:\n  Type              Status\n  Initialized     "
            f"  True\n  Ready             {ok}\nEvents:\n  Type    Reason   Age  From     Message\n  ----    "
            f"------   ---  ----     -------\n{events}\n"
        )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("the canary for the audio guide rollout is stuck")
        .calls(None, [("Bash", {"command": "kubectl -n museum describe pods -l app=audio-guide"}, "\n".join(pods))])
        .done("what's wrong?", ["audio-guide:v2.15.0", "manifest unknown", "ImagePullBackOff"], "tool_result")
    )


def helm_immutable() -> Workload:
    name = "ops_helm_upgrade_immutable_selector"
    r = rng(name)
    rendered = []
    for kind in ["ConfigMap", "Service", "Deployment", "HorizontalPodAutoscaler", "Ingress", "ServiceMonitor"] * 3:
        rendered.append(
            f"---\n# Source: tidewatch/templates/{kind.lower()}.yaml\napiVersion: v1\nkind: {kind}\n"
            f"metadata:\n  name: tidewatch-{hexid(r, 4)}\n  labels:\n    app.kubernetes.io/name: tidewatch\n"
            f"    app.kubernetes.io/instance: tidewatch\n    helm.sh/chart: tidewatch-0.{r.randint(10, 19)}.0\n"
            f"spec:\n  replicas: {r.randint(2, 4)}\n  template:\n    spec:\n      containers:\n        - "
            f"name: app\n          image: registry.example/tidewatch:{r.randint(1, 3)}.{r.randint(0, 9)}\n"
        )
    out = (
        "\n".join(rendered) + '\nError: UPGRADE FAILED: cannot patch "tidewatch" with kind Deployment: '
        'Deployment.apps "tidewatch" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:'
        'map[string]string{"app.kubernetes.io/component":"api", "app.kubernetes.io/instance":"tidewatch", '
        '"app.kubernetes.io/name":"tidewatch"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is '
        "immutable\n"
    )
    return (
        Oai(name, tools=AGENT_TOOLS[:1], model="gpt-4.1")
        .user("bumping the tidewatch chart to 0.20 fails in staging")
        .calls([("Bash", {"command": "helm upgrade --install tidewatch ./chart -n tides --debug"}, out)])
        .done(
            "how do I get past this without downtime?",
            ["spec.selector", "field is immutable", "app.kubernetes.io/component"],
            "tool_result",
        )
    )


def gradle_junit() -> Workload:
    name = "ops_gradle_junit_xml_flaky"
    r = rng(name)
    c = Clock(r, "2026-10-14T12:00:00", (0.001, 0.2))
    lines = [
        "> Task :compileJava",
        "> Task :processResources",
        "> Task :classes",
        "> Task :compileTestJava",
        "> Task :test",
    ]
    cases = []
    classes = [
        "RosterPlannerTest",
        "ShiftSwapServiceTest",
        "OvertimeCalculatorTest",
        "WardCapacityTest",
        "HolidayCalendarTest",
        "NurseQualificationTest",
        "OnCallRotationTest",
        "PayPeriodTest",
    ]
    for cls in classes:
        for _ in range(r.randint(40, 70)):
            t = (
                f"{r.choice(['should', 'rejects', 'computes', 'handles'])}{r.choice(['Night', 'Weekend', 'Split', 'Double', 'Late'])}"  # noqa: E501
                f"{r.choice(['Shift', 'Swap', 'Holiday', 'Overlap', 'Minimum'])}{r.randint(1, 99)}"
            )
            cases.append(
                f'  <testcase name="{t}()" classname="no.helsevest.roster.{cls}" time="{r.uniform(0.001, 0.4):.3f}"/>'
            )
    failing = (
        '  <testcase name="swapAcrossDstBoundaryKeepsRestPeriod()" classname="no.helsevest.roster.ShiftSwapServiceTest"'
        ' time="0.212">\n    <failure message="expected: &lt;PT11H&gt; but was: &lt;PT10H&gt;" '
        'type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: &lt;PT11H&gt; '
        "but was: &lt;PT10H&gt;\n\tat no.helsevest.roster.ShiftSwapServiceTest.swapAcrossDstBoundaryKeepsRestPeriod"
        "(ShiftSwapServiceTest.java:214)\n</failure>\n  </testcase>"
    )
    cases = place(cases, 0.37, [failing])
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="roster" tests="'
        f'{len(cases)}" failures="1" errors="0" skipped="0" timestamp="{c.iso(ms=False)}">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n</testsuites>"
    )
    build = "\n".join(
        lines
        + [
            f"{c.iso()} [Test worker] INFO  n.h.r.{r.choice(classes)} - {r.choice(['loaded', 'computed', 'stored'])} "
            f"roster for ward {r.randint(1, 40)} in {r.randint(1, 90)}ms"
            for _ in range(500)
        ]
        + [
            "",
            "ShiftSwapServiceTest > swapAcrossDstBoundaryKeepsRestPeriod() FAILED",
            "    org.opentest4j.AssertionFailedError at ShiftSwapServiceTest.java:214",
            "",
            f"{len(cases)} tests completed, 1 failed",
            "",
            "> Task :test FAILED",
            "",
            "FAILURE: Build failed with an exception.",
            "BUILD FAILED in 2m 41s",
        ]
    )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("build is red on the release branch, can you see which test and whether it's flaky?")
        .calls(
            None,
            [
                ("Bash", {"command": "./gradlew test --console=plain 2>&1 | tail -n 520"}, build),
                ("Read", {"file_path": "/ci/build/test-results/test/TEST-roster.xml"}, xml),
            ],
        )
        .done(
            "is this a real bug or flaky?",
            [
                "swapAcrossDstBoundaryKeepsRestPeriod",
                "expected: &lt;PT11H&gt; but was: &lt;PT10H&gt;",
                "ShiftSwapServiceTest.java:214",
            ],
            "tool_result",
        )
    )


def ansible_run() -> Workload:
    name = "ops_ansible_playbook_one_host"
    r = rng(name)
    hosts = [f"pos-{s}-{n:02d}.bakery.lan" for s in ("lund", "malmo", "ystad", "trelleborg") for n in range(1, 7)]
    tasks = [
        "Gathering Facts",
        "common : install base packages",
        "common : configure chrony",
        "pos : deploy kassa-agent",
        "pos : template /etc/kassa/agent.toml",
        "pos : restart kassa-agent",
        "printer : install cups filter",
        "monitoring : node_exporter",
    ]
    out = []
    for t in tasks:
        out.append(f"\nTASK [{t}] " + "*" * (80 - len(t)))
        for h in hosts:
            if h == "pos-ystad-03.bakery.lan" and t == "pos : template /etc/kassa/agent.toml":
                out.append(
                    f'fatal: [{h}]: FAILED! => {{"changed": false, "checksum": "{hexid(r, 40)}", "msg": '
                    '"Destination /etc/kassa not writable"}'
                )
            elif h == "pos-ystad-03.bakery.lan" and tasks.index(t) > 4:
                continue
            else:
                out.append(f"{r.choice(['ok', 'ok', 'changed'])}: [{h}]")
    out.append("\nPLAY RECAP " + "*" * 70)
    for h in hosts:
        bad = h == "pos-ystad-03.bakery.lan"
        out.append(
            f"{h:<28}: ok={4 if bad else 8}    changed={r.randint(0, 4)}    unreachable=0    "
            f"failed={1 if bad else 0}    skipped=0    rescued=0    ignored=0"
        )
    q = "rolled out the new kassa agent to all shops. did everything go ok?"
    return Oai(name).done(
        q,
        ["pos-ystad-03.bakery.lan", "Destination /etc/kassa not writable"],
        "user",
        parts=["$ ansible-playbook -i inventory/shops.ini site.yml --limit pos\n" + "\n".join(out)],
    )


def yaml_hpa() -> Workload:
    name = "ops_yaml_manifests_hpa_unknown"
    r = rng(name)
    docs = []
    for svc in ["catalogue-api", "search-indexer", "covers-proxy", "loans-api", "notices-worker"]:
        req = (
            "" if svc == "search-indexer" else "          requests:\n            cpu: 200m\n            memory: 256Mi\n"
        )
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {svc}\n  namespace: library\nspec:\n"
            f"  replicas: 2\n  selector:\n    matchLabels:\n      app: {svc}\n  template:\n    metadata:\n"
            f"      labels:\n        app: {svc}\n    spec:\n      containers:\n        - name: {svc}\n"
            f"          image: registry.northshire.example/{svc}:{r.randint(1, 4)}.{r.randint(0, 30)}.0\n"
            f"          ports:\n            - containerPort: 8080\n          resources:\n{req}"
            "            limits:\n              memory: 512Mi\n          readinessProbe:\n            httpGet:\n"
            "              path: /ready\n              port: 8080\n"
        )
        docs.append(
            f"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {svc}\n"
            f"spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {svc}\n"
            "  minReplicas: 2\n  maxReplicas: 10\n  metrics:\n    - type: Resource\n      resource:\n"
            "        name: cpu\n        target:\n          type: Utilization\n          averageUtilization: 70\n"
        )
    hpa = (
        "NAME             REFERENCE                   TARGETS         MINPODS   MAXPODS   REPLICAS   AGE\n"
        "catalogue-api    Deployment/catalogue-api    cpu: 41%/70%    2         10        2          12d\n"
        "search-indexer   Deployment/search-indexer   cpu: <unknown>/70%   2   10        2          12d\n"
        "covers-proxy     Deployment/covers-proxy     cpu: 12%/70%    2         10        2          12d\n"
        "loans-api        Deployment/loans-api        cpu: 66%/70%    2         10        3          12d\n"
        "notices-worker   Deployment/notices-worker   cpu: 5%/70%     2         10        2          12d\n"
    )
    q = "reindexing takes forever and the indexer never scales past 2 pods even at 100% cpu. why?"
    return Anth(name, system="You are a Kubernetes expert.").done(
        q,
        ["search-indexer   Deployment/search-indexer   cpu: <unknown>/70%", "name: search-indexer"],
        "user",
        pre=[
            {"type": "text", "text": "k8s/library.yaml:\n```yaml\n" + "---\n".join(docs) + "```"},
            {"type": "text", "text": "$ kubectl get hpa -n library\n" + hpa},
        ],
    )


def docker_build() -> Workload:
    name = "ops_docker_build_apk_fail"
    r = rng(name)
    steps = [
        "[internal] load build definition from Dockerfile",
        "[internal] load metadata for docker.io/library/python:3.13-alpine",
        "[internal] load .dockerignore",
        "[builder 1/7] FROM docker.io/library/python:3.13-alpine@sha256:" + hexid(r, 64),
        "[internal] load build context",
        "[builder 2/7] WORKDIR /app",
    ]
    out = [f"#{i + 1} {s}\n#{i + 1} DONE {r.uniform(0, 2):.1f}s" for i, s in enumerate(steps)]
    out.append("#8 [builder 3/7] RUN apk add --no-cache gdal-dev=3.8.5-r0 proj-dev geos-dev build-base")
    out += [
        f"#8 {r.uniform(0.1, 3):.3f} fetch https://dl-cdn.alpinelinux.org/alpine/v3.21/{x}/x86_64/APKINDEX.tar.gz"
        for x in ("main", "community")
    ]
    out += [
        "#8 1.912 ERROR: unable to select packages:",
        "#8 1.913   gdal-dev-3.10.0-r1:",
        "#8 1.913     breaks: world[gdal-dev=3.8.5-r0]",
        '#8 ERROR: process "/bin/sh -c apk add --no-cache '
        'gdal-dev=3.8.5-r0 proj-dev geos-dev build-base" did not complete successfully: exit code: 1',
    ]
    dockerfile = (
        "FROM python:3.13-alpine AS builder\nWORKDIR /app\nRUN apk add --no-cache gdal-dev=3.8.5-r0 proj-dev "
        "geos-dev build-base\nCOPY requirements.txt .\nRUN pip wheel -r requirements.txt -w /wheels\n\n"
        "FROM python:3.13-alpine\nCOPY --from=builder /wheels /wheels\nRUN pip install /wheels/*\n"
    )
    return (
        Oai(name, tools=AGENT_TOOLS[:2])
        .user("image build for the trail map tiler fails since friday")
        .calls(
            [
                ("Bash", {"command": "docker buildx build --progress=plain -t tiler:dev ."}, "\n".join(out)),
                ("Read", {"file_path": "Dockerfile"}, dockerfile),
            ]
        )
        .done("what changed upstream?", ["gdal-dev=3.8.5-r0", "alpine/v3.21", "gdal-dev-3.10.0-r1"], "tool_result")
    )


def go_test_verbose() -> Workload:
    name = "ops_go_test_verbose_one_fail"
    r = rng(name)
    lines = []
    pkgs = [
        "github.com/windpark/scada/turbine",
        "github.com/windpark/scada/grid",
        "github.com/windpark/scada/alarm",
        "github.com/windpark/scada/telemetry",
        "github.com/windpark/scada/curtail",
    ]
    for p in pkgs:
        for _ in range(r.randint(50, 90)):
            t = f"Test{r.choice(['Pitch', 'Yaw', 'Rotor', 'Frequency', 'Alarm', 'Setpoint'])}{r.choice(['Limit', 'Ramp', 'Decode', 'Encode', 'Window'])}{r.randint(1, 40)}"  # noqa: E501
            lines += [f"=== RUN   {t}", f"--- PASS: {t} ({r.uniform(0, 0.05):.2f}s)"]
            if r.random() < 0.2:
                lines[-1:-1] = [f"=== RUN   {t}/{sub}" for sub in ("nominal", "edge")] + [
                    f"    --- PASS: {t}/{sub} (0.00s)" for sub in ("nominal", "edge")
                ]
        if p.endswith("curtail"):
            lines += [
                "=== RUN   TestCurtailRampRespectsGridCode",
                "    curtail_test.go:88: setpoint ramp 14.2 MW/min "
                "exceeds grid code limit 10.0 MW/min (turbine T17, step 3)",
                "--- FAIL: TestCurtailRampRespectsGridCode (0.01s)",
                "FAIL",
                f"FAIL\t{p}\t0.412s",
            ]
        else:
            lines += ["PASS", f"ok  \t{p}\t{r.uniform(0.1, 2):.3f}s"]
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .calls("Running the full test suite.", [("Bash", {"command": "go test -v ./..."}, "\n".join(lines))])
        .done(
            "anything failing?",
            ["TestCurtailRampRespectsGridCode", "curtail_test.go:88", "exceeds grid code limit 10.0 MW/min"],
            "tool_result",
        )
    )


def deploy_history() -> Workload:
    name = "ops_deploy_chat_history_rollback"
    r = rng(name)
    o = Oai(name, system="You are a deployment assistant for the Harbour Schools IT team.", model="gpt-4o")
    topics = ["moodle", "timetable sync", "parent portal", "print server", "wifi captive portal", "library kiosk"]
    for i in range(34):
        t = r.choice(topics)
        o.user(f"{['next', 'ok', 'also', 'now'][i % 4]}: {t} - can you draft the deploy steps for tonight's window?")
        steps = "\n".join(
            f"{k + 1}. {r.choice(['Drain', 'Snapshot', 'Upgrade', 'Restart', 'Verify', 'Announce'])} "
            f"{t} on {r.choice(['app01', 'app02', 'db01', 'web03'])}: check {r.choice(['health page', 'login', 'cron log', 'queue depth'])}"  # noqa: E501
            for k in range(r.randint(6, 12))
        )
        o.assistant(f"Here is a plan for {t}:\n\n{steps}\n\nRollback: restore the snapshot taken in step 2.")
        if i == 5:
            o.user(
                "for the parent portal the snapshot is called pp-pre-2026-10-14 and lives on backup-nas-2, "
                "remember that"
            )
            o.assistant("Noted: parent portal snapshot pp-pre-2026-10-14 on backup-nas-2.")
    return o.done(
        "parent portal is broken after the upgrade. give me the exact rollback steps",
        ["pp-pre-2026-10-14", "backup-nas-2"],
        "history",
    )


ALL = [
    terraform_plan,
    github_actions_log,
    kubectl_describe,
    helm_immutable,
    gradle_junit,
    ansible_run,
    yaml_hpa,
    docker_build,
    go_test_verbose,
    deploy_history,
]


def go_panic_crashloop() -> Workload:
    name = "ops_go_panic_crashloop_previous_logs"
    r = rng(name)
    c = Clock(r, "2026-10-14T03:00:00", (0.01, 2))
    lines = []
    for _ in range(240):
        lines.append(
            f'{{"time":"{c.iso()}","level":"INFO","msg":"reading ingested","turbine":"T{r.randint(1, 40):02d}",'
            f'"power_kw":{r.randint(0, 4200)},"wind_ms":{r.uniform(2, 24):.1f},"lag_ms":{r.randint(1, 90)}}}'
        )
    lines.append(
        f'{{"time":"{c.iso()}","level":"WARN","msg":"unknown register map","turbine":"T41","model":"V150-4.5"}}'
    )
    lines += [
        "panic: assignment to entry in nil map",
        "",
        "goroutine 112 [running]:",
        "github.com/windpark/scada/telemetry.(*Decoder).decode(0xc0001b6000, {0xc000412a80, 0x40, 0x40})",
        "\t/src/telemetry/decoder.go:131 +0x2f4",
        "github.com/windpark/scada/telemetry.(*Collector).handle(0xc0000a8140, 0xc0003c2000)",
        "\t/src/telemetry/collector.go:77 +0x11c",
        "created by github.com/windpark/scada/telemetry.(*Collector).Run in goroutine 1",
        "\t/src/telemetry/collector.go:52 +0x1a5",
    ]
    describe = (
        "Name:         telemetry-collector-6d8f9c7b5-qk2lw\nNamespace:    scada\nStatus:       Running\n"
        "Containers:\n  collector:\n    Image:         registry.windpark.example/telemetry:3.4.1\n"
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n"
        "      Reason:       Error\n      Exit Code:    2\n    Restart Count:  37\n"
    )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("telemetry collector is crashlooping since the new turbines were commissioned last night")
        .calls(
            "Checking the pod and its previous logs.",
            [
                ("Bash", {"command": "kubectl -n scada describe pod telemetry-collector-6d8f9c7b5-qk2lw"}, describe),
                (
                    "Bash",
                    {"command": "kubectl -n scada logs telemetry-collector-6d8f9c7b5-qk2lw --previous"},
                    "\n".join(lines),
                ),
            ],
        )
        .done(
            "why, and what's the quickest safe fix?",
            ["panic: assignment to entry in nil map", "decoder.go:131", '"turbine":"T41","model":"V150-4.5"'],
            "tool_result",
        )
    )


def runbook_in_system() -> Workload:
    name = "ops_runbook_system_disk_alert"
    r = rng(name)
    sections = []
    for title in [
        "Overview",
        "Dashboards",
        "Alert: HighLatency",
        "Alert: ReplicationLag",
        "Alert: CertExpiry",
        "Alert: QueueBacklog",
        "Escalation",
        "Maintenance windows",
    ]:
        steps = "\n".join(
            f"{k + 1}. {r.choice(['Check', 'Open', 'Compare', 'Restart', 'Page', 'Note'])} "
            f"{r.choice(['the Grafana board', 'the ingest queue', 'replica lag', 'the on-call channel', 'pgbouncer pools', 'the status page'])}"  # noqa: E501
            f" on {r.choice(['obs-db-1', 'obs-db-2', 'ingest-1', 'ingest-2'])}."
            for k in range(r.randint(5, 12))
        )
        sections.append(f"## {title}\n\n{steps}")
    disk = (
        "## Alert: DiskFilling (obs-db-*)\n\n1. Do NOT delete anything under /var/lib/postgresql.\n2. Run "
        "`sudo du -xh --max-depth=1 /var/lib/postgresql/16/main | sort -h`.\n3. If pg_wal is over 40G, a "
        "replication slot is probably stuck: `SELECT slot_name, active, pg_size_pretty(pg_wal_lsn_diff("
        "pg_current_wal_lsn(), restart_lsn)) FROM pg_replication_slots;`\n4. An inactive slot named "
        "`analytics_cdc` may be dropped after asking #data-eng; any other slot: page the DBA (Ingrid Petrov).\n"
        "5. Do not restart Postgres to free space."
    )
    sections.insert(4, disk)
    cfg = (
        '# /etc/obs-agent/agent.toml\n[agent]\ninterval = "30s"\nhostname = "obs-db-2"\n\n[[inputs.disk]]\n'
        'mount_points = ["/", "/var/lib/postgresql"]\nwarn_pct = 80\ncrit_pct = 92\n'
    )
    system = (
        "You are the on-call assistant for the observatory data platform. Follow the runbook exactly; if it "
        "says to page someone, say so.\n\n# Runbook: obs-db\n\n" + "\n\n".join(sections) + "\n\n" + cfg
    )
    alert = (
        "[FIRING:1] DiskFilling obs-db-2 /var/lib/postgresql 93% (crit_pct 92)\nSELECT slot_name, active, "
        "...\n slot_name      | active | pg_size_pretty\n----------------+--------+---------------\n "
        "standby_obs_db1 | t      | 212 MB\n analytics_cdc   | f      | 61 GB\n(2 rows)"
    )
    return Anth(name, system=system, max_tokens=2000).done(
        "got paged for this at 3am, what do I do?",
        ["analytics_cdc", "may be dropped after asking #data-eng", "Do not restart Postgres"],
        "system",
        pre=[{"type": "text", "text": alert}],
    )


ALL += [go_panic_crashloop, runbook_in_system]


def hcl_paste_count_to_foreach() -> Workload:
    name = "ops_hcl_module_count_reorder"
    r = rng(name)
    sites = ["bergen", "stavanger", "tromso", "bodo", "alesund", "kristiansand", "molde"]
    variables = (
        'variable "sites" {\n  description = "Branch offices that get a VPN gateway"\n  type        = '
        "list(string)\n  default     = [" + ", ".join(f'"{s}"' for s in sites) + "]\n}\n\n"
        'variable "vpn_psk_ssm_prefix" {\n  type    = string\n  default = "/net/vpn/psk"\n}\n'
    )
    main = (
        'resource "aws_customer_gateway" "branch" {\n  count      = length(var.sites)\n  bgp_asn    = 65000 + '
        'count.index\n  ip_address = local.branch_ips[var.sites[count.index]]\n  type       = "ipsec.1"\n'
        '  tags = {\n    Name = "cgw-${var.sites[count.index]}"\n  }\n}\n\n'
        'resource "aws_vpn_connection" "branch" {\n  count               = length(var.sites)\n'
        "  customer_gateway_id = aws_customer_gateway.branch[count.index].id\n"
        '  transit_gateway_id  = aws_ec2_transit_gateway.core.id\n  type                = "ipsec.1"\n}\n'
    )
    filler = "\n".join(
        f'resource "aws_route53_record" "{s}_{k}" {{\n  zone_id = aws_route53_zone.internal.zone_id\n'
        f'  name    = "{k}.{s}.corp.internal"\n  type    = "A"\n  ttl     = {r.choice([60, 300])}\n'
        f'  records = ["10.{i}.{r.randint(0, 255)}.{r.randint(2, 254)}"]\n}}\n'
        for i, s in enumerate(sites)
        for k in ("printer", "nas", "ap1", "ap2")
    )
    plan = (
        '  # aws_customer_gateway.branch[2] must be replaced\n-/+ resource "aws_customer_gateway" "branch" {\n'
        '      ~ bgp_asn    = "65002" -> "65002"\n      ~ ip_address = "84.208.11.20" -> "195.159.4.7" # forces '
        "replacement\n    }\n  # aws_customer_gateway.branch[3] must be replaced\n  # aws_customer_gateway.branch[4]"
        " must be replaced\n  # aws_customer_gateway.branch[5] must be replaced\n  # aws_vpn_connection.branch[2] "
        "must be replaced\n...\nPlan: 8 to add, 0 to change, 10 to destroy."
    )
    q = (
        "I only removed tromso from the sites list because that office closed, why does terraform want to "
        "replace the VPNs of four other offices?"
    )
    return Oai(name, model="gpt-4o").done(
        q,
        [
            "count      = length(var.sites)",
            "aws_customer_gateway.branch[count.index].id",
            "aws_customer_gateway.branch[2] must be replaced",
        ],
        "user",
        parts=[
            "variables.tf:\n```hcl\n" + variables + "```",
            "main.tf:\n```hcl\n" + main + "\n" + filler + "```",
            "plan output:\n```\n" + plan + "\n```",
        ],
    )


ALL += [hcl_paste_count_to_foreach]
