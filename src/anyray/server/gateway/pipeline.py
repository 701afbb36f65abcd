"""The dialect-independent part of a call: try each target of a route until one answers.

A provider may correct a refused request once per refusal it understands (Vertex's unknown betas
and tool types); an upstream that is busy, broken or unreachable is asked again after a backoff (or
its retry-after) within the request's retry budget (anyray.server.gateway.retry), then hands over to
the route's next fallback. All of this happens before the first byte reaches the client, which is
what makes it safe.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
import orjson

from anyray.providers.base import Endpoint, Provider, UpstreamRequest
from anyray.routing import Route, Target
from anyray.server.gateway import tracing
from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.retry import RETRY_STATUSES, RetryBudget, RetryPolicy, retry_after_s
from anyray.server.gateway.upstream import UpstreamClient, UpstreamFailure

log = logging.getLogger("anyray.gateway")

FALLBACK_STATUSES = RETRY_STATUSES  # what a retry on the same target did not fix, the next target may
MAX_RECOVERIES = 4  # each recovery learns something new, so this bounds distinct fixes, not loops


@dataclass(slots=True)
class Opened:
    response: UpstreamResponse
    target: Target
    request: UpstreamRequest
    # a non-streamed answer's whole body, read here: an upstream that cuts it is retried like a dropped
    # connection, before anything reached the client (None: a stream, relayed as it arrives)
    body: bytes | None = None


def _failure(status: int, message: str, provider: str) -> UpstreamFailure:
    body = orjson.dumps({"error": {"message": message}})
    return UpstreamFailure(status, body, provider)


class Forwarder:
    def __init__(
        self, providers: Mapping[str, Provider], client: UpstreamClient, retry: RetryPolicy | None = None
    ) -> None:
        self.providers = providers
        self.client = client
        self.retry = retry or RetryPolicy()
        # bumped on every repeated upstream attempt (provider, reason): the gateway's metrics
        self.on_retry: Callable[[str, str], None] | None = None

    async def send(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        route: Route,
        headers: Mapping[str, str],
        raw_body: bytes | None,
        budget: RetryBudget | None = None,
    ) -> Opened | UpstreamFailure:
        """Each target in turn (retried while busy, within the budget) until one answers."""
        budget = budget or self.retry.budget()
        failure: UpstreamFailure | None = None
        for target in route.targets:
            provider = self.providers[target.key]
            result = await self._try(provider, endpoint, payload, target, headers, raw_body, budget)
            if isinstance(result, Opened):
                return result
            failure = result
            if result.status not in FALLBACK_STATUSES:
                break
            log.info("upstream %s answered %s; trying the next target", target.provider, result.status)
            if target is not route.targets[-1]:
                self._count(target.provider, f"fallback_{result.status}")
        assert failure is not None, "a route always has at least one target"
        return failure

    def _count(self, provider: str, reason: str) -> None:
        if self.on_retry is not None:
            self.on_retry(provider, reason)

    async def _try(
        self,
        provider: Provider,
        endpoint: Endpoint,
        payload: dict[str, Any],
        target: Target,
        headers: Mapping[str, str],
        raw_body: bytes | None,
        budget: RetryBudget,
    ) -> Opened | UpstreamFailure:
        if (why := provider.unusable()) is not None:
            failure = _failure(503, why, provider.name)
            failure.final = True  # asking again cannot help until the gateway is configured; the fallback may
            return failure
        try:
            request = await provider.prepare(endpoint, payload, target.model, headers, raw_body=raw_body)
        except google.auth.exceptions.GoogleAuthError as exc:
            return _failure(503, f"cannot get a Google access token: {exc}", provider.name)
        recoveries = retries = 0
        while True:
            asked_s: float | None = None
            try:
                with tracing.client_span("anyray.upstream", request.headers, **{
                        "anyray.upstream.provider": provider.name, "anyray.upstream.model": request.model,
                        "anyray.upstream.attempt": retries + recoveries + 1}) as attempt:
                    response = await self.client.open(request)
                    if attempt is not None:
                        attempt.set_attribute("http.response.status_code", response.status)
                if response.status < 400:
                    if request.stream:
                        return Opened(response, target, request)
                    return Opened(response, target, request, await _whole(response))
                try:
                    body = await response.read()
                finally:
                    response.release()
            except (UpstreamError, TimeoutError) as exc:
                failure = _failure(502, f"upstream unreachable: {type(exc).__name__}: {exc}", provider.name)
                reason = "connection"
            else:
                status = response.status
                if status not in RETRY_STATUSES:
                    fixed = provider.recover(request, status, body)  # may raise ProviderRefusal
                    if fixed is None or recoveries >= MAX_RECOVERIES:
                        return UpstreamFailure(status, body, provider.name)
                    log.info("%s refused a request part it can do without; retrying corrected", provider.name)
                    self._count(provider.name, "corrected")
                    recoveries += 1
                    request = fixed
                    continue
                asked_s = retry_after_s(response.headers)
                failure = UpstreamFailure(status, body, provider.name, _seconds(asked_s))
                reason = f"retry_{status}"
                if response.headers.get("x-should-retry", "").lower() == "false":
                    failure.final = True  # the upstream says this one will not get better by asking again
                    return failure
            wait = budget.wait_for(retries, asked_s)
            if wait is None:
                # retried as often as a client would have: its SDK need not start over. Not when the
                # budget cut the retries short (a long retry-after): the client may still wait it out.
                policy = budget.policy
                failure.final = policy.final_for_clients and 0 < policy.attempts <= retries
                return failure
            retries += 1
            log.info("upstream %s: %s; retry %d in %.2fs", provider.name, reason, retries, wait)
            self._count(provider.name, reason)
            await asyncio.sleep(wait)


async def _whole(response: UpstreamResponse) -> bytes:
    """The whole body; a cut one drops the connection and raises, as a connection that failed would."""
    try:
        body = await response.read()
    except BaseException:
        response.close()
        raise
    response.release()
    return body


def _seconds(asked_s: float | None) -> str | None:
    """A retry-after for the client, in whole seconds (what every client understands)."""
    return None if asked_s is None else str(max(1, math.ceil(asked_s)))
