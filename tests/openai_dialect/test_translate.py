"""Unit tests of anyray.translate: the parts that can fail, and the stream/whole-answer conversions."""

from __future__ import annotations

import json

import orjson
import pytest

from anyray.server.gateway.call import Usage
from anyray.server.gateway.dialects import anthropic_dialect
from anyray.server.gateway.usage import OpenAIStreamTap
from anyray.testing.anthropic_api import stream_events
from anyray.translate import (
    ChatStreamTranslator,
    TranslationError,
    chat_to_messages,
    chunks_to_completion,
    completion_to_chunks,
    message_to_completion,
    sse_bytes,
    unmappable_params,
)

MESSAGE = {
    "id": "msg_01abc",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5@20250929",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Let me check. "},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Lima", "unit": "c"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {"zone": "America/Lima"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 10,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 2000,
        "output_tokens": 42,
    },
}

# what the fake streams (it has no thinking blocks); thinking is checked on its own below
STREAMABLE = {**MESSAGE, "content": MESSAGE["content"][1:]}


def events_of(body: bytes) -> list[dict]:
    return [orjson.loads(line[6:]) for line in body.split(b"\n") if line.startswith(b"data: {")]


# ---------------------------------------------------------------------------------------------- requests


def test_consecutive_turns_merge_and_tool_results_come_first():
    translated = chat_to_messages(
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": ""},
                {"role": "user", "content": [{"type": "text", "text": "b"}, {"type": "text", "text": ""}]},
                {
                    "role": "assistant",
                    "content": "calling",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                        {"id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}},
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "one"},
                {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "two"}]},
                {"role": "user", "content": "thanks"},
                {"role": "system", "content": "late system note"},
            ],
        }
    )
    assert translated.payload["system"] == [{"type": "text", "text": "late system note"}]
    assert translated.payload["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 1}},
                {"type": "tool_use", "id": "c2", "name": "g", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "one"},
                {"type": "tool_result", "tool_use_id": "c2", "content": [{"type": "text", "text": "two"}]},
                {"type": "text", "text": "thanks"},
            ],
        },
    ]
    assert translated.payload["max_tokens"] == 4096


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        ("auto", None, {"type": "auto"}),
        ("none", False, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ({"type": "function", "function": {"name": "f"}}, None, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice(choice, parallel, expected):
    chat = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": choice,
        "parallel_tool_calls": parallel,
    }
    payload = chat_to_messages(chat).payload
    assert payload["tools"] == [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]
    assert payload.get("tool_choice") == expected


def test_tool_choice_naming_an_unknown_tool_is_refused():
    chat = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": {"type": "function", "function": {"name": "nope"}},
    }
    with pytest.raises(TranslationError) as info:
        chat_to_messages(chat)
    assert info.value.param == "tool_choice" and "nope" in info.value.message


def test_default_values_of_unmappable_params_are_not_unmappable():
    chat = {
        "model": "m",
        "messages": [],
        "n": 1,
        "presence_penalty": 0,
        "frequency_penalty": 0.0,
        "logprobs": False,
        "store": False,
        "service_tier": "auto",
        "logit_bias": {},
        "metadata": {"k": "v"},
        "seed": None,
        "prompt_cache_key": "abc",
        "reasoning_effort": "low",
        "top_logprobs": 3,
    }
    assert unmappable_params(chat) == ["reasoning_effort", "top_logprobs"]


def test_dropping_reports_what_was_dropped():
    chat = {"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": 1, "presence_penalty": 0.2}
    with pytest.raises(TranslationError) as info:
        chat_to_messages(chat)
    assert info.value.code == "unsupported_parameter" and info.value.param == "seed"
    translated = chat_to_messages(chat, drop_params=True)
    assert translated.dropped == ["seed", "presence_penalty"]
    assert not {"seed", "presence_penalty"} & set(translated.payload)


def test_max_completion_tokens_wins_and_stream_options_are_read():
    translated = chat_to_messages(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 10,
            "max_completion_tokens": 20,
            "stream": True,
            "stream_options": {"include_usage": True},
            "stop": "END",
        },
        default_max_tokens=999,
    )
    assert translated.payload["max_tokens"] == 20
    assert translated.payload["stream"] is True and translated.include_usage
    assert translated.payload["stop_sequences"] == ["END"]
    assert chat_to_messages({"model": "m", "messages": [{"role": "user", "content": "x"}]}, default_max_tokens=999)


def test_images_and_pdfs():
    translated = chat_to_messages(
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/AAAA"}},
                        {"type": "image_url", "image_url": "http://example.com/a.webp"},
                        {
                            "type": "file",
                            "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a"},
                        },
                    ],
                }
            ],
        }
    )
    assert translated.payload["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "http://example.com/a.webp"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
    ]
    with pytest.raises(TranslationError) as info:
        chat_to_messages(
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "f-1"}}]}]}
        )
    assert info.value.param == "messages[0].content[0].file.file_id"
    with pytest.raises(TranslationError):
        chat_to_messages(
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "ftp://x"}]}]}
        )


def test_json_schema_with_tools_of_its_own_becomes_an_instruction():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    translated = chat_to_messages(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}},
        }
    )
    assert translated.json_tool is None
    assert [t["name"] for t in translated.payload["tools"]] == ["f"]
    assert json.dumps(schema, separators=(",", ":")) in translated.payload["system"][-1]["text"]


# ---------------------------------------------------------------------------------------------- responses


def test_message_to_completion_maps_content_tools_finish_and_usage():
    completion = message_to_completion(MESSAGE, model="claude-sonnet-4-5", created=1)
    assert completion["id"] == "chatcmpl-01abc"
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check. "  # thinking is not part of the answer
    assert [c["function"]["name"] for c in choice["message"]["tool_calls"]] == ["get_weather", "get_time"]
    assert json.loads(choice["message"]["tool_calls"][0]["function"]["arguments"]) == {"city": "Lima", "unit": "c"}
    assert completion["usage"]["prompt_tokens"] == 2110
    assert completion["usage"]["prompt_tokens_details"]["cached_tokens"] == 2000
    assert completion["usage"]["completion_tokens"] == 42 and completion["usage"]["total_tokens"] == 2152


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("tool_use", "stop"),  # no tool call in the content: nothing for the client to call
        (None, "stop"),
    ],
)
def test_finish_reasons(stop_reason, finish):
    message = {**MESSAGE, "content": [{"type": "text", "text": "x"}], "stop_reason": stop_reason}
    assert message_to_completion(message, model="m")["choices"][0]["finish_reason"] == finish


# ---------------------------------------------------------------------------------------------- streams


def translate_stream(message: dict, pieces: int | None = None, **kwargs) -> bytes:
    raw = b"".join(stream_events(message))
    translator = ChatStreamTranslator(model="claude", created=1, **kwargs)
    if pieces is None:
        return translator.feed(raw)
    return b"".join(translator.feed(raw[i : i + pieces]) for i in range(0, len(raw), pieces))


def test_the_stream_translation_does_not_depend_on_how_bytes_are_split():
    whole = translate_stream(STREAMABLE, include_usage=True)
    assert translate_stream(STREAMABLE, pieces=1, include_usage=True) == whole
    assert translate_stream(STREAMABLE, pieces=13, include_usage=True) == whole
    assert whole.endswith(b"data: [DONE]\n\n")


def test_a_streamed_message_reassembles_into_the_non_streamed_completion():
    chunks = events_of(translate_stream(STREAMABLE, include_usage=True))
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 2000
    assert all(c["usage"] is None for c in chunks[:-1])
    streamed = chunks_to_completion(chunks)
    whole = message_to_completion(STREAMABLE, model="claude", created=1)
    assert streamed["choices"] == whole["choices"]
    assert streamed["usage"] == whole["usage"]
    assert streamed["id"] == whole["id"]
    tool_indexes = [
        tc["index"] for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert set(tool_indexes) == {0, 1}


def test_completion_to_chunks_round_trips():
    completion = message_to_completion(MESSAGE, model="claude", created=1)
    chunks = completion_to_chunks(completion)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == completion["usage"]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks_to_completion(chunks) == completion
    no_usage = completion_to_chunks(completion, include_usage=False)
    assert all("usage" not in c for c in no_usage)
    assert chunks_to_completion(no_usage) == {k: v for k, v in completion.items() if k != "usage"}
    body = sse_bytes(chunks)
    assert body.endswith(b"data: [DONE]\n\n") and events_of(body) == chunks


def test_chunks_to_completion_keeps_choices_apart():
    chunks = [
        {"id": "c", "created": 1, "model": "m", "choices": [{"index": 1, "delta": {"content": "B"}}]},
        {
            "id": "c",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "A"}}],
        },
        {
            "id": "c",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": "stop"}],
        },
        {"id": "c", "created": 1, "model": "m", "choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]},
    ]
    completion = chunks_to_completion(chunks)
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in completion["choices"]] == [
        (0, "Aa", "stop"),
        (1, "B", "length"),
    ]


def test_json_tool_streams_as_content():
    message = {
        **MESSAGE,
        "content": [{"type": "tool_use", "id": "t", "name": "facts", "input": {"a": [1, 2, 3], "b": "x"}}],
    }
    chunks = events_of(translate_stream(message, pieces=5, json_tool="facts"))
    completion = chunks_to_completion(chunks)
    assert json.loads(completion["choices"][0]["message"]["content"]) == {"a": [1, 2, 3], "b": "x"}
    assert "tool_calls" not in completion["choices"][0]["message"]
    assert completion["choices"][0]["finish_reason"] == "stop"


def test_thinking_is_not_streamed_as_content():
    events = [
        {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 3}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "secret"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "answer"}},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
    ]
    translator = ChatStreamTranslator(model="m", include_usage=True)
    out = translator.feed(b"".join(b"event: x\ndata: " + orjson.dumps(e) + b"\n\n" for e in events))
    assert b"secret" not in out
    completion = chunks_to_completion(events_of(out))
    assert completion["choices"][0]["message"]["content"] == "answer"
    assert completion["choices"][0]["finish_reason"] == "length"
    assert completion["usage"]["prompt_tokens"] == 3 and completion["usage"]["completion_tokens"] == 9
    assert translator.complete


def test_an_error_event_becomes_an_openai_stream_error():
    translator = ChatStreamTranslator(model="m")
    out = translator.feed(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n'
    )
    assert orjson.loads(out[6:]) == {
        "error": {"message": "busy", "type": "server_error", "param": None, "code": "overloaded_error"}
    }
    assert translator.errored and not translator.complete


# ---------------------------------------------------------------------------------------------- OpenAI relay


def openai_stream(include_usage_chunk: bool = True) -> bytes:
    chunks = [
        {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}], "usage": None},
        {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": None},
    ]
    if include_usage_chunk:
        usage = {"prompt_tokens": 1200, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 1024}}
        chunks.append({"id": "c", "choices": [], "usage": usage})
    return sse_bytes(chunks)


@pytest.mark.parametrize("pieces", [1, 7, 10_000])
def test_the_openai_tap_reads_usage_and_hides_only_the_usage_chunk(pieces):
    raw = openai_stream()
    usage = Usage()
    tap = OpenAIStreamTap(usage, hide_usage_chunk=True)
    out = b"".join(tap.feed(raw[i : i + pieces]) for i in range(0, len(raw), pieces)) + tap.flush()
    assert out == openai_stream(include_usage_chunk=False)
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (176, 1024, 5)
    assert tap.complete

    passed = Usage()
    tap = OpenAIStreamTap(passed, hide_usage_chunk=False)
    out = b"".join(tap.feed(raw[i : i + pieces]) for i in range(0, len(raw), pieces)) + tap.flush()
    assert out == raw and passed == usage


def test_dialect_is_told_by_headers():
    assert anthropic_dialect({"anthropic-version": "2023-06-01"}, "/v1/models")
    assert anthropic_dialect({"x-api-key": "k"}, "/v1/files")
    assert anthropic_dialect({}, "/v1/messages/batches")
    assert not anthropic_dialect({"authorization": "Bearer k"}, "/v1/models")
