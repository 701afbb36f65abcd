"""The console in real headless Chromium, against a gateway whose store real SDK traffic filled.

Every expected number is computed here from the store's raw records; the console computes its own with
SQL. Screenshots of the overview are saved to the test's tmp dir and copied to tests/console/artifacts/.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from anyray.pricing import format_usd
from anyray.server.optimizer.protocol import PROTOCOL_VERSION
from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY
from tests.console.conftest import ARTIFACTS, OPENAI_KEY, PROMPT_MARKER
from tests.console.store_sums import by, model_of, records, totals


def card(page, name: str) -> str:
    return page.locator(f"#card-{name} .value").inner_text().strip()


def test_overview_numbers_equal_the_store_sums_and_the_chart_has_one_series_per_model(filled, page, tmp_path):
    rows = records(filled.store_url)
    assert len(rows) == filled.requests
    want = totals(rows)
    assert want["savings_micros"] > 0 and want["cost_micros"] > 0  # the traffic did cost and did save

    page.goto(f"{filled.gw.url}/console/?range=24h")
    assert card(page, "spend") == format_usd(want["cost_micros"])
    assert card(page, "requests") == f"{want['requests']:,}"
    assert card(page, "tokens") == f"{want['tokens']:,}"
    assert card(page, "savings") == format_usd(want["savings_micros"])
    assert card(page, "cache-hit-rate") == f"{want['cache_hits'] / want['requests'] * 100:.1f}%"
    assert card(page, "fail-open") == f"{want['fail_open']:,}"
    assert card(page, "p50") == f"{want['p50_ms']:,.0f} ms"
    assert card(page, "p95") == f"{want['p95_ms']:,.0f} ms"

    # the chart: one series (and one legend entry) per model, each summing to that model's spend
    per_model = by(rows, "model")
    assert len(per_model) >= 5
    series = page.locator("svg.chart g.series")
    assert series.count() == len(per_model)
    drawn = {series.nth(i).get_attribute("data-model"): int(series.nth(i).get_attribute("data-total"))
             for i in range(series.count())}
    assert drawn == {m: t["cost_micros"] for m, t in per_model.items()}
    for i in range(series.count()):  # the bars themselves add up to the series total
        bars = series.nth(i).locator("rect")
        assert sum(int(bars.nth(j).get_attribute("data-value")) for j in range(bars.count())) == \
            drawn[series.nth(i).get_attribute("data-model")]
    legend = page.locator("ul.legend li.legend-item")
    assert sorted(legend.nth(i).get_attribute("data-model") for i in range(legend.count())) == sorted(per_model)
    assert page.locator("svg.chart").bounding_box()["height"] > 100  # rendered, not collapsed

    # savings by policy: the rows add up to the total; context_dedupe's tokens saved match its decisions
    policy_rows = page.locator("#savings-by-policy tbody tr")
    texts = {policy_rows.nth(i).get_attribute("data-policy"): policy_rows.nth(i).locator("td").all_inner_texts()
             for i in range(policy_rows.count())}
    assert "context_dedupe" in texts
    assert sum(int(t[-1].replace("$", "").replace(",", "").replace(".", "")) for t in texts.values()) == \
        want["savings_micros"]
    dedupe_saved = sum(d["tokensBefore"] - d["tokensAfter"] for r in rows for d in r["decisions"]
                       if d["kind"] == "context_dedupe")
    assert texts["context_dedupe"][3] == f"{dedupe_saved:,}" and dedupe_saved > 0
    assert page.locator("#loopback-banner").is_visible()  # no keys: the console says it is loopback-only

    shot = tmp_path / "console-overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "console-overview.png")

    # a custom range that excludes the traffic shows nothing
    page.goto(f"{filled.gw.url}/console/?range=custom&from=2020-01-01&to=2020-01-31")
    assert card(page, "requests") == "0" and page.locator("svg.chart g.series").count() == 0


def _table(page) -> list[list[str]]:
    """Rows as [name, requests, spend]: picked by column key, whatever the columns' order."""
    body = page.locator("#group-table tbody tr")
    return [[body.nth(i).locator(f"td[data-key={key}]").inner_text() for key in ("group", "requests", "cost_micros")]
            for i in range(body.count())]


def test_tables_sort_by_clicking_headers_and_export_csv(filled, page):
    rows = records(filled.store_url)
    teams = by(rows, "team")
    page.goto(f"{filled.gw.url}/console/tables/team?range=7d")
    shown = _table(page)
    # default: spend, biggest first
    assert [r[0] for r in shown] == sorted(teams, key=lambda t: (-teams[t]["cost_micros"], t))
    assert {r[0]: r[2] for r in shown} == {t: format_usd(v["cost_micros"]) for t, v in teams.items()}

    page.locator("#group-table th[data-key=requests] a").click()
    assert page.locator("#group-table").get_attribute("data-sort") == "requests"
    counts = [int(r[1].replace(",", "")) for r in _table(page)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    page.locator("#group-table th[data-key=requests] a").click()  # again: ascending
    assert page.locator("#group-table").get_attribute("data-dir") == "asc"
    asc = _table(page)
    assert [int(r[1].replace(",", "")) for r in asc] == sorted(counts)
    page.locator("#group-table th[data-key=group] a").click()
    names = [r[0] for r in _table(page)]
    assert names == sorted(names, reverse=True) or names == sorted(names)
    assert sorted(names) == sorted(teams)

    page.locator("#group-table th[data-key=cost_micros] a").click()
    order = [r[0] for r in _table(page)]
    with page.expect_download() as info:
        page.locator("#csv-link").click()
    download = info.value
    assert download.suggested_filename == "anyray-spend-by-team-7d.csv"
    parsed = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [r["team"] for r in parsed] == order  # the CSV keeps the table's order
    for r in parsed:
        t = teams[r["team"]]
        assert int(r["requests"]) == t["requests"]
        assert int(r["cost_micros"]) == t["cost_micros"]
        assert int(r["savings_micros"]) == t["savings_micros"]
        assert r["cost_usd"] == format_usd(t["cost_micros"]).lstrip("$").replace(",", "")

    # by model: one row per model the store saw, the same set as the chart's series
    page.goto(f"{filled.gw.url}/console/tables/model?range=24h")
    assert sorted(r[0] for r in _table(page)) == sorted({model_of(r) for r in rows})


def test_optimizer_and_health_pages_show_no_secret_and_no_content(filled, page):
    rows = records(filled.store_url)
    page.goto(f"{filled.gw.url}/console/optimizer?range=24h")
    table = page.locator("#optimizer-table tbody tr")
    cells = [table.nth(i).locator("td").all_inner_texts() for i in range(table.count())]
    kinds = {c[1] for c in cells}
    assert kinds == {d["kind"] for r in rows for d in r["decisions"]}
    dedupe = [c for c in cells if c[1] == "context_dedupe"]
    assert sum(int(c[3].replace(",", "")) for c in dedupe) == sum(
        d["kind"] == "context_dedupe" for r in rows for d in r["decisions"])

    page.goto(f"{filled.gw.url}/console/health")
    assert page.locator("#protocol-version").inner_text() == f"v{PROTOCOL_VERSION}"
    for name in ("anthropic", "openai", "vertex"):
        assert page.locator(f'tr[data-check="provider {name}"] .ok').count() == 1
    assert page.locator('tr[data-check="optimizer"] .ok').count() == 1
    assert page.locator('tr[data-check="store"] .ok').count() == 1

    everything = []
    for path in ("/", "/tables/team", "/tables/app", "/tables/model", "/tables/provider", "/optimizer", "/health",
                 "/tables/app.csv"):
        if path.endswith(".csv"):
            everything.append(page.request.get(f"{filled.gw.url}/console{path}").text())
            continue
        page.goto(f"{filled.gw.url}/console{path}?range=30d")
        everything.append(page.content())
    blob = "\n".join(everything)
    assert "indexer" in blob and "claude-code" in blob  # the scan sees the labels
    for needle in (ANTHROPIC_KEY, OPENAI_KEY, CLIENT_KEY, ANTHROPIC_KEY[-12:], OPENAI_KEY[-12:], PROMPT_MARKER,
                   "okapi-lantern", "handler_7", "now fix them"):
        assert needle not in blob, f"{needle[:16]!r} appears in the console"
