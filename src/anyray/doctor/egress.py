"""The way out: whether each configured provider is called directly or through the environment's proxy."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from anyray.config import Config
from anyray.doctor import Result, Situation
from anyray.providers import PROVIDERS
from anyray.server.gateway.h1.proxy import EnvironmentProxies, ProxyConfigError


def _upstreams(config: Config) -> list[tuple[str, str]]:
    return [(name, cls.upstream_url(cls.settings_of(config)))
            for name, cls in PROVIDERS.items() if config.provider_configured(name)]


def egress(s: Situation) -> list[Result]:
    if s.config is None:
        return []
    try:
        proxies = EnvironmentProxies.read(s.env)
    except ProxyConfigError as exc:  # the gateway would refuse to start with the same words
        return [Result("egress", "fail", str(exc), "the gateway will not start until this proxy variable is fixed")]
    out = []
    for name, url in _upstreams(s.config):
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        proxy = proxies.proxy_for(parts.scheme, host, port)
        if proxy is None:
            out.append(Result(f"egress: {name}", "ok", f"{host}:{port} directly (no proxy applies)"))
            continue
        how = f"{host}:{port} through proxy {proxy.address}" + (" with credentials" if proxy.authorization else "")
        try:
            socket.create_connection((proxy.host, proxy.port), timeout=s.timeout_s).close()
        except OSError as exc:
            out.append(Result(f"egress: {name}", "fail", f"{how}; the proxy is unreachable: {exc.strerror or exc}",
                              "check HTTPS_PROXY / HTTP_PROXY, or list this host in NO_PROXY if it is reachable "
                              "directly"))
            continue
        out.append(Result(f"egress: {name}", "ok", f"{how} (the proxy accepts connections)"))
    return out
