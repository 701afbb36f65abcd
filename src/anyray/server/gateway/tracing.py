"""OpenTelemetry traces of each call, and `x-request-id` echoed (docs/gateway.md#traces).

Off unless the standard variables ask for it: `OTEL_TRACES_EXPORTER=otlp`, or an OTLP endpoint
(`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); `OTEL_SDK_DISABLED=true` wins. The
exporter is OTLP over HTTP (protobuf) and reads its own endpoint, headers and timeout from the same
variables; the sampler is the SDK's (`OTEL_TRACES_SAMPLER`, parent-based by default). Needs the `otel` extra.

A call's spans: the server span (`POST /v1/messages`, started from the caller's W3C `traceparent` when it
sent one), `anyray.route`, `anyray.optimize` (the decision: status and the kinds applied), one
`anyray.upstream` per attempt (each sends its own `traceparent` upstream), and `anyray.relay` (from the
answer's first byte to its last). Attributes are ids, names, numbers and statuses: never a prompt, an
answer, a header value the caller wrote or a credential.

With tracing off this costs a request one header lookup (is there an x-request-id to echo?).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from starlette.types import Message, Scope, Send

from anyray import __version__

log = logging.getLogger("anyray.tracing")

REQUEST_ID = "x-request-id"
_REQUEST_ID_SHAPE = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces: safe to echo as a header
_TRACER: ContextVar[Any] = ContextVar("anyray_tracer", default=None)


def wanted(env: Mapping[str, str]) -> bool:
    """Whether the OTEL_* variables ask for traces to be exported."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = {e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "").split(",") if e.strip()}
    if exporters:
        return "otlp" in exporters
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def provider_from_env(env: Mapping[str, str]) -> Any:
    """A TracerProvider exporting over OTLP/HTTP when the environment asks for one, else None."""
    if not wanted(env):
        return None
    from anyray.extras import need

    need("opentelemetry.sdk", "otel", "exporting traces (OTEL_* variables)")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol and protocol != "http/protobuf":
        log.warning("OTLP protocol %r is not supported; exporting over http/protobuf", protocol)
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {"service.name": "anyray-gateway"}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def tracer_of(provider: Any) -> Any:
    return None if provider is None else provider.get_tracer("anyray.gateway", __version__)


_NO_SPAN = contextlib.nullcontext()  # stateless: one for every call while tracing is off


def on() -> bool:
    """Whether the call being served is traced: callers skip building attributes nobody would read."""
    return _TRACER.get() is not None


def span(name: str, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
    """A child span of the call being served (None, and no cost beyond one lookup, when tracing is off: not a
    generator-based context manager made per call)."""
    tracer = _TRACER.get()
    if tracer is None:
        return _NO_SPAN
    return _span(tracer, name, attributes)


@contextlib.contextmanager
def _span(tracer: Any, name: str, attributes: dict[str, Any]) -> Iterator[Any]:
    with tracer.start_as_current_span(name, attributes=_clean(attributes)) as current:
        yield current


def client_span(name: str, headers: dict[str, str], **attributes: Any) -> contextlib.AbstractContextManager[Any]:
    """An outgoing call's span; its W3C traceparent (and tracestate) go into `headers`."""
    tracer = _TRACER.get()
    if tracer is None:
        return _NO_SPAN
    return _client_span(tracer, name, headers, attributes)


@contextlib.contextmanager
def _client_span(tracer: Any, name: str, headers: dict[str, str], attributes: dict[str, Any]) -> Iterator[Any]:
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=_clean(attributes)) as current:
        headers.pop("traceparent", None)  # a retry's attempt has its own span id
        headers.pop("tracestate", None)
        TraceContextTextMapPropagator().inject(headers)
        yield current


def annotate(**attributes: Any) -> None:
    """Attributes on the call's server span (nothing when tracing is off)."""
    if _TRACER.get() is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(_clean(attributes))


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The caller's x-request-id when it is well formed (safe to echo as a header), else None."""
    request_id = headers.get(REQUEST_ID)
    if request_id is not None and not _REQUEST_ID_SHAPE.fullmatch(request_id):
        return None
    return request_id


class ServerSpan:
    """One call's server span (from the caller's W3C traceparent when it sent one), made current for the
    call's own spans, the relay span from the answer's head to its last byte, and x-request-id echoed.
    `send` is the app's send; `end` runs once the app returned or raised. Inline in the hot paths (hot.py),
    in front of any other `/v1/` route in `hot.Guarded`."""

    __slots__ = ("_detach", "_downstream", "_relay", "_root", "_token", "_tracer", "_tracer_token", "request_id")

    def __init__(self, tracer: Any, scope: Scope, headers: Mapping[str, str], request_id: str | None,
                 send: Send) -> None:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        parent = TraceContextTextMapPropagator().extract(carrier=headers)
        method = scope["method"]
        self._tracer = tracer
        self._downstream = send
        self.request_id = request_id
        self._root = root = tracer.start_span(
            f"{method} {_route_of(scope['path'])}", context=parent, kind=SpanKind.SERVER,
            attributes=_clean({"http.request.method": method, "url.path": scope["path"],
                               "anyray.request_id": request_id}))
        self._token = context.attach(trace.set_span_in_context(root, parent))
        self._detach = context.detach
        self._tracer_token = _TRACER.set(tracer)
        self._relay: Any = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            self._root.set_attribute("http.response.status_code", status)
            if status >= 500:
                from opentelemetry.trace import Status, StatusCode

                self._root.set_status(Status(StatusCode.ERROR))
            if self.request_id is not None:
                message["headers"] = [*message.get("headers", []), (b"x-request-id", self.request_id.encode())]
            self._relay = self._tracer.start_span("anyray.relay", attributes={"http.response.status_code": status})
        elif message["type"] == "http.response.body" and not message.get("more_body") and self._relay is not None:
            await self._downstream(message)
            self._relay.end()
            self._relay = None
            return
        await self._downstream(message)

    def end(self) -> None:
        if self._relay is not None:  # the client left mid-answer
            self._relay.set_attribute("anyray.relay.complete", False)
            self._relay.end()
            self._relay = None
        _TRACER.reset(self._tracer_token)
        self._detach(self._token)
        self._root.end()


def echo(send: Send, request_id: str) -> Send:
    """`send`, with x-request-id added to the answer's head."""
    async def echoing(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
        await send(message)

    return echoing


def _route_of(path: str) -> str:
    """The route, not the path: a Vertex path names a project and a model, a span name should not vary."""
    if path.startswith("/v1/projects/"):
        return "/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model_verb}"
    return path if path in ("/v1/messages", "/v1/chat/completions", "/v1/messages/count_tokens") else "/v1/{path}"
