"""Google's OAuth2 token endpoint, as google-auth's real code calls it, and service-account keys for it.

Vertex tests run the real google-auth: a generated key file whose `token_uri` points here. The
endpoint checks what Google checks (a JWT-bearer assertion signed by the key, for this audience, with
a scope; or a gcloud user's refresh token) and issues short opaque tokens with an expiry the fake's
Vertex paths enforce.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import google.auth.exceptions
import google.auth.jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# google-auth signs service-account assertions for Google's canonical token audience, whatever
# token_uri the key names; Google accepts that audience, and so does the fake.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: float  # time.monotonic()
    subject: str


def make_service_account_key(
    token_uri: str, project_id: str = "anyray-test", client_email: str | None = None
) -> dict[str, Any]:
    """A key in the exact layout of a Google service-account JSON key file, with a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = client_email or f"anyray-gateway@{project_id}.iam.gserviceaccount.com"
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": email,
        "client_id": str(uuid.uuid4().int)[:21],
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }


def public_key_pem(key_info: dict[str, Any]) -> str:
    private = serialization.load_pem_private_key(key_info["private_key"].encode(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status)


class TokenEndpoint:
    def __init__(self) -> None:
        self.lifetime_s: float = 3600.0
        self.trusted: dict[str, str] = {}  # private_key_id -> public key PEM
        self.refresh_tokens: dict[str, str] = {}  # refresh_token -> client_id
        self.issued: list[IssuedToken] = []
        self._counter = itertools.count(1)

    def trust_service_account(self, key_info: dict[str, Any]) -> None:
        self.trusted[key_info["private_key_id"]] = public_key_pem(key_info)

    def trust_refresh_token(self, refresh_token: str, client_id: str) -> None:
        self.refresh_tokens[refresh_token] = client_id

    def valid(self, token: str) -> bool:
        now = time.monotonic()
        return any(t.token == token and t.expires_at > now for t in self.issued)

    def _issue(self, subject: str) -> Response:
        token = IssuedToken(
            f"ya29.fake-{next(self._counter)}-{uuid.uuid4().hex[:16]}", time.monotonic() + self.lifetime_s, subject
        )
        self.issued.append(token)
        return JSONResponse({"access_token": token.token, "expires_in": int(self.lifetime_s), "token_type": "Bearer"})

    async def __call__(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            return self._jwt_bearer(form.get("assertion", ""), str(request.url))
        if grant == "refresh_token":
            client = self.refresh_tokens.get(form.get("refresh_token", ""))
            if client is None or client != form.get("client_id") or not form.get("client_secret"):
                return _oauth_error("invalid_grant", "Bad Request")
            return self._issue(client)
        return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")

    def _jwt_bearer(self, assertion: str, audience: str) -> Response:
        try:
            header = google.auth.jwt.decode_header(assertion)
            claims = google.auth.jwt.decode(assertion, verify=False)
        except (ValueError, google.auth.exceptions.GoogleAuthError):
            return _oauth_error("invalid_grant", "Invalid JWT: malformed")
        if self.trusted:
            cert = self.trusted.get(header.get("kid", ""))
            if cert is None:
                return _oauth_error("invalid_grant", "Invalid JWT Signature.")
            try:
                google.auth.jwt.decode(assertion, certs={header["kid"]: cert}, audience=claims.get("aud"))
            except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
                return _oauth_error("invalid_grant", f"Invalid JWT Signature. {exc}")
        if claims.get("aud") not in (audience, GOOGLE_TOKEN_AUDIENCE):
            return _oauth_error("invalid_grant", "Invalid JWT: Failed audience check.")
        if claims.get("exp", 0) < time.time():
            return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token")
        if CLOUD_PLATFORM not in str(claims.get("scope", "")).split():
            return _oauth_error("invalid_scope", "No scope or an invalid scope was requested.")
        return self._issue(str(claims.get("iss")))
