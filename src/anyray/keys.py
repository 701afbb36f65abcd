"""Gateway keys: who may call the gateway, and which team pays.

A key is `ark_` and 40 random URL-safe characters. Only its SHA-256 is stored (a random 240-bit secret
needs no slow hash: there is nothing to brute-force), in the spend store's database, so every replica
behind a load balancer sees the same keys and `anyray keys revoke` reaches all of them within
`auth.refresh_s`. The secret is shown once, at creation; afterwards a key is named by its id and its
last four characters.

A key may expire (`expires_ms`), may be limited to some models (`models`, globs; unset: any), and may be
rotated: `rotate` gives it a new secret and keeps the one it replaces working until `previous_until_ms`, so
every workload can move to the new secret before the old one stops. The key keeps its id, team, budgets and
rate limits through a rotation.

`KeyRing` is what a running gateway (and the console) holds: an in-memory map from hash to key,
refreshed from the store in the background, so checking a key costs one hash and one dict lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from anyray.store import SpendStore, StoreError, open_store

log = logging.getLogger("anyray.keys")

PREFIX = "ark_"
_COLUMNS = "id, team, name, admin, last4, created_ms, revoked_ms, expires_ms, models, previous_until_ms"


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class GatewayKey:
    id: str
    team: str
    name: str | None
    admin: bool
    last4: str
    created_ms: int
    revoked_ms: int | None = None
    expires_ms: int | None = None
    models: tuple[str, ...] | None = None  # globs of the models it may ask for; None: any
    previous_until_ms: int | None = None  # after a rotation: until when the replaced secret still works

    @property
    def active(self) -> bool:
        return self.revoked_ms is None and not self.expired

    @property
    def expired(self) -> bool:
        return self.expires_ms is not None and self.expires_ms <= _now_ms()

    def may_use(self, model: str) -> bool:
        """Whether this key may ask for `model` (a glob match, as the model map's)."""
        return self.models is None or any(fnmatch.fnmatchcase(model, glob) for glob in self.models)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _key(row: Any) -> GatewayKey:
    id_, team, name, admin, last4, created_ms, revoked_ms, expires_ms, models, previous_until_ms = row
    allowed = tuple(orjson.loads(models)) if models else None
    return GatewayKey(id_, team, name, bool(admin), last4, int(created_ms), _int(revoked_ms), _int(expires_ms),
                      allowed, _int(previous_until_ms))


class KeyStore:
    """The keys table, over a spend store's connection (SQLite or PostgreSQL)."""

    def __init__(self, store: SpendStore) -> None:
        self.store = store
        store.migrate()

    def create(
        self, team: str, *, admin: bool = False, name: str | None = None, expires_ms: int | None = None,
        models: list[str] | None = None,
    ) -> tuple[str, GatewayKey]:
        """A new key; returns the secret (never stored) and its record."""
        team = team.strip()
        if not team:
            raise ValueError("a key needs a team")
        allowed = _globs(models)
        secret = _secret()
        key = GatewayKey("key_" + secrets.token_hex(6), team, name, admin, secret[-4:], _now_ms(),
                         expires_ms=expires_ms, models=allowed)
        if expires_ms is not None and expires_ms <= key.created_ms:
            raise ValueError("the expiry is in the past")
        sql = self.store._sql(
            "INSERT INTO gateway_keys (id, secret_sha256, team, name, admin, last4, created_ms, expires_ms, models)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        stored_models = orjson.dumps(list(allowed)).decode() if allowed is not None else None
        with self.store._transaction() as cur:
            cur.execute(sql, (key.id, digest(secret), key.team, name, int(admin), key.last4, key.created_ms,
                              expires_ms, stored_models))
        return secret, key

    def rotate(self, key_id: str, grace_ms: int) -> tuple[str, GatewayKey] | None:
        """A new secret for an active key (same id, team and limits); the secret it replaces keeps working for
        `grace_ms` (a secret replaced by an earlier rotation stops now). None: no such active key."""
        matches = self._match(key_id)
        if len(matches) != 1 or not matches[0].active:
            return None
        key = matches[0]
        secret = _secret()
        until = _now_ms() + max(0, grace_ms)
        sql = self.store._sql(
            "UPDATE gateway_keys SET previous_sha256 = secret_sha256, previous_until_ms = ?, secret_sha256 = ?,"
            " last4 = ? WHERE id = ? AND revoked_ms IS NULL"
        )
        with self.store._transaction() as cur:
            cur.execute(sql, (until, digest(secret), secret[-4:], key.id))
        return secret, GatewayKey(**{**key.as_dict(), "last4": secret[-4:], "previous_until_ms": until})

    def _match(self, key_id: str) -> list[GatewayKey]:
        """By id, or by the last four characters when they name exactly one active key."""
        return [k for k in self.list() if k.id == key_id] or [
            k for k in self.list(include_revoked=False) if k.last4 == key_id and k.active
        ]

    def list(self, include_revoked: bool = True) -> list[GatewayKey]:
        where = "" if include_revoked else " WHERE revoked_ms IS NULL"
        with self.store._transaction() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM gateway_keys{where} ORDER BY created_ms, id")
            return [_key(row) for row in cur.fetchall()]

    def revoke(self, key_id: str) -> GatewayKey | None:
        """Revoke by id (or by the last four characters when they name exactly one active key)."""
        matches = self._match(key_id)
        if len(matches) != 1:
            return None
        key = matches[0]
        if key.revoked_ms is None:
            now = _now_ms()
            with self.store._transaction() as cur:
                cur.execute(self.store._sql("UPDATE gateway_keys SET revoked_ms = ? WHERE id = ?"), (now, key.id))
            key = GatewayKey(**{**key.as_dict(), "revoked_ms": now})
        return key

    def by_digest(self) -> tuple[dict[str, GatewayKey], dict[str, GatewayKey]]:
        """Every key by its secret's hash, revoked ones included (a revoked key still says "this gateway uses
        keys"); and the keys whose replaced secret is still in its grace period, by that secret's hash."""
        with self.store._transaction() as cur:
            cur.execute(f"SELECT secret_sha256, previous_sha256, {_COLUMNS} FROM gateway_keys")
            rows = cur.fetchall()
        current, previous = {}, {}
        for row in rows:
            key = _key(row[2:])
            current[row[0]] = key
            if row[1] and key.previous_until_ms is not None and key.previous_until_ms > _now_ms():
                previous[row[1]] = key
        return current, previous


def _secret() -> str:
    return PREFIX + secrets.token_urlsafe(30)


def _globs(models: list[str] | None) -> tuple[str, ...] | None:
    if models is None:
        return None
    globs = tuple(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not globs:
        raise ValueError("an allow-list needs at least one model (or glob, like claude-haiku-*)")
    return globs


class KeyRing:
    """The active keys in memory, and whether callers must present one.

    `required` follows `auth.required`: true or false as configured; unset means "as soon as a key has
    been created", revoked ones included, so revoking the last key closes the door rather than opening
    it. While the keys could never be read (store unreachable since start), an unset or true
    setting fails closed: `ready` is False and the gateway answers 503 rather than letting anyone in.
    """

    def __init__(self, store_url: str | None, required: bool | None = None, refresh_s: float = 5.0) -> None:
        if required and not store_url:
            raise StoreError("auth.required is true but no store.url is set to hold the keys")
        self.store_url = store_url
        self.forced = required
        self.refresh_s = refresh_s
        self._keys: dict[str, GatewayKey] = {}
        self._previous: dict[str, GatewayKey] = {}  # secrets replaced by a rotation, still in their grace
        self._any_key = False
        self._store: KeyStore | None = None
        self.loaded = store_url is None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_store_url(cls, url: str | None, required: bool | None = None) -> KeyRing:
        """A ring read once now (the standalone console); raises StoreError when the store cannot be read."""
        ring = cls(url, required)
        ring.load()
        return ring

    @property
    def required(self) -> bool:
        if self.forced is not None:
            return self.forced
        return self._any_key or not self.loaded

    @property
    def ready(self) -> bool:
        """Whether keys can be checked at all (False: the store has not been readable yet)."""
        return self.loaded or self.forced is False

    def verify(self, secret: str | None) -> GatewayKey | None:
        key = self.find(secret)
        return key if key is not None and key.active else None

    def find(self, secret: str | None) -> GatewayKey | None:
        """The key this secret belongs to, revoked or expired ones included (to say which); a secret replaced
        by a rotation only until its grace period ends."""
        if not secret or not self._keys:  # no keys made yet: nothing to hash the secret against
            return None
        hashed = digest(secret.strip())
        key = self._keys.get(hashed)
        if key is None and (key := self._previous.get(hashed)) is not None:
            return key if key.previous_until_ms is not None and key.previous_until_ms > _now_ms() else None
        return key

    def get(self, key_id: str) -> GatewayKey | None:
        """A key by id, revoked ones included (a console session checks its key is still good)."""
        return next((k for k in self._keys.values() if k.id == key_id), None)

    def load(self) -> None:
        """Read the active keys (blocking; from a thread in the gateway)."""
        if self.store_url is None:
            return
        if self._store is None:
            self._store = KeyStore(open_store(self.store_url, lazy=True))
        keys, previous = self._store.by_digest()
        self._keys, self._previous, self._any_key, self.loaded = keys, previous, bool(keys), True

    async def start(self, first_read_s: float = 3.0) -> None:
        """Read the keys, then keep them fresh. The first read normally takes milliseconds; a store that
        does not answer holds start-up back at most `first_read_s` (the ring stays not ready meanwhile)."""
        if self.store_url is None or self.forced is False:
            return
        first_read = asyncio.Event()
        self._task = asyncio.create_task(self._refresh_forever(first_read), name="anyray-keys-refresh")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_read.wait(), first_read_s)
        if not self.loaded:
            log.error("gateway keys cannot be read yet; API calls get 503 until they can")

    async def _refresh_forever(self, first_read: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                await asyncio.to_thread(self.load)
                failures = 0
            except Exception as exc:  # any store failure: keep the last known keys, try again
                failures += 1
                if failures == 1 or failures % 60 == 0:
                    log.warning("gateway keys not read (%s); keeping the last known set", type(exc).__name__)
            first_read.set()
            await asyncio.sleep(self.refresh_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.to_thread(self.close_store)

    def close_store(self) -> None:
        """Let the store's connections go (blocking); a later `load` opens it again."""
        if self._store is not None:
            self._store.store.close()
            self._store = None
