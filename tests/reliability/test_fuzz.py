"""Robustness fuzzing: hypothesis-made bodies against both dialects' endpoints of a real gateway.

Bodies range from almost-valid requests (right keys, odd values: wrong types, huge or negative numbers,
unknown roles, odd unicode) to JSON of any shape and raw garbage bytes. For every one: no 5xx (the fake
upstream answers every request it gets normally, so a 5xx could only be the gateway's own), every
error in the dialect's shape (Anthropic `{type: "error", error: {type, message}}`, OpenAI
`{error: {message, type, param, code}}`), and afterwards the gateway still answers a valid request
correctly in both dialects. Example counts are bounded so the file stays well under a minute.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic
import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CLIENT_KEY
from tests.openai_dialect.conftest import all_providers_config

ANTHROPIC_HEADERS = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
OPENAI_HEADERS = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
VERTEX = "/v1/projects/test-proj/locations/us-east5/publishers/anthropic/models/"
# a deeper, random run: ANYRAY_FUZZ_EXAMPLES=2000 python -m pytest tests/reliability/test_fuzz.py
EXAMPLES = int(os.environ.get("ANYRAY_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="ANYRAY_FUZZ_EXAMPLES" not in os.environ,  # CI: the same examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----------------------------------------------------------------------------- strategies

odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "\u202e\u0644\u0627", "🦀" * 5, "a" * 3000, "\ufeffhi", "null", "{}"]),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 1e308, -0.0, 0.5]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
claude_models = st.one_of(
    st.sampled_from(["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "gpt-4o"]), odd_text, json_values
)
roles = st.one_of(st.sampled_from(["user", "assistant", "system", "tool", "developer", "function"]), odd_text)
blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": odd_text}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["image", "tool_use", "tool_result", "document", "thinking", "x"])},
        optional={"source": json_values, "id": odd_text, "input": json_values, "content": json_values},
    ),
    json_values,
)
content = st.one_of(odd_text, st.lists(blocks, max_size=3), json_values)
message = st.one_of(
    st.fixed_dictionaries({"role": roles, "content": content}, optional={"name": odd_text, "tool_calls": json_values}),
    json_values,
)
messages = st.one_of(st.lists(message, min_size=1, max_size=4), json_values)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, json_values)


anthropic_bodies = st.fixed_dictionaries(
    {"model": claude_models, "messages": messages, "max_tokens": _optional(numbers)},
    optional={
        "system": _optional(st.one_of(odd_text, st.lists(blocks, max_size=2))),
        "stream": _optional(st.booleans()),
        "temperature": _optional(numbers),
        "top_p": _optional(numbers),
        "top_k": _optional(numbers),
        "stop_sequences": _optional(st.lists(odd_text, max_size=3)),
        "metadata": _optional(st.dictionaries(st.sampled_from(["user_id", "x"]), odd_text)),
        "tools": _optional(st.lists(json_values, max_size=2)),
        "tool_choice": json_values,
        "thinking": json_values,
    },
)
openai_bodies = st.fixed_dictionaries(
    {"model": claude_models, "messages": messages},
    optional={
        "stream": _optional(st.booleans()),
        "max_tokens": _optional(numbers),
        "max_completion_tokens": _optional(numbers),
        "n": _optional(numbers),
        "temperature": _optional(numbers),
        "stop": _optional(st.one_of(odd_text, st.lists(odd_text, max_size=3))),
        "tools": _optional(st.lists(json_values, max_size=2)),
        "tool_choice": json_values,
        "response_format": json_values,
        "stream_options": json_values,
        "user": json_values,
        "logprobs": json_values,
    },
)
vertex_bodies = st.fixed_dictionaries(
    {"anthropic_version": _optional(st.just("vertex-2023-10-16")), "messages": messages, "max_tokens": numbers},
    optional={"stream": json_values, "system": json_values, "model": json_values},
)
garbage = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            b"{",
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"model": "\\ud800", "messages": [], "max_tokens": 1}',
            b'{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "\\udfff"}], "max_tokens": 5}',
            b'{"model": "claude-sonnet-4-5", "model": 1}',
            b"\xff\xfe{\x00}",
            b"NaN",
            b'{"max_tokens": 1e999}',
            b"1" * 10000,
        ]
    ),
    json_values.map(lambda v: _encode(v)),
)


def _encode(body: Any) -> bytes:
    """The stdlib encoder: it writes integers past 64 bits (orjson refuses them), which is the point."""
    return body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


def bodies(valid_ish: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(valid_ish.map(_encode), valid_ish.map(_encode), garbage)


# ----------------------------------------------------------------------------- checks


def _own(response: httpx.Response, relayed: bool) -> None:
    """No 5xx of the gateway's own. A 5xx relayed from the fake (it crashes on some passed-through garbage,
    e.g. OpenAI `tools: true`) is the provider's answer; the shape checks below still apply to it."""
    assert response.status_code < 500 or relayed, (response.status_code, response.text[:500])


def _check_anthropic(response: httpx.Response, body: bytes, relayed: bool = False) -> None:
    _own(response, relayed)
    if response.status_code >= 400:
        error = response.json()
        assert error.get("type") == "error", error
        assert isinstance(error["error"]["type"], str) and isinstance(error["error"]["message"], str), error


def _check_openai(response: httpx.Response, body: bytes, relayed: bool = False) -> None:
    _own(response, relayed)
    if response.status_code >= 400:
        error = response.json()
        assert set(error) == {"error"}, error
        assert set(error["error"]) == {"message", "type", "param", "code"}, error
        assert isinstance(error["error"]["message"], str) and isinstance(error["error"]["type"], str), error


@pytest.fixture
def gw(fake, sa_key_file, start_gateway):
    fake.openai_key = None  # the fake answers every call normally: any 5xx would be the gateway's own
    return start_gateway(all_providers_config(fake, sa_key_file))


@pytest.fixture
def http(gw):
    with httpx.Client(base_url=gw.url, timeout=30) as client:
        yield client


def _still_serves(url: str) -> None:
    claude = anthropic.Anthropic(base_url=url, api_key=CLIENT_KEY, max_retries=0)
    answer = claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": "fuzz-after-check"}]
    )
    assert "fuzz-after-check" in answer.content[0].text
    oai = openai.OpenAI(base_url=url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    for model in ("claude-haiku-4-5", "gpt-4o"):
        completion = oai.chat.completions.create(model=model, messages=[{"role": "user", "content": "fuzz-after-oai"}])
        assert "fuzz-after-oai" in completion.choices[0].message.content


def test_fuzz_anthropic_messages(gw, http, fake):
    @SETTINGS
    @given(body=bodies(anthropic_bodies), path=st.sampled_from(["/v1/messages", "/v1/messages?beta=true"]))
    def check(body: bytes, path: str) -> None:
        seen = len(fake.received)
        response = http.post(path, content=body, headers=ANTHROPIC_HEADERS)
        _check_anthropic(response, body, relayed=len(fake.received) > seen)

    check()
    _still_serves(gw.url)


def test_fuzz_anthropic_count_tokens(gw, http, fake):
    @SETTINGS
    @given(body=bodies(anthropic_bodies))
    def check(body: bytes) -> None:
        seen = len(fake.received)
        response = http.post("/v1/messages/count_tokens", content=body, headers=ANTHROPIC_HEADERS)
        _check_anthropic(response, body, relayed=len(fake.received) > seen)

    check()
    _still_serves(gw.url)


def test_fuzz_vertex_raw_predict(gw, http, fake):
    verbs = st.sampled_from(
        ["claude-sonnet-4-5:rawPredict", "claude-haiku-4-5:streamRawPredict", "count-tokens:rawPredict", "x:nope"]
    )

    @SETTINGS
    @given(body=bodies(vertex_bodies), verb=verbs)
    def check(body: bytes, verb: str) -> None:
        seen = len(fake.received)
        response = http.post(VERTEX + verb, content=body, headers={"content-type": "application/json"})
        _check_anthropic(response, body, relayed=len(fake.received) > seen)

    check()
    _still_serves(gw.url)


def test_fuzz_openai_chat_completions(gw, http, fake):
    @SETTINGS
    @given(body=bodies(openai_bodies))
    def check(body: bytes) -> None:
        seen = len(fake.received)
        response = http.post("/v1/chat/completions", content=body, headers=OPENAI_HEADERS)
        _check_openai(response, body, relayed=len(fake.received) > seen)

    check()
    _still_serves(gw.url)
