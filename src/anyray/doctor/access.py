"""Who can reach the gateway: gateway keys against the listen address.

A gateway on a non-loopback address with no keys lets anyone on the network spend the company's
provider credits; that is worth a warning even when it is intended (a private cluster network).
"""

from __future__ import annotations

from anyray.doctor import Result, Situation
from anyray.keys import KeyStore
from anyray.store import StoreError, default_store_url, open_store
from anyray.store.sqlite import sqlite_path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def keys(s: Situation) -> list[Result]:
    if s.config is None:
        return []
    url = s.config.store.url or default_store_url()
    required = s.config.auth.required
    if url.startswith("sqlite:") and not sqlite_path(url).exists():
        listed: list = []
    else:
        try:
            store = KeyStore(open_store(url))
        except StoreError as exc:
            return [Result("gateway keys", "fail", f"cannot read the keys: {exc}",
                           "check store.url and that the database answers")]
        try:
            listed = store.list()
        finally:
            store.store.close()
    active = [k for k in listed if k.active]
    asked = required if required is not None else bool(listed)
    host = s.config.gateway.host
    if not asked:
        if host in LOOPBACK:
            return [Result("gateway keys", "ok", f"none asked for; the gateway listens on {host} only")]
        return [Result("gateway keys", "warn",
                       f"none asked for, and the gateway listens on {host}: anyone who reaches it can spend",
                       "anyray keys create --team <team> (then hand each workload its key)")]
    if not active:
        return [Result("gateway keys", "fail", "keys are asked for but none is active: every API call gets a 401",
                       "anyray keys create --team <team>, or set auth.required: false")]
    teams = sorted({k.team for k in active})
    admins = sum(k.admin for k in active)
    found = f"{len(active)} active key(s) for {len(teams)} team(s) ({', '.join(teams[:5])}); {admins} admin"
    if not admins:
        return [Result("gateway keys", "warn", found + ": nobody can open the console",
                       "anyray keys create --team <team> --admin")]
    return [Result("gateway keys", "ok", found)]
