"""`anyray doctor --gce` with a stand-in gcloud on PATH that answers as the real one does for the VM
`anyray deploy gce` makes, and a real anyray gateway on loopback in the place of the tunnel's far end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from anyray.cli import app
from tests.conftest import vertex_and_anthropic_config
from tests.doctor.test_doctor import CLEAN_ENV, by_check, free_port, stand_in
from tests.doctor.test_doctor_gke import STAND_IN

P, ZONE, VM = "acme-ai", "europe-west4-b", "gw-1"
EMAIL = f"anyray-gateway@{P}.iam.gserviceaccount.com"
WHERE = f"--zone {ZONE} --project {P}"


def instance(**changes) -> dict:
    vm = {
        "name": VM, "status": "RUNNING", "zone": f"projects/{P}/zones/{ZONE}",
        "networkInterfaces": [{"name": "nic0", "networkIP": "192.0.2.1", "subnetwork": "default"}],
        "serviceAccounts": [{"email": EMAIL, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}],
    }
    return vm | changes


def policy(*roles: str) -> dict:
    return {"bindings": [{"role": "roles/owner", "members": ["user:me@acme.example"]},
                         *({"role": r, "members": [f"serviceAccount:{EMAIL}"]} for r in roles)]}


@pytest.fixture
def gce(tmp_path: Path):
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({"deploy": {"project": P}}))
    bin_dir = tmp_path / "bin"

    def run(answers: dict, *args: str) -> dict:
        table = {
            f"compute instances describe {VM} {WHERE} --format json": {"stdout": json.dumps(answers["vm"])}
            if answers.get("vm") else {"code": 1, "stderr": "ERROR: (gcloud.compute.instances.describe) Could not "
                                       f"fetch resource:\n - The resource 'projects/{P}/zones/{ZONE}/instances/{VM}' "
                                       "was not found\n"},
            f"projects get-iam-policy {P} --format json": {"stdout": json.dumps(answers.get("policy", {}))},
        }
        (tmp_path / "answers.json").write_text(json.dumps(table))
        (tmp_path / "stand_in.py").write_text(STAND_IN.format(table=str(tmp_path / "answers.json")))
        stand_in(bin_dir, "gcloud", f'exec {sys.executable} {tmp_path / "stand_in.py"} "$@"')
        result = CliRunner().invoke(app, ["doctor", "--gce", "--json", "--config", str(config), "--timeout", "2",
                                          "--set", f"deploy.zone={ZONE}", "--set", f"deploy.vm={VM}", *args],
                                    env={**CLEAN_ENV, "PATH": str(bin_dir), "HOME": str(tmp_path)})
        return by_check(json.loads(result.output))

    return run


def test_a_healthy_vm_and_its_gateway_through_the_tunnel_pass(gce, fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))  # what the tunnel's localhost reaches
    checks = gce({"vm": instance(), "policy": policy("roles/aiplatform.user")}, "--gateway", gw.url)
    for name in ("gcloud", "gce vm", "gce address", "vm service account", "vm role", "gce gateway"):
        assert checks[name]["status"] == "ok", (name, checks[name])
    assert checks["vm role"]["found"] == "roles/aiplatform.user, nothing else"
    assert checks["gce gateway"]["found"].startswith(f"{gw.url} anyray ")
    assert "vertex ready" in checks["gce gateway"]["found"]


def test_each_vm_problem_is_named_with_its_fix(gce):
    closed = f"http://127.0.0.1:{free_port()}"
    checks = gce({"vm": instance(status="TERMINATED", networkInterfaces=[
        {"networkIP": "192.0.2.1", "accessConfigs": [{"natIP": "34.9.9.9"}]}]),
        "policy": policy("roles/aiplatform.user", "roles/editor")}, "--gateway", closed)
    assert checks["gce vm"]["status"] == "fail"
    assert checks["gce vm"]["fix"] == f"gcloud compute instances start {VM} {WHERE}"
    assert checks["gce address"]["status"] == "warn" and "external 34.9.9.9" in checks["gce address"]["found"]
    assert checks["vm role"]["status"] == "warn" and "roles/editor" in checks["vm role"]["found"]
    assert checks["gce gateway"]["status"] == "fail" and "is the tunnel open" in checks["gce gateway"]["fix"]

    checks = gce({"vm": instance(serviceAccounts=[{"email": "123-compute@developer.gserviceaccount.com",
                                                   "scopes": []}]), "policy": policy()}, "--gateway", closed)
    assert checks["vm service account"]["status"] == "fail"
    assert EMAIL in checks["vm service account"]["found"]
    assert checks["vm role"]["status"] == "fail"
    assert "--role roles/aiplatform.user" in checks["vm role"]["fix"]

    # no --gateway: the VM's internal address, which this machine cannot reach: the fix is the tunnel
    checks = gce({"vm": instance(), "policy": policy("roles/aiplatform.user")})
    assert checks["gce gateway"]["status"] == "fail" and "http://192.0.2.1:8787" in checks["gce gateway"]["found"]
    assert (f"gcloud compute start-iap-tunnel {VM} 8787 --local-host-port=localhost:8787 {WHERE}"
            in checks["gce gateway"]["fix"])


def test_a_vm_that_is_not_there(gce):
    checks = gce({"vm": None})
    assert checks["gce vm"]["status"] == "fail" and "was not found" in checks["gce vm"]["found"]
    assert checks["gce vm"]["fix"] == f"anyray deploy gce --project {P} --zone {ZONE} --name {VM}"
    assert "gce gateway" not in checks
