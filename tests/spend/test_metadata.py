"""x-anyray-metadata: parsed into team/app/user/tags, bounded, and refused with a 400 the SDK can parse."""

from __future__ import annotations

import anthropic
import orjson
import pytest

from anyray.server.gateway.metadata import MetadataError, attribute, parse_metadata, session_of
from tests.conftest import CLIENT_KEY


def test_json_and_pairs_forms_mean_the_same():
    json_form = parse_metadata('{"team": "search", "app": "idx", "user": "ana", "tags": {"env": "prod"}, "cost": "c1"}')
    pairs = parse_metadata("team=search; app=idx;user=ana;env=prod;cost=c1")
    assert json_form == pairs
    assert json_form.as_dict() == {
        "team": "search",
        "app": "idx",
        "user": "ana",
        "tags": {"env": "prod", "cost": "c1"},
    }
    assert parse_metadata(None).as_dict() == {} == parse_metadata("  ").as_dict()


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('["team"]', "expected a JSON object"),
        ('{"team": 5}', "team: expected a string, got int"),
        ('{"app": ["a"]}', "app: expected a string, got list"),
        ('{"tags": "env=prod"}', "tags: expected an object"),
        ('{"tags": {"env": 1}}', "tags.env: expected a string"),
        ('{"team": ""}', "team: must not be empty"),
        ('{"team": "' + "x" * 129 + '"}', "longer than 128 characters"),
        ("team=a;team=b", "'team' given twice"),
        ("just-a-word", "expected a JSON object or k=v;k=v pairs"),
        ("bad key=1", "tag name 'bad key'"),
        ("team=" + "x" * 3000, "larger than 2048 bytes"),
        (";".join(f"t{i}=v" for i in range(17)), "more than 16 tags"),
    ],
)
def test_bad_headers_say_what_to_fix(header, problem):
    with pytest.raises(MetadataError) as info:
        parse_metadata(header)
    assert problem in str(info.value)
    assert str(info.value).startswith("x-anyray-metadata: ")


def test_claude_code_session_ids_become_a_tag():
    assert session_of("user_abc123_account__session_5f1c2f9e-aaaa-4c3b") == "5f1c2f9e-aaaa-4c3b"
    assert session_of('{"device_id": "d1", "account_uuid": "", "session_id": "s-42"}') == "s-42"
    assert session_of("plain-id") == "plain-id"
    assert session_of(7) is None
    found = attribute({}, {"metadata": {"user_id": "user_x_account__session_abc"}})
    assert found.tags == {"session": "abc"}


def test_a_gateway_keys_team_wins_over_the_header():
    found = attribute({"x-anyray-metadata": "team=other;app=a"}, {}, key_team="payments")
    assert (found.team, found.app) == ("payments", "a")


@pytest.mark.parametrize(
    "header",
    [
        "{not json",  # not JSON
        '{"team": "' + "x" * 2100 + '"}',  # too large
        '{"team": 5, "app": "a"}',  # wrong type
        '{"tags": ["a", "b"]}',  # wrong type
    ],
)
def test_bad_metadata_is_a_400_in_anthropic_shape(gateway, fake, header):
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    before = len(fake.received)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-anyray-metadata": header},
        )
    err = info.value
    assert err.status_code == 400
    body = orjson.loads(err.response.content)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("x-anyray-metadata: ")
    assert len(fake.received) == before  # refused at the gateway, nothing went upstream


def test_bad_metadata_on_the_vertex_shaped_path_is_a_400_too(gateway):
    import httpx

    url = f"{gateway.url}/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5:rawPredict"
    answer = httpx.post(
        url,
        json={
            "anthropic_version": "vertex-2023-10-16",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
        },
        headers={"x-anyray-metadata": "{oops"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
