"""The optimizer's core: Optimizer Protocol v1 messages in, decisions out.

One instance serves the HTTP app (:8088) and the gateway's in-process hook under `anyray up`. It never
forwards traffic and never holds a provider credential; every message is validated against the
protocol's schemas (protocol.py) before a strategy sees it.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlparse

from anyray.config import CacheSettings, Config, secret_value
from anyray.server.optimizer import tokens
from anyray.server.optimizer.cache import ResponseCache, Sealer, Stash, open_backend
from anyray.server.optimizer.cache.crypto import decode_key, load_or_create_key
from anyray.server.optimizer.cache.similarity import Embedder, SimilarityIndex, last_user_text, without_question
from anyray.server.optimizer.content.compress import Renderings
from anyray.server.optimizer.content.first_seen import FirstSeen
from anyray.server.optimizer.protocol import ENDPOINTS, PROTOCOL_VERSION, ProtocolError, validate
from anyray.server.optimizer.settings import Planned, Resolver, SettingsDocument, parse_document
from anyray.server.optimizer.shared_settings import SharedSettings
from anyray.server.optimizer.steps import Step, apply_steps
from anyray.server.optimizer.strategies import REGISTRY
from anyray.server.optimizer.strategies.base import Context
from anyray.server.optimizer.strategies.semantic_cache import SemanticCache
from anyray.server.optimizer.strategies.tool_output import holds_long_text
from anyray.server.optimizer.worker import Busy, ProcessWorker, Worker, WorkerFailed

__all__ = ["ENDPOINTS", "PROTOCOL_VERSION", "Optimizer", "ProtocolError"]

log = logging.getLogger("anyray.optimizer")


def _cache_key(settings: CacheSettings) -> bytes:
    """The sealing key: configured, or a file made once with 0600 perms; memory-only caches need neither."""
    if configured := secret_value(settings.key):
        return decode_key(configured)
    if urlparse(settings.url).scheme == "memory" and settings.key_file is None:
        return os.urandom(32)  # entries die with the process; so may the key
    return load_or_create_key(settings.key_file)


class Optimizer:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        opt = self.config.optimizer
        self.settings = parse_document({"strategies": [s.model_dump() for s in opt.strategies],
                                        "rules": [r.model_dump() for r in opt.rules]})
        self.resolver = Resolver(self.settings)
        self.cache: ResponseCache | None = None
        self.stash: Stash | None = None
        self.similar: SimilarityIndex | None = None
        self.embedder: Embedder | None = None
        self.reports = 0
        self.first_seen = FirstSeen()
        self.renderings = Renderings()
        self._runnable: dict[tuple[int, str], tuple[list[Planned], list[Step]]] = {}
        self.shared: SharedSettings | None = None
        self.worker = ProcessWorker() if self.config.optimizer.worker == "process" else Worker()

    async def start(self) -> None:
        if self.cache is not None:
            return
        settings = self.config.cache
        sealer = Sealer(_cache_key(settings))
        self.cache = ResponseCache(open_backend(settings.url, settings.max_entries), sealer, settings.ttl_s,
                                   settings.max_entry_bytes)
        self.stash = Stash(open_backend(settings.url, settings.max_entries * 10, "stash"), sealer, settings.ttl_s)
        if isinstance(self.worker, ProcessWorker):
            self.worker.id_key = sealer.id_key
        if settings.embeddings_url:
            self.similar = SimilarityIndex(settings.max_entries)
            self.embedder = Embedder(settings.embeddings_url, settings.embeddings_model)
        self.shared = SharedSettings(open_backend(settings.url, 4, "settings"), self.settings, self._use,
                                     self.config.optimizer.settings_refresh_s)
        await self.shared.start()

    async def warm(self) -> None:
        """For a server once it listens (`anyray up`, `anyray serve`): started, and its decider starting in
        the background, so its first long requests do not wait for it. Not done by `start`, which every
        script and test calls: a decider is a process (~35 MB) each. Never fails the server: a store that
        cannot be reached yet is logged, and the first request tries again."""
        try:
            await self.start()
        except Exception as exc:
            log.warning("the optimizer could not start ahead of its first request: %s", type(exc).__name__)
            return
        self.worker.warm()

    async def close(self) -> None:
        self.worker.close()
        if isinstance(self.worker, ProcessWorker):
            await self.worker.wait_closed()
        if self.shared is not None:
            await self.shared.close()
            self.shared = None
        if self.embedder is not None:
            await self.embedder.close()
        self.similar = self.embedder = None
        for store in (self.cache, self.stash):
            if store is not None:
                await store.backend.close()
        self.cache = self.stash = None

    # ------------------------------------------------------------------------------------------ pre-call

    async def optimize(self, message: dict[str, Any]) -> dict[str, Any]:
        validate("OptimizeRequest", message)
        if self.cache is None:
            await self.start()
        request: dict[str, Any] = message["request"]
        assert self.stash is not None
        ctx = Context(message["endpoint"], message.get("route") or {}, message.get("metadata") or {},
                      message.get("headers") or {}, self.stash.handle_for, first_seen=self.first_seen,
                      renderings=self.renderings)
        wanted = message.get("enabledKinds")
        plan = self.resolver.plan(ctx.metadata, ctx.model, str(request.get("model", "")))
        steps = self._steps(plan, wanted, ctx.endpoint)
        if holds_long_text(request):  # the content strategies have work: off the event loop (worker.py)
            try:
                outcome = await self.worker.apply(steps, request, ctx)
            except (Busy, WorkerFailed) as exc:
                return {"request": request, "decisions": [], "applied": [], "preserved": [],
                        "skipped": [{"kind": "optimizer", "reason": str(exc)}]}
        else:
            outcome = apply_steps(steps, request, ctx)
        current, decisions, applied, skipped, preserved, caching = outcome
        for handle, content in ctx.stashed.items():  # before the answer: a marker's handle must resolve
            await self.stash.store(handle, content, ctx.metadata.get("team"))
        for kind in wanted or ():
            if kind not in REGISTRY:
                skipped.append({"kind": kind, "reason": "unknown kind"})
        answer: dict[str, Any] = {"request": current, "decisions": decisions, "applied": applied,
                                  "skipped": skipped, "preserved": preserved}
        if ctx.stashed and current is not request:
            answer["retrievable"] = sorted(ctx.stashed)
        if caching is not None:
            await self._consult_cache(answer, caching, ctx, bool(message.get("canShortCircuit")),
                                      message.get("authenticatedTeam"))
        return answer

    def _steps(self, plan: list[Planned], wanted: list[str] | None, endpoint: str) -> list[Step]:
        """The plan's steps with why each does not run (None: it runs), "off" ones left out. Without a
        per-request choice of kinds this depends only on the plan and the endpoint, so it is kept."""
        if wanted is not None:
            return _annotated(plan, wanted, endpoint)
        kept = self._runnable.get((id(plan), endpoint))
        if kept is not None and kept[0] is plan:
            return kept[1]
        steps = _annotated(plan, None, endpoint)
        if len(self._runnable) > 256:  # plans are few (one per set of matching rules); a bound all the same
            self._runnable.clear()
        self._runnable[(id(plan), endpoint)] = (plan, steps)
        return steps

    async def _consult_cache(
        self, answer: dict[str, Any], step: Planned, ctx: Context, can_short: bool, team: str | None
    ) -> None:
        """Look the request up in the scope of `team`: the team the gateway authenticated (its gateway key's),
        never `metadata.team`, which a caller writes itself. None: the one scope of unauthenticated callers."""
        assert self.cache is not None and isinstance(step.strategy, SemanticCache)
        request = answer["request"]
        reason = step.strategy.eligible(request, ctx, step.params)
        if reason is None and not can_short:
            reason = "caller cannot short-circuit"
        if reason is not None:
            answer["skipped"].append({"kind": step.kind, "reason": reason})
            return
        model = ctx.model or str(request.get("model", ""))
        key = self.cache.key_for(ctx.endpoint, request, model, team)
        hit = await self.cache.lookup(key, team)
        how = "answered from cache"
        if hit is None and step.params.similarity:
            hit, how = await self._similar(key, request, ctx, model, team)
        if hit is None:
            answer["cacheKey"] = key
            if step.params.ttl_s:
                answer["cacheTtlSeconds"] = step.params.ttl_s
            answer["skipped"].append({"kind": step.kind, "reason": "miss"})
            return
        size = tokens.estimate(request)
        answer.update(cacheHit=True, cachedResponse=hit)
        answer["applied"].append(step.kind)
        answer["decisions"].append({"kind": step.kind, "changed": how, "tokensBefore": size,
                                    "tokensAfter": 0, "estimatedSavingTokens": size})

    async def _similar(
        self, key: str, request: dict[str, Any], ctx: Context, model: str, team: str | None
    ) -> tuple[Any, str]:
        """After an exact miss: the cached answer to a near-duplicate question in the same scope, if any."""
        if self.similar is None or self.embedder is None or self.cache is None:
            return None, ""
        question = last_user_text(request)
        if not question:
            return None, ""
        vector = await self.embedder.embed(question)
        if vector is None:
            return None, ""
        scope = self.cache.key_for(ctx.endpoint, without_question(request), model, team)
        nearest = self.similar.nearest(scope, vector)
        threshold = self.config.cache.similarity_threshold
        if nearest is not None and nearest[1] >= threshold:
            hit = await self.cache.lookup(nearest[0], team)
            if hit is not None:
                return hit, f"answered from cache (similar question, cosine {nearest[1]:.3f})"
        self.similar.remember(key, scope, vector)
        return None, ""

    # ----------------------------------------------------------------------------------------- post-call

    async def optimize_response(self, message: dict[str, Any]) -> dict[str, Any]:
        return self.record_response(message)

    def record_response(self, message: dict[str, Any]) -> dict[str, Any]:
        """The post-call report; synchronous (it only validates and counts), so `anyray up` needs no task for it."""
        validate("OptimizeResponseRequest", message)
        self.reports += 1
        return {"response": message["response"], "decisions": []}

    # -------------------------------------------------------------------------------------- cache, stash

    async def cache_write(self, message: dict[str, Any]) -> dict[str, Any]:
        """Store a live answer. Only a trusted caller gets here: the in-process gateway, or one presenting the
        service token (app.py refuses writes over HTTP without one). The entry is bound to
        `authenticatedTeam`, what the gateway verified, never to `metadata.team`, which its caller wrote."""
        validate("CacheWrite", message)
        if self.cache is None:
            await self.start()
        assert self.cache is not None
        team = message.get("authenticatedTeam")
        route = message.get("route") or {}
        key = message.get("cacheKey")
        if key is None:
            request = message["request"]
            model = route.get("model") or str(request.get("model", ""))
            key = self.cache.key_for(message.get("endpoint", "/v1/messages"), request, model, team)
        model = route.get("model") or str((message.get("request") or {}).get("model", ""))
        stored = await self.cache.store(key, message["response"], team, model, message.get("ttlSeconds"))
        if stored and self.similar is not None:
            self.similar.written(key)
        return {"stored": stored, "cacheKey": key}

    async def cache_stats(self) -> dict[str, Any]:
        if self.cache is None:
            await self.start()
        assert self.cache is not None
        return await self.cache.describe()

    async def cache_purge(self, message: dict[str, Any]) -> dict[str, Any]:
        validate("CachePurge", message)
        if self.cache is None:
            await self.start()
        assert self.cache is not None
        return {"purged": await self.cache.purge(message.get("team"), message.get("model"))}

    async def retrieve(self, message: dict[str, Any]) -> dict[str, Any]:
        validate("Retrieve", message)
        if self.stash is None:
            await self.start()
        assert self.stash is not None
        content = await self.stash.get(message["handle"], message.get("team"))
        if content is None:
            raise ProtocolError("handle", "unknown or expired handle", status=404)
        return {"handle": message["handle"], "content": content}

    # ------------------------------------------------------------------------------------------- admin

    def capabilities(self) -> dict[str, Any]:
        plan = {p.kind: p for p in self.resolver.plan({}, "")}
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "endpoints": list(ENDPOINTS),
            "defaultsRevision": self.settings.defaults_revision,
            "strategies": [
                {
                    "kind": kind,
                    "status": "enabled" if plan[kind].enabled else "disabled",
                    "default": strategy.default_enabled,
                    "locked": plan[kind].locked,
                    "endpoints": list(strategy.endpoints),
                    "summary": strategy.summary,
                    "params": plan[kind].params.model_dump(),
                    "paramsSchema": strategy.Params.model_json_schema(),
                }
                for kind, strategy in REGISTRY.items()
            ],
            "cache": {"backend": urlparse(self.config.cache.url).scheme},
        }

    def get_settings(self) -> dict[str, Any]:
        return self.settings.as_json()

    async def put_settings(self, data: Any) -> dict[str, Any]:
        """Validate, then publish to every replica sharing `cache.url` (and apply here)."""
        doc = parse_document(data)
        if self.shared is None:
            await self.start()
        assert self.shared is not None
        return (await self.shared.publish(doc)).as_json()

    def _use(self, doc: SettingsDocument) -> None:
        self.settings, self.resolver = doc, Resolver(doc)


def _annotated(plan: list[Planned], wanted: list[str] | None, endpoint: str) -> list[Step]:
    return [(step, reason) for step in plan if (reason := _not_running(step, wanted, endpoint)) != "off"]


def _not_running(step: Planned, wanted: list[str] | None, endpoint: str) -> str | None:
    """Why a planned strategy does not run for this request ("off" is not worth reporting), or None."""
    enabled = step.enabled
    if wanted is not None and not step.locked:
        enabled = step.kind in wanted
        if not enabled:
            return "not requested"
    if not enabled:
        return "forbidden by an admin rule" if wanted is not None and step.kind in wanted else "off"
    if endpoint not in step.strategy.endpoints:
        return f"does not apply to {endpoint}"
    return None
