"""`anyray deploy gke` against recording stand-ins for gcloud and kubectl put first on PATH."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import clean_env, run_anyray, validate_k8s
from tests.deploy.standins import install, standin_env

P, R, C, NS = "proj-d", "europe-west4", "prod-1", "anyray"
EMAIL = f"anyray-gateway@{P}.iam.gserviceaccount.com"
WI_MEMBER = f"serviceAccount:{P}.svc.id.goog[{NS}/anyray-gateway]"
CTX = f"gke_{P}_{R}_{C}"


CRD = "prometheusrules.monitoring.coreos.com"


def probes_and_creates(manifests: str) -> list[tuple[list[str], str]]:
    """The whole sequence, in order, each flagged "missing" when it only runs for something missing, "there"
    when it only runs for something there (the PrometheusRule, where the cluster has its CRD), else ""."""
    return [
        (["gcloud", "iam", "service-accounts", "describe", EMAIL, "--project", P, "--format", "json"], ""),
        (["gcloud", "iam", "service-accounts", "create", "anyray-gateway", "--project", P,
          "--display-name", "anyray gateway (Vertex AI)"], "missing"),
        (["gcloud", "projects", "get-iam-policy", P, "--format", "json"], ""),
        (["gcloud", "projects", "add-iam-policy-binding", P, "--member", f"serviceAccount:{EMAIL}",
          "--role", "roles/aiplatform.user", "--condition=None", "--format", "none"], "missing"),
        (["gcloud", "iam", "service-accounts", "get-iam-policy", EMAIL, "--project", P, "--format", "json"], ""),
        (["gcloud", "iam", "service-accounts", "add-iam-policy-binding", EMAIL, "--project", P,
          "--role", "roles/iam.workloadIdentityUser", "--member", WI_MEMBER, "--format", "none"], "missing"),
        (["gcloud", "container", "clusters", "get-credentials", C, "--location", R, "--project", P], ""),
        (["kubectl", "--context", CTX, "apply", "-f", manifests], ""),
        (["kubectl", "--context", CTX, "get", "crd", CRD, "-o", "name"], ""),
        (["kubectl", "--context", CTX, "apply", "-f", f"{manifests}/alerts/prometheusrule.yaml"], "there"),
        (["kubectl", "--context", CTX, "-n", NS, "get", "secret", "anyray-optimizer-token", "-o", "name"], ""),
        (["kubectl", "--context", CTX, "-n", NS, "create", "secret", "generic", "anyray-optimizer-token",
          "--from-env-file=<new-private-file>"], "missing"),
        (["kubectl", "--context", CTX, "-n", NS, "rollout", "status", "deployment/anyray-optimizer",
          "--timeout", "300s"], ""),
        (["kubectl", "--context", CTX, "-n", NS, "rollout", "status", "deployment/anyray-gateway",
          "--timeout", "300s"], ""),
    ]  # fmt: skip


@pytest.fixture
def standins(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install(bin_dir, "gcloud")
    install(bin_dir, "kubectl")
    log = tmp_path / "calls.jsonl"
    env = standin_env(bin_dir, tmp_path / "state", log, clean_env(ANYRAY_HOME=str(tmp_path / "home")))

    def calls() -> list[list[str]]:
        """Each call's argv; the private file a secret was created from (gone since) named as in the plan."""
        made = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return [[re.sub(r"^--from-env-file=.*", "--from-env-file=<new-private-file>", a) for a in argv]
                for argv in made]

    return env, calls, tmp_path / "manifests"


def deploy(env, out, *extra):
    return run_anyray(
        "deploy", "gke", "--project", P, "--region", R, "--cluster", C, "-o", str(out), *extra, env=env, timeout=120
    )


def test_dry_run_prints_every_command_in_order_with_the_manifests_and_runs_none(standins):
    env, calls, out = standins
    result = deploy(env, out, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert calls() == []  # nothing ran
    assert not out.exists()  # and nothing was written
    shown = [line[2:] for line in result.stdout.splitlines() if line.startswith("$ ")]
    expected = [
        shlex.join(argv) + (f"   # only if {when}" if when else "")
        for argv, when in probes_and_creates(str(out))
    ]
    assert shown == expected
    # the manifests are printed too, and they are the valid ones
    manifest_text = result.stdout.split("--- # 00-namespace.yaml")[1].split("The commands, in order:")[0]
    # the alerting rules come last, apart: a rule file and a PrometheusRule (a CRD's kind, applied apart)
    manifest_text, alerts = manifest_text.split("--- # alerts/anyray.rules.yaml")
    assert "--- # alerts/prometheusrule.yaml" in alerts and "kind: PrometheusRule" in alerts
    docs = [d for d in yaml.safe_load_all(manifest_text) if d]
    assert "# note: image anyray:0.1.0 names no registry" in result.stdout
    assert {d["kind"] for d in docs} >= {"Deployment", "NetworkPolicy", "ServiceAccount", "HorizontalPodAutoscaler"}
    for doc in docs:
        validate_k8s(doc)


def test_deploy_makes_the_calls_then_a_second_run_changes_nothing(standins):
    env, calls, out = standins
    first = deploy(env, out)
    assert first.returncode == 0, first.stdout + first.stderr
    assert calls() == [argv for argv, when in probes_and_creates(str(out)) if when != "there"]  # no CRD here
    assert f"not there: load {out}/alerts/anyray.rules.yaml into your Prometheus" in first.stdout
    # every command is shown before it runs
    for argv in calls():
        assert f"$ {shlex.join(argv)}" in first.stdout
    assert "http://anyray-gateway.anyray.svc.cluster.local:8787" in first.stdout
    assert (
        "anyray redirect deployment/NAME -n NAMESPACE --gateway-url http://anyray-gateway.anyray.svc.cluster.local:8787"
        in first.stdout
    )
    assert "namespace/anyray created" in first.stdout
    assert sorted(p.name for p in out.glob("*.yaml"))[0] == "00-namespace.yaml"
    # the optimizer's service token: generated into a private file that lived only for the create
    made = json.loads((out.parent / "state" / "secrets").read_text())
    assert made == {"anyray-optimizer-token": {"keys": {"ANYRAY_OPTIMIZER_TOKEN": 43}, "mode": "0o600",
                                               "folder_mode": "0o700"}}
    raw = [json.loads(line) for line in (out.parent / "calls.jsonl").read_text().splitlines()]
    created = [a for argv in raw for a in argv if a.startswith("--from-env-file=")]
    assert created and not any(Path(a.split("=", 1)[1]).exists() for a in created)
    assert not [p for p in out.iterdir() if "token" in p.name or p.suffix == ".env"]

    n = len(calls())
    second = deploy(env, out)
    assert second.returncode == 0, second.stdout + second.stderr
    again = calls()[n:]
    # only the looks, the credentials, the declarative apply and the waits: no create, no new binding
    assert again == [argv for argv, when in probes_and_creates(str(out)) if not when]
    assert second.stdout.count("already there") == 4
    applied = [line.strip() for line in second.stdout.splitlines() if line.strip().endswith(("created", "configured"))]
    assert applied == []
    assert "deployment/anyray-gateway unchanged" in second.stdout


def test_where_the_cluster_runs_the_prometheus_operator_the_alerting_rules_are_applied(standins):
    env, calls, out = standins
    env = env | {"STANDIN_CRDS": CRD}
    first = deploy(env, out)
    assert first.returncode == 0, first.stdout + first.stderr
    assert calls() == [argv for argv, _ in probes_and_creates(str(out))]
    applied = json.loads((out.parent / "state" / "applied").read_text())
    assert "prometheusrule/anyray" in applied  # what the stand-in's API server now holds
    rule = yaml.safe_load((out / "alerts" / "prometheusrule.yaml").read_text())
    plain = yaml.safe_load((out / "alerts" / "anyray.rules.yaml").read_text())
    assert rule["kind"] == "PrometheusRule" and rule["metadata"]["namespace"] == NS
    assert rule["spec"] == plain and {r["alert"] for r in plain["groups"][0]["rules"]} >= {
        "AnyrayBudgetNearLimit", "AnyrayOptimizerFailingOpen", "AnyrayUpstreamErrors", "AnyraySpendBacklog"}
    n = len(calls())
    second = deploy(env, out)
    assert second.returncode == 0 and calls()[n:] == [argv for argv, when in probes_and_creates(str(out))
                                                      if when != "missing"]  # applied again: declarative


def test_a_failing_step_stops_the_run_with_its_command_stderr_and_a_hint(standins):
    env, calls, out = standins
    message = f"ERROR: (gcloud.container.clusters.get-credentials) ResponseError: code=404, message=Not found: {C}."
    env = env | {"STANDIN_FAIL": "get-credentials", "STANDIN_FAIL_STDERR": message}
    result = deploy(env, out)
    assert result.returncode == 1
    assert [argv[0] for argv in calls()].count("kubectl") == 0  # stopped there: nothing applied
    assert calls()[-1][:4] == ["gcloud", "container", "clusters", "get-credentials"]
    assert "step failed: credentials for cluster prod-1" in result.stderr
    assert f"$ gcloud container clusters get-credentials {C} --location {R} --project {P}" in result.stderr
    assert message in result.stderr
    assert f"gcloud container clusters list --project {P}" in result.stderr  # the hint
    assert "Traceback" not in result.stderr


def test_an_unexpected_describe_failure_stops_before_creating_anything(standins):
    env, calls, out = standins
    denied = (
        "ERROR: (gcloud.iam.service-accounts.describe) PERMISSION_DENIED: Permission 'iam.serviceAccounts.get' denied"
    )
    env = env | {"STANDIN_FAIL": "service-accounts describe", "STANDIN_FAIL_STDERR": denied}
    result = deploy(env, out)
    assert result.returncode == 1
    assert len(calls()) == 1  # the describe, and no create after it
    assert denied in result.stderr
    assert "gcloud auth login" in result.stderr


def test_a_failing_create_is_reported_as_the_create(standins):
    env, calls, out = standins
    env = env | {"STANDIN_FAIL": "add-iam-policy-binding proj-d", "STANDIN_FAIL_STDERR": "ERROR: PERMISSION_DENIED"}
    result = deploy(env, out)
    assert result.returncode == 1
    assert calls()[-1][:3] == ["gcloud", "projects", "add-iam-policy-binding"]
    assert "$ gcloud projects add-iam-policy-binding proj-d" in result.stderr
    assert "roles/resourcemanager.projectIamAdmin" in result.stderr


def test_no_project_and_no_tools_are_clear_errors(standins, tmp_path):
    env, calls, out = standins
    result = run_anyray("deploy", "gke", env=env)
    assert result.returncode == 2
    assert "--project" in result.stderr
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = deploy(env | {"PATH": str(empty)}, out)
    assert result.returncode == 1
    assert "gcloud and kubectl not found on PATH" in result.stderr
    assert calls() == []
