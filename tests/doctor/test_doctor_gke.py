"""`anyray doctor --gke` with stand-ins for gcloud and kubectl on PATH that answer with the objects
`anyray render gke` writes (plus the status a running cluster would add); no cluster is reached."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from anyray.cli import app
from tests.doctor.test_doctor import CLEAN_ENV, by_check, stand_in

STAND_IN = """
import json, sys, time
table = json.load(open({table!r}))
key = " ".join(sys.argv[1:])
answer = table.get(key, {{"code": 1, "stderr": "error: stand-in has no answer for: " + key}})
time.sleep(answer.get("sleep", 0))
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("code", 0))
"""


@pytest.fixture
def cluster(tmp_path: Path):
    """Render real manifests, then serve them (and whatever a test changes) through stand-in CLIs."""
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({"deploy": {"project": "acme-ai", "gsa": "anyray-gw"},
                                      "providers": {"vertex": {"project": "acme-ai"}}}))
    out = tmp_path / "rendered"
    result = CliRunner().invoke(app, ["render", "gke", "-o", str(out), "--config", str(config)],
                                env={**CLEAN_ENV, "HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    objects = [o for f in sorted(out.glob("*.yaml")) for o in yaml.safe_load_all(f.read_text()) if o]
    by_kind: dict[str, list[dict]] = {}
    for o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    for deployment in by_kind["Deployment"]:
        deployment["status"] = {"readyReplicas": deployment["spec"].get("replicas", 1)}
    gateway_sa = next(o for o in by_kind["ServiceAccount"] if o["metadata"]["name"] == "anyray-gateway")

    def table() -> dict:
        ns = "-n anyray get"
        return {
            "config get-value project": {"stdout": "acme-ai\n"},
            "config current-context": {"stdout": "gke_acme-ai_us-central1_anyray\n"},
            "version -o json --request-timeout 5s": {"stdout": json.dumps(
                {"serverVersion": {"gitVersion": "v1.37.2-gke.100"}})},
            "get namespace anyray -o json": {"stdout": json.dumps(by_kind["Namespace"][0])},
            f"{ns} deployments -o json": {"stdout": json.dumps({"items": by_kind["Deployment"]})},
            f"{ns} serviceaccount anyray-gateway -o json": {"stdout": json.dumps(gateway_sa)},
            f"{ns} networkpolicy -o json": {"stdout": json.dumps({"items": by_kind.get("NetworkPolicy", [])})},
        }

    bin_dir = tmp_path / "bin"

    def install(overrides: dict | None = None) -> dict:
        answers = {**table(), **(overrides or {})}
        (tmp_path / "answers.json").write_text(json.dumps(answers))
        for name in ("gcloud", "kubectl"):
            stand_in(bin_dir, name, f'exec {sys.executable} {tmp_path / "stand_in.py"} "$@"')
        (tmp_path / "stand_in.py").write_text(STAND_IN.format(table=str(tmp_path / "answers.json")))
        code = CliRunner().invoke(app, ["doctor", "--gke", "--json", "--config", str(config), "--timeout", "2"],
                                  env={**CLEAN_ENV, "PATH": str(bin_dir), "HOME": str(tmp_path)})
        return by_check(json.loads(code.output))

    return install, by_kind, gateway_sa


def test_a_healthy_deployment_passes_every_gke_check(cluster):
    install, _, _ = cluster
    checks = install()
    for name in ("gcloud", "kubectl", "gcloud project", "kube context", "cluster", "namespace",
                 "deployment anyray-gateway", "deployment anyray-optimizer", "workload identity", "network policy"):
        assert checks[name]["status"] == "ok", (name, checks[name])
    assert checks["workload identity"]["found"] == "anyray-gateway -> anyray-gw@acme-ai.iam.gserviceaccount.com"
    assert "v1.37.2" in checks["cluster"]["found"]


def test_each_gke_problem_is_named_with_its_fix(cluster):
    install, by_kind, gateway_sa = cluster
    gateway_sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] = "someone@else.iam.gserviceaccount.com"
    by_kind["NetworkPolicy"].clear()
    by_kind["Deployment"][0]["status"] = {"readyReplicas": 0}
    checks = install()
    assert checks["workload identity"]["status"] == "fail" and "--overwrite" in checks["workload identity"]["fix"]
    assert checks["network policy"]["status"] == "fail"
    assert [c["status"] for k, c in checks.items() if k.startswith("deployment ")].count("fail") == 1

    checks = install({"version -o json --request-timeout 5s": {"code": 1, "stderr": "Unable to connect"}})
    assert checks["cluster"]["status"] == "fail" and "not reachable" in checks["cluster"]["found"]
    assert "namespace" not in checks

    checks = install({"get namespace anyray -o json": {"code": 1,
                                                       "stderr": 'Error from server (NotFound): namespaces "anyray" '
                                                                 "not found"}})
    assert checks["namespace"]["status"] == "fail" and "NotFound" in checks["namespace"]["found"]

    checks = install({"config current-context": {"sleep": 5}})
    assert checks["kube context"]["status"] == "fail" and "no answer in time" in checks["kube context"]["found"]


def test_missing_tools(tmp_path):
    result = CliRunner().invoke(app, ["doctor", "--gke", "--json"], env={**CLEAN_ENV, "PATH": str(tmp_path)})
    checks = by_check(json.loads(result.output))
    assert checks["gcloud"]["status"] == "fail" and checks["kubectl"]["status"] == "fail"
    assert result.exit_code == 1
