"""What translating an OpenAI-dialect call to Claude costs the gateway, in CPU time per call.

    .venv/bin/python benchmarks/translate_cost.py [--calls 2000]

Measures, in-process and single-threaded: the request translation (a 12-turn conversation with tools
and a tool round trip), the answer translation (non-streamed), and the stream translation of a
~300-event answer fed in network-sized pieces. Compare with the per-call latency budget of the gateway.
"""

from __future__ import annotations

import argparse
import time

from anyray.testing.anthropic_api import stream_events
from anyray.translate import ChatStreamTranslator, chat_to_messages, message_to_completion

TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the docs.",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    },
}


def conversation() -> dict:
    messages: list[dict] = [{"role": "system", "content": "You are a helpful assistant. " * 40}]
    for i in range(5):
        messages.append({"role": "user", "content": f"Question {i}: " + "tell me more about this topic. " * 20})
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}}
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": "result " * 100})
    messages.append({"role": "user", "content": "Summarise."})
    return {"model": "gpt-4o", "messages": messages, "tools": [TOOL], "stream": True, "temperature": 0.3}


def answer() -> dict:
    text = " ".join(f"word{i}" for i in range(900))  # ~300 text_delta events of three words
    return {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1000, "output_tokens": 900, "cache_read_input_tokens": 0},
    }


def per_call_us(fn, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    calls = parser.parse_args().calls
    chat = conversation()
    message = answer()
    raw = b"".join(stream_events(message))
    pieces = [raw[i : i + 1400] for i in range(0, len(raw), 1400)]

    def stream() -> None:
        translator = ChatStreamTranslator(model="gpt-4o", include_usage=True)
        for piece in pieces:
            translator.feed(piece)

    print(f"request  (16 messages, tools):     {per_call_us(lambda: chat_to_messages(chat), calls):8.1f} us/call")
    answer_us = per_call_us(lambda: message_to_completion(message, model="m"), calls)
    print(f"answer   (non-streamed):           {answer_us:8.1f} us/call")
    print(f"stream   ({raw.count(b'event:')} events, {len(raw)} bytes): {per_call_us(stream, calls):8.1f} us/call")


if __name__ == "__main__":
    main()
