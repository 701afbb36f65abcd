"""Encryption at rest for cached answers and stashed content, and keyed hashing for their lookup ids.

A cache entry holds an answer, so it is sealed with AES-GCM before it reaches any backend (a Redis
shared by several teams, a SQLite file on a laptop). Lookup ids are HMACs under the same secret, so even
the ids cannot be matched against a guessed prompt by someone who can read the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DEFAULT_KEY_FILE = Path("~/.anyray/cache.key")


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the cache key must be 32 bytes (urlsafe base64 of 32 random bytes)")
        self._aead = AESGCM(key)
        self._mac_key = hashlib.sha256(b"anyray-cache-id" + key).digest()

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)

    @property
    def id_key(self) -> bytes:
        """The key of `mac` (the optimizer's decider process makes stash handles with it)."""
        return self._mac_key

    def mac(self, data: bytes) -> str:
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()


def decode_key(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise ValueError(f"the cache key is not urlsafe base64: {exc}") from None


def load_or_create_key(path: Path | None) -> bytes:
    """The key from a file, created with 0600 permissions (owner only) when it does not exist yet."""
    path = (path or DEFAULT_KEY_FILE).expanduser()
    if path.exists():
        return decode_key(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.urlsafe_b64encode(key).decode())
    return key
