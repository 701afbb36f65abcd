"""Secrets hygiene: credentials are masked in every log record, and the suite's log scan really captures.

The scan itself (tests/logscan.py) runs over the whole test run; these tests prove its two halves:
the capture sees server-side lines at every level (so a leaked prompt would be found), and the
redaction installed by every entry point (CLI, gateway app, optimizer app) masks credentials in
messages, args, exception text and stacks.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import uuid

import anthropic
import pytest

from anyray.logs import MASK, redact
from tests import logscan
from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY

GATEWAY_KEY = "ark_" + "Zx9" * 13 + "q"
GOOGLE_TOKEN = "ya29.a0AfB_byC-fake-token-0123456789abcdef"
OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
SECRETS = (ANTHROPIC_KEY, CLIENT_KEY, GATEWAY_KEY, GOOGLE_TOKEN, OPENAI_KEY, "MIIEvQIBADANBgkqhkiG9w0BAQEF")


@pytest.mark.parametrize(
    "text",
    [
        f"x-api-key: {CLIENT_KEY}",
        f"headers={{'x-api-key': '{ANTHROPIC_KEY}', 'anthropic-version': '2023-06-01'}}",
        f"Authorization: Bearer {GATEWAY_KEY}",
        f'{{"authorization": "Bearer {GOOGLE_TOKEN}"}}',
        f"token {GOOGLE_TOKEN} expires soon",
        f"openai key {OPENAI_KEY}",
        f"service account {PEM}",
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEF\\n-----END PRIVATE KEY-----\\n"}',
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS (cut)",
        "postgresql://anyray:s3cretpassw0rd@db:5432/spend",
        "client_secret=abcdefghijklmnop&refresh_token=1//0gabcdefghijk",
        "api_key=AIzaSyA-abcdefghijklmnopqrstuvwxyz0123",
    ],
)
def test_redact_masks_every_kind_of_credential(text):
    clean = redact(text)
    assert MASK in clean or "[private key]" in clean
    for secret in (*SECRETS, "s3cretpassw0rd", "abcdefghijklmnop", "1//0gabcdefghijk", "AIzaSyA-abcdefghij"):
        assert secret not in clean, clean


def test_redact_leaves_ordinary_lines_alone():
    line = "spend store unreachable; 12 record(s) waiting, model claude-sonnet-4-5, request req_01ABC, key key_3f2a"
    assert redact(line) == line


ENTRY_POINTS = {
    "gateway app": "from anyray.config import Config\n"
    "from anyray.server.gateway.app import create_gateway_app\ncreate_gateway_app(Config())",
    "optimizer app": "from anyray.server.optimizer.app import create_optimizer_app\ncreate_optimizer_app()",
    "cli": "import sys\nimport anyray.cli\nsys.argv = ['anyray', '--version']\n"
    "try:\n    anyray.cli.main()\nexcept SystemExit:\n    pass",
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_installs_the_redaction(entry):
    """A fresh process per entry point: the redaction is on because that entry point put it there."""
    leak = (
        "import logging\nlog = logging.getLogger('anyray.leaktest')\n"
        "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(message)s')\n"
        "logging.getLogger().setLevel(logging.DEBUG)\n"
        f"log.debug('upstream key %s', {ANTHROPIC_KEY!r})\n"
        f"log.info('caller said Authorization: Bearer {GATEWAY_KEY}')\n"
        f"try:\n    raise ValueError('bad token ' + {GOOGLE_TOKEN!r})\n"
        "except ValueError:\n    log.exception('failed')\n"
        f"log.warning('stack', stack_info=True, extra={{'x': 1}})  # {OPENAI_KEY}\n"
    )
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "ANYRAY_HOME": "/nonexistent-anyray-home"}
    result = subprocess.run(
        [sys.executable, "-c", ENTRY_POINTS[entry] + "\n" + leak], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert "upstream key sk-ant-***" in out and "Bearer ***" in out and "ya29.***" in out
    for secret in SECRETS:
        assert secret not in out, out


def test_the_scan_captures_server_side_lines_at_every_level(gateway):
    """A prompt text logged anywhere on the server side would be found: capture is real, then forgotten."""
    marker = f"logscan-selftest-{uuid.uuid4().hex}"
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    assert client.messages.create(
        model="claude-haiku-4-5", max_tokens=20, messages=[{"role": "user", "content": marker}]
    ).content
    logging.getLogger("anyray.gateway").debug("debug %s", marker)
    logging.getLogger("uvicorn.error").warning("uvicorn %s", marker)
    logging.getLogger("aiohttp.client").info("aiohttp %s", marker)
    try:
        raise RuntimeError(marker)
    except RuntimeError:
        logging.getLogger("anyray.store").exception("boom")
    hits = logscan.CAPTURE.find([marker])
    assert len(hits) >= 4, hits  # the request itself logged nothing with it (else more hits)
    assert any(line.startswith("uvicorn.error") for _, line in hits)
    assert any("Traceback" in line for _, line in hits)
    assert logscan.CAPTURE.forget(marker) == len(hits)
    assert not logscan.CAPTURE.find([marker])

    # credentials logged on the server side arrive masked (the gateway installed the redaction)
    logging.getLogger("anyray.gateway").error("forwarding x-api-key=%s", ANTHROPIC_KEY)
    assert not logscan.CAPTURE.find([ANTHROPIC_KEY])
    assert logscan.CAPTURE.find(["forwarding x-api-key=***"])


def test_the_scan_collects_secret_and_prompt_constants():
    from tests.reliability import test_store_faults

    values = logscan.collected()
    assert {ANTHROPIC_KEY, CLIENT_KEY, GATEWAY_KEY, GOOGLE_TOKEN} <= values
    assert test_store_faults.PROMPT in values


LEAKING_TEST = """
import logging

LEAKED_SECRET_KEY = "sk-ant-api03-leaked-in-a-worker-0000000000000000"


def test_logs_a_secret():
    logging.getLogger("anyray.gateway").info("forwarding %s", LEAKED_SECRET_KEY)
"""


@pytest.mark.parametrize("spread", [["-p", "no:xdist"], ["-n", "2"]], ids=["one process", "xdist workers"])
def test_a_leak_fails_the_run_in_one_process_and_in_xdist_workers(tmp_path, spread):
    """The suite runs in xdist workers: a secret a worker logs must fail the whole run, not only the worker's
    own (unreported) session. A throwaway project holding the real plugin and one leaking test."""
    project = tmp_path / "tests"
    project.mkdir()
    (project / "__init__.py").write_text("")
    shutil.copy(logscan.__file__, project / "logscan.py")
    (project / "conftest.py").write_text("from tests.logscan import pytest_configure, pytest_sessionfinish  # noqa\n")
    (project / "test_leak.py").write_text(LEAKING_TEST)
    (project / "test_clean.py").write_text("def test_nothing_logged():\n    assert True\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *spread, "tests"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert "2 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 1, result.stdout
    assert "log scan: 1 log line(s) hold a test secret" in result.stdout
    assert "anyray.gateway INFO forwarding <<HERE>>" in result.stdout
    assert "leaked-in-a-worker" not in result.stdout  # the report shortens the value it found
