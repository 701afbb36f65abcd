"""Bad input on the OpenAI paths gets OpenAI's error JSON with the right status; the gateway keeps serving."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import vertex_and_anthropic_config
from tests.openai_dialect.conftest import CLIENT_KEY, all_providers_config

HEADERS = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
HI = [{"role": "user", "content": "hi"}]


def assert_openai_error(response: httpx.Response, status: int, *needles: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and isinstance(error["type"], str)
    for needle in needles:
        assert needle in error["message"]
    if param is not None:
        assert error["param"] == param
    return error


def still_serves(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    for model in ("claude-sonnet-4-5", "gpt-4o"):
        completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "still?"}])
        assert "still?" in completion.choices[0].message.content


@pytest.mark.parametrize(
    ("body", "needle", "param", "code"),
    [
        (b'{"model": "gpt-4o", "messages": [', "not valid JSON", None, "invalid_json"),
        (b"", "empty", None, "invalid_json"),
        (b'"just a string"', "must be a JSON object", None, "invalid_json"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model parameter", "model", "missing_required_parameter"),
        (b'{"model": 4, "messages": [{"role": "user", "content": "x"}]}', "'model'", "model", "invalid_type"),
        (b'{"model": "gpt-4o"}', "'messages'", "messages", "missing_required_parameter"),
        (b'{"model": "claude-sonnet-4-5", "messages": "hi"}', "'messages'", "messages", "invalid_type"),
        (b'{"model": "claude-sonnet-4-5", "messages": []}', "empty array", "messages", "empty_array"),
        (
            b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}',
            "'stream'",
            "stream",
            "invalid_type",
        ),
    ],
)
def test_malformed_requests_get_a_400_in_openai_shape(gw, fake_openai, body, needle, param, code):
    response = httpx.post(gw.url + "/v1/chat/completions", content=body, headers=HEADERS)
    error = assert_openai_error(response, 400, needle, param=param)
    assert error["type"] == "invalid_request_error" and error["code"] == code
    assert not [r for r in fake_openai.received if "/chat/completions" in r.path or "Predict" in r.path]
    still_serves(gw.url)


@pytest.mark.parametrize(
    ("messages", "extra", "param", "needle"),
    [
        ([{"role": "wizard", "content": "x"}], {}, "messages[0].role", "wizard"),
        ([{"role": "function", "name": "f", "content": "x"}], {}, "messages[0].role", "legacy"),
        ([{"role": "system", "content": "only a system prompt"}], {}, "messages", "at least one"),
        (
            [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}],
            {},
            "messages[0].content[0].type",
            "audio",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,notbase64"}}]}],
            {},
            "messages[0].content[0].image_url",
            "base64",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}}]}],
            {},
            "messages[0].content[0].image_url.url",
            "image/tiff",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}],
                },
            ],
            {},
            "messages[1].tool_calls[0].function.arguments",
            "JSON object",
        ),
        ([{"role": "tool", "content": "42"}], {}, "messages[0].tool_call_id", "tool_call_id"),
        (HI, {"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0].type", "function tools"),
        (HI, {"n": 2}, "n", "n=2"),
        (HI, {"max_tokens": 0}, "max_tokens", "positive integer"),
        (HI, {"temperature": 3}, "temperature", "between 0 and 2"),
        (HI, {"response_format": {"type": "yaml"}}, "response_format", "json_schema"),
        (HI, {"functions": [{"name": "f"}]}, "functions", "functions"),
    ],
)
def test_requests_claude_cannot_serve_get_a_400_naming_the_param(gw, fake_openai, messages, extra, param, needle):
    payload = {"model": "claude-sonnet-4-5", "messages": messages, **extra}
    response = httpx.post(gw.url + "/v1/chat/completions", json=payload, headers=HEADERS)
    error = assert_openai_error(response, 400, needle, param=param)
    assert error["type"] == "invalid_request_error"
    assert not [r for r in fake_openai.received if "Predict" in r.path]
    still_serves(gw.url)


def test_the_sdk_raises_bad_request_with_the_parsed_error(gw, client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="claude-sonnet-4-5", messages=HI, n=2)
    assert info.value.status_code == 400
    assert info.value.param == "n" and info.value.type == "invalid_request_error"


def test_unknown_model_is_a_404_listing_the_configured_models(fake_openai, sa_key_file, start_gateway):
    config = all_providers_config(fake_openai, sa_key_file)
    del config["models"]["claude-*"], config["models"]["gpt-*"]
    gw = start_gateway(config)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="llama-3-70b", messages=HI)
    error = info.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    for configured in ("llama-3-70b", "gpt-4o", "claude-sonnet-4-5", "claude-haiku-4-5", "text-embedding-3-small"):
        assert configured in error["message"]
    still_serves(gw.url)


def test_body_over_the_limit_is_a_413(fake_openai, sa_key_file, start_gateway):
    gw = start_gateway(all_providers_config(fake_openai, sa_key_file, gateway__max_body_bytes=4096))
    big = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 10_000}]}
    for path in ("/v1/chat/completions", "/v1/embeddings"):
        response = httpx.post(gw.url + path, json=big, headers=HEADERS)
        error = assert_openai_error(response, 413, "4096")
        assert error["code"] == "request_too_large"
    assert not [r for r in fake_openai.received if r.path.startswith("/v1/")]
    still_serves(gw.url)


def test_upstream_openai_errors_pass_through_unchanged(gw, client, fake_openai):
    fake_openai.inject(500, times=3, path_contains="/chat/completions", retry_after_ms=1)
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="gpt-4o", messages=HI)
    assert info.value.body == {"message": "injected fault 500", "type": "server_error", "param": None, "code": None}
    still_serves(gw.url)


def test_google_auth_errors_from_vertex_are_rewrapped(gw, client, fake_openai):
    body = {"error": {"code": 403, "message": "Permission denied on resource project", "status": "PERMISSION_DENIED"}}
    fake_openai.inject(403, path_contains=":rawPredict", body=body)
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(model="claude-sonnet-4-5", messages=HI)
    assert info.value.body["type"] == "permission_error" and info.value.body["code"] == "PERMISSION_DENIED"
    assert "vertex: Permission denied" in info.value.body["message"]


def test_openai_paths_without_an_openai_provider_say_so(fake, sa_key_file, start_gateway):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file))
    response = httpx.post(gw.url + "/v1/embeddings", json={"model": "x", "input": "y"}, headers=HEADERS)
    error = assert_openai_error(response, 404, "OpenAI provider")
    assert error["code"] == "unknown_url"
    # a model map without OpenAI: the chat path still serves Claude, translated
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    completion = client.chat.completions.create(model="claude-sonnet-4-5", messages=HI)
    assert completion.choices[0].message.content == "Hello from fake-vertex! You said: hi."
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=HI)
    assert info.value.body["code"] == "model_not_found"
