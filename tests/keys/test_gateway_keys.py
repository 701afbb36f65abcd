"""Gateway keys end to end: `anyray keys`, then real SDK clients through the gateway to the fake
upstreams (anyray.testing.FakeUpstream). A call without a valid key is refused in its own dialect and
never reaches the optimizer or an upstream; a key's team is the team billed and the cache partition."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import openai
import pytest
from typer.testing import CliRunner

from anyray.cli import app
from anyray.keys import KeyRing, KeyStore, digest
from anyray.store import open_store
from tests.conftest import ANTHROPIC_KEY, vertex_and_anthropic_config

runner = CliRunner()
ASK = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hello there"}]}


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def create_key(url: str, team: str, *extra: str) -> dict:
    result = runner.invoke(app, ["keys", "create", "--team", team, "--store", url, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def claude(gw, key: str | None, **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=key or "", max_retries=0, default_headers=headers)


def keyed_gateway(fake, sa_key_file, start_gateway, url: str, **overrides):
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=url, auth__refresh_s=0.1, **overrides)
    return start_gateway(config)


def test_cli_creates_lists_and_revokes_keys_storing_only_a_hash(store_url):
    made = create_key(store_url, "search", "--name", "indexer")
    admin = create_key(store_url, "platform", "--admin")
    # the first key changes what every gateway on the store accepts: that key says so, the next does not
    assert "refuses calls without a gateway key" in made["note"] and "note" not in admin
    assert made["secret"].startswith("ark_") and made["last4"] == made["secret"][-4:]

    listed = runner.invoke(app, ["keys", "list", "--store", store_url, "--json"])
    rows = json.loads(listed.output)
    expected = [("search", False, "indexer"), ("platform", True, None)]
    assert [(r["team"], r["admin"], r["name"]) for r in rows] == expected
    assert made["secret"] not in listed.output and admin["secret"] not in listed.output

    store = open_store(store_url)
    with store._transaction() as cur:
        cur.execute("SELECT * FROM gateway_keys")
        dump = repr(cur.fetchall())
    store.close()
    assert made["secret"] not in dump and digest(made["secret"]) in dump

    revoked = runner.invoke(app, ["keys", "revoke", made["id"], "--store", store_url])
    assert revoked.exit_code == 0, revoked.output
    ring = KeyRing.from_store_url(store_url)
    assert ring.verify(made["secret"]) is None
    assert ring.verify(admin["secret"]).admin is True
    ring.close_store()
    assert runner.invoke(app, ["keys", "revoke", "key_nope", "--store", store_url]).exit_code == 1
    all_rows = json.loads(runner.invoke(app, ["keys", "list", "--store", store_url, "--json", "--all"]).output)
    assert [r["revoked_ms"] is not None for r in all_rows] == [True, False]


def test_no_wrong_or_revoked_key_is_refused_in_each_dialect_and_goes_nowhere(
    fake, sa_key_file, start_gateway, sqlite_url, controllable_optimizer
):
    recorder, optimizer_url = controllable_optimizer
    key = create_key(sqlite_url, "search")
    gw = keyed_gateway(fake, sa_key_file, start_gateway, sqlite_url, optimizer__url=optimizer_url)
    oa = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}

    for secret in ("ark_not-a-real-key-00000000000000000000000", "sk-ant-api03-some-provider-key"):
        with pytest.raises(anthropic.AuthenticationError) as refused:
            claude(gw, secret).messages.create(**ASK)
        assert refused.value.body["error"]["type"] == "authentication_error"
        with pytest.raises(openai.AuthenticationError) as refused_oa:
            openai.OpenAI(base_url=f"{gw.url}/v1", api_key=secret, max_retries=0).chat.completions.create(**oa)
        assert refused_oa.value.code == "invalid_api_key"
    # no key at all, on each kind of route (the SDKs refuse to send an empty one, so plain HTTP)
    for path, dialect_headers in (("/v1/messages", {"anthropic-version": "2023-06-01"}),
                                  ("/v1/messages/count_tokens", {}), ("/v1/chat/completions", {}),
                                  ("/v1/embeddings", {}), ("/v1/models", {})):
        answer = httpx.post(f"{gw.url}{path}", json=ASK, headers=dialect_headers)
        assert answer.status_code == 401, (path, answer.text)
        body = answer.json()
        if path.startswith("/v1/messages"):
            assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
        else:
            assert body["error"]["code"] == "invalid_api_key" and "gateway key" in body["error"]["message"]
    assert [r.path for r in fake.received if r.path != "/token"] == [] and recorder.seen == []

    answer = claude(gw, key["secret"]).messages.create(**ASK)
    assert answer.content[0].text
    (call,) = [r for r in fake.received if "Predict" in r.path or r.path.endswith("/messages")]
    assert key["secret"] not in json.dumps(call.headers)
    assert all(key["secret"] not in json.dumps(h) + b.decode() for _, h, b in recorder.seen)

    assert runner.invoke(app, ["keys", "revoke", key["id"], "--store", sqlite_url]).exit_code == 0
    wait_for(lambda: gw.gateway.keys.verify(key["secret"]) is None)
    with pytest.raises(anthropic.AuthenticationError):
        claude(gw, key["secret"]).messages.create(**ASK)
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert 'anyray_auth_refused_total{reason="invalid"} 5.0' in metrics
    assert 'anyray_auth_refused_total{reason="missing"} 5.0' in metrics


def test_the_keys_team_is_billed_whatever_the_header_says(fake, sa_key_file, start_gateway, sqlite_url):
    key = create_key(sqlite_url, "search")
    gw = keyed_gateway(fake, sa_key_file, start_gateway, sqlite_url)
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key["secret"], max_retries=0,
                           default_headers={"x-anyray-metadata": "team=finance;app=report"})
    client.chat.completions.create(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
    claude(gw, key["secret"], **{"x-anyray-metadata": "team=finance"}).messages.create(**ASK)
    writer = gw.gateway.spend.writer
    wait_for(lambda: writer.written >= 2)
    records = writer.store.fetch()
    assert [(r["team"], r["app"]) for r in records] == [("search", "report"), ("search", None)]
    (upstream,) = [r for r in fake.received if r.path.endswith("/v1/messages")]
    assert upstream.headers.get("x-api-key") == ANTHROPIC_KEY


def test_a_cached_answer_never_crosses_teams_even_when_a_caller_claims_another_team(
    fake, sa_key_file, start_gateway, sqlite_url
):
    finance, marketing = create_key(sqlite_url, "finance"), create_key(sqlite_url, "marketing")
    gw = keyed_gateway(fake, sa_key_file, start_gateway, sqlite_url,
                       optimizer__strategies=[{"kind": "semantic_cache", "enabled": True}])
    ask = {**ASK, "extra_body": {"temperature": 0}, "messages": [{"role": "user", "content": "Quarterly numbers?"}]}
    claude(gw, finance["secret"]).messages.create(**ask)
    wait_for(lambda: gw.gateway.optimizer.optimizer.cache.stats.writes == 1)
    assert claude(gw, finance["secret"]).messages.with_raw_response.create(**ask).headers["x-anyray-cache"] == "hit"
    posing = claude(gw, marketing["secret"], **{"x-anyray-metadata": "team=finance"})
    assert "x-anyray-cache" not in posing.messages.with_raw_response.create(**ask).headers
    upstream = [r for r in fake.received if "Predict" in r.path]
    assert len(upstream) == 2


def test_required_without_any_key_refuses_everyone_and_no_keys_means_open(fake, sa_key_file, start_gateway, sqlite_url):
    closed = keyed_gateway(fake, sa_key_file, start_gateway, sqlite_url, auth__required=True)
    with pytest.raises(anthropic.AuthenticationError):
        claude(closed, "anything").messages.create(**ASK)
    other = f"{sqlite_url[:-3]}-open.db"
    open_gw = keyed_gateway(fake, sa_key_file, start_gateway, other)
    assert claude(open_gw, "sk-whatever").messages.create(**ASK).content[0].text
    assert not open_gw.gateway.keys.required


def test_an_unreadable_key_store_fails_closed():
    ring = KeyRing("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", required=None, refresh_s=60)
    assert ring.required and not ring.ready
    assert KeyRing(None).required is False
    with pytest.raises(Exception, match=r"no store\.url"):
        KeyRing(None, required=True)


def test_keys_in_postgresql_are_seen_by_a_ring(pg_url):
    keys = KeyStore(open_store(pg_url))
    secret, key = keys.create("ops", admin=True)
    keys.store.close()
    ring = KeyRing.from_store_url(pg_url)
    found = ring.verify(secret)
    assert found is not None and (found.id, found.team, found.admin) == (key.id, "ops", True)
    assert ring.verify(secret + "x") is None and ring.required
    ring.close_store()


def test_the_optimizer_embeds_through_a_keyed_gateway_with_its_service_token_on_that_path_only(
    fake, sa_key_file, start_gateway, sqlite_url, monkeypatch
):
    token = "optimizer-service-token-0123456789abcdef"
    monkeypatch.setenv("ANYRAY_OPTIMIZER_TOKEN", token)
    openai_key = "sk-proj-gatewayopenaikey000000000000000000000000000000000000"
    fake.openai_key = openai_key
    key = create_key(sqlite_url, "travel")
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url,
                                         optimizer__strategies=[{"kind": "semantic_cache", "enabled": True}])
    config["providers"]["openai"] = {"api_key": openai_key, "base_url": f"{fake.url}/v1"}
    config["cache"] = {"embeddings_url": "http://127.0.0.1:9/v1", "similarity_threshold": 0.9}
    gw = start_gateway(config)
    optimizer = gw.gateway.optimizer.optimizer
    optimizer.embedder.url = gw.url + "/v1/embeddings"
    client = claude(gw, key["secret"])
    ask = {**ASK, "extra_body": {"temperature": 0},
           "messages": [{"role": "user", "content": "What is the daily meal allowance in Paris for employees?"}]}
    client.messages.create(**ask)
    wait_for(lambda: optimizer.cache.stats.writes == 1)
    near = {**ask, "messages": [{"role": "user", "content": "what is the daily meal allowance in Paris for employees"}]}
    assert client.messages.with_raw_response.create(**near).headers["x-anyray-cache"] == "hit"
    embeddings = [r for r in fake.received if r.path.endswith("/embeddings")]
    assert embeddings and all(r.headers["authorization"] == f"Bearer {openai_key}" for r in embeddings)

    with pytest.raises(anthropic.AuthenticationError):  # the service token opens no other door
        claude(gw, token).messages.create(**ASK)
    gw.gateway.spend.writer.flush()
    teams = {(r["endpoint"], r["team"]) for r in gw.gateway.spend.writer.store.fetch()}
    # the calls are the key's team's; the optimizer's own embeddings (forwarded calls leave records too) are
    # its service identity's, never a caller's
    assert teams == {("/v1/messages", "travel"), ("/v1/embeddings", "anyray-optimizer")}
