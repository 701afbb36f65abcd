"""`anyray up` with no store configured keeps spend in $ANYRAY_HOME/spend.db, flushed at Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import anthropic
import yaml

from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY
from tests.test_cli_up import _free_port, _wait_for_output


def test_up_records_spend_in_the_default_store_and_spend_reads_it(fake, tmp_path):
    home = tmp_path / "anyray-home"
    config = tmp_path / "anyray.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "providers": {"anthropic": {"base_url": fake.url, "api_key": ANTHROPIC_KEY}},
                "models": {"claude-*": {"provider": "anthropic"}},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANYRAY_", "ANTHROPIC_", "GOOGLE_", "OPENAI_"))}
    env.update(ANYRAY_HOME=str(home), COLUMNS="200", NO_COLOR="1")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "anyray", "up", "-c", str(config), "--port", str(port),
         "--optimizer-port", str(_free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        banner = _wait_for_output(proc, "Ctrl-C")
        assert f"spend store sqlite:///{home}/spend.db" in banner
        client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key=CLIENT_KEY, max_retries=0)
        message = client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=20,
            messages=[{"role": "user", "content": "hello"}],
            extra_headers={"x-anyray-metadata": "team=laptop"},
        )
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert (home / "spend.db").exists()

    result = subprocess.run(
        [sys.executable, "-m", "anyray", "spend", "--json", "--since", "all", "--by", "team"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["store"] == f"sqlite:///{home}/spend.db"
    [group] = doc["groups"]
    assert group["group"] == "laptop" and group["requests"] == 1
    assert group["input_tokens"] == message.usage.input_tokens
    # claude-haiku-4-5 on the Anthropic API: $1/MTok in, $5/MTok out
    assert group["cost_micros"] == message.usage.input_tokens * 1 + message.usage.output_tokens * 5
