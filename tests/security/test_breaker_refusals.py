"""Nobody can open the optimizer's circuit breaker for everyone by sending what the optimizer refuses.

The review's replay: five requests with a key-shaped string in `x-anyray-metadata` made the optimizer refuse
each message (it refuses credentials in metadata with a 400), the gateway counted every refusal as an
optimizer failure, the breaker opened, and every team's requests went unoptimized (fail-open) for 10 s.
Now the gateway refuses such metadata itself (the caller's 400, in its dialect), and a refusal the optimizer
still makes (a header the gateway passes it) fails that one request open without counting as a failure.
"""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import openai
import pytest

from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config

KEY_SHAPED = "sk-ant-api03-" + "Q" * 40  # what the optimizer's credential wall refuses; not a real key
ASK = {"model": "claude-sonnet-4-5", "max_tokens": 64000, "messages": [{"role": "user", "content": "hi"}]}


def claude(gw, **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, default_headers=headers,
                               timeout=30)


def result_of(response) -> dict:
    return json.loads(response.headers["x-anyray-optimization-result"])


def breaker(gw) -> str:
    return httpx.get(gw.url + "/healthz").json()["optimizer"]["breaker"]


def optimized_for_another_team(gw, fake) -> None:
    """What the attack took away: the next request of another team is optimized (max_tokens capped)."""
    answer = claude(gw, **{"x-anyray-metadata": "team=payments"}).messages.with_raw_response.create(**ASK)
    assert result_of(answer)["status"] != "fail_open", result_of(answer)
    sent = [r for r in fake.received if "Predict" in r.path][-1].body
    assert sent["max_tokens"] < 64000, "param_tuning must have capped it: the optimizer ran"
    assert breaker(gw) == "closed"


def http_optimizer_gateway(fake, sa_key_file, start_gateway, url: str, **overrides):
    return start_gateway(vertex_and_anthropic_config(fake, sa_key_file, optimizer__url=url, **overrides))


@pytest.mark.parametrize("where", ["in-process", "http"])
def test_key_shaped_metadata_is_the_callers_400_and_never_opens_the_breaker(
    fake, sa_key_file, start_gateway, controllable_optimizer, where
):
    recorder, url = controllable_optimizer
    gw = (start_gateway(vertex_and_anthropic_config(fake, sa_key_file)) if where == "in-process"
          else http_optimizer_gateway(fake, sa_key_file, start_gateway, url))
    headers = [{"x-anyray-metadata": f"team=mallory;note={KEY_SHAPED}"},
               {"x-anyray-metadata": json.dumps({"team": KEY_SHAPED})},
               {"x-anyray-metadata": json.dumps({"team": "mallory", "tags": {"cookie": "c"}})}]
    for i in range(7):  # more than breaker_failures (5)
        with pytest.raises(anthropic.BadRequestError) as info:
            claude(gw, **headers[i % len(headers)]).messages.create(**ASK)
        error = info.value.body["error"]
        assert "x-anyray-metadata" in error["message"] and "credential" in error["message"]
        assert KEY_SHAPED not in error["message"]
    with pytest.raises(openai.BadRequestError) as oinfo:  # the OpenAI dialect's shape for the same refusal
        openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0).chat.completions.create(
            model="claude-sonnet-4-5", messages=ASK["messages"], extra_headers=headers[0])
    assert oinfo.value.body["param"] == "x-anyray-metadata" and oinfo.value.body["code"] == "invalid_metadata"
    assert not [r for r in fake.received if "Predict" in r.path], "refused before any upstream call"
    assert not [p for p, _, _ in recorder.seen if p == "/v1/optimize"], "the optimizer never saw one"
    optimized_for_another_team(gw, fake)
    assert not gw.gateway.optimizer.fail_open


@pytest.mark.parametrize("where", ["in-process", "http"])
def test_a_refusal_the_optimizer_still_makes_fails_that_request_open_and_counts_for_nothing(
    fake, sa_key_file, start_gateway, controllable_optimizer, where
):
    """A header the gateway passes to the optimizer (its allow-list) can still carry what it refuses: the
    request is served unoptimized, counted as `refused`, and the breaker does not move."""
    recorder, url = controllable_optimizer
    gw = (start_gateway(vertex_and_anthropic_config(fake, sa_key_file)) if where == "in-process"
          else http_optimizer_gateway(fake, sa_key_file, start_gateway, url))
    mallory = claude(gw, **{"anthropic-beta": KEY_SHAPED, "x-anyray-metadata": "team=mallory"})
    for _ in range(7):
        answer = mallory.messages.with_raw_response.create(**ASK)
        assert answer.http_response.status_code == 200 and result_of(answer)["status"] == "fail_open"
    if where == "http":
        assert len([p for p, _, _ in recorder.seen if p == "/v1/optimize"]) == 7, "asked each time: never open"
    assert gw.gateway.optimizer.fail_open == {"refused": 7}
    optimized_for_another_team(gw, fake)


def test_a_refused_probe_leaves_the_half_open_circuit_to_the_next_request(
    fake, sa_key_file, start_gateway, controllable_optimizer
):
    recorder, url = controllable_optimizer
    gw = http_optimizer_gateway(fake, sa_key_file, start_gateway, url, optimizer__breaker_failures=2,
                                optimizer__breaker_reset_s=0.3)
    recorder.mode = "error"  # the optimizer's own failures do open it
    for _ in range(2):
        claude(gw).messages.create(**ASK)
    assert breaker(gw) == "open"
    recorder.mode = "ok"
    time.sleep(0.4)
    mallory = claude(gw, **{"anthropic-beta": KEY_SHAPED})
    assert result_of(mallory.messages.with_raw_response.create(**ASK))["status"] == "fail_open"  # the probe
    assert breaker(gw) == "half_open"
    optimized_for_another_team(gw, fake)  # the next request probes, succeeds, closes


def test_a_session_id_with_a_key_glued_in_is_left_out_not_refused(gateway, fake):
    """Claude Code's metadata.user_id becomes the `session` tag; masking missed a key glued to other letters
    (no word boundary), and the optimizer then refused every such request. The tag is left out instead."""
    body = {**ASK, "metadata": {"user_id": f"user_ab_account__session_X{KEY_SHAPED}"}}
    seen: list = []
    gateway.gateway.listeners.append(seen.append)
    for _ in range(6):
        answer = claude(gateway).messages.with_raw_response.create(**body)
        assert result_of(answer)["status"] != "fail_open"
    assert all("session" not in call.metadata.get("tags", {}) for call in seen)
    assert not gateway.gateway.optimizer.fail_open and breaker(gateway) == "closed"
