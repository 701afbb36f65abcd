"""`anyray up` as a user runs it: a real process, real ports, Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_HOME = tempfile.mkdtemp(prefix="anyray-home-")  # `anyray up` keeps its spend store here, not in ~/.anyray


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANYRAY_", "ANTHROPIC_", "GOOGLE_", "OPENAI_"))}
    env.update(extra, COLUMNS="200", NO_COLOR="1", ANYRAY_HOME=_HOME)
    return env


def _wait_for_output(proc: subprocess.Popen[str], needle: str, timeout: float = 20.0) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} never printed; output so far:\n{''.join(seen)}")


def test_up_serves_both_ports_prints_the_exports_and_stops_on_ctrl_c(tmp_path):
    gw_port, opt_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "anyray", "up", "--port", str(gw_port), "--optimizer-port", str(opt_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(ANTHROPIC_API_KEY="sk-ant-test-0000000000001234"),
    )
    try:
        banner = _wait_for_output(proc, "Ctrl-C")
        assert f"export ANTHROPIC_BASE_URL=http://127.0.0.1:{gw_port}" in banner
        assert f"export OPENAI_BASE_URL=http://127.0.0.1:{gw_port}/v1" in banner
        assert "anthropic" in banner and "ready" in banner and "...1234" in banner
        assert "sk-ant-test-0000000000001234" not in banner  # only the last four characters
        assert "claude-*" in banner
        assert httpx.head(f"http://127.0.0.1:{gw_port}/").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{gw_port}/healthz").json()["status"] == "ok"
        health = httpx.get(f"http://127.0.0.1:{opt_port}/healthz").json()
        assert health["protocolVersion"] == "1"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "anyray stopped" in out
    assert "Traceback" not in out


def test_up_with_a_bad_config_fails_with_the_key_not_a_traceback(tmp_path):
    path = tmp_path / "anyray.yaml"
    path.write_text("gateway:\n  prot: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "anyray", "up", "--config", str(path)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
    )
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "gateway.prot (line 2)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_up_on_a_taken_port_says_so(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "anyray", "up", "--port", str(port), "--optimizer-port", str(_free_port())],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_up():
    result = subprocess.run([sys.executable, "-m", "anyray", "--help"], capture_output=True, text=True, env=_env())
    assert result.returncode == 0
    assert "up" in result.stdout


def test_shell_completion_completes_commands_and_their_options():
    anyray = str(Path(sys.executable).parent / "anyray")  # the installed command: completion is keyed by its name
    env = {**os.environ, "_ANYRAY_COMPLETE": "complete_bash", "COMP_WORDS": "anyray re", "COMP_CWORD": "1"}
    done = subprocess.run([anyray], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.split() == ["render", "redirect"]
    env |= {"COMP_WORDS": "anyray render --f", "COMP_CWORD": "2"}
    done = subprocess.run([anyray], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.split() == ["--force"]
    script = subprocess.run([anyray, "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_ANYRAY_COMPLETE=complete_bash" in script.stdout


def test_help_shows_no_type_beside_a_flag():
    for argv in ([], ["render"], ["deploy", "gke"], ["keys", "create"], ["redirect"]):
        result = subprocess.run([sys.executable, "-m", "anyray", *argv, "--help"], capture_output=True, text=True,
                                env={**_env(), "COLUMNS": "120"}, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "--help" in result.stdout and "<bool>" not in result.stdout, argv
    render = subprocess.run([sys.executable, "-m", "anyray", "render", "--help"], capture_output=True, text=True,
                            env={**_env(), "COLUMNS": "120"}, timeout=60)
    assert "<path>" in render.stdout  # an option that takes a value still says what kind


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _ask_about_a_long_log(port: int) -> httpx.Response:
    """A long text, which the optimizer's decider decides; nothing listens upstream, so a 502 after that."""
    log = "\n".join(f"2026-12-07T10:00:{i % 60:02d}Z INFO worker-{i % 4} job {i} ok" for i in range(400))
    content = [{"type": "text", "text": log}, {"type": "text", "text": "job 7?"}]
    return httpx.post(f"http://127.0.0.1:{port}/v1/messages", timeout=20, json={
        "model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": content}]})


def _stop_and_see_the_decider_end(proc: subprocess.Popen[str], how: int, decider: int) -> None:
    proc.send_signal(how)
    proc.wait(timeout=20)
    deadline = time.monotonic() + 10
    while _alive(decider) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(decider)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_the_optimizers_decider_process_ends_with_anyray_up(tmp_path, how):
    """A long text is decided in the optimizer's decider process; Ctrl-C or a kill of `anyray up` (an OOM kill,
    a container stopped hard) leaves no decider behind."""
    gw_port, opt_port, closed = _free_port(), _free_port(), _free_port()
    (tmp_path / "anyray.yaml").write_text(
        f"providers: {{anthropic: {{base_url: 'http://127.0.0.1:{closed}', api_key: sk-ant-test-0000000000005678}}}}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "anyray", "up", "--config", str(tmp_path / "anyray.yaml"), "--port", str(gw_port),
         "--optimizer-port", str(opt_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
    try:
        _wait_for_output(proc, "Ctrl-C")
        assert _ask_about_a_long_log(gw_port).status_code == 502  # nothing upstream; the optimizer decided first
        worker = httpx.get(f"http://127.0.0.1:{gw_port}/healthz").json()["optimizer"]["worker"]
        assert worker["mode"] == "process" and _alive(worker["pid"])
        _stop_and_see_the_decider_end(proc, how, worker["pid"])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("command", [["up"], ["serve", "gateway"], ["serve", "optimizer"]], ids=" ".join)
def test_a_server_starts_its_decider_before_the_first_long_request(tmp_path, command):
    """A new replica's first long requests find the decider running: it starts once the server listens, not
    when the first long request arrives (its imports were ~0.5 s of that request's budget)."""
    port, opt_port, closed = _free_port(), _free_port(), _free_port()
    config = tmp_path / "anyray.yaml"
    config.write_text(
        f"providers: {{anthropic: {{base_url: 'http://127.0.0.1:{closed}', api_key: sk-ant-test-0000000000005678}}}}\n")
    argv = [*command, "--config", str(config), "--port", str(port)]
    if command == ["up"]:
        argv += ["--optimizer-port", str(opt_port)]
    proc = subprocess.Popen([sys.executable, "-m", "anyray", *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=_env())
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        _wait_for_output(proc, "Ctrl-C" if command == ["up"] else "listening on")
        worker: dict = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # no request sent: the decider starts on its own
            body = httpx.get(health, timeout=5).json()
            worker = body["worker"] if command == ["serve", "optimizer"] else body["optimizer"]["worker"]
            if worker.get("pid"):
                break
            time.sleep(0.05)
        assert worker.get("mode") == "process" and worker.get("pid"), worker
        assert _alive(worker["pid"])
        assert b"anyray.server.optimizer.decider" in Path(f"/proc/{worker['pid']}/cmdline").read_bytes()
        if command != ["serve", "optimizer"]:  # the first long request is decided by that decider, no other
            assert _ask_about_a_long_log(port).status_code == 502
            after = httpx.get(health, timeout=5).json()["optimizer"]["worker"]
            assert (after["pid"], after["deaths"]) == (worker["pid"], 0), after
        _stop_and_see_the_decider_end(proc, signal.SIGINT, worker["pid"])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
