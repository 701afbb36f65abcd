"""`python -m anyray.testing`: the fakes from a shell, as a demo or a benchmark starts them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import httpx

from tests.test_cli_up import _free_port


def test_sa_key_writes_a_private_key_file(tmp_path):
    out = tmp_path / "sa.json"
    subprocess.run(
        [sys.executable, "-m", "anyray.testing", "sa-key", "--token-uri", "http://127.0.0.1:1/token", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    info = json.loads(out.read_text())
    assert info["type"] == "service_account" and info["token_uri"] == "http://127.0.0.1:1/token"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_serve_answers_anthropic_and_openai_with_the_keys_it_was_given():
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "anyray.testing",
            "serve",
            "--port",
            str(port),
            "--anthropic-key",
            "ak",
            "--openai-key",
            "ok",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(url + "/_fake/requests")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        ok = httpx.post(url + "/v1/messages", json=body, headers={"x-api-key": "ak", "anthropic-version": "2023-06-01"})
        assert ok.status_code == 200 and "hi" in ok.json()["content"][0]["text"]
        bad = httpx.post(
            url + "/v1/messages", json=body, headers={"x-api-key": "no", "anthropic-version": "2023-06-01"}
        )
        assert bad.status_code == 401 and bad.json()["error"]["type"] == "authentication_error"
        chat = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "yo"}]},
            headers={"authorization": "Bearer ok"},
        )
        assert chat.json()["choices"][0]["message"]["content"].endswith("You said: yo.")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"Anthropic base URL:  http://127.0.0.1:{port}" in out
