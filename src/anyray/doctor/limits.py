"""Budgets and rate limits: what the config says against what the store and the deployment can do.

The config itself refuses what can never work (a soft limit above its hard one, a key id that is not one);
this check finds what only makes sense with the store in view: limits for keys that do not exist or are
revoked, budgets with nowhere to count spend, and rate limits that several replicas would each count alone.
"""

from __future__ import annotations

from anyray.doctor import Result, Situation
from anyray.keys import KeyStore
from anyray.store import StoreError, open_store


def limits(s: Situation) -> list[Result]:
    if s.config is None:
        return []
    config = s.config
    budgets, rates = config.budgets, config.rate_limits
    if not budgets.any and not rates.any:
        return [Result("limits", "ok", "no budgets or rate limits configured")]
    out: list[Result] = []
    if budgets.any:
        found = f"{len(budgets.teams)} team and {len(budgets.keys)} key budget(s), re-read every {budgets.refresh_s}s"
        if config.store.url is None or not config.store.enabled:
            out.append(Result("budgets", "warn", found + ", but no store.url: each gateway counts only its own calls "
                              "since it started", "set store.url (PostgreSQL when several replicas serve)"))
        else:
            out.append(Result("budgets", "ok", found))
    if rates.any:
        shared = rates.redis_url or (config.cache.url if config.cache.url.startswith("redis") else None)
        found = f"{len(rates.teams)} team and {len(rates.keys)} key rate limit(s), {rates.window_s}s window"
        if shared:
            out.append(Result("rate limits", "ok", found + ", counted in Redis across replicas"))
        elif str(config.store.url or "").startswith("postgres") and config.deploy.replicas > 1:
            # a shared PostgreSQL store: several replicas serve, and each would count a caller's calls alone
            out.append(Result("rate limits", "warn", found + f", counted per replica: with {config.deploy.replicas} "
                              "replicas a caller gets up to that many times its limit",
                              "set rate_limits.redis_url (or a redis:// cache.url)"))
        else:
            out.append(Result("rate limits", "ok", found + ", counted in this gateway (several replicas would each "
                              "count alone: give them rate_limits.redis_url)"))
    named = {*budgets.keys, *rates.keys}
    if named and config.store.url:
        out.append(_known_keys(config.store.url, named))
    return out


def _known_keys(url: str, named: set[str]) -> Result:
    try:
        store = KeyStore(open_store(url))
    except StoreError as exc:
        return Result("limit keys", "warn", f"cannot read the keys to check the limits' key ids: {exc}")
    try:
        keys = {k.id: k for k in store.list()}
    finally:
        store.store.close()
    unknown = sorted(n for n in named if n not in keys)
    revoked = sorted(n for n in named if n in keys and not keys[n].active)  # revoked or expired
    if unknown or revoked:
        parts = ([f"no such key: {', '.join(unknown)}"] if unknown else []) + (
            [f"revoked or expired: {', '.join(revoked)}"] if revoked else [])
        return Result("limit keys", "warn", "limits name keys the store does not serve (" + "; ".join(parts) + ")",
                      "check the ids with anyray keys list --all")
    return Result("limit keys", "ok", f"every key id named in the limits exists ({len(named)})")
