"""The console's drill-down (team -> its apps -> an app's models) and its user and session tables, over HTTP
on a gateway whose store the real SDKs filled; every number is checked against the stored records."""

from __future__ import annotations

import html
import re
from collections import Counter

import httpx

from anyray.store import open_store
from tests.console.store_sums import model_of

DRILL = re.compile(r'<a class="drill" href="([^"]+)">([^<]+)</a>')
ROW = re.compile(r'<tr><td data-key="group">(?:<a [^>]+>)?([^<]+)(?:</a>)?</td>'
                 r'.*?<td data-key="requests">([\d,]+)</td>')


def _rows(page: str) -> dict[str, int]:
    return {html.unescape(name): int(n.replace(",", "")) for name, n in ROW.findall(page)}


def test_team_to_app_to_model_drill_down_and_user_and_session_tables(filled):
    store = open_store(filled.store_url)
    try:
        records = store.fetch()
    finally:
        store.close()
    with httpx.Client(base_url=filled.gw.url, timeout=30) as client:
        teams = client.get("/console/tables/team?range=24h")
        assert teams.status_code == 200
        assert _rows(teams.text) == Counter(r["team"] or "(none)" for r in records)
        links = {name: html.unescape(href) for href, name in DRILL.findall(teams.text)}
        assert set(links) == {r["team"] for r in records if r["team"]}

        apps = client.get(links["search"])
        assert "/tables/app?" in links["search"] and 'data-key="team">team <b>search</b>' in apps.text
        in_team = [r for r in records if r["team"] == "search"]
        assert _rows(apps.text) == Counter(r["app"] for r in in_team) and len(_rows(apps.text)) >= 2
        app_links = {name: html.unescape(href) for href, name in DRILL.findall(apps.text)}

        models = client.get(app_links["indexer"])
        in_app = [r for r in in_team if r["app"] == "indexer"]
        assert _rows(models.text) == Counter(model_of(r) for r in in_app)  # dated ids folded
        assert not DRILL.findall(models.text)  # a model is the last level
        # the other ranges keep the filters; removing one keeps the rest
        week = re.search(r'<a href="(\?range=7d[^"]*)"', models.text)
        assert week and "team=search&amp;app=indexer" in week.group(1)
        unfiltered = re.search(r'data-key="team">team <b>search</b> <a href="([^"]+)"', models.text)
        assert unfiltered and "team=" not in unfiltered.group(1) and "app=indexer" in unfiltered.group(1)

        overview = client.get("/console/?range=24h&team=search")
        card = re.search(r'id="card-requests"><div class="label">requests</div><div class="value">([\d,]+)<',
                         overview.text)
        assert card and int(card.group(1).replace(",", "")) == len(in_team)
        csv_lines = client.get("/console/tables/app.csv?range=24h&team=search").text.splitlines()[1:]
        assert sorted(line.split(",")[0] for line in csv_lines) == sorted(Counter(r["app"] for r in in_team))

        users = client.get("/console/tables/user?range=24h")
        assert _rows(users.text) == Counter(r["user_name"] or "(none)" for r in records)
        sessions = client.get("/console/tables/session?range=24h")
        assert sum(_rows(sessions.text).values()) == len(records)
        assert client.get("/console/tables/tag:x?range=24h").status_code == 404
