"""Helpers for the content strategies' tests: a sealed-key optimizer (handles are the same in every process)
and requests in the shape agents send."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import pytest
from benchmarks.workloads._build import Call, anthropic, openai

from anyray.config import Config
from anyray.server.optimizer.engine import Optimizer

KEY = base64.urlsafe_b64encode(b"t" * 32).decode()
CONTENT_KINDS = ["context_dedupe", "command_digest", "code_graph", "code_skeleton", "relevance_filter",
                 "context_compression", "durable_blobs"]
HANDLE = re.compile(r"h_[0-9a-f]{16}")


def make_optimizer() -> Optimizer:
    # the strategies' logic, driven through one event loop per call (`optimize` below): in the optimizer's
    # thread. The decider process decides the same (tests/optimizer/test_decider_process.py)
    return Optimizer(Config.model_validate({"cache": {"key": KEY}, "optimizer": {"worker": "thread"}}))


@pytest.fixture
def optimizer() -> Optimizer:
    return make_optimizer()


def optimize(optimizer: Optimizer, request: dict[str, Any], kinds: list[str] | None,
             endpoint: str = "/v1/messages") -> dict[str, Any]:
    message: dict[str, Any] = {"endpoint": endpoint, "request": request, "route": {"provider": "anthropic",
                                                                                   "model": "claude-sonnet-4-5"}}
    if kinds is not None:
        message["enabledKinds"] = kinds
    return asyncio.run(optimizer.optimize(message))


def retrieve(optimizer: Optimizer, handle: str) -> str:
    return asyncio.run(optimizer.retrieve({"handle": handle}))["content"]


def session(question: str, *rounds: list[Call]) -> dict[str, Any]:
    return anthropic("t", question, [], list(rounds)).request


def openai_session(question: str, *rounds: list[Call]) -> dict[str, Any]:
    return openai("t", question, [], list(rounds)).request


def results(request: dict[str, Any]) -> list[str]:
    """The text of every tool output, in order (Anthropic string content or OpenAI tool messages)."""
    out = []
    for message in request["messages"]:
        if message.get("role") == "tool":
            out.append(message["content"])
        elif isinstance(message.get("content"), list):
            out += [b["content"] for b in message["content"] if b.get("type") == "tool_result"]
    return out
