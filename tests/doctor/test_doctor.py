"""`anyray doctor` against real things: temp configs, a real gateway on a free port, the fake upstream and
token endpoint (anyray.testing), stand-in `claude`/`docker` scripts on PATH, sockets that never answer."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from anyray.cli import app
from anyray.testing import make_service_account_key
from tests.conftest import ANTHROPIC_KEY, vertex_and_anthropic_config
from tests.kit import ServerThread

CLEAN_ENV = {"ANTHROPIC_BASE_URL": None, "OPENAI_BASE_URL": None, "ANTHROPIC_API_KEY": None, "OPENAI_API_KEY": None,
             "GOOGLE_CLOUD_PROJECT": None, "ANTHROPIC_VERTEX_PROJECT_ID": None, "ANYRAY_CONFIG": None,
             "GOOGLE_APPLICATION_CREDENTIALS": None, "CLOUD_ML_REGION": None}


def doctor(*args: str, env: dict | None = None) -> tuple[int, dict, str]:
    result = CliRunner().invoke(app, ["doctor", "--json", *args], env={**CLEAN_ENV, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output), result.output


def by_check(report: dict) -> dict[str, dict]:
    return {c["check"]: c for c in report["checks"]}


def write(tmp_path: Path, config: dict, name: str = "anyray.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stand_in(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


@pytest.fixture
def empty_path(tmp_path: Path) -> str:
    (tmp_path / "bin").mkdir(exist_ok=True)
    return str(tmp_path / "bin")


def test_json_shape_and_a_config_error_names_key_and_line(tmp_path, empty_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("gateway:\n  port: eighty\n")
    code, report, _ = doctor("--config", str(bad), env={"PATH": empty_path})
    assert code == 1 and report["ok"] is False
    assert all(set(c) == {"check", "status", "found", "fix"} for c in report["checks"])
    config = by_check(report)["config"]
    assert config["status"] == "fail" and "gateway.port (line 2)" in config["found"]


def test_every_model_must_map_to_a_configured_provider(tmp_path, empty_path):
    config = {"models": {"gpt-4o": {"provider": "openai"}}, "providers": {"anthropic": {"api_key": ANTHROPIC_KEY}}}
    _, report, _ = doctor("--config", write(tmp_path, config), env={"PATH": empty_path})
    checks = by_check(report)
    assert checks["model gpt-4o"]["status"] == "fail" and "OPENAI_API_KEY" in checks["model gpt-4o"]["fix"]
    ok = {"models": {"claude-*": {"provider": "anthropic"}}, "providers": {"anthropic": {"api_key": ANTHROPIC_KEY}}}
    _, report, output = doctor("--config", write(tmp_path, ok, "ok.yaml"), env={"PATH": empty_path})
    checks = by_check(report)
    assert checks["model map"]["status"] == "ok" and checks["config"]["status"] == "ok"
    assert checks["anthropic key"]["status"] == "ok" and checks["anthropic key"]["found"].endswith("(…AAAA)")
    assert ANTHROPIC_KEY not in output and ANTHROPIC_KEY[:-4] not in output


def test_a_live_gateway_its_ports_optimizer_and_fail_open_drill(fake, sa_key_file, start_gateway, tmp_path,
                                                                empty_path):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    config = vertex_and_anthropic_config(fake, sa_key_file, gateway__port=gw.server.port,
                                         optimizer__port=free_port())
    env = {"PATH": empty_path, "ANTHROPIC_BASE_URL": gw.url, "OPENAI_BASE_URL": fake.url + "/v1"}
    code, report, output = doctor("--config", write(tmp_path, config), env=env)
    checks = by_check(report)
    assert checks[f"port {gw.server.port}"] == {"check": f"port {gw.server.port}", "status": "ok",
                                                "found": "held by a healthy anyray gateway", "fix": ""}
    assert checks["gateway"]["status"] == "ok" and "vertex=ready" in checks["gateway"]["found"]
    assert checks["optimizer"] == {"check": "optimizer", "status": "ok", "found": "in-process, protocol v1", "fix": ""}
    assert checks["fail-open"]["status"] == "ok" and "forwarded untouched" in checks["fail-open"]["found"]
    assert checks["vertex credentials"]["status"] == "ok" and "service-account key file" in checks[
        "vertex credentials"]["found"]
    assert checks["ANTHROPIC_BASE_URL"]["status"] == "ok"
    assert checks["OPENAI_BASE_URL"]["status"] == "warn" and "not a live anyray gateway" in checks[
        "OPENAI_BASE_URL"]["found"]
    assert code == 0, output
    private = json.loads(sa_key_file.read_text())["private_key"].splitlines()[1]
    assert ANTHROPIC_KEY not in output and private not in output
    assert not any(t.token in output for t in fake.tokens_issued)


def test_port_taken_by_something_else_and_an_optimizer_with_another_protocol(fake, sa_key_file, start_gateway,
                                                                             tmp_path, empty_path):
    async def old_health(_):
        return JSONResponse({"status": "ok", "protocolVersion": "0"})

    async def refuse(_):
        return JSONResponse({"error": "nope"}, 400)

    old = Starlette(routes=[Route("/healthz", old_health), Route("/v1/optimize", refuse, methods=["POST"])])
    with ServerThread(old) as optimizer, socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, optimizer__url=optimizer.url))
        config = vertex_and_anthropic_config(fake, sa_key_file, gateway__port=taken)
        code, report, _ = doctor("--config", write(tmp_path, config), "--gateway", gw.url, "--timeout", "1",
                                 env={"PATH": empty_path})
    checks = by_check(report)
    assert code == 1
    assert checks[f"port {taken}"]["status"] == "fail"
    assert checks["optimizer"]["status"] == "fail" and "protocol v0" in checks["optimizer"]["found"]
    assert checks["fail-open"]["status"] == "ok"  # a refusing optimizer still leaves fail-open armed


def test_a_hung_gateway_fails_within_the_bound(tmp_path, empty_path):
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()  # accepts connections, never answers
        started = time.monotonic()
        code, report, _ = doctor("--gateway", f"http://127.0.0.1:{hung.getsockname()[1]}", "--timeout", "1",
                                 env={"PATH": empty_path})
        elapsed = time.monotonic() - started
    assert by_check(report)["gateway"]["status"] == "fail" and code == 1
    assert elapsed < 8, f"doctor took {elapsed:.1f}s against a hung endpoint"


def test_vertex_credentials_missing_and_token_endpoint_unreachable(tmp_path, empty_path):
    config = {"providers": {"vertex": {"project": "p", "credentials_file": str(tmp_path / "missing.json")}}}
    _, report, _ = doctor("--config", write(tmp_path, config), env={"PATH": empty_path})
    assert by_check(report)["vertex credentials"]["status"] == "fail"

    dead = make_service_account_key(token_uri=f"http://127.0.0.1:{free_port()}/token", project_id="p")
    key = tmp_path / "dead.json"
    key.write_text(json.dumps(dead))
    config = {"providers": {"vertex": {"project": "p", "credentials_file": str(key)}}}
    _, report, output = doctor("--config", write(tmp_path, config, "dead.yaml"), env={"PATH": empty_path})
    token = by_check(report)["vertex token"]
    assert token["status"] == "fail" and "token endpoint is unreachable" in token["found"]
    assert dead["private_key"].splitlines()[1] not in output

    _, report, _ = doctor("--config", write(tmp_path, {"providers": {"vertex": {"credentials_file": str(key)}},
                                                       "models": {"c": {"provider": "vertex"}}}, "noproj.yaml"),
                          env={"PATH": empty_path})
    assert by_check(report)["vertex project"]["status"] == "fail"


def test_claude_and_docker_stand_ins(tmp_path):
    bin_dir = tmp_path / "bin"
    stand_in(bin_dir, "claude", 'echo "2.1.197 (Claude Code)"')
    stand_in(bin_dir, "docker", 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; '
                                "exit 1")
    _, report, _ = doctor("--compose", env={"PATH": str(bin_dir)})
    checks = by_check(report)
    assert checks["claude"]["status"] == "ok" and "2.1.197" in checks["claude"]["found"]
    assert checks["docker"]["status"] == "fail" and "engine is not reachable" in checks["docker"]["found"]

    stand_in(bin_dir, "docker", 'echo "28.2.2"')
    _, report, _ = doctor("--compose", env={"PATH": str(bin_dir)})
    assert by_check(report)["docker"] == {"check": "docker", "status": "ok", "found": "engine 28.2.2 reachable",
                                          "fix": ""}
    (bin_dir / "docker").unlink()
    (bin_dir / "claude").unlink()
    _, report, _ = doctor("--compose", env={"PATH": str(bin_dir)})
    assert by_check(report)["docker"]["status"] == "fail" and by_check(report)["claude"]["status"] == "warn"


def test_an_extra_the_config_needs_is_reported(tmp_path):
    config = write(tmp_path, {"cache": {"url": "redis://127.0.0.1:6379/0"}})
    shim = tmp_path / "shim" / "redis"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('redis is not installed here')\n")
    run = subprocess.run([sys.executable, "-m", "anyray", "doctor", "--json", "--config", config],
                         capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(tmp_path / "shim"), "PATH": str(tmp_path), "HOME": str(tmp_path)})
    extra = by_check(json.loads(run.stdout))["extra: redis"]
    assert extra["status"] == "fail" and extra["fix"] == "pip install 'anyray[redis]'"
    _, report, _ = doctor("--config", config, env={"PATH": str(tmp_path)})
    assert by_check(report)["extra: redis"]["status"] == "ok"


def test_threads_do_not_linger_after_a_hang(empty_path):
    before = threading.active_count()
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        doctor("--gateway", f"http://127.0.0.1:{hung.getsockname()[1]}", "--timeout", "1", env={"PATH": empty_path})
    time.sleep(1.5)
    assert threading.active_count() <= before + 1


def test_gateway_keys_check_follows_the_listen_address_and_the_keys_store(tmp_path: Path):
    store = f"sqlite:///{tmp_path / 'spend.db'}"
    exposed = write(tmp_path, {"gateway": {"host": "0.0.0.0"}, "store": {"url": store}})
    _, report, _ = doctor("--config", exposed, "--gateway", "http://127.0.0.1:9")
    check = by_check(report)["gateway keys"]
    assert check["status"] == "warn" and "0.0.0.0" in check["found"] and "anyray keys create" in check["fix"]

    made = CliRunner().invoke(app, ["keys", "create", "--team", "search", "--store", store, "--json"])
    secret = json.loads(made.output)["secret"]
    _, report, output = doctor("--config", exposed, "--gateway", "http://127.0.0.1:9")
    check = by_check(report)["gateway keys"]
    assert check["status"] == "warn" and "1 active key(s) for 1 team(s) (search)" in check["found"]
    assert "--admin" in check["fix"] and secret not in output and secret[-4:] not in output

    key_id = json.loads(made.output)["id"]
    assert CliRunner().invoke(app, ["keys", "revoke", key_id, "--store", store]).exit_code == 0
    code, report, _ = doctor("--config", exposed, "--gateway", "http://127.0.0.1:9")
    assert by_check(report)["gateway keys"]["status"] == "fail" and code != 0


def test_spend_store_check_says_whether_it_answers_and_what_waits_in_spill_files(tmp_path: Path):
    from anyray.store import SpendRecord, open_store
    from anyray.store.migrations import LATEST
    from anyray.store.spill import Spill

    url = f"sqlite:///{tmp_path / 'spend.db'}"
    spill = tmp_path / "spill"
    config = write(tmp_path, {"store": {"url": url, "spill_dir": str(spill)}})
    _, report, _ = doctor("--config", config, "--gateway", "http://127.0.0.1:9")
    fresh = by_check(report)["spend store"]
    assert fresh["status"] == "ok" and "creates it" in fresh["found"]

    store = open_store(url)
    store.migrate()
    store.close()
    # a gateway that stopped while the store was down left two records on disk
    left = Spill(spill, 1 << 20)
    left.append([SpendRecord(1, f"r{i}", "anthropic", "/v1/messages", "claude-sonnet-4-5", 200)
                 for i in range(2)])
    left.close()
    _, report, _ = doctor("--config", config, "--gateway", "http://127.0.0.1:9")
    checks = by_check(report)
    assert checks["spend store"] == {"check": "spend store", "status": "ok",
                                     "found": f"answers; schema version {LATEST}", "fix": ""}
    assert checks["spend store spill"]["status"] == "warn"
    assert checks["spend store spill"]["found"] == f"2 record(s) wait in 1 spill file(s) in {spill}"

    down = write(tmp_path, {"store": {"url": "postgresql://anyray@127.0.0.1:1/anyray", "spill_dir": str(spill)}},
                 name="down.yaml")
    code, report, _ = doctor("--config", down, "--gateway", "http://127.0.0.1:9")
    check = by_check(report)["spend store"]
    assert code != 0 and check["status"] == "fail" and "Connection refused" in check["found"]


def test_egress_says_direct_or_which_proxy_and_whether_it_answers(tmp_path, empty_path):
    config = {"providers": {"anthropic": {"api_key": ANTHROPIC_KEY},
                            "openai": {"api_key": "sk-test-openai-key-0000000000000000"}},
              "models": {"claude-*": {"provider": "anthropic"}}}
    path = write(tmp_path, config)
    no_proxies = {name: None for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                                          "all_proxy", "NO_PROXY", "no_proxy")}
    _, report, _ = doctor("--config", path, env={"PATH": empty_path, **no_proxies})
    checks = by_check(report)
    assert checks["egress: anthropic"]["found"] == "api.anthropic.com:443 directly (no proxy applies)"

    with socket.socket() as listening:  # a proxy that accepts connections (what the check looks at)
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        env = {"PATH": empty_path, **no_proxies, "HTTPS_PROXY": f"http://svc:s3cret@127.0.0.1:{port}",
               "no_proxy": "api.openai.com"}
        _, report, output = doctor("--config", path, env=env)
    checks = by_check(report)
    assert checks["egress: anthropic"]["status"] == "ok"
    assert f"through proxy 127.0.0.1:{port} with credentials" in checks["egress: anthropic"]["found"]
    assert checks["egress: openai"]["found"].endswith("directly (no proxy applies)")
    assert "s3cret" not in output

    env = {"PATH": empty_path, **no_proxies, "HTTPS_PROXY": f"http://127.0.0.1:{free_port()}"}
    _, report, _ = doctor("--config", path, env=env)
    assert by_check(report)["egress: anthropic"]["status"] == "fail"
    assert "unreachable" in by_check(report)["egress: anthropic"]["found"]

    env = {"PATH": empty_path, **no_proxies, "ALL_PROXY": "socks5://127.0.0.1:1080"}
    code, report, _ = doctor("--config", path, env=env)
    assert code == 1 and "only http:// proxies" in by_check(report)["egress"]["found"]
