"""Bad input gets Anthropic's error JSON with the right status, and the gateway keeps serving."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config

HEADERS = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}


def _assert_anthropic_error(response: httpx.Response, status: int, error_type: str, *needles: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    for needle in needles:
        assert needle in body["error"]["message"]


def _still_serves(url: str) -> None:
    client = anthropic.Anthropic(base_url=url, api_key=CLIENT_KEY, max_retries=0)
    message = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": "still here?"}]
    )
    assert "still here?" in message.content[0].text


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"model": "claude-sonnet-4-5", "messages": [', "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5}', "model: Field required"),
        (b'{"model": "claude-sonnet-4-5", "max_tokens": 5}', "messages: Field required"),
        (b'{"model": 42, "messages": [], "max_tokens": 5}', "model:"),
        (b'{"model": "claude-sonnet-4-5", "messages": "hi", "max_tokens": 5}', "messages:"),
    ],
)
def test_malformed_requests_get_400_invalid_request_error(gateway, fake, body, needle):
    for path in ("/v1/messages", "/v1/messages?beta=true", "/v1/messages/count_tokens"):
        response = httpx.post(gateway.url + path, content=body, headers=HEADERS)
        _assert_anthropic_error(response, 400, "invalid_request_error", needle)
    assert not [r for r in fake.received if "/messages" in r.path or "Predict" in r.path]
    _still_serves(gateway.url)


def test_unknown_model_is_a_404_listing_the_configured_models(fake, sa_key_file, start_gateway):
    config = vertex_and_anthropic_config(fake, sa_key_file)
    del config["models"]["claude-*"]
    gw = start_gateway(config)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(model="gpt-5", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    message = info.value.body["error"]["message"]
    assert "gpt-5" in message
    for configured in ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"):
        assert configured in message
    _still_serves(gw.url)


def test_body_over_the_limit_is_a_413(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, gateway__max_body_bytes=4096))
    big = {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "x" * 10_000}]}
    response = httpx.post(gw.url + "/v1/messages", json=big, headers=HEADERS)
    _assert_anthropic_error(response, 413, "request_too_large", "4096")

    # a chunked body declares no length: the limit holds while reading
    def chunks():
        yield b'{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}]}'

    response = httpx.post(gw.url + "/v1/messages", content=chunks(), headers=HEADERS)
    _assert_anthropic_error(response, 413, "request_too_large")
    _still_serves(gw.url)


def test_health_and_the_claude_code_probe(gateway):
    assert httpx.head(gateway.url + "/").status_code == 200
    health = httpx.get(gateway.url + "/healthz").json()
    assert health["status"] == "ok"
    assert health["providers"] == {"anthropic": True, "vertex": True}


def test_unknown_vertex_method_and_unproxied_paths(fake, sa_key_file, start_gateway):
    config = vertex_and_anthropic_config(fake, sa_key_file)
    config["providers"]["anthropic"] = {"enabled": False}
    config["models"]["claude-haiku-4-5"] = {"provider": "vertex"}
    config["models"]["claude-opus-4-1"] = {"provider": "vertex"}
    gw = start_gateway(config)
    response = httpx.post(
        gw.url + "/v1/projects/p/locations/l/publishers/anthropic/models/claude-x:explode", json={}, headers=HEADERS
    )
    _assert_anthropic_error(response, 404, "not_found_error", "explode")
    # with no Anthropic key the gateway cannot proxy other paths: it says so instead of failing obscurely
    # (the model list it answers itself, from the route table: tests/gateway/test_vertex_only.py)
    response = httpx.get(gw.url + "/v1/files", headers=HEADERS)
    _assert_anthropic_error(response, 404, "not_found_error", "Anthropic provider")


def test_a_gateway_bug_on_a_model_call_is_a_500_in_the_callers_dialect_and_a_logged_traceback(gateway, caplog):
    """The model-call routes bypass Starlette's error middleware (server/gateway/hot.py); they keep an answer."""

    def broken(model: str):
        raise RuntimeError("a bug in routing")

    gateway.gateway.router.resolve = broken
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    with caplog.at_level("ERROR", logger="anyray.gateway"):
        claude = httpx.post(gateway.url + "/v1/messages", json=ask, headers=HEADERS, timeout=10)
        gpt = httpx.post(gateway.url + "/v1/chat/completions", json=ask, timeout=10,
                         headers={"authorization": f"Bearer {CLIENT_KEY}"})
    _assert_anthropic_error(claude, 500, "api_error", "the gateway failed on this request")
    assert gpt.status_code == 500 and gpt.json()["error"]["code"] == "internal_error"
    failures = [r for r in caplog.records if "the gateway failed on POST" in r.getMessage()]
    assert len(failures) == 2 and all("a bug in routing" in str(r.exc_info[1]) for r in failures)
