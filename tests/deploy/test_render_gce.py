"""`anyray render gce`: the VM's cloud-init user-data and the stack it carries, validated offline.

The user-data is validated against cloud-init's own JSON Schema (vendored from Debian's cloud-init
package, tests/deploy/schemas/README.md), with unknown top-level keys refused too; the Compose file it
writes against the Compose specification, as for `render compose`. The script that makes the secrets
on the VM is run for real with bash, against a stand-in metadata server on loopback.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import subprocess
import threading
from pathlib import Path

import jsonschema
import pytest
import yaml

from anyray.deploy.gce_render import user_data_files
from tests.deploy.conftest import CONFIGS, SECRETS, clean_env, run_anyray, validate_compose

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "cloud-config-v1.json").read_text())
HOST_IP = "${ANYRAY_HOST_IP:?the VM's internal address, written by prepare.sh}"


def validate_cloud_config(doc: dict) -> None:
    """cloud-init's schema, plus what `cloud-init schema` reports and the schema file alone does not: a
    top-level key no module defines (a misspelt `write_file:` would otherwise pass and do nothing)."""
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    known = {key for part in SCHEMA["$defs"].values() for key in part.get("properties", {})}
    unknown = set(doc) - known
    if unknown:
        raise jsonschema.ValidationError(f"unknown top-level keys: {sorted(unknown)}")


def render_gce(tmp_path: Path, name: str, *sets: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(CONFIGS[name]))
    out = tmp_path / f"gce-{name}"
    args = [a for s in sets for a in ("--set", s)]
    result = run_anyray("render", "gce", "-c", str(config), "-o", str(out), *args,
                        env=clean_env(OPENAI_API_KEY=SECRETS["openai"], ANTHROPIC_API_KEY=SECRETS["anthropic"]))
    assert result.returncode == 0, result.stderr
    return out, result


def test_the_user_data_is_valid_cloud_config_and_carries_exactly_the_reviewed_files(config_name, tmp_path):
    out, result = render_gce(tmp_path, config_name)
    text = (out / "cloud-config.yaml").read_text()
    assert text.splitlines()[0] == "#cloud-config"  # cloud-init reads user-data as cloud-config only with it
    doc = yaml.safe_load(text)
    validate_cloud_config(doc)
    assert doc["runcmd"] == [["systemctl", "daemon-reload"], ["systemctl", "start", "anyray.service"]]
    written = user_data_files(text)
    reviewed = {f"/var/lib/anyray/stack/{p.relative_to(out / 'stack')}": p.read_text()
                for p in (out / "stack").rglob("*") if p.is_file()}
    reviewed["/var/lib/anyray/prepare.sh"] = (out / "prepare.sh").read_text()
    reviewed["/etc/systemd/system/anyray.service"] = (out / "anyray.service").read_text()
    assert written == reviewed  # byte for byte: what a person reads in DIR is what the VM gets
    modes = {f["path"]: f["permissions"] for f in doc["write_files"]}
    assert modes["/var/lib/anyray/prepare.sh"] == "0700"
    assert {p for p in written if p.startswith("/var/lib/anyray/stack/")} >= {
        "/var/lib/anyray/stack/compose.yaml", "/var/lib/anyray/stack/anyray.yaml", "/var/lib/anyray/stack/.env"}
    assert "cloud-config.yaml is the VM's user-data" in result.stdout


def test_the_cloud_config_validator_is_not_vacuous():
    good = {"write_files": [{"path": "/x", "content": "y"}], "runcmd": [["true"]]}
    validate_cloud_config(good)
    for bad in ({"write_files": [{"path": "/x", "contents": "y"}]},  # misspelt key of a module
                {"write_files": [{"content": "y"}]},  # no path
                {"write_file": [{"path": "/x"}]},  # misspelt module
                {"runcmd": "systemctl start x"}):  # not a list
        with pytest.raises(jsonschema.ValidationError):
            validate_cloud_config(bad)


def test_the_stack_is_valid_compose_with_the_gateway_on_the_internal_address_only(config_name, tmp_path):
    out, _ = render_gce(tmp_path, config_name)
    compose = yaml.safe_load((out / "stack" / "compose.yaml").read_text())
    validate_compose(compose)
    assert compose["services"]["gateway"]["ports"] == [f"{HOST_IP}:8787:8787"]
    assert compose["services"]["litellm"]["ports"] == [f"{HOST_IP}:4000:4000"]
    assert "ports" not in compose["services"]["optimizer"]
    # nothing is built on the VM; the Docker Hub images come from Google's cache, reachable without an address
    for service in compose["services"].values():
        assert "build" not in service
    assert compose["services"]["postgres"]["image"] == "mirror.gcr.io/library/postgres:17-alpine"
    assert compose["services"]["redis"]["image"] == "mirror.gcr.io/library/redis:7-alpine"
    # the spend store lives in a named volume: Docker's, on the boot persistent disk
    assert "gateway-data:/var/lib/anyray" in compose["services"]["gateway"]["volumes"]
    runtime = yaml.safe_load((out / "stack" / "anyray.yaml").read_text())
    project = CONFIGS[config_name]["deploy"]["project"]
    assert runtime["providers"]["vertex"]["project"] == project
    assert "credentials_file" not in runtime["providers"]["vertex"]  # the VM's service account signs


def test_no_secret_and_no_key_file_in_any_rendered_file(tmp_path):
    out, result = render_gce(tmp_path, "stores")  # its config holds an Anthropic key and a Vertex key file
    assert "providers.vertex.credentials_file is dropped on GCE" in result.stdout
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for secret in SECRETS.values():
                assert secret not in text, path
            assert "/home/me/keys/sa.json" not in text and "vertex-key.json" not in text, path
            # the token, the console key, the database password: made on the VM, never rendered
            assert not re.search(r"(TOKEN|SECRET|PASSWORD)=[A-Za-z0-9_-]{16,}", text), path
    assert SECRETS["anthropic"] not in result.stdout + result.stderr


def test_the_unit_runs_compose_from_the_docker_cli_image_and_pulls_from_artifact_registry(tmp_path):
    out, _ = render_gce(tmp_path, "vertex-only")  # image: us-docker.pkg.dev/proj-a/anyray/anyray:0.1.0
    unit = (out / "anyray.service").read_text()
    starts = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert len(starts) == 1
    argv = shlex.split(starts[0])
    assert argv[:3] == ["/usr/bin/docker", "run", "--rm"]
    assert argv[-5:] == ["mirror.gcr.io/library/docker:28-cli", "compose", "up", "-d", "--wait"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in argv
    assert argv[argv.index("--env-file") + 1] == "/var/lib/anyray/stack/host.env"
    assert "ExecStartPre=/usr/bin/docker-credential-gcr configure-docker --registries us-docker.pkg.dev" in unit
    assert "ExecStartPre=/usr/bin/docker pull us-docker.pkg.dev/proj-a/anyray/anyray:0.1.0" in unit
    # an image that names no registry: no pull step, and render says the VM cannot pull it
    out, result = render_gce(tmp_path, "litellm")
    assert "docker-credential-gcr" not in (out / "anyray.service").read_text()
    assert "image anyray:0.1.0 names no registry, so the VM cannot pull it" in result.stdout


class _Metadata(http.server.BaseHTTPRequestHandler):
    """The metadata server's answer to the one question prepare.sh asks, refusing (as the real one does) a
    request without the Metadata-Flavor header."""

    def do_GET(self) -> None:
        ok = self.headers.get("Metadata-Flavor") == "Google" and self.path.endswith("/network-interfaces/0/ip")
        body = b"10.128.0.9" if ok else b"forbidden"
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metadata_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")


@pytest.mark.parametrize("postgres", [False, True])
def test_prepare_makes_the_secrets_on_the_vm_once_and_privately(tmp_path, metadata_server, postgres):
    out, _ = render_gce(tmp_path, "litellm", f"deploy.postgres={str(postgres).lower()}")
    stack = tmp_path / "vm-stack"
    stack.mkdir()
    env = {"PATH": os.environ["PATH"], "ANYRAY_STACK_DIR": str(stack), "GCE_METADATA_HOST": metadata_server}

    def prepare() -> None:
        result = subprocess.run(["bash", str(out / "prepare.sh")], env=env, capture_output=True, text=True,
                                timeout=30)
        assert result.returncode == 0, result.stderr

    prepare()
    assert _env_file(stack / "host.env") == {"ANYRAY_HOST_IP": "10.128.0.9"}
    token = _env_file(stack / "optimizer.env")["ANYRAY_OPTIMIZER_TOKEN"]
    assert re.fullmatch(r"[A-Za-z0-9]{43}", token)
    app = _env_file(stack / "anyray.env")
    assert re.fullmatch(r"[A-Za-z0-9]{43}", app["ANYRAY_CONSOLE_SECRET"]) and app["ANYRAY_CONSOLE_SECRET"] != token
    secret_files = ["optimizer.env", "anyray.env"] + (["postgres.env"] if postgres else [])
    if postgres:
        assert app["PGPASSWORD"] == _env_file(stack / "postgres.env")["POSTGRES_PASSWORD"]
    else:
        assert "PGPASSWORD" not in app and not (stack / "postgres.env").exists()
    for name in secret_files:
        assert (stack / name).stat().st_mode & 0o777 == 0o600, name

    before = {name: (stack / name).read_text() for name in secret_files}
    prepare()  # a reboot: the same secrets, not new ones
    assert {name: (stack / name).read_text() for name in secret_files} == before
