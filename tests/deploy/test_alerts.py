"""The alerting rules rendered with the GKE manifests read only what a gateway exports: every metric an
expression names is in a live gateway's /metrics (real SDK call, the fake Vertex upstream, a budget set so
its gauge exists), so a renamed metric cannot leave a rule that silently never fires."""

from __future__ import annotations

import re

import anthropic
import httpx
import yaml

from anyray.config import Config
from anyray.deploy.render import ALERT_RULES, PROMETHEUS_RULE, render
from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config

METRIC = re.compile(r"\banyray_[a-z_]+\b")


def rules() -> list[dict]:
    rendered = render("gke", Config.model_validate({"deploy": {"project": "proj-a"}}))
    plain = yaml.safe_load(rendered.files[ALERT_RULES])
    operator = yaml.safe_load(rendered.files[PROMETHEUS_RULE])
    assert operator["apiVersion"] == "monitoring.coreos.com/v1" and operator["spec"] == plain
    return plain["groups"][0]["rules"]


def test_the_rules_cover_budgets_fail_open_upstream_errors_and_the_spend_backlog():
    found = {r["alert"]: r for r in rules()}
    assert {"AnyrayBudgetNearLimit", "AnyrayBudgetExhausted", "AnyrayOptimizerFailingOpen", "AnyrayOptimizerSlow",
            "AnyrayUpstreamErrors", "AnyraySpendBacklog", "AnyraySpendRecordsLost"} == set(found)
    for rule in found.values():
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]


def test_every_metric_a_rule_reads_is_exported_by_a_gateway(fake, sa_key_file, start_gateway, tmp_path):
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=f"sqlite:///{tmp_path / 'spend.db'}",
                                         budgets__teams={"search": {"limit_usd": 10}})
    gw = start_gateway(config)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    client.messages.create(model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}],
                           extra_headers={"x-anyray-metadata": '{"team": "search"}'})
    exposition = httpx.get(f"{gw.url}/metrics").text
    exported = {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line.startswith("anyray_")}
    for line in exposition.splitlines():  # a labelled family with no sample yet (no fail-open so far) is declared
        if line.startswith("# TYPE anyray_"):
            _, _, name, kind = line.split()
            exported |= {name, f"{name}_total"} if kind == "counter" else {name}
    named = {m for rule in rules() for m in METRIC.findall(rule["expr"])}
    assert named and named <= exported, named - exported
