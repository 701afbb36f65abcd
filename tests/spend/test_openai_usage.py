"""OpenAI usage, read from the fake OpenAI API's real wire format, priced with gpt-4o's published rates.

The OpenAI routes use these pieces: the stream tap reads
the final usage chunk however the bytes are split, and cached prompt tokens are split out and priced
at the cached-input rate.
"""

from __future__ import annotations

import httpx

from anyray.pricing import PriceBook, fold_openai_usage
from anyray.server.gateway.call import Usage
from anyray.server.gateway.usage import OpenAIStreamTap

OPENAI_KEY = "sk-openai-test-key-0000000000000000"


def test_openai_stream_and_body_usage_with_cached_tokens(fake):
    fake.openai_key = OPENAI_KEY
    long_prompt = "context " * 1200  # >1024 estimated tokens: the second identical call reads the cache
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": long_prompt}]}
    headers = {"authorization": f"Bearer {OPENAI_KEY}"}
    with httpx.Client(base_url=fake.url, headers=headers) as http:
        first = http.post("/v1/chat/completions", json=body)
        assert first.status_code == 200
        from_body = Usage()
        fold_openai_usage(first.json()["usage"], from_body)
        raw = first.json()["usage"]
        assert from_body.input_tokens == raw["prompt_tokens"] > 1024 and from_body.cache_read_input_tokens == 0

        stream = http.post(
            "/v1/chat/completions", json={**body, "stream": True, "stream_options": {"include_usage": True}}
        )
        assert stream.status_code == 200
    data = stream.content
    usage = Usage()
    tap = OpenAIStreamTap(usage, hide_usage_chunk=False)
    for i in range(0, len(data), 7):  # arbitrary cuts, as TCP delivers them
        tap.feed(data[i : i + 7])
    assert tap.complete
    assert usage.cache_read_input_tokens > 1024  # the repeated prefix was a cache read
    assert usage.input_tokens + usage.cache_read_input_tokens == raw["prompt_tokens"]
    assert usage.output_tokens > 0
    cost = PriceBook.load().cost("openai", "gpt-4o", usage).micros
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output per MTok
    expected = usage.input_tokens * 2.5 + usage.cache_read_input_tokens * 1.25 + usage.output_tokens * 10
    assert abs(cost - expected) <= 0.5


def test_a_stream_without_usage_leaves_usage_empty(fake):
    fake.openai_key = OPENAI_KEY
    with httpx.Client(base_url=fake.url, headers={"authorization": f"Bearer {OPENAI_KEY}"}) as http:
        stream = http.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    usage = Usage()
    tap = OpenAIStreamTap(usage, hide_usage_chunk=False)
    tap.feed(stream.content)
    assert tap.complete and usage == Usage()
