"""Key controls end to end: expiry, a per-key model allow-list, rotation with a grace period, and what
`anyray keys list` shows of them, with the real SDKs through the gateway to the fake upstreams."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import openai
import pytest
from typer.testing import CliRunner

from anyray.cli import app
from anyray.keys import KeyStore
from anyray.store import open_store
from tests.conftest import vertex_and_anthropic_config
from tests.limits.conftest import ASK, CHAT, create_key, wait_for

runner = CliRunner()


def upstream_calls(fake) -> int:
    return len([r for r in fake.received if r.path != "/token"])


def keyed(fake, sa_key_file, start_gateway, url):
    return start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=url, auth__refresh_s=0.1,
                                                     optimizer__enabled=False))


def test_an_expired_key_is_refused_in_each_dialect_and_says_so(fake, sa_key_file, start_gateway, sqlite_url):
    create_key(sqlite_url, "platform")
    keys = KeyStore(open_store(sqlite_url))
    secret, key = keys.create("search", expires_ms=int(time.time() * 1000) + 1500)
    keys.store.close()
    gw = keyed(fake, sa_key_file, start_gateway, sqlite_url)
    claude = anthropic.Anthropic(base_url=gw.url, api_key=secret, max_retries=0)
    assert claude.messages.create(**ASK).content[0].text
    time.sleep(max(0.0, key.expires_ms / 1000 - time.time()) + 0.1)
    with pytest.raises(anthropic.AuthenticationError) as refused:
        claude.messages.create(**ASK)
    assert refused.value.body["error"]["message"].startswith(f"gateway key {key.id} expired at ")
    with pytest.raises(openai.AuthenticationError) as refused_oa:
        openai.OpenAI(base_url=f"{gw.url}/v1", api_key=secret, max_retries=0).chat.completions.create(**CHAT)
    assert refused_oa.value.code == "invalid_api_key" and "expired" in refused_oa.value.message
    assert 'anyray_auth_refused_total{reason="expired"} 2.0' in httpx.get(f"{gw.url}/metrics").text


def test_a_key_may_use_only_its_models_refused_like_the_providers_refuse(
    fake, sa_key_file, start_gateway, sqlite_url
):
    key = create_key(sqlite_url, "search", "--models", "claude-haiku-*, claude-opus-4-1")
    assert key["models"] == ["claude-haiku-*", "claude-opus-4-1"]
    gw = keyed(fake, sa_key_file, start_gateway, sqlite_url)
    claude = anthropic.Anthropic(base_url=gw.url, api_key=key["secret"], max_retries=0)
    assert claude.messages.create(**{**ASK, "model": "claude-haiku-4-5"}).content[0].text
    before = upstream_calls(fake)
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        claude.messages.create(**ASK)  # claude-sonnet-4-5
    error = refused.value.body["error"]
    assert error["type"] == "permission_error"
    assert error["message"] == (f"gateway key {key['id']} may not use model 'claude-sonnet-4-5' (it may use: "
                                "claude-haiku-*, claude-opus-4-1); pick one of those, or ask your platform team")
    with pytest.raises(openai.PermissionDeniedError) as refused_oa:
        openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key["secret"], max_retries=0).chat.completions.create(**CHAT)
    assert refused_oa.value.code == "model_not_found" and refused_oa.value.param == "model"
    assert upstream_calls(fake) == before
    bad = runner.invoke(app, ["keys", "create", "--team", "x", "--store", sqlite_url, "--models", " , "])
    assert bad.exit_code == 2 and "allow-list needs at least one model" in bad.output


def test_rotation_keeps_the_old_secret_working_for_its_grace_then_only_the_new_one(
    fake, sa_key_file, start_gateway, sqlite_url
):
    key = create_key(sqlite_url, "search")
    gw = keyed(fake, sa_key_file, start_gateway, sqlite_url)
    ring = gw.gateway.keys

    def works(secret: str) -> bool:
        try:
            anthropic.Anthropic(base_url=gw.url, api_key=secret, max_retries=0).messages.create(**ASK)
        except anthropic.AuthenticationError:
            return False
        return True

    rotated = runner.invoke(app, ["keys", "rotate", key["id"], "--store", sqlite_url, "--json", "--grace", "24h"])
    assert rotated.exit_code == 0, rotated.output
    second = json.loads(rotated.output)
    assert second["id"] == key["id"] and second["secret"] != key["secret"] and second["last4"] == second["secret"][-4:]
    assert 23.9 * 3600e3 < second["previous_until_ms"] - time.time() * 1000 <= 24 * 3600e3
    wait_for(lambda: ring.verify(second["secret"]) is not None)
    assert works(key["secret"]) and works(second["secret"])  # no workload is cut off while they move over

    keys = KeyStore(open_store(sqlite_url))
    third, _ = keys.rotate(key["id"], grace_ms=1000)  # rotating again ends the first secret's grace at once
    keys.store.close()
    wait_for(lambda: ring.verify(third) is not None)
    assert not works(key["secret"]) and works(second["secret"]) and works(third)
    time.sleep(1.1)
    assert not works(second["secret"]) and works(third)

    gw.gateway.spend.writer.flush(5)
    rows = gw.gateway.spend.writer.store.fetch()
    assert {r["key_id"] for r in rows if r["status"] == 200} == {key["id"]}  # one key, whichever secret
    assert runner.invoke(app, ["keys", "rotate", "key_000000000000", "--store", sqlite_url]).exit_code == 1


def test_keys_list_shows_the_controls_and_fits_80_columns(sqlite_url):
    create_key(sqlite_url, "search", "--expires", "30d", "--models", "claude-haiku-*", "--name", "indexer")
    plain = create_key(sqlite_url, "platform", "--admin")
    assert runner.invoke(app, ["keys", "rotate", plain["id"], "--store", sqlite_url]).exit_code == 0
    listed = runner.invoke(app, ["keys", "list", "--store", sqlite_url], env={"COLUMNS": "80"})
    lines = listed.output.splitlines()
    assert all(len(line) <= 80 for line in lines), listed.output
    assert "status" in lines[0] and "expires" in lines[0] and "models" in lines[0]
    assert "rotating" in listed.output and "claude-haiku-*" in listed.output and "any" in listed.output
    assert "left out at 80 columns:" in listed.output
    wide = runner.invoke(app, ["keys", "list", "--store", sqlite_url], env={"COLUMNS": "250"})
    assert "old secret until" in wide.output and "left out" not in wide.output
    rows = json.loads(runner.invoke(app, ["keys", "list", "--store", sqlite_url, "--json"]).output)
    assert rows[0]["models"] == ["claude-haiku-*"] and rows[0]["expires_ms"] > time.time() * 1000 + 29 * 86400e3
    assert rows[1]["previous_until_ms"] is not None
    bad = runner.invoke(app, ["keys", "create", "--team", "x", "--store", sqlite_url, "--expires", "2020-01-01"])
    assert bad.exit_code == 2 and "in the past" in bad.output
