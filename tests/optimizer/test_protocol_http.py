"""Optimizer Protocol v1 over real HTTP: validation at the door, the credential wall, tokens, admin API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from anyray.config import Config
from anyray.server.optimizer.app import create_optimizer_app
from anyray.server.optimizer.engine import Optimizer
from tests.kit import ServerThread

SERVICE = "svc-token-for-tests"
ADMIN = "admin-token-for-tests"
REQUEST = {"model": "claude-sonnet-4-5", "max_tokens": 64000, "temperature": 0,
           "messages": [{"role": "user", "content": "What is 2+2?"}]}


@pytest.fixture
def optimizer_url() -> Iterator[str]:
    config = Config.model_validate({"optimizer": {"strategies": [{"kind": "semantic_cache", "enabled": True}]}})
    app = create_optimizer_app(Optimizer(config), service_token=SERVICE, admin_token=ADMIN)
    with ServerThread(app, production=True) as server:
        yield server.url


def post(url: str, path: str, body: object, token: str | None = SERVICE) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url + path, json=body, headers=headers)


def test_health_and_capabilities(optimizer_url: str):
    # no decider before the first long text
    assert httpx.get(optimizer_url + "/healthz").json() == {"status": "ok", "protocolVersion": "1", "worker": {
        "mode": "process", "pid": None, "deaths": 0, "stuckKilled": 0, "busyRefused": 0}}
    assert httpx.get(optimizer_url + "/v1/capabilities").status_code == 401
    caps = httpx.get(optimizer_url + "/v1/capabilities", headers={"authorization": f"Bearer {SERVICE}"}).json()
    assert caps["protocolVersion"] == "1"
    kinds = {s["kind"]: s for s in caps["strategies"]}
    assert kinds["param_tuning"]["status"] == "enabled" and kinds["param_tuning"]["default"] is True
    assert kinds["semantic_cache"]["status"] == "enabled" and kinds["semantic_cache"]["default"] is False
    assert kinds["param_tuning"]["params"]["max_tokens_ceiling"] == 32000
    assert "max_tokens_ceiling" in kinds["param_tuning"]["paramsSchema"]["properties"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"request": REQUEST}, "endpoint"),
        ({"endpoint": "/v1/complete", "request": REQUEST}, "endpoint"),
        ({"endpoint": "/v1/messages"}, "request"),
        ({"endpoint": "/v1/messages", "request": "text"}, "request"),
        ({"endpoint": "/v1/messages", "request": REQUEST, "surprise": 1}, "surprise"),
        ({"endpoint": "/v1/messages", "request": REQUEST, "enabledKinds": "param_tuning"}, "enabledKinds"),
        ({"endpoint": "/v1/messages", "request": REQUEST, "route": {"provider": 3}}, "route.provider"),
    ],
)
def test_malformed_messages_get_400_naming_the_field(optimizer_url: str, body: dict, field: str):
    response = post(optimizer_url, "/v1/optimize", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"headers": {"x-api-key": "anything"}}, "headers.x-api-key"),
        ({"headers": {"Authorization": "Bearer abc"}}, "headers.Authorization"),
        ({"headers": {"anthropic-beta": "sk-ant-api03-abcdefghijklmnop"}}, "headers.anthropic-beta"),
        ({"metadata": {"team": "a", "note": "AIzaSyA-abcdefghijklmnopqrstuvwxyz012345"}}, "metadata.note"),
        ({"metadata": {"tags": {"k": "sk-proj-abcdefghijklmnopqrstuvwx"}}}, "metadata.tags.k"),
        ({"metadata": {"x-goog-api-key": "v"}}, "metadata.x-goog-api-key"),
    ],
)
def test_credentials_are_refused(optimizer_url: str, extra: dict, field: str):
    response = post(optimizer_url, "/v1/optimize", {"endpoint": "/v1/messages", "request": REQUEST, **extra})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert "credential" in response.json()["error"]["message"]


def test_service_token_is_required_and_checked(optimizer_url: str):
    body = {"endpoint": "/v1/messages", "request": REQUEST}
    assert post(optimizer_url, "/v1/optimize", body, token=None).status_code == 401
    assert post(optimizer_url, "/v1/optimize", body, token="wrong").status_code == 401
    assert post(optimizer_url, "/v1/optimize", body).json()["request"]["max_tokens"] == 32000


def test_cache_write_hit_only_for_short_circuit_callers_and_purge_needs_admin(optimizer_url: str):
    # the scope is the team the gateway authenticated; metadata.team is the caller's own label and scopes nothing
    body = {"endpoint": "/v1/messages", "request": REQUEST, "metadata": {"team": "b"}, "authenticatedTeam": "a",
            "canShortCircuit": True}
    miss = post(optimizer_url, "/v1/optimize", body).json()
    assert "cacheHit" not in miss and miss["cacheKey"]
    answer = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "4"}]}
    written = post(optimizer_url, "/v1/cache", {"cacheKey": miss["cacheKey"], "response": answer,
                                                "authenticatedTeam": "a", "metadata": {"team": "b"}}).json()
    assert written == {"stored": True, "cacheKey": miss["cacheKey"]}
    hit = post(optimizer_url, "/v1/optimize", body).json()
    assert hit["cacheHit"] is True and hit["cachedResponse"] == answer
    no_short = post(optimizer_url, "/v1/optimize", {**body, "canShortCircuit": False}).json()
    assert "cachedResponse" not in no_short
    other_team = post(optimizer_url, "/v1/optimize", {**body, "authenticatedTeam": "b", "metadata": {"team": "a"}})
    assert "cachedResponse" not in other_team.json()
    unauthenticated = post(optimizer_url, "/v1/optimize", {k: v for k, v in body.items() if k != "authenticatedTeam"})
    assert "cachedResponse" not in unauthenticated.json()

    stats = httpx.get(optimizer_url + "/v1/cache/stats", headers={"authorization": f"Bearer {SERVICE}"}).json()
    assert stats["entries"] == 1 and stats["hits"] == 1 and stats["byTeam"]["a"]["hits"] == 1
    assert post(optimizer_url, "/v1/cache/purge", {"team": "a"}).status_code == 401
    assert post(optimizer_url, "/v1/cache/purge", {"team": "a"}, token=ADMIN).json() == {"purged": 1}
    assert post(optimizer_url, "/v1/cache", {"response": answer}).json()["error"]["field"] == "<body>"


def test_request_keyed_cache_write_and_retrieve(optimizer_url: str):
    answer = {"type": "message", "content": []}
    written = post(optimizer_url, "/v1/cache", {"request": REQUEST, "endpoint": "/v1/messages",
                                                "route": {"provider": "vertex", "model": "m"}, "response": answer})
    assert written.json()["stored"] is True
    missing = post(optimizer_url, "/v1/retrieve", {"handle": "stash_nope"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "handle"
    assert post(optimizer_url, "/v1/retrieve", {}).json()["error"]["field"] == "handle"


def test_post_call_report(optimizer_url: str):
    response = {"type": "message", "content": [{"type": "text", "text": "4"}]}
    body = {"endpoint": "/v1/messages", "response": response, "decisions": []}
    assert post(optimizer_url, "/v1/optimize-response", body).json() == {"response": response, "decisions": []}
    assert post(optimizer_url, "/v1/optimize-response", {"endpoint": "/v1/messages"}).status_code == 400


def test_admin_settings_round_trip_and_validation(optimizer_url: str):
    auth = {"authorization": f"Bearer {ADMIN}"}
    assert httpx.get(optimizer_url + "/admin/optimizer/settings").status_code == 401
    assert httpx.get(optimizer_url + "/admin/optimizer/settings",
                     headers={"authorization": f"Bearer {SERVICE}"}).status_code == 401
    current = httpx.get(optimizer_url + "/admin/optimizer/settings", headers=auth).json()
    assert current["defaultsRevision"] == 1
    new = {"strategies": [{"kind": "param_tuning", "params": {"max_tokens_ceiling": 8000}}],
           "rules": [{"match": {"tool": "anyray-bench"}, "strategies": [{"kind": "param_tuning", "enabled": False}]}]}
    saved = httpx.put(optimizer_url + "/admin/optimizer/settings", json=new, headers=auth).json()
    assert saved["defaultsRevision"] == 2
    body = {"endpoint": "/v1/messages", "request": REQUEST}
    assert post(optimizer_url, "/v1/optimize", body).json()["request"]["max_tokens"] == 8000
    bench = post(optimizer_url, "/v1/optimize", {**body, "metadata": {"tool": "anyray-bench"}}).json()
    assert bench["request"]["max_tokens"] == 64000

    bad = httpx.put(optimizer_url + "/admin/optimizer/settings", headers=auth,
                    json={"strategies": [{"kind": "teleport"}]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "strategies.0.kind"
    bad = httpx.put(optimizer_url + "/admin/optimizer/settings", headers=auth, json={
        "rules": [{"match": {}, "strategies": [{"kind": "prompt_cache", "params": {"ttl": "2h"}}]}]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "rules.0.strategies.0.params.ttl"


def test_admin_api_is_closed_without_an_admin_token():
    with ServerThread(create_optimizer_app(Optimizer(), service_token="", admin_token="")) as server:
        response = httpx.get(server.url + "/admin/optimizer/settings")
        assert response.status_code == 403 and "ANYRAY_OPTIMIZER_ADMIN_TOKEN" in response.json()["error"]["message"]
