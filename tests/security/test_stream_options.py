"""`stream_options` that is not an object was a 500 on /v1/chat/completions (the gateway spread it into its own
`{"include_usage": true}`); it is OpenAI's 400, in OpenAI's error shape, before anything goes upstream."""

from __future__ import annotations

import openai
import orjson
import pytest

from tests.openai_dialect.conftest import CLIENT_KEY
from tests.security.wire import Answers, connect

HI = [{"role": "user", "content": "hi"}]


def model_calls(fake) -> list[str]:
    return [r.path for r in fake.received if r.path != "/token"]


@pytest.mark.parametrize("model", ["gpt-4o", "claude-sonnet-4-5"])  # sent as is, and translated to Claude
@pytest.mark.parametrize(
    ("options", "param", "got"),
    [
        ("yes", "stream_options", "a string"),
        ([1, 2], "stream_options", "an array"),
        (7, "stream_options", "a number"),
        ({"include_usage": "yes"}, "stream_options.include_usage", "a string"),
    ],
)
def test_stream_options_of_the_wrong_type_is_a_400_in_openai_shape(gw, fake_openai, client, model, options, param,
                                                                    got):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=HI, stream=True, stream_options=options)
    error = info.value.body
    assert info.value.status_code == 400
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_type"
    assert error["param"] == param and got in error["message"]
    assert model_calls(fake_openai) == []
    # null is "not given", as OpenAI reads it; an object is used as before
    assert client.chat.completions.create(model=model, messages=HI, stream_options=None).choices
    chunks = list(client.chat.completions.create(model=model, messages=HI, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].usage is not None


def test_the_review_bytes_get_a_400_not_a_500(gw, fake_openai):
    body = orjson.dumps({"model": "gpt-4o", "messages": HI, "stream": True, "stream_options": "x"})
    with connect(gw.server) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer %s\r\n"
                     b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                     % (CLIENT_KEY.encode(), len(body), body))
        [(status, _, answer)] = Answers(sock).read()
    assert status == 400, answer
    assert set(orjson.loads(answer)) == {"error"}
    assert model_calls(fake_openai) == []
