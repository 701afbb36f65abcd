"""Console fixtures: a gateway whose spend store was filled by real SDK traffic, and headless Chromium.

The store is filled through the gateway by the real `anthropic` and `openai` SDKs against the fake
upstream (several models, three providers, teams and apps by `x-anyray-metadata`). Chromium is Debian's
`chromium` package driven by Playwright (`executable_path`, no `playwright install`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from tests.conftest import CLIENT_KEY, RunningGateway, vertex_and_anthropic_config
from tests.spend.conftest import pg_url, sqlite_url, store_url, wait_written

__all__ = ["pg_url", "sqlite_url", "store_url"]

OPENAI_KEY = "sk-proj-gatewaykey-openai-console-000000000000000000DDDD"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PROMPT_MARKER = "okapi-lantern-3391 summarize the meeting"

# (sdk, model, team, app, max_tokens, stream); max_tokens 64000 (streamed: the SDK refuses it otherwise)
# lets the optimizer's param_tuning act
TRAFFIC = [
    ("anthropic", "claude-sonnet-4-5", "search", "indexer", 300, False),
    ("anthropic", "claude-sonnet-4-5", "search", "indexer", 64000, True),
    ("anthropic", "claude-haiku-4-5", "infra", "claude-code", 64000, True),
    ("anthropic", "claude-haiku-4-5", "infra", "claude-code", 200, False),
    ("anthropic", "claude-haiku-4-5", "search", "ranker", 200, False),
    ("anthropic", "claude-opus-4-1", "research", "notebook", 64000, True),
    ("openai", "gpt-4o", "search", "ranker", 500, False),
    ("openai", "gpt-4o", "support", "bot", 500, True),
    ("openai", "gpt-4o-mini", "support", "bot", 500, False),
    ("openai", "claude-haiku-4-5", "support", "bot", 300, False),
]


@dataclass
class Filled:
    gw: RunningGateway
    store_url: str
    requests: int


def console_config(fake, sa_key_file, store: str) -> dict:
    # its own spill directory: a PostgreSQL store's default (~/.anyray/spill) is shared by every process on
    # the machine, and a gateway replays what it finds there into its store
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=store,
                                         store__spill_dir=str(sa_key_file.parent / "spill"))
    config["providers"]["openai"] = {"base_url": f"{fake.url}/v1", "api_key": OPENAI_KEY}
    config["models"].update({"gpt-4o": {"provider": "openai"}, "gpt-*": {"provider": "openai"}})
    fake.openai_key = OPENAI_KEY
    return config


def send_traffic(url: str, api_key: str = CLIENT_KEY) -> int:
    """The TRAFFIC list through the gateway with the real SDKs; returns how many calls were made."""
    anth = anthropic.Anthropic(base_url=url, api_key=api_key, max_retries=0)
    oai = openai.OpenAI(base_url=url + "/v1", api_key=api_key, max_retries=0)
    for sdk, model, team, app, max_tokens, stream in TRAFFIC:
        headers = {"x-anyray-metadata": f"team={team};app={app}"}
        messages = [{"role": "user", "content": PROMPT_MARKER}]
        if sdk == "anthropic" and stream:
            with anth.messages.stream(model=model, max_tokens=max_tokens, messages=messages,
                                      extra_headers=headers) as s:
                assert PROMPT_MARKER in "".join(s.text_stream)
        elif sdk == "anthropic":
            answer = anth.messages.create(model=model, max_tokens=max_tokens, messages=messages,
                                          extra_headers=headers)
            assert answer.usage.output_tokens > 0
        elif stream:
            chunks = oai.chat.completions.create(model=model, max_tokens=max_tokens, messages=messages,
                                                 stream=True, stream_options={"include_usage": True},
                                                 extra_headers=headers)
            assert any(c.usage for c in chunks)
        else:
            answer = oai.chat.completions.create(model=model, max_tokens=max_tokens, messages=messages,
                                                 extra_headers=headers)
            assert answer.usage.total_tokens > 0
    # agents that re-read a file: real optimizer decisions with real estimated savings
    for model, team in (("claude-sonnet-4-5", "search"), ("claude-haiku-4-5", "infra")):
        answer = anth.messages.create(model=model, max_tokens=200, messages=agent_turns(PROMPT_MARKER),
                                      extra_headers={"x-anyray-metadata": f"team={team};app=agent"})
        assert answer.usage.output_tokens > 0
    return len(TRAFFIC) + 2


@pytest.fixture
def filled(fake, sa_key_file, start_gateway, sqlite_url) -> Filled:
    gw = start_gateway(console_config(fake, sa_key_file, sqlite_url))
    n = send_traffic(gw.url)
    wait_written(gw, n)
    return Filled(gw, sqlite_url, n)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("ANYRAY_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module, not per session: Playwright's sync API runs an event loop on this thread while it is
    open, which would break later tests that call asyncio.run()."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium): install Debian's `chromium` package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


def agent_turns(marker: str) -> list[dict]:
    """An agent that read the same file twice: the optimizer's context_dedupe collapses the second copy."""
    listing = "\n".join(f"line {i}: def handler_{i}(request): return respond({i} * 7)  # {marker}" for i in range(80))
    turns: list[dict] = [{"role": "user", "content": f"{marker} fix the handlers"}]
    for i in range(2):
        turns.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"toolu_{i}", "name": "read_file", "input": {"path": "handlers.py"}}]})
        turns.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": listing}]})
    turns[-1]["content"].append({"type": "text", "text": "now fix them"})
    return turns


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cli_console():
    """`anyray console --store URL` in a subprocess on a free loopback port; returns its base URL."""
    procs = []

    def start(store: str) -> str:
        port = free_port()
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        proc = subprocess.Popen([sys.executable, "-m", "anyray", "console", "--store", store, "--port", str(port)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                httpx.get(base + "/console/health", timeout=1)
                return base
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("anyray console did not start within 30 s")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
