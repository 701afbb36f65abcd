"""Health as `anyray doctor` sees it, without secrets: gateway, optimizer and protocol, providers, store.

Two sources: the gateway the console runs in (asked in-process), or, for the standalone console, a
gateway URL asked over HTTP (`/healthz` and `/_anyray/selftest`, the endpoints doctor uses). Every
free-text detail goes through `scrub`, so a provider error can never carry a token onto the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson

from anyray import __version__
from anyray.console.data import scrub
from anyray.server.optimizer.protocol import PROTOCOL_VERSION


@dataclass(slots=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


@dataclass(slots=True)
class Health:
    source: str  # "this gateway" | a gateway URL | "store only"
    version: str = __version__
    protocol: int | str = PROTOCOL_VERSION
    checks: list[Check] = field(default_factory=list)

    @property
    def status(self) -> str:
        states = {c.status for c in self.checks}
        return "fail" if "fail" in states else "warn" if "warn" in states else "ok"


def _optimizer_checks(opt: dict[str, Any], status: dict[str, Any] | None) -> list[Check]:
    theirs = opt.get("protocolVersion")
    if opt.get("mode") == "disabled":
        return [Check("optimizer", "warn", "disabled: requests pass through unoptimized")]
    if not opt.get("reachable"):
        out = [Check("optimizer", "warn", f"unreachable ({scrub(opt.get('mode'))}): requests pass through "
                     "unoptimized (fail-open)")]
    elif theirs != PROTOCOL_VERSION:
        out = [Check("optimizer", "fail", f"protocol v{scrub(theirs)} vs v{PROTOCOL_VERSION} here")]
    else:
        out = [Check("optimizer", "ok", f"{scrub(opt.get('mode'))}, protocol v{theirs}")]
    if status:
        fail_open = status.get("failOpen") or {}
        counts = ", ".join(f"{scrub(k)} {int(v)}" for k, v in sorted(fail_open.items())) or "none"
        breaker = scrub(status.get("breaker"))
        out.append(Check("circuit breaker", "ok" if breaker in ("closed", "None") else "warn",
                         f"{breaker}; fail-opens since start: {counts}"))
    return out


async def gateway_health(gateway: Any) -> Health:
    """The gateway this console is mounted in."""
    h = Health("this gateway")
    listen = f"{gateway.config.gateway.host}:{gateway.config.gateway.port}"
    h.checks.append(Check("gateway", "ok", f"anyray {__version__} listening on {scrub(listen)}"))
    if gateway.optimizer is None:
        h.checks += _optimizer_checks({"mode": "disabled"}, None)
    else:
        h.checks += _optimizer_checks(await gateway.optimizer.probe(), gateway.optimizer.status())
    for name, provider in sorted(gateway.providers.items()):
        r = provider.readiness()
        h.checks.append(Check(f"provider {name}", "ok" if r.ready else "fail", scrub(r.detail)))
    return h


async def remote_health(url: str) -> Health:
    """A gateway elsewhere (the standalone console's `--gateway URL`), asked what doctor asks it."""
    h = Health(url)
    try:
        async with asyncio.timeout(3):
            health = await _get_json(f"{url}/healthz")
            selftest = await _get_json(f"{url}/_anyray/selftest")
    except Exception as exc:
        h.checks.append(Check("gateway", "fail", f"no anyray gateway answers at {scrub(url)} ({type(exc).__name__})"))
        return h
    h.version = scrub(health.get("version"))
    h.protocol = scrub(selftest.get("protocolVersion"))
    h.checks.append(Check("gateway", "ok", f"anyray {h.version} at {scrub(url)}"))
    h.checks += _optimizer_checks(selftest.get("optimizer") or {}, health.get("optimizer"))
    for name, ready in sorted((health.get("providers") or {}).items()):
        h.checks.append(Check(f"provider {scrub(name)}", "ok" if ready else "fail", "ready" if ready else "not ready"))
    return h


async def _get_json(url: str) -> dict:
    """GET with the gateway's own client (server/gateway/h1), a connection for this one question; through
    the environment's proxies (HTTPS_PROXY, NO_PROXY) as any client a person runs would."""
    from anyray.server.gateway.h1 import ConnectionPool

    pool = ConnectionPool(connect_timeout_s=3, read_timeout_s=3)
    try:
        response = await pool.request("GET", url, {"accept": "application/json"})
        try:
            data = orjson.loads(await response.read())
        finally:
            response.release()
    finally:
        await pool.close()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def store_only() -> Health:
    h = Health("store only")
    h.checks.append(Check("gateway", "warn", "standalone console: no gateway to ask (start with --gateway URL "
                          "to see one's health)"))
    return h
