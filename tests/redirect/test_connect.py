"""`anyray connect` on a temporary HOME: Claude Code's settings and the shell profile, idempotent,
previewed, reverted byte for byte, and a real `claude -p` that reaches the gateway through them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anyray.cli import app

GW = "http://127.0.0.1:18787"

SETTINGS = """{
  "theme": "dark",
  "env": {
    "ANTHROPIC_API_KEY": "sk-ant-the-users-own-key-0000",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "ANTHROPIC_BASE_URL": "https://api.anthropic.com"
  },
  "permissions": {
    "allow": [
      "Bash(git status)"
    ]
  }
}
"""

BASHRC = "# ~/.bashrc\nexport PATH=$HOME/bin:$PATH\nalias ll='ls -l'\n"


def _home(tmp_path: Path, settings: str | None = SETTINGS, bashrc: str | None = BASHRC) -> Path:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    if settings is not None:
        (home / ".claude" / "settings.json").write_text(settings)
    if bashrc is not None:
        (home / ".bashrc").write_text(bashrc)
    return home


def _connect(home: Path, *args: str):
    env = {"HOME": str(home), "SHELL": "/bin/bash", "COLUMNS": "200", "NO_COLOR": "1"}
    return CliRunner().invoke(app, ["connect", *args], env=env, catch_exceptions=False)


def _snapshot(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): p.read_text() for p in sorted(home.rglob("*")) if p.is_file()}


def test_connect_twice_is_once_and_revert_restores_both_files(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = _snapshot(home)

    first = _connect(home, "--gateway", GW)
    assert first.exit_code == 0, first.output
    once = _snapshot(home)
    second = _connect(home, "--gateway", GW)
    assert second.exit_code == 0, second.output
    assert "nothing to change" in second.output
    assert _snapshot(home) == once

    settings = json.loads(once[".claude/settings.json"])
    assert settings["env"]["ANTHROPIC_BASE_URL"] == GW
    assert settings["env"]["ANTHROPIC_API_KEY"] == "sk-ant-the-users-own-key-0000"
    assert settings["theme"] == "dark" and settings["permissions"] == {"allow": ["Bash(git status)"]}
    assert once[".claude/settings.json"] == SETTINGS.replace("https://api.anthropic.com", GW)  # one line moved
    bashrc = once[".bashrc"]
    assert bashrc.startswith(BASHRC)
    assert f"export ANTHROPIC_BASE_URL={GW}\n" in bashrc and f"export OPENAI_BASE_URL={GW}/v1\n" in bashrc
    exported = subprocess.run(
        ["bash", "-c", f"source {home / '.bashrc'} && echo $ANTHROPIC_BASE_URL $OPENAI_BASE_URL"],
        capture_output=True,
        text=True,
        env={"HOME": str(home), "PATH": os.environ["PATH"]},
    )
    assert exported.stdout.strip() == f"{GW} {GW}/v1"

    moved = _connect(home, "--gateway", "http://gw.example:8787")  # a new URL replaces the block in place
    assert moved.exit_code == 0, moved.output
    assert _snapshot(home)[".bashrc"].count("anyray connect >>>") == 1

    reverted = _connect(home, "--revert")
    assert reverted.exit_code == 0, reverted.output
    assert _snapshot(home) == before  # both files byte for byte, and no state file left behind


def test_dry_run_shows_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = _snapshot(home)
    result = _connect(home, "all", "--gateway", GW, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f'+    "ANTHROPIC_BASE_URL": "{GW}"' in result.output
    assert '-    "ANTHROPIC_BASE_URL": "https://api.anthropic.com"' in result.output
    assert f"+export OPENAI_BASE_URL={GW}/v1" in result.output
    assert "dry run: nothing was written" in result.output
    assert _snapshot(home) == before


def test_files_that_did_not_exist_or_lacked_a_final_newline(tmp_path: Path) -> None:
    home = _home(tmp_path, settings=None, bashrc="alias ll='ls -l'")  # no settings; no newline at the end
    before = _snapshot(home)
    assert _connect(home, "--gateway", GW).exit_code == 0
    assert json.loads((home / ".claude" / "settings.json").read_text()) == {"env": {"ANTHROPIC_BASE_URL": GW}}
    assert (home / ".bashrc").read_text().startswith("alias ll='ls -l'\n# >>> anyray connect >>>")
    assert _connect(home, "--revert").exit_code == 0
    assert _snapshot(home) == before


def test_revert_after_the_person_edited_settings_keeps_their_edit(tmp_path: Path) -> None:
    home = _home(tmp_path)
    assert _connect(home, "claude-code", "--gateway", GW).exit_code == 0
    path = home / ".claude" / "settings.json"
    data = json.loads(path.read_text())
    data["model"] = "claude-sonnet-4-5"  # edited by the person (or by Claude Code) after connect
    path.write_text(json.dumps(data, indent=2) + "\n")

    assert _connect(home, "claude-code", "--revert").exit_code == 0
    restored = json.loads(path.read_text())
    assert restored["model"] == "claude-sonnet-4-5"
    assert restored["env"] == json.loads(SETTINGS)["env"]
    assert not (home / ".anyray" / "connect.json").exists()


def test_a_settings_file_that_is_not_json_is_left_alone(tmp_path: Path) -> None:
    home = _home(tmp_path, settings="{ not json")
    result = _connect(home, "--gateway", GW)
    assert result.exit_code == 1
    assert "settings.json is not valid JSON" in result.output
    assert (home / ".claude" / "settings.json").read_text() == "{ not json"


@pytest.mark.npm
def test_claude_code_reaches_the_gateway_through_the_settings_alone(claude_bin, gateway, fake, tmp_path: Path):
    home = _home(tmp_path)
    result = _connect(home, "claude-code", "--gateway", gateway.url)
    assert result.exit_code == 0, result.output

    run = subprocess.run(  # no ANTHROPIC_* or other setting in the environment: only what connect wrote
        [str(claude_bin), "-p", "Name three rivers of Peru", "--output-format", "json"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(home)},
        cwd=home,
        timeout=120,
    )
    assert run.returncode == 0, f"claude failed:\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["is_error"] is False
    assert "Name three rivers of Peru" in out["result"]
    assert [r for r in fake.received if "Predict" in r.path], "the request never reached the upstream via the gateway"


VERTEX_SETTINGS = {"env": {"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "test-proj",
                           "CLOUD_ML_REGION": "us-east5", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1"}}


def test_claude_code_on_vertex_gets_the_vertex_base_url_too_and_revert_restores_it(tmp_path: Path) -> None:
    original = json.dumps(VERTEX_SETTINGS, indent=2) + "\n"
    home = _home(tmp_path, settings=original)
    result = _connect(home, "claude-code", "--gateway", GW)
    assert result.exit_code == 0, result.output
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    # on Vertex, Claude Code ignores ANTHROPIC_BASE_URL: the gateway's Vertex paths are under /v1
    assert env["ANTHROPIC_VERTEX_BASE_URL"] == f"{GW}/v1" and env["ANTHROPIC_BASE_URL"] == GW
    assert _connect(home, "claude-code", "--revert").exit_code == 0
    assert (home / ".claude" / "settings.json").read_text() == original
    # the Anthropic API user is not given a Vertex URL
    plain = _home(tmp_path / "plain")
    assert _connect(plain, "claude-code", "--gateway", GW).exit_code == 0
    assert "ANTHROPIC_VERTEX_BASE_URL" not in (plain / ".claude" / "settings.json").read_text()


def test_claude_code_on_vertex_reaches_the_gateway_through_the_settings_alone(claude_bin, gateway, fake,
                                                                             tmp_path: Path):
    home = _home(tmp_path, settings=json.dumps(VERTEX_SETTINGS, indent=2) + "\n")
    result = _connect(home, "claude-code", "--gateway", gateway.url)
    assert result.exit_code == 0, result.output
    run = subprocess.run(  # without connect this Claude Code would call aiplatform.googleapis.com, unreachable here
        [str(claude_bin), "-p", "Name three rivers of Chile", "--output-format", "json"],
        capture_output=True, text=True, env={"PATH": os.environ["PATH"], "HOME": str(home)}, cwd=home, timeout=120,
    )
    assert run.returncode == 0, f"claude failed:\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["is_error"] is False and "Name three rivers of Chile" in out["result"]
    assert [r for r in fake.received if "Predict" in r.path], "the request never reached the upstream via the gateway"
