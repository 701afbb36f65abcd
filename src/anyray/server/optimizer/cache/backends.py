"""Where sealed cache entries live: memory (default), SQLite (one host), Redis (shared by replicas).

Backends store opaque bytes under an id with an expiry, plus the team and model a purge may select by.
They never see plaintext: sealing happens above them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from anyray.extras import need


@dataclass(slots=True)
class Entry:
    blob: bytes
    expires: float
    team: str
    model: str


class Backend(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def put(self, key: str, blob: bytes, ttl_s: int, team: str, model: str) -> None: ...
    async def purge(self, team: str | None = None, model: str | None = None) -> int: ...
    async def count(self) -> int: ...
    async def close(self) -> None: ...


class MemoryBackend:
    """An LRU bounded by entry count; expired entries are dropped when met."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= time.time():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.blob

    async def put(self, key: str, blob: bytes, ttl_s: int, team: str, model: str) -> None:
        self._entries[key] = Entry(blob, time.time() + ttl_s, team, model)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def purge(self, team: str | None = None, model: str | None = None) -> int:
        doomed = [k for k, e in self._entries.items() if _selected(e.team, e.model, team, model)]
        for k in doomed:
            del self._entries[k]
        return len(doomed)

    async def count(self) -> int:
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()


class SqliteBackend:
    """One file, WAL mode; calls run in a worker thread so the event loop never waits on the disk."""

    def __init__(self, path: str, max_entries: int, table: str = "cache_entries") -> None:
        self.max_entries = max_entries
        self.table = table
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(Path(path).expanduser(), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, blob BLOB NOT NULL, "
            "expires REAL NOT NULL, team TEXT NOT NULL, model TEXT NOT NULL, used REAL NOT NULL)"
        )
        self._lock = asyncio.Lock()

    async def _run(self, fn, *args):  # type: ignore[no-untyped-def]
        async with self._lock:
            return await asyncio.to_thread(fn, *args)

    async def get(self, key: str) -> bytes | None:
        def get() -> bytes | None:
            now = time.time()
            row = self._db.execute(f"SELECT blob, expires FROM {self.table} WHERE id = ?", (key,)).fetchone()
            if row is None:
                return None
            if row[1] <= now:
                self._db.execute(f"DELETE FROM {self.table} WHERE id = ?", (key,))
                return None
            self._db.execute(f"UPDATE {self.table} SET used = ? WHERE id = ?", (now, key))
            return bytes(row[0])

        return await self._run(get)

    async def put(self, key: str, blob: bytes, ttl_s: int, team: str, model: str) -> None:
        def put() -> None:
            now = time.time()
            self._db.execute(
                f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?, ?, ?, ?)",
                (key, blob, now + ttl_s, team, model, now),
            )
            self._db.execute(f"DELETE FROM {self.table} WHERE expires <= ?", (now,))
            excess = self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0] - self.max_entries
            if excess > 0:
                self._db.execute(
                    f"DELETE FROM {self.table} WHERE id IN (SELECT id FROM {self.table} ORDER BY used LIMIT ?)",
                    (excess,),
                )

        await self._run(put)

    async def purge(self, team: str | None = None, model: str | None = None) -> int:
        clauses, args = [], []
        for column, value in (("team", team), ("model", model)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return await self._run(lambda: self._db.execute(f"DELETE FROM {self.table}{where}", args).rowcount)

    async def count(self) -> int:
        return await self._run(lambda: self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    async def close(self) -> None:
        self._db.close()


class RedisBackend:
    """Shared by every optimizer replica. Redis expires entries itself; per-team and per-model sets let a
    purge find them, and a sorted set by last use bounds the count."""

    def __init__(self, url: str, max_entries: int, prefix: str = "anyray:cache:") -> None:
        redis = need("redis.asyncio", "redis")

        self.max_entries = max_entries
        self.prefix = prefix
        self._redis = redis.from_url(url)

    async def get(self, key: str) -> bytes | None:
        blob = await self._redis.get(self.prefix + "e:" + key)
        if blob is not None:
            await self._redis.zadd(self.prefix + "used", {key: time.time()})
        return blob

    async def put(self, key: str, blob: bytes, ttl_s: int, team: str, model: str) -> None:
        p = self.prefix
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(p + "e:" + key, blob, ex=ttl_s)
            pipe.hset(p + "meta:" + key, mapping={"team": team, "model": model})
            pipe.expire(p + "meta:" + key, ttl_s)
            pipe.sadd(p + "team:" + team, key)
            pipe.sadd(p + "model:" + model, key)
            pipe.zadd(p + "used", {key: time.time()})
            await pipe.execute()
        excess = await self._redis.zcard(p + "used") - self.max_entries
        if excess > 0:
            oldest = await self._redis.zrange(p + "used", 0, excess - 1)
            await self._delete([k.decode() for k in oldest])

    async def _delete(self, keys: list[str]) -> int:
        if not keys:
            return 0
        p = self.prefix
        metas = [await self._redis.hgetall(p + "meta:" + k) for k in keys]
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, meta in zip(keys, metas, strict=True):
                pipe.delete(p + "e:" + key, p + "meta:" + key)
                pipe.zrem(p + "used", key)
                if meta:
                    pipe.srem(p + "team:" + meta[b"team"].decode(), key)
                    pipe.srem(p + "model:" + meta[b"model"].decode(), key)
            await pipe.execute()
        return len(keys)

    async def purge(self, team: str | None = None, model: str | None = None) -> int:
        p = self.prefix
        if team is None and model is None:
            keys = {k.decode() for k in await self._redis.zrange(p + "used", 0, -1)}
        else:
            sets = [p + "team:" + team] if team is not None else []
            sets += [p + "model:" + model] if model is not None else []
            keys = {k.decode() for k in await self._redis.sinter(sets)}
        live = [k for k in keys if await self._redis.exists(p + "e:" + k)]
        await self._delete(sorted(keys))
        return len(live)

    async def count(self) -> int:
        keys = await self._redis.zrange(self.prefix + "used", 0, -1)
        return sum([1 for k in keys if await self._redis.exists(self.prefix + "e:" + k.decode())])

    async def close(self) -> None:
        await self._redis.aclose()


def _selected(team: str, model: str, want_team: str | None, want_model: str | None) -> bool:
    return (want_team is None or team == want_team) and (want_model is None or model == want_model)


def open_backend(url: str, max_entries: int, namespace: str = "cache") -> Backend:
    """memory:// | sqlite:///path | redis://host:port/db ; `namespace` keeps cache and stash apart."""
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return MemoryBackend(max_entries)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        return SqliteBackend(path, max_entries, table=f"{namespace}_entries")
    if parsed.scheme in ("redis", "rediss", "unix"):
        return RedisBackend(url, max_entries, prefix=f"anyray:{namespace}:")
    raise ValueError(f"cache.url: unsupported scheme {parsed.scheme!r} (memory://, sqlite:///path, redis://...)")
