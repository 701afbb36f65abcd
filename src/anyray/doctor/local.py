"""Checks of this machine: install, config, the local stack, the clients in this shell, Docker."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlparse

from anyray import __version__
from anyray.doctor import Result, Situation
from anyray.extras import EXTRAS, missing
from anyray.providers import PROVIDERS
from anyray.server.optimizer.protocol import PROTOCOL_VERSION


def install(s: Situation) -> list[Result]:
    v = sys.version_info
    out = [
        Result("python", "ok" if v >= (3, 11) else "fail", f"Python {v.major}.{v.minor}.{v.micro}",
               "" if v >= (3, 11) else "install Python 3.11 or newer"),
        Result("anyray", "ok", f"anyray {__version__}"),
    ]
    needed: dict[str, str] = {}  # extra -> the config key that needs it
    if s.config is not None:
        for url, what in ((s.config.cache.url, "cache.url"), (getattr(getattr(s.config, "store", None), "url", ""),
                                                              "store.url")):
            if str(url).startswith("redis"):
                needed["redis"] = what
            if str(url).startswith("postgres"):
                needed["postgres"] = what
        if s.config.rate_limits.redis_url and s.config.rate_limits.any:
            needed["redis"] = "rate_limits.redis_url"
        from anyray.server.gateway.tracing import wanted

        if wanted(s.env):
            needed["otel"] = "the OTEL_* variables (traces)"
    for extra, (modules, enables) in EXTRAS.items():
        absent = missing(extra)
        install = f"pip install 'anyray[{extra}]'"
        if not absent:
            versions = ", ".join(f"{m} {_version_of(m)}" for m in modules)
            out.append(Result(f"extra: {extra}", "ok", f"{versions} (for {needed.get(extra) or enables})"))
        elif extra in needed:
            out.append(Result(f"extra: {extra}", "fail", f"{needed[extra]} needs {absent[0]}, not installed", install))
        else:
            out.append(Result(f"extra: {extra}", "ok", f"not installed; only {enables} needs it ({install})"))
    return out


def _version_of(module: str) -> str:
    distribution = {"ruamel.yaml": "ruamel.yaml", "psycopg_pool": "psycopg-pool"}.get(module, module)
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def config(s: Situation) -> list[Result]:
    if s.config_error is not None:
        problems = "; ".join(f"{key}: {why}" for key, why in s.config_error.problems)
        return [Result("config", "fail", f"{s.config_error.source}: {problems}",
                       "fix the keys named above (docs/configuration.md lists every key)")]
    assert s.config is not None
    out = [Result("config", "ok", f"{s.config.source} parsed and valid")]
    for asked, route in s.config.model_map().items():
        for target in (route, *route.fallbacks):
            if not s.config.provider_configured(target.provider):
                cls = PROVIDERS[target.provider]
                out.append(Result(f"model {asked}", "fail", f"maps to provider {target.provider}, which is not "
                                  "configured", cls.setup_hint(cls.settings_of(s.config))))
    if len(out) == 1:
        out.append(Result("model map", "ok", f"{len(s.config.model_map())} route(s), every provider configured"))
    return out


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str, timeout: float) -> dict | None:
    """A local anyray's JSON answer (the standard library's client: a loopback GET needs no more; direct,
    whatever proxy the shell names)."""
    try:
        with _DIRECT.open(url, timeout=timeout) as response:
            data = json.loads(response.read())
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):  # refused, timed out, an HTTP error status (urllib raises it), not JSON
        return None


def _port_state(host: str, port: int, timeout: float) -> bool:
    with socket.socket() as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def stack(s: Situation) -> list[Result]:
    out: list[Result] = []
    t = min(s.timeout_s, 3.0)
    cfg = s.config
    ports = [("gateway", cfg.gateway.host if cfg else "127.0.0.1", cfg.gateway.port if cfg else 8787, "/healthz"),
             ("optimizer", cfg.optimizer.host if cfg else "127.0.0.1", cfg.optimizer.port if cfg else 8088, "/healthz")]
    for name, host, port, path in ports:
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        if not _port_state(probe_host, port, t):
            out.append(Result(f"port {port}", "ok", f"free ({name})"))
            continue
        data = _get_json(f"http://{probe_host}:{port}{path}", t)
        if data and (data.get("version") or data.get("protocolVersion")):
            out.append(Result(f"port {port}", "ok", f"held by a healthy anyray {name}"))
        else:
            out.append(Result(f"port {port}", "fail", f"taken by something that is not anyray's {name}",
                              f"stop it, or run `anyray up --{'port' if name == 'gateway' else 'optimizer-port'} N`"))

    health = _get_json(f"{s.gateway}/healthz", t)
    if health is None:
        status = "fail" if s.gateway_url else "warn"
        out.append(Result("gateway", status, f"no anyray gateway answers at {s.gateway}",
                          "start it with `anyray up` (or pass --gateway URL)"))
        return out
    out.append(Result("gateway", "ok", f"{s.gateway} anyray {health.get('version')}, providers "
                      + ", ".join(f"{k}={'ready' if v else 'not ready'}" for k, v in
                                  (health.get("providers") or {}).items())))
    selftest = _get_json(f"{s.gateway}/_anyray/selftest", t)
    if selftest is None:
        out.append(Result("fail-open", "fail", "the gateway did not answer its self-test",
                          "upgrade the gateway to this anyray version"))
        return out
    opt = selftest.get("optimizer") or {}
    theirs = opt.get("protocolVersion")
    if not opt.get("reachable"):
        out.append(Result("optimizer", "warn", f"unreachable from the gateway ({opt.get('mode')}); requests "
                          "pass through unoptimized", "check optimizer.url and that the optimizer is running"))
    elif theirs != PROTOCOL_VERSION or selftest.get("protocolVersion") != PROTOCOL_VERSION:
        out.append(Result("optimizer", "fail", f"protocol v{theirs} vs v{PROTOCOL_VERSION} here",
                          "run the same anyray version for the gateway and the optimizer"))
    else:
        out.append(Result("optimizer", "ok", f"{opt.get('mode')}, protocol v{theirs}"))
    drill = selftest.get("failOpen") or {}
    out.append(Result("fail-open", "ok" if drill.get("armed") else "fail",
                      f"{drill.get('outcome')} (budget {drill.get('budgetMs')} ms, breaker {drill.get('breaker')})",
                      "" if drill.get("armed") else "the optimizer accepts invalid messages: check its version"))
    return out


def clients(s: Situation) -> list[Result]:
    out: list[Result] = []
    t = min(s.timeout_s, 3.0)
    for var, suffix in (("ANTHROPIC_BASE_URL", ""), ("OPENAI_BASE_URL", "/v1")):
        value = s.env.get(var)
        if not value:
            out.append(Result(var, "warn", "not set in this shell", f"export {var}={s.gateway}{suffix}"))
            continue
        parsed = urlparse(value)
        root = f"{parsed.scheme}://{parsed.netloc}"
        data = _get_json(root + "/healthz", t)
        if data and data.get("version") and "providers" in data:
            out.append(Result(var, "ok", f"{value} is a live anyray gateway ({data.get('version')})"))
        else:
            out.append(Result(var, "warn", f"points at {value}, which is not a live anyray gateway",
                              f"export {var}={s.gateway}{suffix}"))
    claude = shutil.which("claude", path=s.env.get("PATH"))
    if claude is None:
        out.append(Result("claude", "warn", "Claude Code not found on PATH",
                          "npm install -g @anthropic-ai/claude-code (only if you use it)"))
    else:
        try:
            run = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=t, env=dict(s.env))
            out.append(Result("claude", "ok", f"{claude}: {run.stdout.strip() or run.stderr.strip()}"))
        except subprocess.TimeoutExpired:
            out.append(Result("claude", "warn", f"{claude} --version did not answer within {t:.0f} s"))
    return out


def compose(s: Situation) -> list[Result]:
    docker = shutil.which("docker", path=s.env.get("PATH"))
    if docker is None:
        return [Result("docker", "fail", "Docker not found on PATH",
                       "install Docker Engine (or Docker Desktop), then `anyray up --compose`")]
    try:
        run = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                             timeout=min(s.timeout_s, 5.0), env=dict(s.env))
    except subprocess.TimeoutExpired:
        return [Result("docker", "fail", "`docker info` did not answer: the engine is hung",
                       "restart the Docker engine")]
    if run.returncode != 0:
        return [Result("docker", "fail", f"Docker found but its engine is not reachable: "
                       f"{(run.stderr or run.stdout).strip()[:200]}",
                       "start the engine (`sudo systemctl start docker` or open Docker Desktop)")]
    return [Result("docker", "ok", f"engine {run.stdout.strip()} reachable")]
