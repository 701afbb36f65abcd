"""The gateway's limits, each hit through the real SDKs (or raw HTTP where an SDK cannot build the request),
each refused with its documented status in the caller's dialect, before anything reaches an upstream.
"""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from anyray.server.gateway.body import BadJSON, parse_object
from tests.conftest import CLIENT_KEY
from tests.kit.server import answer_lifespan, whole_body
from tests.reliability.stack import Stack, stack_config, wait_until

HI = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def stack(fake, sa_key_file, start_gateway, tmp_path):
    def start(**gateway) -> Stack:
        url = f"sqlite:///{tmp_path / 'spend.db'}"
        return Stack(start_gateway(stack_config(fake, sa_key_file, url, **gateway)), url)

    return start


def claude(stack: Stack) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.url, api_key=CLIENT_KEY, max_retries=0)


def gpt(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=CLIENT_KEY, max_retries=0)


def model_calls(fake) -> list[str]:
    return [r.path for r in fake.received if r.path != "/token"]


def refused(stack: Stack, limit: str) -> float:
    value = stack.gw.gateway.metrics.registry.get_sample_value("anyray_limit_refused_total", {"limit": limit})
    return value or 0.0


def nested(depth: int) -> dict:
    node: dict = {}
    for _ in range(depth - 1):
        node = {"a": node}
    return node


# ------------------------------------------------------------------------------------------ body size


def test_a_body_over_the_limit_is_a_413_in_both_dialects(stack, fake):
    s = stack(max_body_bytes=4096)
    big = [{"role": "user", "content": "x" * 10_000}]
    with pytest.raises(anthropic.APIStatusError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=big)
    assert info.value.status_code == 413
    assert info.value.body["error"]["type"] == "request_too_large" and "4096" in info.value.body["error"]["message"]
    with pytest.raises(openai.APIStatusError) as oinfo:
        gpt(s).chat.completions.create(model="gpt-4o", messages=big)
    assert oinfo.value.status_code == 413
    assert oinfo.value.body["type"] == "invalid_request_error" and oinfo.value.body["code"] == "request_too_large"
    assert model_calls(fake) == []
    claude(s).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HI)  # and it still serves


# ------------------------------------------------------------------------------------------ header size


def test_headers_over_the_limit_are_a_431_in_both_dialects(stack, fake):
    # below h11's own 16 KiB event limit (the test server's parser), so the gateway's check is what answers
    s = stack(limits={"max_header_bytes": 8192})
    padding = {"x-padding": "p" * 10_000}
    with pytest.raises(anthropic.APIStatusError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HI, extra_headers=padding)
    assert info.value.status_code == 431
    assert info.value.body["type"] == "error" and info.value.body["error"]["type"] == "invalid_request_error"
    assert "max_header_bytes" in info.value.body["error"]["message"]
    with pytest.raises(openai.APIStatusError) as oinfo:
        gpt(s).chat.completions.create(model="gpt-4o", messages=HI, extra_headers=padding)
    assert oinfo.value.status_code == 431 and oinfo.value.body["code"] == "headers_too_large"
    assert model_calls(fake) == []
    assert refused(s, "header_bytes") == 2
    gpt(s).chat.completions.create(model="gpt-4o", messages=HI)  # ordinary headers still pass


# ------------------------------------------------------------------------------------------ JSON depth


def test_json_nested_past_the_limit_is_a_400_in_both_dialects(stack, fake):
    s = stack(limits={"max_json_depth": 32})
    deep = nested(40)
    with pytest.raises(anthropic.BadRequestError) as info:
        claude(s).messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HI, extra_body={"metadata": deep})
    assert info.value.body["error"]["type"] == "invalid_request_error"
    assert "deeper than the gateway's limit of 32" in info.value.body["error"]["message"]
    with pytest.raises(openai.BadRequestError) as oinfo:
        gpt(s).chat.completions.create(model="gpt-4o", messages=HI, extra_body={"metadata": deep})
    assert oinfo.value.body["type"] == "invalid_request_error" and "limit of 32" in oinfo.value.body["message"]

    # deeper than orjson itself parses (1024): still the same clear 400, never a 500
    very_deep = b'{"model": "gpt-4o", "messages": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    for path, shape in (("/v1/messages", "anthropic"), ("/v1/chat/completions", "openai")):
        response = httpx.post(s.url + path, content=very_deep, headers={"content-type": "application/json"})
        assert response.status_code == 400
        error = response.json()["error"]
        assert "limit of 32" in error["message"], (shape, error)
    assert model_calls(fake) == []


def test_the_depth_limit_is_exact_and_skips_small_bodies():
    parse_object(b'{"a": ' * 1 + b'{"b": [1]}' + b"}", max_depth=3)  # {a: {b: [..]}}: three levels
    with pytest.raises(BadJSON):
        parse_object(b'{"a": {"b": [[1]]}}', max_depth=3)
    wide = b'{"m": [' + b",".join([b'{"role": "user", "content": [{"type": "text"}]}'] * 500) + b"]}"
    assert len(parse_object(wide, max_depth=5)["m"]) == 500  # many containers, none deeper than 5
    # few containers in a long body (an agent's request): the parsed-object walk decides, just as exactly
    padded = b'{"text": "' + b"x" * 5000 + b'", "deep": ' + b"[" * 9 + b"]" * 9 + b"}"
    assert parse_object(padded, max_depth=10)["deep"] == [[[[[[[[[]]]]]]]]]
    with pytest.raises(BadJSON):
        parse_object(padded, max_depth=9)


# ------------------------------------------------------------------------------------------ concurrency


def test_past_the_concurrency_limit_a_call_waits_then_gets_a_429_with_retry_after(stack, fake):
    s = stack(limits={"max_concurrent_upstream": 1, "queue_timeout_s": 0.2})
    client, oclient = claude(s), gpt(s)
    gate = fake.hold_stream_after(4)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=50, messages=HI) as holding:
        assert next(iter(holding.text_stream))  # one call in flight, held mid-answer by the upstream
        with pytest.raises(anthropic.RateLimitError) as info:
            client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HI)
        assert info.value.body["error"]["type"] == "rate_limit_error"
        assert "max_concurrent_upstream" in info.value.body["error"]["message"]
        assert info.value.response.headers["retry-after"] == "1"
        with pytest.raises(openai.RateLimitError) as oinfo:
            oclient.chat.completions.create(model="gpt-4o", messages=HI)
        assert oinfo.value.body["code"] == "gateway_busy" and oinfo.value.response.headers["retry-after"] == "1"
        assert len(model_calls(fake)) == 1  # the refused calls never left the gateway
        gate.set()
        assert "hello there" in "".join(holding.text_stream)
    assert refused(s, "concurrent_upstream") == 2
    wait_until(lambda: s.gw.gateway.slots.in_use == 0, what="the slot given back after the stream")
    # the slot is free again: the next calls go through
    assert oclient.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content

    records = s.records(4, calls=2)  # the two refusals are records too: status, reason, nothing spent
    assert [(r["provider"], r["status"], r["partial"]) for r in records] == [
        ("vertex", 200, False), (None, 429, False), (None, 429, False), ("openai", 200, False)]
    assert [r["decisions"] for r in records if r["status"] == 429] == [
        [{"kind": "refused", "reason": "concurrent_upstream"}]] * 2
    assert all(r["cost_micros"] == r["input_tokens"] == 0 for r in records if r["status"] == 429)


def test_a_slot_is_given_back_on_every_ending(stack, fake):
    """Upstream error, cut stream, client hang-up: after each, the single slot is free for the next call."""
    s = stack(limits={"max_concurrent_upstream": 1, "queue_timeout_s": 0.2})
    client = claude(s)
    fake.inject(400, times=1, path_contains="/v1/messages")
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HI)
    fake.cut_stream_after(5)
    stream = client.messages.stream(model="claude-sonnet-4-5", max_tokens=50, messages=HI)
    with pytest.raises(anthropic.APIStatusError), stream as events:
        for _ in events:
            pass
    gate = fake.hold_stream_after(4)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=50, messages=HI) as leaving:
        next(iter(leaving.text_stream))
    gate.set()
    wait_until(lambda: s.gw.gateway.slots.in_use == 0, what="every slot given back")
    assert client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=HI).content
    assert refused(s, "concurrent_upstream") == 0


def test_anyray_up_s_http_server_caps_a_request_head_before_the_app_sees_it():
    """`anyray up` serves with httptools, which would buffer any head; the runner's protocol stops at 1 MiB."""
    import asyncio
    import socket
    import threading

    from anyray.server.runner import HEAD_HARD_CAP_BYTES, _server

    seen: list[int] = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return await answer_lifespan(receive, send)
        body = await whole_body(receive)
        seen.append(len(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _server(app, "127.0.0.1", port)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the server to start")
    try:
        url = f"http://127.0.0.1:{port}/v1/messages"
        with httpx.Client(timeout=10) as http:
            big_head = http.post(url, headers={"x-pad": "p" * (HEAD_HARD_CAP_BYTES + 10)}, content=b"{}")
            assert big_head.status_code == 431
            assert big_head.json()["error"]["code"] == "headers_too_large"
            # a large head under the cap, and a large body behind a small head, both reach the app
            assert http.post(url, headers={"x-pad": "p" * 200_000}, content=b"{}").status_code == 200
            assert http.post(url, content=b"x" * (3 * HEAD_HARD_CAP_BYTES)).status_code == 200
            assert http.post(url, content=b"{}").status_code == 200  # kept-alive connection, next head counted anew
        assert seen == [2, 3 * HEAD_HARD_CAP_BYTES, 2]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
