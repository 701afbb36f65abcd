"""Cache poisoning: nobody who merely reaches the optimizer can decide what another team is answered.

The review's replay: `anyray up` served the optimizer on :8088 without a service token; a `POST /v1/cache`
naming a victim's request and `metadata.team` planted an answer, and the gateway served it to the victim with
`x-anyray-cache: hit`. Now `anyray up` generates a token for each run, an optimizer without one serves loopback
only and takes no cache write over HTTP, and an entry is bound to the team the gateway authenticated (its
gateway key's), never to a team a caller names.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time

import anthropic
import httpx
import orjson
import pytest
import yaml

from anyray.config import Config
from anyray.server.optimizer.app import create_optimizer_app
from anyray.server.optimizer.engine import Optimizer
from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY, vertex_and_anthropic_config
from tests.keys.test_gateway_keys import create_key
from tests.kit import ServerThread
from tests.security.wire import Answers
from tests.test_cli_up import _env, _free_port, _wait_for_output

UPSTREAM_MODEL = "claude-haiku-4-5-20251001"
VICTIM_ASK = {"model": "claude-haiku-4-5", "max_tokens": 200, "temperature": 0,
              "messages": [{"role": "user", "content": "Which account do refunds go to?"}]}
PLANTED = {"id": "msg_planted", "type": "message", "role": "assistant", "model": UPSTREAM_MODEL,
           "content": [{"type": "text", "text": "Wire every refund to IBAN XX00 EVIL 0000."}],
           "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
CACHED = [{"kind": "semantic_cache", "enabled": True}]


def plant(port: int, request: dict, team: str, token: str | None = None) -> tuple[int, bytes]:
    """The attack bytes: one raw POST /v1/cache, as anyone who reaches the port can send it."""
    body = orjson.dumps({"endpoint": "/v1/messages", "request": request, "response": PLANTED,
                         "route": {"provider": "anthropic", "model": UPSTREAM_MODEL}, "metadata": {"team": team}})
    auth = b"authorization: Bearer %s\r\n" % token.encode() if token else b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /v1/cache HTTP/1.1\r\nhost: optimizer\r\ncontent-type: application/json\r\n%s"
                     b"content-length: %d\r\n\r\n%s" % (auth, len(body), body))
        [(status, _, answer)] = Answers(sock).read()
    return status, answer


def victim(url: str, key: str = CLIENT_KEY, **headers: str):
    client = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0, default_headers=headers, timeout=30)
    return client.messages.with_raw_response.create(
        model=VICTIM_ASK["model"], max_tokens=VICTIM_ASK["max_tokens"], messages=VICTIM_ASK["messages"],
        extra_body={"temperature": 0})


def served_the_upstreams_answer(response, fake) -> None:
    assert response.headers.get("x-anyray-cache") != "hit"
    assert "EVIL" not in response.parse().content[0].text
    assert [r for r in fake.received if r.path == "/v1/messages"], "the upstream answered it"


@pytest.mark.parametrize("given", [None, "shell-chosen-service-token-" + "s" * 24])
def test_anyray_up_takes_no_planted_answer_from_whoever_reaches_its_optimizer(fake, tmp_path, given):
    """The replay, against `anyray up` as a user runs it: a real process, real ports. The token is generated
    (or the shell's), never printed; the gateway's own in-process write-back still caches."""
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({
        "providers": {"anthropic": {"base_url": fake.url, "api_key": ANTHROPIC_KEY}},
        "models": {"claude-haiku-4-5": {"provider": "anthropic", "model": UPSTREAM_MODEL}},
        "optimizer": {"strategies": CACHED}, "store": {"enabled": False}}))
    gw_port, opt_port = _free_port(), _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "anyray", "up", "--config", str(config), "--port", str(gw_port),
                             "--optimizer-port", str(opt_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=_env(**({"ANYRAY_OPTIMIZER_TOKEN": given} if given else {})))
    try:
        banner = _wait_for_output(proc, "Ctrl-C")
        assert "service token" in banner
        assert ("from ANYRAY_OPTIMIZER_TOKEN" if given else "generated for this run") in banner
        status, answer = plant(opt_port, VICTIM_ASK, "victim")
        assert status == 401, answer
        assert httpx.get(f"http://127.0.0.1:{opt_port}/healthz").status_code == 200  # the port itself is up
        gateway = f"http://127.0.0.1:{gw_port}"
        served_the_upstreams_answer(victim(gateway, **{"x-anyray-metadata": "team=victim"}), fake)
        deadline = time.monotonic() + 5
        while victim(gateway).headers.get("x-anyray-cache") != "hit":  # the gateway's write-back, in-process
            assert time.monotonic() < deadline, "the gateway's own answer was never cached"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert given is None or given not in out


def test_an_optimizer_without_a_token_takes_no_cache_write_and_answers_no_cache_hit(fake):
    optimizer = Optimizer(Config.model_validate({"optimizer": {"strategies": CACHED}}))
    with ServerThread(create_optimizer_app(optimizer, service_token="", admin_token=""), production=True) as server:
        status, answer = plant(server.port, VICTIM_ASK, "victim")
        assert status == 403 and b"ANYRAY_OPTIMIZER_TOKEN" in answer
        # an entry that is there (written in-process, as the gateway under `anyray up` writes) is not read
        # over HTTP either, whatever team the caller claims, and no key to write under is handed out
        request = dict(VICTIM_ASK)
        written = asyncio.run_coroutine_threadsafe(optimizer.cache_write(
            {"endpoint": "/v1/messages", "request": request, "response": PLANTED,
             "route": {"provider": "anthropic", "model": UPSTREAM_MODEL}}), server.loop)
        assert written.result(5)["stored"] is True
        asked = httpx.post(server.url + "/v1/optimize", json={
            "endpoint": "/v1/messages", "request": request, "canShortCircuit": True, "authenticatedTeam": "victim",
            "route": {"provider": "anthropic", "model": UPSTREAM_MODEL}}).json()
        assert "cacheHit" not in asked and "cacheKey" not in asked


def test_an_optimizer_without_a_token_will_not_listen_beyond_loopback():
    port = _free_port()
    result = subprocess.run([sys.executable, "-m", "anyray", "serve", "optimizer", "--host", "0.0.0.0", "--port",
                             str(port)], capture_output=True, text=True, env=_env(), timeout=30)
    assert result.returncode == 1
    assert "no service token" in result.stderr and "ANYRAY_OPTIMIZER_TOKEN" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_entries_are_bound_to_the_gateway_keys_team_never_to_a_team_a_caller_names(
    fake, sa_key_file, start_gateway, sqlite_url, monkeypatch
):
    """Over HTTP with the service token, as a cluster runs it: the planted answer needs the token, and what the
    gateway writes back for one key's team is never served to another key, whatever team the latter claims."""
    token = "svc-" + "t" * 40
    monkeypatch.setenv("ANYRAY_OPTIMIZER_TOKEN", token)
    optimizer = Optimizer(Config.model_validate({"optimizer": {"strategies": CACHED}}))
    finance, marketing = create_key(sqlite_url, "finance"), create_key(sqlite_url, "marketing")
    with ServerThread(create_optimizer_app(optimizer, admin_token=""), production=True) as server:
        status, _ = plant(server.port, VICTIM_ASK, "finance")  # no token: refused
        assert status == 401
        config = vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url, optimizer__url=server.url)
        config["models"] = {"claude-haiku-4-5": {"provider": "anthropic", "model": UPSTREAM_MODEL}}
        gw = start_gateway(config)
        # marketing asks first, and claims to be finance: its answer is cached for marketing only
        first = victim(gw.url, marketing["secret"], **{"x-anyray-metadata": "team=finance"})
        assert "x-anyray-cache" not in first.headers
        deadline = time.monotonic() + 5
        while optimizer.cache is None or optimizer.cache.stats.writes < 1:
            assert time.monotonic() < deadline, "the write-back never came"
            time.sleep(0.02)
        assert set(optimizer.cache.stats.by_team) == {"marketing"}
        assert victim(gw.url, marketing["secret"]).headers["x-anyray-cache"] == "hit"
        served_the_upstreams_answer(victim(gw.url, finance["secret"]), fake)
        calls = [r for r in fake.received if r.path == "/v1/messages"]
        assert len(calls) == 2, "marketing's first call and finance's own call went upstream"
