"""The one pipeline every model call goes through, whatever the client's dialect.

Read the body once (bounded), check it, attribute it, resolve the route, ask the optimizer (within its
budget, fail-open), answer a cache hit at once, take an upstream slot, try the route's targets (each
through the dialect's `Leg` for the wire that target speaks), relay the answer as it arrives, and after
the last byte record the call and report it. What differs between Anthropic and OpenAI callers is the
`Dialect` (server/gateway/dialects/); what differs between upstreams is the `Provider`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from anyray.providers.base import Endpoint, ProviderRefusal
from anyray.routing import Route, UnknownModel
from anyray.server.gateway import tracing
from anyray.server.gateway.admission import admit
from anyray.server.gateway.body import BadJSON, BodyTooLarge, parse_object, read_body
from anyray.server.gateway.call import Call, avoided_usage
from anyray.server.gateway.dialects import BadAnswer, Dialect, Leg, Outbound, Relay
from anyray.server.gateway.gateway import RESULT_HEADER, Gateway
from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.headers import headers_of
from anyray.server.gateway.metadata import MetadataError, attribute
from anyray.server.gateway.optimizer_client import OptimizeOutcome
from anyray.server.gateway.pipeline import FALLBACK_STATUSES, Opened
from anyray.server.gateway.retrieve import WIRES, Wire
from anyray.server.gateway.retrieve import tool as retrieve_tool
from anyray.server.gateway.retrieve.loop import LoopedStream, RetrieveLoop
from anyray.server.gateway.retry import RetryBudget
from anyray.server.gateway.streaming import AnswerThen, LetGo, RelayResponse
from anyray.server.gateway.upstream import UpstreamFailure, read_whole
from anyray.translate import TranslationError

log = logging.getLogger("anyray.gateway")

Post = Callable[[dict[str, Any] | None], None]


async def serve(
    request: Request, dialect: Dialect, endpoint: Endpoint, *, model: str | None = None, stream: bool | None = None
) -> Response:
    """One model call. `model`/`stream` come from the URL for Vertex-shaped paths, else from the body."""
    gateway: Gateway = request.app.state.gateway
    call = Call(dialect.name, dialect.call_endpoint(endpoint))
    headers = headers_of(request.scope)

    def refused(reason: str, response: Response) -> Response:
        return gateway.refused(dialect.name, reason, response, call)

    try:
        raw: bytes | None = await read_body(request, gateway.config.gateway.max_body_bytes)
        payload = parse_object(raw, gateway.config.gateway.limits.max_json_depth)  # type: ignore[arg-type]
    except BodyTooLarge as exc:
        return refused("body_too_large", dialect.error(413, str(exc), code="request_too_large"))
    except BadJSON as exc:
        return refused("invalid_json", dialect.error(400, str(exc), code="invalid_json"))
    if model is not None:  # Vertex-shaped: the model and the streaming flag come from the URL
        payload["model"] = model
        payload["stream"] = stream
        raw = None
    if (problem := dialect.validate(payload, endpoint)) is not None:
        return refused("invalid_request", problem)
    try:  # who pays: x-anyray-metadata, Claude Code's session id; a gateway key's team wins
        call.metadata = attribute(headers, payload, getattr(request.state, "key_team", None)).as_dict()
    except MetadataError as exc:
        return refused("invalid_metadata",
                       dialect.error(400, str(exc), param="x-anyray-metadata", code="invalid_metadata"))
    call.model_asked = payload["model"]
    call.stream = payload.get("stream") is True
    # the caller's key, budgets and rate limits: in memory (Redis for shared rate limits), no query per call
    if (refusal := await admit(gateway, dialect.name, call, request.scope, endpoint)) is not None:
        return refusal
    if tracing.on():
        tracing.annotate(**{"anyray.call_id": call.id, "anyray.dialect": dialect.name,
                            "anyray.endpoint": call.endpoint, "gen_ai.request.model": call.model_asked,
                            "anyray.stream": call.stream, "anyray.team": call.metadata.get("team"),
                            "anyray.key_id": call.key_id})
    with tracing.span("anyray.route") as routing:
        try:
            route = call.route = gateway.router.resolve(payload["model"])
        except UnknownModel as exc:
            return refused("unknown_model", dialect.error(404, str(exc), param="model", code="model_not_found"))
        if routing is not None:
            routing.set_attributes({"anyray.route.provider": route.primary.provider,
                                    "anyray.route.model": route.primary.model,
                                    "anyray.route.targets": len(route.targets)})

    outcome = None
    if endpoint is not Endpoint.COUNT_TOKENS:
        with tracing.span("anyray.optimize") as optimizing:
            outcome = await gateway.optimize(call, payload, route, headers)
            if optimizing is not None:
                optimizing.set_attributes(_decision(call))
        hit = outcome is not None and outcome.cached_response is not None
        if hit and (answer := _cached_answer(gateway, dialect, call, outcome, payload)) is not None:  # type: ignore[arg-type]
            return answer
        if outcome is not None:
            if outcome.changed:
                payload, raw = outcome.request, None  # type: ignore[assignment]
            # the post-call hook keeps the outcome until the answer's last byte; the parsed request (thousands of
            # objects for an agent's turn) need not live as long: the garbage collector walks them per open stream
            outcome.request = None

    # what the optimizer elided, the model may read back through the gateway's retrieve tool (when that saved
    # enough to pay for the tool's own tokens)
    offer = _retrievable(gateway, outcome)
    if not await gateway.slots.take(request.scope):
        return gateway.busy(request, call)
    try:
        sent = await _send(gateway, dialect, endpoint, payload, raw, route, headers, bool(offer))
    except TranslationError as exc:
        return refused("untranslatable", dialect.error(400, exc.message, param=exc.param, code=exc.code))
    except ProviderRefusal as exc:
        return refused("provider_refusal", dialect.error(exc.status, exc.message))
    result = sent.result
    if not isinstance(result, Opened):
        call.finish(result.status)
        gateway.completed(call)
        body = dialect.upstream_error(result.status, result.body, result.provider)
        return Response(body, result.status, headers={**result.headers(), **_result_header(call)},
                        media_type="application/json")
    call.target, call.upstream_model = result.target, result.request.model
    call.region = gateway.providers[result.target.key].region
    relay = sent.outbound.relay(call.usage, outcome is not None and outcome.cache_key is not None)

    post = _AfterAnswer(gateway, call, outcome)
    loop = _loop(gateway, call, sent, result, headers, offer) if sent.tool is not None else None
    return await _answer(gateway, dialect, call, result, relay, post, loop, sent.outbound.payload)


class _AfterAnswer:
    """The post-call hook, given the answer (`Post`): a slotted object rather than a closure, since it lives as
    long as a stream (one object for the garbage collector to walk instead of a function, cells and a tuple)."""

    __slots__ = ("call", "gateway", "outcome")

    def __init__(self, gateway: Gateway, call: Call, outcome: OptimizeOutcome | None) -> None:
        self.gateway = gateway
        self.call = call
        self.outcome = outcome

    def __call__(self, answer: dict[str, Any] | None) -> None:
        self.gateway.after_answer(self.call, self.outcome, answer)


@dataclass(slots=True)
class _Sent:
    """What went upstream for the target that answered (or failed last), and how its answer comes back."""

    result: Opened | UpstreamFailure
    outbound: Outbound
    budget: RetryBudget
    tool: tuple[Wire, str] | None = None  # the retrieve tool offered: on which wire, under which name


def _groups(dialect: Dialect, route: Route, speaks: Mapping[str, str]) -> list[tuple[Leg, Route]]:
    """Consecutive targets reached through the same leg: each group is one send (a translation happens
    once per group), and the fallback crosses to the next group only when the last target failed over."""
    groups: list[tuple[Leg, Route]] = []
    for target in route.targets:
        leg = dialect.leg(speaks[target.key])
        if groups and groups[-1][0] is leg:
            groups[-1] = (leg, Route(route.asked, (*groups[-1][1].targets, target)))
        else:
            groups.append((leg, Route(route.asked, (target,))))
    return groups


async def _send(
    gateway: Gateway, dialect: Dialect, endpoint: Endpoint, payload: dict[str, Any], raw: bytes | None,
    route: Route, headers: Mapping[str, str], offer: bool,
) -> _Sent:
    sent: _Sent | None = None
    budget = gateway.forwarder.retry.budget()  # one retry budget for the request, across every group
    for leg, group in _groups(dialect, route, gateway.speaks):
        outbound = leg.outbound(endpoint, payload, raw, headers, gateway.config)
        tool = None
        wire = WIRES[gateway.speaks[group.primary.key]]
        if offer and not wire.forced_client_tool(outbound.payload):
            tool = (wire, retrieve_tool.tool_name(wire.tools(outbound.payload)))
            outbound.payload = wire.with_tool(outbound.payload, tool[1], retrieve_tool.DESCRIPTION,
                                              retrieve_tool.PARAMETERS)
            outbound.raw = None
        result = await gateway.forwarder.send(outbound.endpoint, outbound.payload, group, headers, outbound.raw,
                                              budget)
        sent = _Sent(result, outbound, budget, tool)
        if isinstance(result, Opened) or result.status not in FALLBACK_STATUSES:
            return sent
    assert sent is not None, "a route always has at least one target"
    return sent


def _retrievable(gateway: Gateway, outcome: OptimizeOutcome | None) -> frozenset[str]:
    settings = gateway.config.gateway.retrieve
    if outcome is None or not outcome.retrievable or not settings.enabled:
        return frozenset()
    saved = sum(d.get("estimatedSavingTokens", 0) for d in outcome.decisions if isinstance(d, dict)
                and isinstance(d.get("estimatedSavingTokens"), int))
    return outcome.retrievable if saved >= settings.min_saving_tokens else frozenset()


def _loop(
    gateway: Gateway, call: Call, sent: _Sent, opened: Opened, headers: Mapping[str, str], allowed: frozenset[str]
) -> RetrieveLoop:
    """The retrieve loop for this answer: every further round to the target that answered, same budget."""
    assert sent.tool is not None and gateway.optimizer is not None
    wire, name = sent.tool
    decision = {"kind": "retrieve_tool", "changed": "offered", "rounds": 1, "retrievals": 0, "found": 0}
    call.decisions = [*call.decisions, decision]
    route = Route(call.model_asked, (opened.target,))
    team = call.metadata.get("team")
    optimizer = gateway.optimizer

    async def fetch(handle: str) -> str | None:
        return await optimizer.retrieve(handle, team)

    async def send(payload: dict[str, Any]) -> Opened | UpstreamFailure:
        return await gateway.forwarder.send(sent.outbound.endpoint, payload, route, headers, None, sent.budget)

    return RetrieveLoop(wire, name, allowed, fetch, send, gateway.config.gateway.retrieve.max_rounds, decision)


def _decision(call: Call) -> dict[str, Any]:
    """The optimizer's decision as span attributes: its status and the kinds of strategy, never content."""
    optimization = call.optimization
    return {"anyray.optimizer.status": str(optimization.get("status", "")),
            "anyray.optimizer.applied": [str(kind) for kind in optimization.get("applied") or []],
            "anyray.optimizer.fail_open": call.fail_open}


def _result_header(call: Call) -> dict[str, str]:
    """The optimizer's result, and the gateway's notices (a budget warning), on every answer."""
    if not call.optimization:
        return call.notices
    return {RESULT_HEADER: orjson.dumps(call.optimization).decode(), **call.notices}


def _cached_answer(
    gateway: Gateway, dialect: Dialect, call: Call, outcome: OptimizeOutcome, payload: dict[str, Any]
) -> Response | None:
    """Answer from the optimizer's cache without touching the upstream, as JSON or as the dialect's stream."""
    replayed = dialect.cached(outcome.cached_response, payload, call.stream)
    if replayed is None:  # not an answer of this dialect: forget it, ask the upstream
        if gateway.optimizer is not None:
            gateway.optimizer.fail_open["invalid_cached_response"] += 1
        call.optimization["status"] = "fail_open"
        return None
    body, media_type = replayed
    call.cache_hit = True
    call.upstream_model = str(outcome.cached_response.get("model", ""))
    call.avoided = avoided_usage(outcome.cached_response.get("usage"))
    call.first_byte()
    call.finish(200)
    gateway.completed(call)
    return Response(body, 200, headers={"x-anyray-cache": "hit", **_result_header(call)}, media_type=media_type)


async def _answer(
    gateway: Gateway, dialect: Dialect, call: Call, opened: Opened, relay: Relay, post: Post,
    loop: RetrieveLoop | None, sent: dict[str, Any],
) -> Response:
    response: UpstreamResponse | LoopedStream = opened.response
    headers = relay.headers(response.headers)
    headers["x-anyray-provider"] = opened.target.provider
    headers["x-anyray-model"] = opened.request.model
    headers.update(_result_header(call))
    content_type = response.headers.get("content-type", "application/json")
    if opened.body is not None or not content_type.startswith("text/event-stream"):
        body, data = (opened.body, _json(opened.body)) if opened.body is not None else await read_whole(response)
        if loop is not None:
            answer, failure = await loop.whole(data, sent)
            if failure is not None:
                call.finish(failure.status)
                gateway.completed(call)
                return Response(dialect.upstream_error(failure.status, failure.body, failure.provider), failure.status,
                                headers={**failure.headers(), **_result_header(call)}, media_type="application/json")
            if answer is not data:
                body, data = orjson.dumps(answer), answer
        call.first_byte()
        try:
            body, answer = relay.whole(body, data)
        except BadAnswer as exc:
            call.finish(502)
            gateway.completed(call)
            return dialect.error(502, f"{opened.target.provider}: {exc}")
        call.finish(response.status)

        def then() -> None:
            gateway.completed(call)
            post(answer)

        return AnswerThen(body, response.status, headers=headers, media_type=content_type, then=then)
    if loop is not None:
        response = loop.stream(opened.response, sent)
    return RelayResponse(_stream(response, relay, gateway, call, post), response.status, headers=headers,
                         media_type=content_type, on_end=LetGo(response, gateway, call))  # type: ignore[arg-type]


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


async def _stream(
    response: UpstreamResponse | LoopedStream, relay: Relay, gateway: Gateway, call: Call, post: Post
) -> AsyncIterator[bytes]:
    """Each chunk goes to the client the moment it arrives; a cut stream ends with the dialect's error event."""
    done = cut = False
    try:
        async for chunk in response.iter_chunks():
            call.first_byte()
            if out := relay.feed(chunk):
                yield out
        if rest := relay.flush():
            yield rest
        done = True
        if not relay.complete:  # the upstream closed cleanly, but mid-answer
            cut = True
            if not relay.errored:  # an upstream error event already told the client
                log.warning("upstream stream ended before the answer was complete")
                yield relay.cut()
    except (UpstreamError, TimeoutError) as exc:
        log.warning("upstream stream ended early: %s", type(exc).__name__)
        cut = True
        yield relay.cut()
    finally:
        if done:
            response.release()
        else:  # the client went away or the upstream broke: drop the connection so generation stops
            response.close()
        relay.finish()
        call.partial = not relay.complete
        # 499: the client went away mid-stream (nginx's convention); 502: the upstream cut it. A client
        # may hang up right after the answer's last event, before the upstream closes: still a success.
        finished = (done and not cut) or relay.complete
        call.finish(response.status if finished else 502 if cut else 499)
        gateway.completed(call)
        post(relay.answer())
