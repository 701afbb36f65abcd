"""The similarity half of semantic_cache: near-duplicate questions answered from the cache.

Only the live question varies: a request is scoped by a keyed hash of everything else that shapes the
answer (model, system, tools, earlier turns, parameters, team), and within a scope the last user
message's embedding is compared with those of cached answers. Embeddings come from the gateway's own
embeddings endpoint (`cache.embeddings_url`, e.g. http://127.0.0.1:8787/v1): the optimizer holds no key,
the gateway signs the call. Vectors stay in this process's memory (they are derived from prompts and are
never written to a store); after a restart the exact-match half still works and the index refills.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections import OrderedDict
from typing import Any

import orjson

from anyray.server.gateway.h1 import ConnectionPool


def last_user_text(request: dict[str, Any]) -> str | None:
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    last = messages[-1]
    if last.get("role") != "user":
        return None
    content = last.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") in ("text", None)]
        if texts and all(isinstance(t, str) for t in texts):
            return "\n".join(texts)  # type: ignore[arg-type]
    return None


def without_question(request: dict[str, Any]) -> dict[str, Any]:
    return {**request, "messages": request["messages"][:-1]}


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class SimilarityIndex:
    """Per scope, the vectors of cached questions; bounded, least recently added dropped first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, list[float]]] = OrderedDict()  # cache key -> (scope, vec)
        self.pending: OrderedDict[str, tuple[str, list[float]]] = OrderedDict()  # misses awaiting write-back

    def remember(self, key: str, scope: str, vector: list[float]) -> None:
        self.pending[key] = (scope, vector)
        while len(self.pending) > self.max_entries:
            self.pending.popitem(last=False)

    def written(self, key: str) -> None:
        entry = self.pending.pop(key, None)
        if entry is not None:
            self._entries[key] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def nearest(self, scope: str, vector: list[float]) -> tuple[str, float] | None:
        best: tuple[str, float] | None = None
        for key, (their_scope, theirs) in self._entries.items():
            if their_scope == scope:
                score = _cosine(vector, theirs)
                if best is None or score > best[1]:
                    best = (key, score)
        return best


class Embedder:
    """Vectors from the gateway's own /v1/embeddings.

    When the gateway asks for keys, the optimizer presents its service token (ANYRAY_OPTIMIZER_TOKEN),
    which the gateway accepts on that one path: no gateway key and no provider credential is ever
    handed to the optimizer.
    """

    def __init__(self, url: str, model: str, timeout_s: float = 0.5, token: str | None = None) -> None:
        self.url = url.rstrip("/") + "/embeddings"
        self.model = model
        self.headers = {"content-type": "application/json", "x-anyray-metadata": "app=anyray-semantic-cache"}
        token = token if token is not None else os.environ.get("ANYRAY_OPTIMIZER_TOKEN")
        if token:
            self.headers["authorization"] = f"Bearer {token}"
        self.timeout_s = timeout_s
        self._pool: ConnectionPool | None = None

    async def embed(self, text: str) -> list[float] | None:
        """The vector, or None on any failure: similarity is an extra, never a reason to fail."""
        if self._pool is None:
            # the gateway's own client (server/gateway/h1); the gateway is reached directly, never through
            # an environment's proxy (trust_env=False, as the aiohttp session used here before)
            self._pool = ConnectionPool(connect_timeout_s=self.timeout_s, read_timeout_s=self.timeout_s,
                                        trust_env=False)
        try:
            async with asyncio.timeout(self.timeout_s):
                body = orjson.dumps({"model": self.model, "input": text})
                resp = await self._pool.request("POST", self.url, self.headers, body)
                try:
                    if resp.status != 200:
                        return None
                    data = orjson.loads(await resp.read())
                finally:
                    resp.release()
            vector = data["data"][0]["embedding"]
            return [float(x) for x in vector] if isinstance(vector, list) else None
        except Exception:
            return None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
