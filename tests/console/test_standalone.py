"""`anyray console --store URL` as its own process, on a store the gateway wrote (SQLite and PostgreSQL);
and the no-keys rule: only loopback (or the listen address itself) gets an answer."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from anyray.console.app import standalone_app
from anyray.pricing import format_usd
from anyray.store.postgres import redact
from tests.console.conftest import console_config, send_traffic
from tests.console.store_sums import by, records, totals
from tests.spend.conftest import wait_written


def test_the_standalone_console_reads_a_store_the_gateway_wrote(fake, sa_key_file, start_gateway, store_url,
                                                                 cli_console, page):
    gw = start_gateway(console_config(fake, sa_key_file, store_url))
    n = send_traffic(gw.url)
    wait_written(gw, n)
    gw.server.stop()  # the cluster's gateways may be anywhere; only the store is shared

    base = cli_console(store_url)
    rows = records(store_url)
    want = totals(rows)
    page.goto(base + "/")  # redirects to /console/
    assert page.url.endswith("/console/")
    assert page.locator("#card-spend .value").inner_text() == format_usd(want["cost_micros"])
    assert page.locator("#card-requests .value").inner_text() == f"{n:,}"
    assert page.locator("svg.chart g.series").count() == len(by(rows, "model"))
    page.goto(base + "/console/tables/provider?range=24h&sort=group&dir=asc")
    assert page.locator("#group-table tbody tr td[data-key=group]").all_inner_texts() == \
        sorted(by(rows, "provider"))
    page.goto(base + "/console/health")
    assert page.locator('tr[data-check="store"] .ok').count() == 1
    assert redact(store_url) in page.locator('tr[data-check="store"]').inner_text()  # passwords shown as ***


def test_without_keys_only_loopback_clients_are_answered(sqlite_url):
    """A client from another address is refused; the listen address itself is not 'another address'."""
    # in a thread of its own: Playwright's sync API keeps an event loop running on this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _ask_from_addresses(sqlite_url)).result()


async def _ask_from_addresses(sqlite_url: str) -> None:
    app = standalone_app(sqlite_url, "10.9.8.7")
    for client, status in ((("127.0.0.1", 5000), 200), (("::1", 5000), 200), (("10.9.8.7", 5000), 200),
                           (("10.9.8.99", 5000), 403), (("192.168.1.20", 5000), 403)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as c:
            r = await c.get("/console/")
        assert r.status_code == status, client
        if status == 403:
            assert "only answers on loopback" in r.text and "card-spend" not in r.text
        else:
            assert 'id="loopback-banner"' in r.text
    app.state.console.close()


def test_the_standalone_console_asks_a_gateway_elsewhere_for_its_health(fake, sa_key_file, start_gateway,
                                                                       sqlite_url):
    """`anyray console --gateway URL`: the gateway's /healthz and /_anyray/selftest, over the gateway's own client."""
    from anyray.console.health import remote_health

    def ask(url: str):  # in a thread of its own: Playwright's sync API may keep an event loop running on this one
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, remote_health(url)).result()

    gw = start_gateway(console_config(fake, sa_key_file, sqlite_url))
    health = ask(gw.url)
    checks = {c.name: c for c in health.checks}
    assert checks["gateway"].status == "ok" and health.version in checks["gateway"].detail
    assert checks["provider vertex"].status == "ok" and health.protocol == "1"
    gw.server.stop()
    gone = ask(gw.url)
    assert [(c.name, c.status) for c in gone.checks] == [("gateway", "fail")]
    assert "no anyray gateway answers" in gone.checks[0].detail
