"""With gateway keys configured, the console needs an admin key: in the gateway and standalone.

Keys are made by the real CLI (`anyray keys create --json`) in the store the gateway reads; the SDK
traffic itself uses a (non-admin) team key, as a keyed gateway requires.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.console.conftest import ROOT, console_config, send_traffic
from tests.spend.conftest import wait_written

COOKIE = "anyray_console"


def anyray(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "anyray", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def create_key(store: str, team: str, admin: bool) -> dict:
    return json.loads(anyray("keys", "create", "--team", team, "--store", store, "--json",
                             *(["--admin"] if admin else [])))


def log_in(page, base: str, secret: str) -> int:
    page.goto(f"{base}/console/")
    assert page.url.endswith("/console/login")
    page.fill("#key", secret)
    with page.expect_navigation() as nav:
        page.click("button[type=submit]")
    return nav.value.status if nav.value else 0


def test_the_gateway_console_requires_an_admin_key(fake, sa_key_file, start_gateway, sqlite_url, browser):
    admin = create_key(sqlite_url, "platform", admin=True)
    team = create_key(sqlite_url, "search", admin=False)
    config = console_config(fake, sa_key_file, sqlite_url)
    config["auth"] = {"refresh_s": 0.2}
    gw = start_gateway(config)
    n = send_traffic(gw.url, api_key=team["secret"])
    wait_written(gw, n)
    base = gw.url

    context = browser.new_context()
    page = context.new_page()
    try:
        # not logged in: every page and the CSV lead to the login form, which shows no data and no banner
        page.goto(f"{base}/console/tables/team")
        assert page.url.endswith("/console/login")
        assert page.locator("#card-spend").count() == 0 and page.locator("#loopback-banner").count() == 0
        assert "/console/login" in page.request.get(f"{base}/console/tables/team.csv").url

        # a wrong key, and a valid key that is not an admin key, are refused
        assert log_in(page, base, "ark_" + "x" * 40) == 401
        assert page.locator("#login-error").inner_text() == "That key is not valid."
        assert log_in(page, base, team["secret"]) == 401
        assert "not an admin key" in page.locator("#login-error").inner_text()
        assert not [c for c in context.cookies() if c["name"] == COOKIE]

        # the admin key opens it: a Secure, HttpOnly, SameSite=Strict cookie that does not carry the key
        assert log_in(page, base, admin["secret"]) == 200
        assert page.url.endswith("/console/")
        assert page.locator("#card-requests .value").inner_text() == f"{n:,}"
        (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
        assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Strict")
        assert admin["secret"] not in cookie["value"] and admin["secret"][-8:] not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # HttpOnly: invisible to scripts
        csv = page.request.get(f"{base}/console/tables/team.csv")
        assert csv.headers["content-type"].startswith("text/csv") and "search" in csv.text()
        assert page.locator("header form").inner_text().startswith(f"key {admin['id']}")

        # a forged cookie (same payload, bad signature) is not a session
        forged = browser.new_context()
        value = cookie["value"].rsplit(".", 1)[0] + ".AAAA"
        forged.add_cookies([{**cookie, "value": value}])
        fpage = forged.new_page()
        fpage.goto(f"{base}/console/")
        assert fpage.url.endswith("/console/login")
        forged.close()

        # revoking the admin key ends its session once the gateway has re-read its keys
        anyray("keys", "revoke", admin["id"], "--store", sqlite_url)
        deadline = time.monotonic() + 10
        while gw.gateway.keys.verify(admin["secret"]) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        page.goto(f"{base}/console/")
        assert page.url.endswith("/console/login")
    finally:
        context.close()


def test_the_standalone_console_requires_an_admin_key_too(fake, sa_key_file, start_gateway, sqlite_url,
                                                          cli_console, browser):
    admin = create_key(sqlite_url, "platform", admin=True)
    base = cli_console(sqlite_url)
    context = browser.new_context()
    page = context.new_page()
    try:
        secret = admin["secret"]
        wrong = secret[:-1] + ("Z" if secret[-1] != "Z" else "Y")  # one character off (one key in 64 ends in Z)
        assert log_in(page, base, wrong) == 401
        assert page.locator("#login-error").is_visible()
        assert log_in(page, base, admin["secret"]) == 200
        assert page.locator("#card-spend").is_visible()
        page.click("header form button")  # log out
        assert page.url.endswith("/console/login")
        page.goto(f"{base}/console/health")
        assert page.url.endswith("/console/login")
    finally:
        context.close()
