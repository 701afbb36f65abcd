"""The optimizer's response cache and stash: sealed entries over a pluggable backend.

An entry's id is a keyed hash of everything that shapes the answer (the canonical request minus
transport fields and cache_control marks), the endpoint, the upstream model, and the team: one team
never reads another's answers, and nobody can test whether a given prompt is in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from anyray.server.optimizer.cache.backends import Backend, open_backend
from anyray.server.optimizer.cache.crypto import Sealer
from anyray.server.optimizer.handles import handle_of

__all__ = ["Backend", "ResponseCache", "Sealer", "Stash", "canonical", "open_backend"]

# Fields that change how an answer travels or is billed, never what it says.
_TRANSPORT_FIELDS = frozenset({"stream", "stream_options", "metadata", "user", "store", "service_tier"})
DEFAULT_TEAM = "_default"


def _strip_marks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip_marks(v) for v in value]
    return value


def canonical(endpoint: str, request: dict[str, Any], model: str, team: str) -> bytes:
    shaped = {k: _strip_marks(v) for k, v in request.items() if k not in _TRANSPORT_FIELDS and k != "model"}
    return orjson.dumps([endpoint, model, team, shaped], option=orjson.OPT_SORT_KEYS)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0
    rejected: int = 0
    by_team: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, what: str, team: str) -> None:
        setattr(self, what, getattr(self, what) + 1)
        per = self.by_team.setdefault(team, {"hits": 0, "misses": 0, "writes": 0})
        if what in per:
            per[what] += 1


class ResponseCache:
    def __init__(self, backend: Backend, sealer: Sealer, ttl_s: int, max_entry_bytes: int) -> None:
        self.backend = backend
        self.sealer = sealer
        self.ttl_s = ttl_s
        self.max_entry_bytes = max_entry_bytes
        self.stats = CacheStats()

    def key_for(self, endpoint: str, request: dict[str, Any], model: str, team: str | None) -> str:
        return self.sealer.mac(canonical(endpoint, request, model, team or DEFAULT_TEAM))

    async def lookup(self, key: str, team: str | None) -> Any:
        team = team or DEFAULT_TEAM
        blob = await self.backend.get(key)
        if blob is None:
            self.stats.count("misses", team)
            return None
        try:
            response = orjson.loads(self.sealer.open(blob, key.encode()))
        except Exception:  # a tampered or foreign entry is a miss, never an answer
            self.stats.count("misses", team)
            return None
        self.stats.count("hits", team)
        return response

    async def store(self, key: str, response: Any, team: str | None, model: str, ttl_s: int | None = None) -> bool:
        team = team or DEFAULT_TEAM
        plain = orjson.dumps(response)
        if len(plain) > self.max_entry_bytes:
            self.stats.rejected += 1
            return False
        ttl = min(ttl_s or self.ttl_s, self.ttl_s)
        await self.backend.put(key, self.sealer.seal(plain, key.encode()), ttl, team, model)
        self.stats.count("writes", team)
        return True

    async def purge(self, team: str | None = None, model: str | None = None) -> int:
        return await self.backend.purge(team, model)

    async def describe(self) -> dict[str, Any]:
        s = self.stats
        looked = s.hits + s.misses
        return {
            "entries": await self.backend.count(),
            "hits": s.hits,
            "misses": s.misses,
            "writes": s.writes,
            "rejected": s.rejected,
            "hitRate": round(s.hits / looked, 4) if looked else 0.0,
            "byTeam": s.by_team,
            "ttlSeconds": self.ttl_s,
        }


class Stash:
    """What reversible strategies elide, reachable by handle through /v1/retrieve and the gateway's retrieve tool.

    A handle is a keyed hash of the content, so the same elision yields the same handle on every turn
    and in every process: the marker text a strategy leaves in the prompt stays byte-identical. It is
    short (64 bits) because every marker repeats it. An entry is stored under the handle *and* the team
    that stashed it, and sealed with both as associated data: another team's handle reads as unknown.
    """

    def __init__(self, backend: Backend, sealer: Sealer, ttl_s: int) -> None:
        self.backend = backend
        self.sealer = sealer
        self.ttl_s = ttl_s
        self._team_ids: dict[str, str] = {}  # a team's part of the key: an HMAC per stored piece before

    def handle_for(self, content: str) -> str:
        return handle_of(self.sealer.id_key, content)

    def _key(self, handle: str, team: str | None) -> str:
        team = team or DEFAULT_TEAM
        team_id = self._team_ids.get(team)
        if team_id is None:
            if len(self._team_ids) >= 4096:  # teams are few; a caller-chosen name must not grow this forever
                self._team_ids.clear()
            team_id = self._team_ids[team] = self.sealer.mac(b"stash-team:" + team.encode())[:16]
        return f"{handle}.{team_id}"

    async def put(self, content: str, team: str | None = None) -> str:
        handle = self.handle_for(content)
        await self.store(handle, content, team)
        return handle

    async def store(self, handle: str, content: str, team: str | None = None) -> None:
        key = self._key(handle, team)
        await self.backend.put(key, self.sealer.seal(content.encode(), key.encode()), self.ttl_s,
                               team or DEFAULT_TEAM, "")

    async def get(self, handle: str, team: str | None = None) -> str | None:
        key = self._key(handle, team)
        blob = await self.backend.get(key)
        if blob is None:
            return None
        try:
            return self.sealer.open(blob, key.encode()).decode()
        except Exception:
            return None
