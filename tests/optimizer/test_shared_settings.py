"""Settings PUT to one optimizer replica reach the others through a shared cache.url (SQLite file or the
real Redis at 127.0.0.1:6379), and a changed config wins over a document PUT against the old one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from anyray.config import Config
from anyray.server.optimizer.app import create_optimizer_app
from anyray.server.optimizer.engine import Optimizer
from tests.kit import ServerThread

ADMIN = "admin-token-for-shared-settings"
AUTH = {"authorization": f"Bearer {ADMIN}"}
REQUEST = {"model": "claude-sonnet-4-5", "max_tokens": 64000, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cache.db"
        return
    import redis

    url = "redis://127.0.0.1:6379/14"
    client = redis.Redis.from_url(url)
    client.ping()  # a missing Redis is a failure here, not a skip
    for key in client.scan_iter("anyray:settings:*"):
        client.delete(key)
    yield url
    for key in client.scan_iter("anyray:settings:*"):
        client.delete(key)


def replica(url: str, ceiling: int | None = None) -> ServerThread:
    raw: dict = {"cache": {"url": url, "key": "A" * 43 + "="}, "optimizer": {"settings_refresh_s": 0.05}}
    if ceiling is not None:
        raw["optimizer"]["strategies"] = [{"kind": "param_tuning", "params": {"max_tokens_ceiling": ceiling}}]
    app = create_optimizer_app(Optimizer(Config.model_validate(raw)), service_token="", admin_token=ADMIN)
    return ServerThread(app, production=True).start()


def capped(server: ServerThread) -> int:
    body = {"endpoint": "/v1/messages", "request": REQUEST}
    return httpx.post(server.url + "/v1/optimize", json=body).json()["request"]["max_tokens"]


def eventually(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the other replica never followed"
        time.sleep(0.02)


def test_a_put_on_one_replica_is_followed_by_the_others_until_the_config_changes(shared_url):
    a, b = replica(shared_url), replica(shared_url)
    try:
        assert capped(a) == capped(b) == 32000
        new = {"strategies": [{"kind": "param_tuning", "params": {"max_tokens_ceiling": 8000}}]}
        saved = httpx.put(a.url + "/admin/optimizer/settings", json=new, headers=AUTH).json()
        assert saved["defaultsRevision"] == 2 and capped(a) == 8000
        eventually(lambda: capped(b) == 8000)
        assert httpx.get(b.url + "/admin/optimizer/settings", headers=AUTH).json() == saved

        again = {"strategies": [{"kind": "param_tuning", "params": {"max_tokens_ceiling": 4000}}]}
        assert httpx.put(b.url + "/admin/optimizer/settings", json=again, headers=AUTH).json()["defaultsRevision"] == 3
        eventually(lambda: capped(a) == 4000)

        late = replica(shared_url)  # a replica started after the PUT adopts it at start
        try:
            assert capped(late) == 4000
        finally:
            late.stop()
        redeployed = replica(shared_url, ceiling=16000)  # an edited config wins over the old PUT
        try:
            assert capped(redeployed) == 16000
        finally:
            redeployed.stop()
    finally:
        a.stop()
        b.stop()
