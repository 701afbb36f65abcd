"""The console's overview shows each budget's use this period with a bar: spent, limit, the share used, and
whether it is past its soft limit or refusing. A real gateway on a SQLite store whose records were written
through the store (seed_spend), read by the ledger the gateway refuses from."""

from __future__ import annotations

import re

import httpx

from tests.conftest import vertex_and_anthropic_config
from tests.limits.conftest import seed_spend, wait_for


def row(html: str, budget: str) -> str:
    found = re.search(rf'<tr data-budget="{budget}" class="(budget-\w+)">(.*?)</tr>', html, re.S)
    assert found, html
    return found.group(1) + found.group(2)


def test_the_overview_shows_each_budgets_use_with_a_bar(fake, sa_key_file, start_gateway, sqlite_url):
    seed_spend(sqlite_url, 6_000_000, team="search")  # $6 of $10, soft at $5
    seed_spend(sqlite_url, 2_500_000, team="billing")  # $2.50 of $2: refusing
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url, optimizer__enabled=False,
                                         budgets__refresh_s=0.1, budgets__teams={
                                             "search": {"limit_usd": 10, "soft_usd": 5},
                                             "billing": {"limit_usd": 2, "period": "week"},
                                             "infra": {"limit_usd": 100}})
    gw = start_gateway(config)
    wait_for(lambda: gw.gateway.budgets.check("search", None) is not None)
    html = httpx.get(f"{gw.url}/console/").text
    search = row(html, "team:search")
    assert search.startswith("budget-warn") and "$6.000000" in search and "$10.000000" in search
    assert 'aria-valuenow="60.0"' in search and "width: 60.0%" in search and "past its soft limit" in search
    billing = row(html, "team:billing")
    assert billing.startswith("budget-over") and "week" in billing and "refusing" in billing
    assert "width: 100%" in billing and 'aria-valuenow="125.0"' in billing  # the bar stops at its end
    infra = row(html, "team:infra")
    assert infra.startswith("budget-ok") and 'aria-valuenow="0.0"' in infra


def test_no_budget_no_section(fake, sa_key_file, start_gateway, sqlite_url):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url))
    html = httpx.get(f"{gw.url}/console/").text
    assert "Overview" in html and 'id="budgets"' not in html
