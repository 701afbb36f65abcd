"""The response cache over its three backends: memory, SQLite (a file), Redis (127.0.0.1:6379).

Entries are sealed: what a backend holds never contains the answer's text, and a tampered entry reads
as a miss. The Redis tests need the local server (CI's machine runs one) and fail, not skip, without it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from anyray.server.optimizer.cache import ResponseCache, Sealer, Stash, open_backend

SECRET_ANSWER = {"type": "message", "content": [{"type": "text", "text": "the launch code is 0000-PLAINTEXT"}]}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cache.db"
    else:
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
        client.ping()  # a missing Redis is a failure here, not a skip
        yield "redis://127.0.0.1:6379/15"
        for key in client.scan_iter("anyray:*"):
            client.delete(key)


def run(coro):
    return asyncio.run(coro)


def make_cache(url: str, max_entries: int = 100) -> ResponseCache:
    return ResponseCache(open_backend(url, max_entries), Sealer(os.urandom(32)), ttl_s=60, max_entry_bytes=10_000)


def test_round_trip_team_scope_purge_and_stats(backend_url: str):
    async def scenario() -> None:
        cache = make_cache(backend_url)
        request = {"model": "claude-sonnet-4-5", "temperature": 0, "messages": [{"role": "user", "content": "q"}]}
        key_a = cache.key_for("/v1/messages", request, "claude-sonnet-4-5@20250929", "team-a")
        key_b = cache.key_for("/v1/messages", request, "claude-sonnet-4-5@20250929", "team-b")
        assert key_a != key_b
        # transport fields and cache marks do not shape the answer, so they do not change the key
        marked = {**request, "stream": True, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]}]}
        assert cache.key_for("/v1/messages", marked, "claude-sonnet-4-5@20250929", "team-a") != key_a  # str vs block
        assert cache.key_for("/v1/messages", {**request, "stream": True}, "claude-sonnet-4-5@20250929",
                             "team-a") == key_a
        assert await cache.store(key_a, SECRET_ANSWER, "team-a", "m1")
        assert await cache.lookup(key_a, "team-a") == SECRET_ANSWER
        assert await cache.lookup(key_b, "team-b") is None
        await cache.store(key_b, SECRET_ANSWER, "team-b", "m2")
        assert await cache.purge(team="team-a") == 1
        assert await cache.lookup(key_a, "team-a") is None
        assert await cache.lookup(key_b, "team-b") == SECRET_ANSWER
        stats = await cache.describe()
        assert stats["entries"] == 1 and stats["hits"] == 2 and stats["misses"] == 2 and stats["writes"] == 2
        assert await cache.purge() == 1 and (await cache.describe())["entries"] == 0
        await cache.backend.close()

    run(scenario())


def test_entries_are_sealed_and_tampering_is_a_miss(backend_url: str):
    async def scenario() -> None:
        cache = make_cache(backend_url)
        key = f"k{uuid.uuid4().hex}"
        await cache.store(key, SECRET_ANSWER, "t", "m")
        raw = await cache.backend.get(key)
        assert raw is not None and b"PLAINTEXT" not in raw and b"launch" not in raw
        await cache.backend.put(key, raw[:-1] + bytes([raw[-1] ^ 1]), 60, "t", "m")
        assert await cache.lookup(key, "t") is None
        # the key binds the entry: moving a sealed answer under another id does not make it readable
        await cache.backend.put("other", raw, 60, "t", "m")
        assert await cache.lookup("other", "t") is None
        await cache.backend.close()

    run(scenario())


def test_bounded_by_entries_and_by_size(backend_url: str):
    async def scenario() -> None:
        cache = make_cache(backend_url, max_entries=3)
        for i in range(5):
            await cache.store(f"key{i}", {"i": i}, "t", "m")
            await asyncio.sleep(0.002)
        assert (await cache.describe())["entries"] == 3
        assert await cache.lookup("key0", "t") is None and await cache.lookup("key4", "t") == {"i": 4}
        assert not await cache.store("big", {"x": "y" * 20_000}, "t", "m")
        await cache.backend.close()

    run(scenario())


def test_entries_expire(backend_url: str):
    async def scenario() -> None:
        cache = make_cache(backend_url)
        await cache.store("short", {"a": 1}, "t", "m", ttl_s=1)
        assert await cache.lookup("short", "t") == {"a": 1}
        await asyncio.sleep(1.2)
        assert await cache.lookup("short", "t") is None
        await cache.backend.close()

    run(scenario())


def test_stash_handles_are_deterministic_and_content_is_sealed(tmp_path: Path):
    async def scenario() -> None:
        key = os.urandom(32)
        url = f"sqlite:///{tmp_path}/stash.db"
        one = Stash(open_backend(url, 10, "stash"), Sealer(key), 60)
        handle = await one.put("line 1\nSECRET-LOG-LINE\n")
        assert handle == await one.put("line 1\nSECRET-LOG-LINE\n")
        two = Stash(open_backend(url, 10, "stash"), Sealer(key), 60)  # another process, same key
        assert await two.get(handle) == "line 1\nSECRET-LOG-LINE\n"
        await one.backend.close()
        await two.backend.close()

    run(scenario())
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"SECRET-LOG-LINE" not in data
    assert sqlite3.connect(tmp_path / "stash.db").execute("SELECT COUNT(*) FROM stash_entries").fetchone()[0] == 1


def test_key_file_is_created_owner_only(tmp_path: Path):
    from anyray.server.optimizer.cache.crypto import load_or_create_key

    path = tmp_path / "keys" / "cache.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
