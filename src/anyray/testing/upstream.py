"""`FakeUpstream`: the provider APIs on one loopback port, with a memory of everything it was sent.

Tests assert on `received` (what the upstream saw, after the gateway) and steer it with faults,
scripted replies and Vertex's acceptance lists. Same app serves `python -m anyray.testing serve`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from anyray.testing import anthropic_api, openai_api, openai_responses
from anyray.testing.google import TokenEndpoint
from anyray.testing.prompt_cache import PromptCache

# Vertex's own acceptance list, kept apart from the gateway's allow-list on purpose: a fake that read
# the gateway's config could never catch the gateway sending something Vertex refuses.
DEFAULT_VERTEX_BETAS = frozenset(
    {
        "interleaved-thinking-2025-05-14",
        "context-1m-2025-08-07",
        "fine-grained-tool-streaming-2025-05-14",
        "token-efficient-tools-2025-02-19",
        "output-128k-2025-02-19",
        "computer-use-2025-01-24",
        "context-management-2025-06-27",
    }
)
DEFAULT_VERTEX_TOOL_TYPES = frozenset(
    {
        "bash_20250124",
        "text_editor_20250124",
        "text_editor_20250429",
        "text_editor_20250728",
        "computer_20250124",
    }
)
VERTEX = "/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model_verb}"


async def _released(gate: threading.Event, timeout_s: float) -> bool:
    """Wait for a test thread's Event without a worker thread, so a hang-up cancels the wait at once."""
    deadline = time.monotonic() + timeout_s
    while not gate.is_set():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


@dataclass(slots=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Answered:
    path: str
    status: int


@dataclass(slots=True)
class Fault:
    status: int
    times: int = 1
    retry_after: float | None = None
    path_contains: str | None = None
    body: Any = None
    retry_after_ms: int | None = None
    extra_headers: dict[str, str] | None = None

    def headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers or {})
        if self.retry_after is not None:
            value = self.retry_after
            headers["retry-after"] = str(int(value)) if float(value).is_integer() else str(value)
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        return headers


class FakeUpstream:
    def __init__(
        self,
        anthropic_key: str | None = None,
        openai_key: str | None = None,
        token_lifetime_s: float = 3600.0,
        min_cacheable_tokens: int = 1024,
    ) -> None:
        self.anthropic_key = anthropic_key
        self.openai_key = openai_key
        self.tokens = TokenEndpoint()
        self.tokens.lifetime_s = token_lifetime_s
        self.prompt_cache = PromptCache(min_tokens=min_cacheable_tokens)
        self.vertex_betas: set[str] = set(DEFAULT_VERTEX_BETAS)
        self.vertex_rejected_betas: dict[str, set[str]] = {}
        self.vertex_count_tokens_betas: set[str] = set()
        self.vertex_tool_types: set[str] = set(DEFAULT_VERTEX_TOOL_TYPES)
        self.received: list[Received] = []
        self.responses: list[Answered] = []
        self.faults: deque[Fault] = deque()
        self.delay_s = 0.0
        self.chunk_delay_s = 0.0
        self._stream_cuts: deque[int] = deque()
        self._stream_holds: deque[tuple[int, threading.Event]] = deque()
        self._scripts: deque[list[dict[str, Any]]] = deque()
        # how each streamed answer ended: "complete", "cut" (by cut_stream_after) or "abandoned" (the
        # caller closed the connection mid-stream); `streams_open` counts those still being sent
        self.stream_endings: list[str] = []
        self.streams_open = 0
        # an agent's brain for whole-session tests: given the Messages body, the reply's content (or None
        # for the derived reply); consulted after the scripted queue is empty
        self.responder: Callable[[dict[str, Any]], list[dict[str, Any]] | None] | None = None
        self.url = ""
        self.app = self._build_app()

    # ------------------------------------------------------------------ steering, from tests
    @property
    def token_lifetime_s(self) -> float:
        return self.tokens.lifetime_s

    @token_lifetime_s.setter
    def token_lifetime_s(self, value: float) -> None:
        self.tokens.lifetime_s = value

    @property
    def tokens_issued(self) -> list[Any]:
        return self.tokens.issued

    def trust_service_account(self, key_info: dict[str, Any]) -> None:
        self.tokens.trust_service_account(key_info)

    def inject(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        path_contains: str | None = None,
        body: Any = None,
        retry_after_ms: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` matching calls answer `status` in the provider's error shape.

        `retry_after` (seconds) and `retry_after_ms` become the `retry-after` / `retry-after-ms` headers
        the real APIs send with a 429 or 529; `headers` adds any other (`x-should-retry`).
        """
        self.faults.append(Fault(status, times, retry_after, path_contains, body, retry_after_ms, headers))

    def cut_stream_after(self, events: int) -> None:
        """The next streamed answer stops after `events` SSE events, without a proper end."""
        self._stream_cuts.append(events)

    def hold_stream_after(self, events: int) -> threading.Event:
        """The next streamed answer pauses after `events` events until the returned Event is set.

        A test reads those events through the gateway while the upstream is still mid-answer: proof
        that nothing on the way buffers the stream.
        """
        gate = threading.Event()
        self._stream_holds.append((events, gate))
        return gate

    async def steer(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """A streamed answer with the fake's stream faults applied: cut after n chunks, or held until released.

        Served through RelayResponse, which closes the generator when the response ends, so a hang-up is
        recorded ("abandoned") at once rather than whenever the abandoned generator is collected.
        """
        cut_after = self.take_stream_cut()
        hold = self.take_stream_hold()
        ending = "abandoned"
        self.streams_open += 1
        try:
            i = 0
            async for chunk in chunks:
                if cut_after is not None and i >= cut_after:
                    ending = "cut"
                    raise ConnectionResetError("fake upstream cut the stream")  # closes without the last chunk
                if hold is not None and i == hold[0] and not await _released(hold[1], 10.0):
                    raise ConnectionResetError("nobody released the held stream")  # a buffering hop never does
                if self.chunk_delay_s:
                    await asyncio.sleep(self.chunk_delay_s)
                i += 1
                yield chunk
            ending = "complete"
        finally:
            self.streams_open -= 1
            self.stream_endings.append(ending)

    def take_stream_hold(self) -> tuple[int, threading.Event] | None:
        return self._stream_holds.popleft() if self._stream_holds else None

    def script(self, text: str | None = None, content: list[dict[str, Any]] | None = None) -> None:
        """The next message's content, instead of the derived reply."""
        self._scripts.append(content if content is not None else [{"type": "text", "text": text or ""}])

    def reset(self) -> None:
        self.received.clear()
        self.responses.clear()
        self.faults.clear()
        self._stream_cuts.clear()
        self._stream_holds.clear()
        self._scripts.clear()
        self.stream_endings.clear()

    def next_script(self, body: dict[str, Any] | None = None) -> list[dict[str, Any]] | None:
        if self._scripts:
            return self._scripts.popleft()
        return self.responder(body) if self.responder is not None and body is not None else None

    def take_stream_cut(self) -> int | None:
        return self._stream_cuts.popleft() if self._stream_cuts else None

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path_contains is None or fault.path_contains in path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ the app
    def _build_app(self) -> Starlette:
        async def record(request: Request) -> tuple[Any, Response | None]:
            raw = await request.body()
            body: Any = None
            if raw and "json" in request.headers.get("content-type", "json"):
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
            elif raw:
                body = raw.decode("utf-8", "replace")
            self.received.append(
                Received(
                    request.method,
                    request.url.path,
                    request.url.query,
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                )
            )
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            fault = self._take_fault(request.url.path)
            if fault is None:
                return body, None
            headers = fault.headers()
            if fault.body is not None:
                return body, JSONResponse(fault.body, fault.status, headers=headers)
            if "/chat/completions" in request.url.path or "/embeddings" in request.url.path:
                response = openai_api.openai_error(fault.status, f"injected fault {fault.status}", "server_error")
            else:
                response = anthropic_api.anthropic_error(fault.status, f"injected fault {fault.status}")
            response.headers.update(headers)
            return body, response

        def endpoint(handler):  # type: ignore[no-untyped-def]
            async def run(request: Request) -> Response:
                body, fault = await record(request)
                response = fault or await handler(request, body if isinstance(body, dict) else {})
                self.responses.append(Answered(request.url.path, response.status_code))
                return response

            return run

        async def anthropic_messages(request: Request, body: dict[str, Any]) -> Response:
            return await anthropic_api.messages(self, request, body, "anthropic")

        async def anthropic_count(request: Request, body: dict[str, Any]) -> Response:
            return await anthropic_api.messages(self, request, body, "anthropic", count_only=True)

        async def vertex(request: Request, body: dict[str, Any]) -> Response:
            model, _, verb = request.path_params["model_verb"].rpartition(":")
            if model == "count-tokens" and verb == "rawPredict":
                return await anthropic_api.messages(self, request, body, "vertex", count_only=True)
            if verb not in ("rawPredict", "streamRawPredict"):
                return anthropic_api.google_error(404, f"Method not found: {verb}", "NOT_FOUND")
            return await anthropic_api.messages(
                self, request, body, "vertex", vertex_model=model, stream_verb=verb == "streamRawPredict"
            )

        async def models(request: Request, body: dict[str, Any]) -> Response:
            if request.headers.get("anthropic-version"):
                if refused := anthropic_api.check_anthropic(self, request):
                    return refused
                data = [
                    {"type": "model", "id": m, "display_name": m, "created_at": "2025-09-29T00:00:00Z"}
                    for m in ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")
                ]
                return JSONResponse(
                    {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
                )
            return await openai_api.models(self, request)

        async def batches(request: Request, body: dict[str, Any]) -> Response:
            if refused := anthropic_api.check_anthropic(self, request):
                return refused
            batch_id = request.path_params.get("batch_id") or f"msgbatch_{len(self.received):024d}"
            counts = {
                "processing": len(body.get("requests") or [1]),
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            }
            return JSONResponse(
                {
                    "id": batch_id,
                    "type": "message_batch",
                    "processing_status": "in_progress",
                    "request_counts": counts,
                    "ended_at": None,
                    "created_at": "2026-11-25T00:00:00Z",
                    "expires_at": "2026-11-26T00:00:00Z",
                    "archived_at": None,
                    "cancel_initiated_at": None,
                    "results_url": None,
                }
            )

        async def chat(request: Request, body: dict[str, Any]) -> Response:
            return await openai_api.chat_completions(self, request, body)

        async def embeddings(request: Request, body: dict[str, Any]) -> Response:
            return await openai_api.embeddings(self, request, body)

        async def responses(request: Request, body: dict[str, Any]) -> Response:
            return await openai_responses.responses(self, request, body)

        async def moderations(request: Request, body: dict[str, Any]) -> Response:
            return await openai_api.moderations(self, request, body)

        async def files(request: Request, body: dict[str, Any]) -> Response:
            return await openai_api.files(self, request, (await request.body()).decode("utf-8", "replace"))

        async def token(request: Request, body: dict[str, Any]) -> Response:
            return await self.tokens(request)

        async def faults(request: Request) -> Response:
            self.inject(**orjson.loads(await request.body()))
            return JSONResponse({"queued": len(self.faults)})

        async def requests_seen(request: Request) -> Response:
            return JSONResponse([{"method": r.method, "path": r.path, "headers": r.headers} for r in self.received])

        async def reset(request: Request) -> Response:
            self.reset()
            return JSONResponse({"ok": True})

        routes = [
            Route("/v1/messages", endpoint(anthropic_messages), methods=["POST"]),
            Route("/v1/messages/count_tokens", endpoint(anthropic_count), methods=["POST"]),
            Route("/v1/messages/batches", endpoint(batches), methods=["POST"]),
            Route("/v1/messages/batches/{batch_id}", endpoint(batches), methods=["GET"]),
            Route("/v1/models", endpoint(models), methods=["GET"]),
            Route(VERTEX, endpoint(vertex), methods=["POST"]),
            Route("/v1/chat/completions", endpoint(chat), methods=["POST"]),
            Route("/v1/embeddings", endpoint(embeddings), methods=["POST"]),
            Route("/v1/moderations", endpoint(moderations), methods=["POST"]),
            Route("/v1/responses", endpoint(responses), methods=["POST"]),
            Route("/v1/files", endpoint(files), methods=["POST"]),
            Route("/token", endpoint(token), methods=["POST"]),
            Route("/_fake/faults", faults, methods=["POST"]),
            Route("/_fake/requests", requests_seen, methods=["GET"]),
            Route("/_fake/reset", reset, methods=["POST"]),
        ]
        return Starlette(routes=routes)
