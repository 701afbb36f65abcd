"""Traces end to end: real SDK clients through a gateway whose TracerProvider exports to the SDK's in-memory
exporter, and (one test) the gateway's own OTLP/HTTP exporter, configured by OTEL_* variables, posting to a
collector on loopback. The caller's W3C traceparent is continued and propagated upstream; x-request-id is
echoed; no span carries prompt text or a credential."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from anyray.config import load_config
from anyray.server.gateway.app import create_gateway_app
from anyray.server.gateway.gateway import Gateway, default_optimizer_client
from tests.conftest import ANTHROPIC_KEY, vertex_and_anthropic_config
from tests.kit import ServerThread

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
SECRET_PROMPT = "the launch code is swordfish-7731"
ASK = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": SECRET_PROMPT}]}


@pytest.fixture
def traced(fake, sa_key_file, tmp_path: Path):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    path = tmp_path / "anyray.yaml"
    path.write_text(yaml.safe_dump(vertex_and_anthropic_config(fake, sa_key_file)))
    config = load_config(path, env={})
    gateway = Gateway(config, optimizer_client=default_optimizer_client(config, None), tracer_provider=provider)
    server = ServerThread(create_gateway_app(config, gateway), production=True).start()
    yield server, exporter
    server.stop()


def spans_of(exporter: InMemorySpanExporter, count: int) -> list:
    """The spans of finished calls; the server span ends after the answer's last byte, a moment after the SDK."""
    deadline = time.monotonic() + 5
    while len(spans := exporter.get_finished_spans()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(spans)


def all_text(spans) -> str:
    return json.dumps([{"name": s.name, **dict(s.attributes or {}), "events": [dict(e.attributes or {})
                        for e in s.events]} for s in spans], default=str)


def test_a_call_continues_the_callers_trace_and_each_upstream_attempt_sends_its_own_traceparent(traced, fake):
    server, exporter = traced
    fake.inject(529, times=1)  # one retried attempt: two upstream spans
    client = anthropic.Anthropic(base_url=server.url, api_key="x", max_retries=0,
                                 default_headers={"traceparent": PARENT, "x-request-id": "req-abc-123"})
    raw = client.messages.with_raw_response.create(**ASK)
    assert raw.headers["x-request-id"] == "req-abc-123"
    assert raw.parse().content[0].text
    spans = spans_of(exporter, 6)
    names = sorted(s.name for s in spans)
    assert names == ["POST /v1/messages", "anyray.optimize", "anyray.relay", "anyray.route", "anyray.upstream",
                     "anyray.upstream"]
    assert {format(s.context.trace_id, "032x") for s in spans} == {TRACE_ID}
    root = next(s for s in spans if s.name == "POST /v1/messages")
    assert format(root.parent.span_id, "016x") == "00f067aa0ba902b7" and root.parent.is_remote
    assert root.attributes["http.response.status_code"] == 200
    assert root.attributes["gen_ai.request.model"] == "claude-sonnet-4-5"
    assert root.attributes["anyray.request_id"] == "req-abc-123"
    assert all(s.parent.span_id == root.context.span_id for s in spans if s is not root)
    attempts = sorted((s for s in spans if s.name == "anyray.upstream"),
                      key=lambda s: s.attributes["anyray.upstream.attempt"])
    assert [a.attributes["http.response.status_code"] for a in attempts] == [529, 200]
    assert attempts[0].attributes["anyray.upstream.provider"] == "vertex"
    optimize = next(s for s in spans if s.name == "anyray.optimize")
    assert optimize.attributes["anyray.optimizer.status"] in ("unchanged", "optimized")
    # what the upstream received: the trace id, and as parent the span of that very attempt
    sent = [r.headers["traceparent"] for r in fake.received if "Predict" in r.path]
    assert sent == [f"00-{TRACE_ID}-{a.context.span_id:016x}-01" for a in attempts]
    text = all_text(spans)
    assert SECRET_PROMPT not in text and "swordfish" not in text and ANTHROPIC_KEY not in text


def test_openai_streams_refusals_and_a_call_without_traceparent_start_their_own_trace(traced, fake):
    server, exporter = traced
    gpt = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    stream = gpt.chat.completions.create(model="claude-sonnet-4-5", stream=True,
                                         messages=[{"role": "user", "content": SECRET_PROMPT}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    spans = spans_of(exporter, 5)
    root = next(s for s in spans if s.name == "POST /v1/chat/completions")
    assert root.parent is None and root.attributes["anyray.dialect"] == "openai"
    relay = next(s for s in spans if s.name == "anyray.relay")
    assert relay.end_time >= relay.start_time and relay.parent.span_id == root.context.span_id
    exporter.clear()

    refused = httpx.post(f"{server.url}/v1/messages", json={"model": "claude-sonnet-4-5"},
                         headers={"x-request-id": "bad id with spaces", "anthropic-version": "2023-06-01"})
    assert refused.status_code == 400 and "x-request-id" not in refused.headers  # not echoed: not a safe header
    (root,) = [s for s in spans_of(exporter, 2) if s.name == "POST /v1/messages"]
    assert root.attributes["http.response.status_code"] == 400
    assert SECRET_PROMPT not in all_text(exporter.get_finished_spans())


def test_x_request_id_is_echoed_with_tracing_off(gateway):
    answer = httpx.post(f"{gateway.url}/v1/messages", json=ASK,
                        headers={"x-request-id": "trace-me-42", "anthropic-version": "2023-06-01"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "trace-me-42"
    assert gateway.gateway.tracer is None


def test_the_otlp_exporter_follows_the_otel_variables_to_a_collector(fake, sa_key_file, tmp_path, monkeypatch):
    received: list[ExportTraceServiceRequest] = []
    arrived = threading.Event()

    async def traces(request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        received.append(message)
        arrived.set()
        return Response(b"", 200, media_type="application/x-protobuf")

    collector = ServerThread(Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])).start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "gateway-under-test")
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
        path = tmp_path / "anyray.yaml"
        path.write_text(yaml.safe_dump(vertex_and_anthropic_config(fake, sa_key_file)))
        config = load_config(path, env={})
        gateway = Gateway(config)
        assert gateway.tracer is not None
        server = ServerThread(create_gateway_app(config, gateway), production=True).start()
        try:
            client = anthropic.Anthropic(base_url=server.url, api_key="x", max_retries=0,
                                         default_headers={"traceparent": PARENT})
            assert client.messages.create(**ASK).content[0].text
        finally:
            server.stop()  # shuts the provider down: what is batched is exported
        assert arrived.wait(10)
    finally:
        collector.stop()
    spans = [(rs.resource, span) for message in received for rs in message.resource_spans
             for ss in rs.scope_spans for span in ss.spans]
    assert {span.trace_id.hex() for _, span in spans} == {TRACE_ID}
    assert {"POST /v1/messages", "anyray.upstream", "anyray.relay"} <= {span.name for _, span in spans}
    services = {a.value.string_value for resource, _ in spans for a in resource.attributes if a.key == "service.name"}
    assert services == {"gateway-under-test"}
    assert b"swordfish" not in b"".join(m.SerializeToString() for m in received)


def test_no_otel_variables_no_tracing_and_otel_sdk_disabled_wins():
    from anyray.server.gateway.tracing import wanted

    assert not wanted({})
    assert wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert wanted({"OTEL_TRACES_EXPORTER": "otlp"})
    assert not wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert not wanted({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"})
