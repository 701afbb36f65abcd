"""`anyray deploy gce` against a recording stand-in for gcloud put first on PATH (tests/deploy/standins.py):
the plan for several flag sets, a run and a second run that changes nothing, and failures that end with
gcloud's own message and the fix."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import clean_env, run_anyray
from tests.deploy.standins import install, standin_env
from tests.deploy.test_render_gce import validate_cloud_config

P = "proj-g"
EMAIL = f"anyray-gateway@{P}.iam.gserviceaccount.com"
MEMBER = f"serviceAccount:{EMAIL}"
AR_IMAGE = "europe-west4-docker.pkg.dev/proj-img/tools/anyray:0.1.0"


def expected(out: Path, zone: str = "us-central1-a", vm: str = "anyray", machine: str = "e2-medium",
             ranges: str = "35.235.240.0/20", external: bool = False, image_repo: bool = False,
             ) -> list[tuple[list[str], bool]]:
    """The whole sequence, in order, each flagged True when it only runs for something missing."""
    region = zone.rsplit("-", 1)[0]
    at = ["--zone", zone, "--project", P]
    apis = ["compute.googleapis.com", "aiplatform.googleapis.com", "iap.googleapis.com"]
    steps = [
        (["gcloud", "services", "enable", *apis, *(["artifactregistry.googleapis.com"] if image_repo else []),
          "--project", P], False),
        (["gcloud", "iam", "service-accounts", "describe", EMAIL, "--project", P, "--format", "json"], False),
        (["gcloud", "iam", "service-accounts", "create", "anyray-gateway", "--project", P,
          "--display-name", "anyray gateway VM (Vertex AI)"], True),
        (["gcloud", "projects", "get-iam-policy", P, "--format", "json"], False),
        (["gcloud", "projects", "add-iam-policy-binding", P, "--member", MEMBER, "--role", "roles/aiplatform.user",
          "--condition=None", "--format", "none"], True),
    ]
    if image_repo:
        repo = ["--location", "europe-west4", "--project", "proj-img"]
        steps += [
            (["gcloud", "artifacts", "repositories", "get-iam-policy", "tools", *repo, "--format", "json"], False),
            (["gcloud", "artifacts", "repositories", "add-iam-policy-binding", "tools", *repo, "--member", MEMBER,
              "--role", "roles/artifactregistry.reader", "--condition=None", "--format", "none"], True),
        ]
    if not external:
        sub = ["default", "--region", region, "--project", P]
        steps += [
            (["gcloud", "compute", "networks", "subnets", "describe", *sub, "--format", "json"], False),
            (["gcloud", "compute", "networks", "subnets", "update", *sub, "--enable-private-ip-google-access"], True),
        ]
    steps += [
        (["gcloud", "compute", "firewall-rules", "describe", f"{vm}-allow-gateway", "--project", P,
          "--format", "json"], False),
        (["gcloud", "compute", "firewall-rules", "create", f"{vm}-allow-gateway", "--project", P,
          "--network", "default", "--direction", "INGRESS", "--action", "ALLOW", "--rules", "tcp:8787",
          "--source-ranges", ranges,
          "--target-tags", f"{vm}-gateway", "--description", "anyray gateway: IAP tunnel and the ranges named"], True),
        (["gcloud", "compute", "instances", "describe", vm, *at, "--format", "json"], False),
        (["gcloud", "compute", "instances", "create", vm, *at, "--machine-type", machine,
          "--image-family", "cos-stable", "--image-project", "cos-cloud", "--boot-disk-size", "20GB",
          "--subnet", "default", *([] if external else ["--no-address"]), "--tags", f"{vm}-gateway",
          "--service-account", EMAIL, "--scopes", "cloud-platform",
          "--shielded-secure-boot", "--shielded-vtpm", "--shielded-integrity-monitoring",
          "--metadata", "enable-oslogin=TRUE", "--metadata-from-file", f"user-data={out / 'cloud-config.yaml'}"],
         True),
        (["gcloud", "compute", "instances", "describe", vm, *at, "--format",
          "value(networkInterfaces[0].networkIP,networkInterfaces[0].accessConfigs[0].natIP)"], False),
    ]
    return steps  # fmt: skip


@pytest.fixture
def standins(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install(bin_dir, "gcloud")
    log = tmp_path / "calls.jsonl"
    env = standin_env(bin_dir, tmp_path / "state", log, clean_env(ANYRAY_HOME=str(tmp_path / "home")))

    def calls() -> list[list[str]]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def state(name: str):
        return json.loads((tmp_path / "state" / name).read_text())

    return env, calls, state, tmp_path / "vm-files"


def deploy(env, out, *extra):
    return run_anyray("deploy", "gce", "--project", P, "-o", str(out), *extra, env=env, timeout=120)


FLAG_SETS = {
    "defaults": ((), {}),
    "named": (("--zone", "europe-west4-b", "--name", "gw-1", "--machine-type", "e2-standard-2",
               "--source-range", "10.20.0.0/16", "--source-range", "192.168.0.0/24"),
              {"zone": "europe-west4-b", "vm": "gw-1", "machine": "e2-standard-2",
               "ranges": "35.235.240.0/20,10.20.0.0/16,192.168.0.0/24"}),
    "external, image in Artifact Registry": (("--external-ip", "--image", AR_IMAGE, "--source-range", "203.0.113.7/32"),
                                             {"external": True, "image_repo": True,
                                              "ranges": "35.235.240.0/20,203.0.113.7/32"}),
}


@pytest.mark.parametrize("flags", sorted(FLAG_SETS))
def test_dry_run_prints_every_command_in_order_and_the_user_data_and_runs_none(standins, flags):
    env, calls, _, out = standins
    extra, shape = FLAG_SETS[flags]
    result = deploy(env, out, "--dry-run", *extra)
    assert result.returncode == 0, result.stderr
    assert calls() == [] and not out.exists()  # nothing ran, nothing was written
    shown = [line[2:] for line in result.stdout.splitlines() if line.startswith("$ ")]
    assert shown == [shlex.join(argv) + ("   # only if missing" if conditional else "")
                     for argv, conditional in expected(out, **shape)]
    user_data = result.stdout.split("--- # cloud-config.yaml\n")[1].split("\nThe commands, in order:")[0]
    validate_cloud_config(yaml.safe_load(user_data))
    zone, vm = shape.get("zone", "us-central1-a"), shape.get("vm", "anyray")
    assert (f"gcloud compute start-iap-tunnel {vm} 8787 --local-host-port=localhost:8787 --zone {zone} "
            f"--project {P}") in result.stdout
    assert "anyray connect claude-code --gateway http://localhost:8787" in result.stdout


def test_deploy_makes_the_calls_then_a_second_run_changes_nothing(standins):
    env, calls, state, out = standins
    first = deploy(env, out, "--source-range", "10.0.0.0/8")
    assert first.returncode == 0, first.stdout + first.stderr
    plan = expected(out, ranges="35.235.240.0/20,10.0.0.0/8")
    assert calls() == [argv for argv, _ in plan]
    for argv in calls():
        assert f"$ {shlex.join(argv)}" in first.stdout  # shown before it ran
    # what the cloud now holds: the VM boots from the rendered user-data, as the dedicated account, no address
    vm = state("instances")["anyray"]
    assert vm["metadata"]["items"] == [{"key": "user-data", "value": (out / "cloud-config.yaml").read_text()}]
    assert vm["serviceAccounts"][0]["email"] == EMAIL
    assert "accessConfigs" not in vm["networkInterfaces"][0]
    assert state("project-policy")["bindings"][-1] == {"role": "roles/aiplatform.user", "members": [MEMBER]}
    assert [b for b in state("project-policy")["bindings"] if MEMBER in b["members"]] == [
        {"role": "roles/aiplatform.user", "members": [MEMBER]}]  # and nothing else
    assert state("firewalls")["anyray-allow-gateway"]["sourceRanges"] == ["35.235.240.0/20", "10.0.0.0/8"]
    assert state("pga") is True
    # the gateway's URL and the exact lines that wire Claude Code to it
    assert "gateway: http://10.128.0.7:8787" in first.stdout
    assert "anyray connect claude-code --gateway http://10.128.0.7:8787" in first.stdout
    assert "anyray connect claude-code --gateway http://localhost:8787" in first.stdout
    assert not [p for p in out.rglob("*") if p.name.endswith(".env") and p.name != ".env"]  # no secret file

    n = len(calls())
    second = deploy(env, out, "--source-range", "10.0.0.0/8")
    assert second.returncode == 0, second.stdout + second.stderr
    assert calls()[n:] == [argv for argv, conditional in plan if not conditional]  # only looks
    assert second.stdout.count("already there") == 5


def test_an_external_address_is_named_and_the_subnet_is_left_alone(standins):
    env, calls, state, out = standins
    result = deploy(env, out, "--external-ip")
    assert result.returncode == 0, result.stderr
    assert not any(argv[2:4] == ["networks", "subnets"] for argv in calls())
    assert state("instances")["anyray"]["networkInterfaces"][0]["accessConfigs"][0]["natIP"] == "34.1.2.3"
    assert "external address, 34.1.2.3" in result.stdout


def _ends_with_message_then_fix(stderr: str, message: str, fix: str) -> None:
    lines = stderr.rstrip().splitlines()
    at = next(i for i, line in enumerate(lines) if message.splitlines()[0] in line)
    fix_at = next(i for i, line in enumerate(lines) if line.startswith("fix:"))
    assert at < fix_at, stderr
    assert fix in " ".join(line.strip() for line in lines[fix_at:]), stderr
    assert "Traceback" not in stderr


def test_a_missing_api_stops_the_run_with_gcloud_s_message_and_the_enable_command(standins):
    env, calls, _, out = standins
    message = ("ERROR: (gcloud.compute.firewall-rules.describe) PERMISSION_DENIED: Compute Engine API has not been "
               "used in project 123456 before or it is disabled. Enable it by visiting https://console.developers."
               "google.com/apis/api/compute.googleapis.com/overview?project=123456 then retry.")
    result = deploy(env | {"STANDIN_FAIL": "firewall-rules describe", "STANDIN_FAIL_STDERR": message}, out)
    assert result.returncode == 1
    assert calls()[-1][:4] == ["gcloud", "compute", "firewall-rules", "describe"]  # stopped there: no create
    assert "step failed: firewall rule anyray-allow-gateway" in result.stderr
    _ends_with_message_then_fix(result.stderr, message, f"gcloud services enable compute.googleapis.com --project {P}")


def test_a_denied_permission_names_the_role_that_grants_it(standins):
    env, calls, _, out = standins
    message = ("ERROR: (gcloud.compute.firewall-rules.create) Could not fetch resource:\n"
               f" - Required 'compute.firewalls.create' permission for "
               f"'projects/{P}/global/firewalls/anyray-allow-gateway'")
    result = deploy(env | {"STANDIN_FAIL": "firewall-rules create", "STANDIN_FAIL_STDERR": message}, out)
    assert result.returncode == 1
    assert "$ gcloud compute firewall-rules create anyray-allow-gateway" in result.stderr
    assert not any(argv[1:3] == ["compute", "instances"] for argv in calls())  # no VM without its rule
    _ends_with_message_then_fix(result.stderr, message, "--role roles/compute.securityAdmin")


def test_attaching_the_service_account_without_act_as_names_service_account_user(standins):
    env, calls, _, out = standins
    message = ("ERROR: (gcloud.compute.instances.create) Could not fetch resource:\n - The user does not have access "
               f"to service account '{EMAIL}'.  User: 'me@example.com'.  Ask a project owner to grant you the "
               "iam.serviceAccountUser role on the service account")
    result = deploy(env | {"STANDIN_FAIL": "instances create", "STANDIN_FAIL_STDERR": message}, out)
    assert result.returncode == 1
    assert calls()[-1][:4] == ["gcloud", "compute", "instances", "create"]
    _ends_with_message_then_fix(result.stderr, message,
                                f"gcloud iam service-accounts add-iam-policy-binding {EMAIL} --project {P} "
                                "--member user:YOU@EXAMPLE.COM --role roles/iam.serviceAccountUser")


def test_a_failure_gcloud_does_not_explain_gets_the_step_s_hint(standins):
    env, _, _, out = standins
    message = "ERROR: (gcloud.services.enable) FAILED_PRECONDITION: Billing account for project '123' is not found."
    result = deploy(env | {"STANDIN_FAIL": "services enable", "STANDIN_FAIL_STDERR": message}, out)
    assert result.returncode == 1
    _ends_with_message_then_fix(result.stderr, message, f"gcloud billing projects describe {P}")


def test_no_project_a_bad_range_and_no_gcloud_are_clear_errors(standins, tmp_path):
    env, calls, _, out = standins
    result = run_anyray("deploy", "gce", env=env)
    assert result.returncode == 2 and "--project" in result.stderr
    result = deploy(env, out, "--source-range", "10.0.0.1/8")
    assert result.returncode == 2 and "--source-range 10.0.0.1/8" in result.stderr
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = deploy(env | {"PATH": str(empty)}, out)
    assert result.returncode == 1 and "gcloud not found on PATH" in result.stderr
    assert calls() == []
