"""Checks of what the gateway signs with: Google ADC for Vertex, the Anthropic and OpenAI keys."""

from __future__ import annotations

import asyncio

from anyray.config import secret_value
from anyray.doctor import Result, Situation, mask
from anyray.providers.google_auth import GoogleTokenSource


def _vertex_used(s: Situation) -> bool:
    assert s.config is not None
    routes = s.config.model_map().values()
    return bool(s.config.providers.vertex.project) or any(
        t.provider == "vertex" for r in routes for t in (r, *r.fallbacks))


def vertex(s: Situation) -> list[Result]:
    if s.config is None or not s.config.providers.vertex.enabled or not _vertex_used(s):
        return []
    v = s.config.providers.vertex
    out = [Result("vertex project", "ok" if v.project else "fail",
                  f"{v.project or 'not set'}, location {v.location}",
                  "" if v.project else "set providers.vertex.project or export GOOGLE_CLOUD_PROJECT=...")]
    source = GoogleTokenSource(v.credentials_file)

    async def mint() -> None:
        await source.start()
        await source.close()

    try:
        asyncio.run(asyncio.wait_for(mint(), s.timeout_s))
    except TimeoutError:
        out.append(Result("vertex credentials", "fail", f"no token within {s.timeout_s:.0f} s "
                          f"({source.source}): the token endpoint is not answering",
                          "check network access to oauth2.googleapis.com (or the key's token_uri)"))
        return out
    if source.credentials is None:
        out.append(Result("vertex credentials", "fail", f"no Application Default Credentials: {source.error}",
                          "gcloud auth application-default login, or set providers.vertex.credentials_file, "
                          "or run on GKE with Workload Identity"))
    elif source.error:
        reason = source.error
        if "Connection" in reason or "Max retries" in reason or "timed out" in reason:
            reason = f"found {source.source}, but the token endpoint is unreachable"
        out.append(Result("vertex token", "fail", reason, "check network access to the token endpoint "
                          "and that the key is not revoked"))
    else:
        out.append(Result("vertex credentials", "ok", f"{source.source}; a token was minted"))
    return out


def keys(s: Situation) -> list[Result]:
    if s.config is None:
        return []
    out = []
    used = {t.provider for r in s.config.model_map().values() for t in (r, *r.fallbacks)}
    for name in ("anthropic", "openai"):
        p = getattr(s.config.providers, name)
        key = secret_value(p.api_key)
        if not p.enabled or (name not in used and not key):
            continue
        status = "ok" if key else "fail"
        out.append(Result(f"{name} key", status, f"{p.api_key_env}: {mask(key)}",
                          "" if key else f"export {p.api_key_env}=..."))
    return out
