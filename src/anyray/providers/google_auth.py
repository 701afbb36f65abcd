"""OAuth2 access tokens for Vertex AI from google-auth, refreshed ahead of expiry off the hot path.

google-auth's refresh is blocking (it uses `requests`), so it runs in a worker thread; a background
task refreshes the token `margin` seconds before it expires, so a request only ever waits for a
token on the very first call or when every refresh has failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import google.auth
import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import google.oauth2.service_account

log = logging.getLogger("anyray.vertex.auth")

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_RETRY_MAX_S = 30.0


def describe_credentials(credentials: Any, key_file: Path | None) -> str:
    """Which ADC source produced these credentials, in words a person recognises."""
    kind = type(credentials).__module__ + "." + type(credentials).__name__
    if "service_account" in kind:
        email = getattr(credentials, "service_account_email", "?")
        return f"service-account key file{f' {key_file}' if key_file else ''} ({email})"
    if "compute_engine" in kind:
        return "GCE/GKE metadata server (workload identity)"
    if "oauth2.credentials" in kind:
        return "gcloud user credentials (application-default login)"
    if "external_account" in kind or "identity_pool" in kind:
        return "workload identity federation (external account)"
    if "impersonated" in kind:
        return "impersonated service account"
    return kind


def _load_key_file(path: Path) -> tuple[Any, str | None]:
    """Load a key file by its declared type, with that type's own loader (google-auth's advice)."""
    info = json.loads(Path(path).read_text())
    kind = info.get("type")
    if kind == "service_account":
        creds = google.oauth2.service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        return creds, info.get("project_id")
    if kind == "authorized_user":
        creds = google.oauth2.credentials.Credentials.from_authorized_user_info(info, scopes=SCOPES)
        return creds, info.get("quota_project_id")
    raise ValueError(f"{path}: unsupported credentials type {kind!r} (expected service_account or authorized_user)")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # google-auth keeps naive UTC expiries


class GoogleTokenSource:
    def __init__(self, credentials_file: Path | None = None, margin_s: float = 300.0) -> None:
        self.credentials_file = credentials_file
        self.margin_s = margin_s
        self.credentials: Any = None
        self.project: str | None = None
        self.source = "not loaded"
        self.error: str | None = None
        self._token: str | None = None
        self._expiry: dt.datetime | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._http = google.auth.transport.requests.Request()
        self.refresh_count = 0

    def _load(self) -> None:
        if self.credentials_file:
            creds, project = _load_key_file(self.credentials_file)
        else:
            creds, project = google.auth.default(scopes=SCOPES)
        self.credentials, self.project = creds, project
        self.source = describe_credentials(creds, self.credentials_file)

    def _refresh_blocking(self) -> None:
        self.credentials.refresh(self._http)
        self._token = self.credentials.token
        self._expiry = self.credentials.expiry
        self.refresh_count += 1

    async def start(self) -> None:
        """Find credentials and mint a first token; failures are kept for `anyray up` to explain."""
        try:
            await asyncio.to_thread(self._load)
        except (google.auth.exceptions.GoogleAuthError, OSError, ValueError) as exc:
            self.error = f"no Google credentials: {exc}"
            return
        try:
            await self._refresh()
        except Exception as exc:
            self.error = f"credentials found ({self.source}) but no token could be minted: {exc}"
        self._task = asyncio.create_task(self._refresher(), name="vertex-token-refresher")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _seconds_left(self) -> float:
        if self._token is None:
            return -1.0
        if self._expiry is None:
            return float("inf")
        return (self._expiry - _utcnow()).total_seconds()

    def _refresh_in(self) -> float:
        left = self._seconds_left()
        if left == float("inf"):
            return 3600.0
        # refresh at `margin` before expiry, or half-way through a token shorter than twice the margin
        lifetime_margin = min(self.margin_s, max(left, 0) / 2)
        return max(left - lifetime_margin, 0.0)

    async def _refresh(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._refresh_blocking)
            self.error = None

    async def _refresher(self) -> None:
        backoff = 1.0
        while True:
            await asyncio.sleep(self._refresh_in())
            try:
                await self._refresh()
                backoff = 1.0
            except Exception as exc:
                self.error = f"token refresh failed: {exc}"
                log.warning("vertex token refresh failed, retrying in %.0fs: %s", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RETRY_MAX_S)

    async def token(self) -> str:
        """A valid access token; waits only when there is none that is still good."""
        if self._seconds_left() > 5:
            return self._token  # type: ignore[return-value]
        if self.credentials is None:
            raise google.auth.exceptions.DefaultCredentialsError(self.error or "no Google credentials")
        async with self._lock:
            if self._seconds_left() <= 5:  # nobody refreshed it while we waited for the lock
                await asyncio.to_thread(self._refresh_blocking)
                self.error = None
        return self._token  # type: ignore[return-value]
