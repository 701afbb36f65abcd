"""The dialect-independent part of a call: try each target of a route until one answers.

A provider may correct a refused request once per refusal it understands (Vertex's unknown betas
and tool types); an upstream that is down or overloaded hands over to the route's next fallback.
All of this happens before the first byte reaches the client, which is what makes it safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import google.auth.exceptions
import orjson

from anyray.providers.base import Endpoint, Provider, UpstreamRequest
from anyray.routing import Route, Target
from anyray.server.gateway.upstream import UpstreamClient, UpstreamFailure

log = logging.getLogger("anyray.gateway")

FALLBACK_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
MAX_RECOVERIES = 4  # each recovery learns something new, so this bounds distinct fixes, not loops


@dataclass(slots=True)
class Opened:
    response: aiohttp.ClientResponse
    target: Target
    request: UpstreamRequest


def _failure(status: int, message: str, provider: str) -> UpstreamFailure:
    body = orjson.dumps({"error": {"message": message}})
    return UpstreamFailure(status, body, provider)


class Forwarder:
    def __init__(self, providers: Mapping[str, Provider], client: UpstreamClient) -> None:
        self.providers = providers
        self.client = client
        # bumped on every repeated upstream attempt (provider, reason): the gateway's metrics
        self.on_retry: Callable[[str, str], None] | None = None

    async def send(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        route: Route,
        headers: Mapping[str, str],
        raw_body: bytes | None,
    ) -> Opened | UpstreamFailure:
        failure: UpstreamFailure | None = None
        for target in route.targets:
            provider = self.providers[target.provider]
            result = await self._try(provider, endpoint, payload, target, headers, raw_body)
            if isinstance(result, Opened):
                return result
            failure = result
            if result.status not in FALLBACK_STATUSES:
                break
            log.info("upstream %s answered %s; trying the next target", target.provider, result.status)
            if self.on_retry is not None and target is not route.targets[-1]:
                self.on_retry(target.provider, f"fallback_{result.status}")
        assert failure is not None, "a route always has at least one target"
        return failure

    async def _try(
        self,
        provider: Provider,
        endpoint: Endpoint,
        payload: dict[str, Any],
        target: Target,
        headers: Mapping[str, str],
        raw_body: bytes | None,
    ) -> Opened | UpstreamFailure:
        try:
            request = await provider.prepare(endpoint, payload, target.model, headers, raw_body=raw_body)
        except google.auth.exceptions.GoogleAuthError as exc:
            return _failure(503, f"cannot get a Google access token: {exc}", provider.name)
        for _ in range(MAX_RECOVERIES + 1):
            try:
                response = await self.client.open(request)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _failure(502, f"upstream unreachable: {type(exc).__name__}: {exc}", provider.name)
            if response.status < 400:
                return Opened(response, target, request)
            body = await response.read()
            response.release()
            fixed = provider.recover(request, response.status, body)  # may raise ProviderRefusal
            if fixed is None:
                return UpstreamFailure(response.status, body, provider.name)
            log.info("%s refused a request part it can do without; retrying corrected", provider.name)
            if self.on_retry is not None:
                self.on_retry(provider.name, "corrected")
            request = fixed
        return UpstreamFailure(response.status, body, provider.name)
