"""`anyray up --compose`: a clear error and a next step without Docker; the compose call with it."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import clean_env, run_anyray, validate_compose
from tests.deploy.standins import install, standin_env

ROOT = Path(__file__).resolve().parents[2]


def _only_python_on_path(tmp_path: Path) -> str:
    """A PATH with no docker on it (the CLI is started by absolute interpreter path)."""
    empty = tmp_path / "no-docker-bin"
    empty.mkdir(exist_ok=True)
    return str(empty)


def test_no_docker_installed_says_so_and_what_to_do(tmp_path):
    env = clean_env(ANYRAY_HOME=str(tmp_path / "home"), PATH=_only_python_on_path(tmp_path))
    result = run_anyray("up", "--compose", env=env)
    assert result.returncode == 1
    assert "Docker is not installed" in result.stderr
    assert "next:" in result.stderr and "anyray up` without --compose" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "home").exists()  # nothing rendered for a stack that cannot start


def test_engine_not_running_is_named_with_dockers_own_message(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install(bin_dir, "docker")
    env = standin_env(bin_dir, tmp_path / "state", tmp_path / "calls.jsonl", clean_env(ANYRAY_HOME=str(tmp_path)))
    result = run_anyray("up", "--compose", env=env | {"STANDIN_DOCKER_ENGINE": "down"})
    assert result.returncode == 1
    assert "Docker is installed but its engine is not running" in result.stderr
    assert "Cannot connect to the Docker daemon" in result.stderr
    assert "Start Docker Desktop" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_real_docker_cli_without_an_engine(tmp_path):
    """This machine's own docker CLI, if it has one and no engine answers (CI's machine has neither)."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on this machine (the no-Docker case is tested above)")
    if subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0:
        pytest.skip("a Docker engine is running here; not starting real containers from a test")
    result = run_anyray("up", "--compose", env=clean_env(ANYRAY_HOME=str(tmp_path)))
    assert result.returncode == 1
    assert "engine is not running" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_compose_plugin_is_named(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install(bin_dir, "docker")
    env = standin_env(bin_dir, tmp_path / "state", tmp_path / "calls.jsonl", clean_env(ANYRAY_HOME=str(tmp_path)))
    result = run_anyray("up", "--compose", env=env | {"STANDIN_DOCKER_COMPOSE": "missing"})
    assert result.returncode == 1
    assert "Docker Compose v2 is missing" in result.stderr


def test_with_docker_it_renders_into_the_work_folder_and_runs_compose_up_there(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install(bin_dir, "docker")
    home = tmp_path / "home"
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({"deploy": {"postgres": True}}))
    env = standin_env(bin_dir, tmp_path / "state", tmp_path / "calls.jsonl", clean_env(ANYRAY_HOME=str(home)))
    env["ANTHROPIC_API_KEY"] = "sk-ant-from-my-shell-3333"
    result = run_anyray("up", "--compose", "-c", str(config), env=env)
    assert result.returncode == 0, result.stdout + result.stderr

    work = home / "compose" / "anyray"
    up = json.loads((tmp_path / "state" / "compose-up").read_text())
    assert Path(up["cwd"]) == work
    # running from this source tree, compose builds the image from its Dockerfile
    assert up["args"] == ["compose", "--profile", "postgres", "up", "-d", "--wait", "--build"]
    assert f"$ cd {work} && docker compose --profile postgres up -d --wait --build" in result.stdout
    compose = yaml.safe_load((work / "compose.yaml").read_text())
    validate_compose(compose)
    assert compose["services"]["gateway"]["build"] == {"context": str(ROOT)}
    assert "sk-ant-from-my-shell-3333" not in (work / "compose.yaml").read_text()

    # the secrets went to anyray.env, readable by its owner only, with a generated database password
    env_file = work / "anyray.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if not line.startswith("#"))
    assert values["ANTHROPIC_API_KEY"] == "sk-ant-from-my-shell-3333"
    db_file = work / "postgres.env"
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    db_values = dict(line.split("=", 1) for line in db_file.read_text().splitlines() if not line.startswith("#"))
    assert set(db_values) == {"POSTGRES_PASSWORD"}  # the database container gets its password, no provider key
    assert len(db_values["POSTGRES_PASSWORD"]) >= 24 and values["PGPASSWORD"] == db_values["POSTGRES_PASSWORD"]
    # the optimizer's file holds its service token and nothing else; the gateway reads that same file
    # (compose.yaml), so the token lives in one place only
    opt_file = work / "optimizer.env"
    assert stat.S_IMODE(opt_file.stat().st_mode) == 0o600
    opt_values = dict(line.split("=", 1) for line in opt_file.read_text().splitlines() if not line.startswith("#"))
    assert set(opt_values) == {"ANYRAY_OPTIMIZER_TOKEN"}
    assert len(opt_values["ANYRAY_OPTIMIZER_TOKEN"]) >= 32
    assert "ANYRAY_OPTIMIZER_TOKEN" not in values
    assert {"path": "optimizer.env", "required": True} in compose["services"]["gateway"]["env_file"]

    # a second run keeps the user's env file as it is
    env_file.write_text("ANTHROPIC_API_KEY=edited\n")
    again = run_anyray("up", "--compose", "-c", str(config), env=env)
    assert again.returncode == 0, again.stderr
    assert env_file.read_text() == "ANTHROPIC_API_KEY=edited\n"
