"""Who may see the console: an admin gateway key (login form -> signed cookie), or, with no keys, loopback.

The cookie carries no secret: only the key's id, its team, an expiry and a random session id, signed with
HMAC-SHA256 under a per-process secret (or ANYRAY_CONSOLE_SECRET, so several replicas accept each other's
sessions). It is Secure, HttpOnly and SameSite=Strict, and short-lived: a revoked key's session ends with
it. Logging out revokes the session id on the server, so a copy of the cookie (a shared machine, a proxy
log, a stolen browser profile) is worth nothing afterwards; with several replicas the revocation holds on
the replica that served the logout, and the others honour the cookie until it expires (30 minutes).

Keys come from `anyray.keys`: the gateway's own KeyRing, or one read beside the store for the
standalone console.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from anyray.keys import GatewayKey, KeyRing

COOKIE = "anyray_console"
TTL_S = 30 * 60


def keyring_for_store(url: str | None) -> KeyRing | None:
    """The standalone console's keys: the KeyRing kept beside the spend store.

    Raises (StoreError) when the keys cannot be read: the console then refuses to start rather than
    open up as if no keys existed.
    """
    return KeyRing.from_store_url(url) if url else None


def still_admin(keyring: KeyRing, key_id: str) -> bool:
    """Whether the session's key is still an active admin key.

    The ring is refreshed from the store, so a revoked key's console session ends at the next refresh,
    not only when its cookie expires.
    """
    key = keyring.get(key_id)
    return key is not None and key.active and key.admin


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(slots=True, frozen=True)
class Session:
    key_id: str
    team: str | None
    expires: int
    sid: str = ""


class ConsoleAuth:
    def __init__(self, listen_host: str | None, secret: bytes | None = None, ttl_s: int = TTL_S) -> None:
        env = os.environ.get("ANYRAY_CONSOLE_SECRET")
        self.secret = secret or (env.encode() if env else secrets.token_bytes(32))
        self.listen_host = listen_host
        self.ttl_s = ttl_s
        self._revoked: dict[str, int] = {}  # session id -> its expiry; forgotten once expired anyway

    # ------------------------------------------------------------------ no keys: loopback only
    def local_client(self, client_host: str | None) -> bool:
        """With no keys, only a client on loopback, or on the very address the gateway listens on."""
        if is_loopback(client_host):
            return True
        listen = self.listen_host or ""
        return bool(client_host) and listen not in ("", "0.0.0.0", "::") and client_host == listen

    # ------------------------------------------------------------------ keys: signed session cookie
    def _sign(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self.secret, payload, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, key: GatewayKey, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.ttl_s)
        payload = f"{key.id}|{key.team or ''}|{expires}|{secrets.token_urlsafe(16)}".encode()
        return f"{base64.urlsafe_b64encode(payload).decode().rstrip('=')}.{self._sign(payload)}"

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        body, mac = cookie.rsplit(".", 1)
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(self._sign(payload), mac):
            return None
        try:
            key_id, team, expires, sid = payload.decode().split("|")
            if int(expires) < (now or time.time()) or not sid or sid in self._revoked:
                return None
        except ValueError:
            return None
        return Session(key_id, team or None, int(expires), sid)

    def revoke(self, cookie: str | None, now: float | None = None) -> bool:
        """Log a session out on the server: its cookie is refused from now on, wherever it was copied to."""
        session = self.read(cookie, now)
        if session is None:
            return False
        moment = now or time.time()
        self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp >= moment}  # bounded by the TTL
        self._revoked[session.sid] = session.expires
        return True

    def login(self, keyring: KeyRing, secret: str) -> tuple[GatewayKey | None, str]:
        """(key, "") for an admin key; (None, why) otherwise. The secret is never kept or logged."""
        if not getattr(keyring, "ready", True):
            return None, "The gateway keys cannot be read yet (spend store unreachable); try again shortly."
        key = keyring.verify(secret.strip()) if secret and len(secret) < 512 else None
        if key is None:
            return None, "That key is not valid."
        if not getattr(key, "admin", False):
            return None, "That key is valid but not an admin key; the console needs an admin key."
        return key, ""

    def cookie_args(self, path: str) -> dict[str, Any]:
        return {"key": COOKIE, "max_age": self.ttl_s, "path": path or "/", "secure": True, "httponly": True,
                "samesite": "strict"}
