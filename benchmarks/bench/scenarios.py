"""What a benchmark sends: client workloads, each with the request its direct baseline sends.

The direct baseline of a workload is what the gateway itself sends upstream for it: for the
OpenAI-dialect-to-Claude workload that is an Anthropic Messages call, so the ratio prices the whole
translation, both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from benchmarks.bench import big

MODEL = "claude-sonnet-4-5"
PROMPT = [{"role": "user", "content": "benchmark me"}]
# the client's key: ignored by anyray without gateway keys and by the fake; LiteLLM's master key (it refuses
# to start without one)
CLIENT_KEY = "sk-bench-litellm-master"
ANTHROPIC_HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": CLIENT_KEY}
OPENAI_HEADERS = {"content-type": "application/json", "authorization": f"Bearer {CLIENT_KEY}"}


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    stream: bool
    client: Request  # what a client sends the gateway (and LiteLLM)
    direct: Request  # what the direct baseline sends the upstream
    fresh: bool = False  # the body holds big.NONCE: the built-in generator makes each request's newest part new


def _anthropic(stream: bool) -> Request:
    body = {"model": MODEL, "max_tokens": 64, "messages": PROMPT}
    if stream:
        body["stream"] = True
    return Request("/v1/messages", orjson.dumps(body), ANTHROPIC_HEADERS)


def _openai() -> Request:
    body = {"model": MODEL, "max_tokens": 64, "messages": PROMPT}
    return Request("/v1/chat/completions", orjson.dumps(body), OPENAI_HEADERS)


def _big(body: bytes) -> Request:
    return Request("/v1/messages", body, ANTHROPIC_HEADERS)


SCENARIOS: dict[str, Scenario] = {
    "anthropic": Scenario("anthropic", "Anthropic /v1/messages", False, _anthropic(False), _anthropic(False)),
    "stream": Scenario("stream", "Anthropic /v1/messages stream", True, _anthropic(True), _anthropic(True)),
    "openai": Scenario("openai", "OpenAI chat -> Claude", False, _openai(), _anthropic(False)),
    # the sizes users send (big.py): what the optimizer has real work on
    "claude_code": Scenario("claude_code", "Claude Code turn, 80 KB, stream", True, _big(big.claude_code(MODEL)),
                            _big(big.claude_code(MODEL)), fresh=True),
    "agent": Scenario("agent", "agent turn, 284 KB of tool output", False, _big(big.agent(MODEL)),
                      _big(big.agent(MODEL)), fresh=True),
}
