"""Gateways with all three providers on the fake upstream: Claude on Vertex/Anthropic, and OpenAI."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import RunningGateway, vertex_and_anthropic_config

OPENAI_KEY = "sk-proj-gatewaykey-openai-000000000000000000000000CCCC"
CLIENT_KEY = "sk-client-key-that-must-never-go-upstream-DDDD"


def all_providers_config(fake, sa_key_file: Path, **overrides: Any) -> dict[str, Any]:
    config = vertex_and_anthropic_config(fake, sa_key_file, **overrides)
    config["providers"]["openai"] = {"base_url": f"{fake.url}/v1", "api_key": OPENAI_KEY}
    models = {
        "gpt-4o": {"provider": "openai"},
        "gpt-*": {"provider": "openai"},
        "text-embedding-3-small": {"provider": "openai"},
        **config["models"],
    }
    config["models"] = models
    return config


@pytest.fixture
def fake_openai(fake):
    """The shared fake, also checking the OpenAI key the gateway must sign with."""
    fake.openai_key = OPENAI_KEY
    return fake


@pytest.fixture
def gw(fake_openai, sa_key_file, start_gateway) -> RunningGateway:
    return start_gateway(all_providers_config(fake_openai, sa_key_file))


@pytest.fixture
def client(gw) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)


@pytest.fixture
def aclient(gw) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)


def last_call(fake, contains: str):
    calls = [r for r in fake.received if contains in r.path]
    assert calls, f"the fake never received a call to {contains!r}: {[r.path for r in fake.received]}"
    return calls[-1]


def record_calls(gw) -> list:
    """The gateway's content-free call records, as its listeners receive them."""
    seen: list = []
    gw.gateway.listeners.append(seen.append)
    return seen


def wait_for_calls(calls: list, count: int, timeout: float = 5.0) -> list:
    """A streamed call is recorded after its last byte left, which can be just after the client read it."""
    deadline = time.monotonic() + timeout
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) >= count, f"expected {count} call records, got {len(calls)}"
    return calls
