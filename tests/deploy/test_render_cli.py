"""`anyray render` as a user runs it: files written and listed, edits protected, --set applied."""

from __future__ import annotations

import anthropic
import yaml

from anyray.deploy import naming
from tests.deploy.conftest import SECRETS, clean_env, run_anyray, validate_compose, validate_k8s


def test_render_gke_writes_lists_and_validates(tmp_path):
    out = tmp_path / "gke"
    result = run_anyray("render", "gke", "-o", str(out), "--set", "deploy.project=proj-x", "--set", "deploy.replicas=3")
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in out.glob("*.yaml"))
    assert files == [
        "00-namespace.yaml",
        "10-serviceaccounts.yaml",
        "20-configmap.yaml",
        "30-optimizer.yaml",
        "40-gateway.yaml",
        "50-networkpolicy.yaml",
        "60-gateway-scaling.yaml",
    ]
    for name in files:
        assert f"written    {out / name}" in result.stdout
        for doc in yaml.safe_load_all((out / name).read_text()):
            validate_k8s(doc)
    hpa = next(yaml.safe_load_all((out / "60-gateway-scaling.yaml").read_text()))
    assert hpa["spec"]["minReplicas"] == 3  # --set reached the config
    # the default image is local: the cluster cannot pull it, and render says so before anyone applies
    assert "note: image anyray:0.1.0 names no registry" in result.stdout
    ksa = next(yaml.safe_load_all((out / "10-serviceaccounts.yaml").read_text()))
    assert ksa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].endswith("@proj-x.iam.gserviceaccount.com")


def test_render_compose_from_a_config_file_holds_no_secret(tmp_path):
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({"providers": {"anthropic": {"api_key": SECRETS["anthropic"]}}}))
    out = tmp_path / "compose"
    env = clean_env(OPENAI_API_KEY=SECRETS["openai"])
    result = run_anyray("render", "compose", "-c", str(config), "-o", str(out), "--set", "deploy.redis=true", env=env)
    assert result.returncode == 0, result.stderr
    validate_compose(yaml.safe_load((out / "compose.yaml").read_text()))
    assert (out / ".env").read_text().splitlines()[-1] == "COMPOSE_PROFILES=redis"
    for path in out.rglob("*"):
        if path.is_file():
            for secret in SECRETS.values():
                assert secret not in path.read_text(), path
    assert "ANTHROPIC_API_KEY" in result.stdout  # where the key is read from instead
    assert SECRETS["anthropic"] not in result.stdout + result.stderr


def test_rerender_replaces_untouched_files_but_refuses_to_overwrite_an_edit(tmp_path):
    out = tmp_path / "gke"
    first = run_anyray("render", "gke", "-o", str(out), "--set", "deploy.litellm=true")
    assert first.returncode == 0
    assert "deploy.project is unset" in first.stdout
    assert (out / "70-litellm.yaml").exists()

    again = run_anyray("render", "gke", "-o", str(out), "--set", "deploy.litellm=true")
    assert again.returncode == 0
    assert f"unchanged  {out / '40-gateway.yaml'}" in again.stdout

    # the config changed: untouched files are rewritten, a file no longer rendered is removed
    changed = run_anyray("render", "gke", "-o", str(out))
    assert changed.returncode == 0, changed.stderr
    assert f"written    {out / '50-networkpolicy.yaml'}" in changed.stdout
    assert f"removed    {out / '70-litellm.yaml'}" in changed.stdout
    assert not (out / "70-litellm.yaml").exists()

    # a person edits a file: the next render refuses and leaves every file as it was
    gateway = out / "40-gateway.yaml"
    edited = gateway.read_text().replace("terminationGracePeriodSeconds: 120", "terminationGracePeriodSeconds: 30")
    assert edited != gateway.read_text()
    gateway.write_text(edited)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    refused = run_anyray("render", "gke", "-o", str(out), "--set", "deploy.replicas=4")
    assert refused.returncode == 1
    assert str(gateway) in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

    forced = run_anyray("render", "gke", "-o", str(out), "--set", "deploy.replicas=4", "--force")
    assert forced.returncode == 0, forced.stderr
    deployment = next(yaml.safe_load_all(gateway.read_text()))
    assert deployment["metadata"]["name"] == naming.GATEWAY_SERVICE
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 120  # the edit is gone
    hpa = next(yaml.safe_load_all((out / "60-gateway-scaling.yaml").read_text()))
    assert hpa["spec"]["minReplicas"] == 4


def test_a_file_that_was_there_before_anyray_is_not_overwritten(tmp_path):
    out = tmp_path / "compose"
    out.mkdir()
    (out / "compose.yaml").write_text("services: {mine: {image: busybox}}\n")
    result = run_anyray("render", "compose", "-o", str(out))
    assert result.returncode == 1
    assert (out / "compose.yaml").read_text() == "services: {mine: {image: busybox}}\n"


def test_bad_set_and_bad_values_are_named(tmp_path):
    result = run_anyray("render", "gke", "-o", str(tmp_path / "x"), "--set", "deploy.replicas")
    assert result.returncode == 2
    assert "key=value" in result.stderr
    result = run_anyray("render", "gke", "-o", str(tmp_path / "x"), "--set", "deploy.namespace=Not_A_Name")
    assert result.returncode == 2
    assert "deploy.namespace" in result.stderr
    result = run_anyray("render", "gke", "-o", str(tmp_path / "x"), "--set", "deploy.replcas=3")
    assert result.returncode == 2
    assert "deploy.replcas" in result.stderr and "unknown key" in result.stderr
    assert not (tmp_path / "x").exists()


def test_the_project_flag_alone_routes_claude_to_vertex_in_that_project(tmp_path, fake, sa_key_file, start_gateway):
    """`render gke --set deploy.project=P` (what `deploy gke --project P` does) from a shell that exports no
    Google variable: the rendered config routes Claude models to Vertex in P, says so, and a gateway on that
    config sends a Claude call there. Upstream: the Vertex fake of anyray.testing (its URL and a key file
    replace the real endpoint and Workload Identity, nothing else)."""
    out = tmp_path / "gke"
    result = run_anyray("render", "gke", "-o", str(out), "--set", "deploy.project=proj-x")
    assert result.returncode == 0, result.stderr
    assert "routes (client asks for -> provider:upstream model):" in result.stdout
    assert "  claude-*  -> vertex:{model}" in result.stdout
    configmap = next(yaml.safe_load_all((out / "20-configmap.yaml").read_text()))
    runtime = yaml.safe_load(configmap["data"]["anyray.yaml"])
    assert runtime["providers"]["vertex"]["project"] == "proj-x"
    assert runtime["models"]["claude-*"]["provider"] == "vertex"

    runtime["providers"]["vertex"] |= {"base_url": f"{fake.url}/v1", "credentials_file": str(sa_key_file)}
    runtime["optimizer"] = {"enabled": False}
    runtime["gateway"] |= {"host": "127.0.0.1", "port": 0}
    gw = start_gateway(runtime)
    client = anthropic.Anthropic(base_url=gw.url, api_key="unused", max_retries=0)
    reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=32,
                                   messages=[{"role": "user", "content": "hi"}])
    assert reply.content[0].text
    assert fake.received[-1].path == (
        "/v1/projects/proj-x/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5:rawPredict")


def test_deploy_dry_run_prints_the_routes(tmp_path):
    result = run_anyray("deploy", "gke", "--project", "proj-y", "--dry-run", "-o", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    assert "# routes (client asks for -> provider:upstream model):" in result.stdout
    assert "#   claude-*  -> vertex:{model}" in result.stdout
