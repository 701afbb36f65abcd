"""Settings changed at run time (`PUT /admin/optimizer/settings`), shared by every optimizer replica.

A PUT lands on one replica behind the Service; the others must follow, or two identical requests would
be optimized differently depending on which pod answered. The document is kept in the cache backend
(`cache.url`: Redis or SQLite are shared; `memory://` is per process, which is all a laptop has), with
its revision, and each replica re-reads it every `optimizer.settings_refresh_s`.

A stored document also carries a fingerprint of the config it replaced. When the config itself
changes (a new ConfigMap, a redeploy), the fingerprints differ and the config wins: a PUT lasts until
the operator edits the config, never silently beyond it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

import orjson

from anyray.server.optimizer.cache import Backend
from anyray.server.optimizer.settings import SettingsDocument, parse_document

log = logging.getLogger("anyray.optimizer")

KEY = "current"
_FOREVER_S = 10 * 365 * 24 * 3600


def fingerprint(doc: SettingsDocument) -> str:
    body = {"strategies": doc.as_json()["strategies"], "rules": doc.as_json()["rules"]}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class SharedSettings:
    def __init__(self, backend: Backend, configured: SettingsDocument, apply: Callable[[SettingsDocument], None],
                 refresh_s: float) -> None:
        self.backend = backend
        self.base = fingerprint(configured)
        self.apply = apply
        self.refresh_s = refresh_s
        self.revision = configured.defaults_revision
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.pull()
        self._task = asyncio.create_task(self._follow(), name="anyray-settings-follow")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.backend.close()

    async def publish(self, doc: SettingsDocument) -> SettingsDocument:
        """Store a new document with the next revision and apply it here."""
        stored = await self._read()
        doc.defaults_revision = max(self.revision, stored.defaults_revision if stored else 0) + 1
        blob = orjson.dumps({"base": self.base, "document": doc.as_json()})
        await self.backend.put(KEY, blob, _FOREVER_S, "_admin", "settings")
        self._adopt(doc)
        return doc

    async def pull(self) -> None:
        stored = await self._read()
        if stored is not None and stored.defaults_revision > self.revision:
            self._adopt(stored)

    async def _read(self) -> SettingsDocument | None:
        blob = await self.backend.get(KEY)
        if blob is None:
            return None
        try:
            data = orjson.loads(blob)
            if data.get("base") != self.base:
                return None  # written over another config: the config has changed since, and wins
            return parse_document(data["document"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("the shared optimizer settings cannot be read; keeping the current ones")
            return None

    def _adopt(self, doc: SettingsDocument) -> None:
        self.revision = doc.defaults_revision
        self.apply(doc)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.pull()
            except Exception as exc:  # a backend outage keeps the settings in force
                log.warning("optimizer settings not refreshed (%s)", type(exc).__name__)
