"""`anyray doctor` on the limits config: what the config refuses, and what only the store can tell."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from anyray.cli import app
from tests.doctor.test_doctor import by_check, doctor, write
from tests.limits.conftest import create_key

NOWHERE = ("--gateway", "http://127.0.0.1:9")


def test_doctor_names_a_soft_limit_above_the_hard_one(tmp_path: Path):
    path = write(tmp_path, {"budgets": {"teams": {"search": {"limit_usd": 10, "soft_usd": 20}}}})
    code, report, _ = doctor("--config", path, *NOWHERE)
    check = by_check(report)["config"]
    assert code != 0 and check["status"] == "fail"
    assert "budgets.teams.search" in check["found"] and "soft_usd (20.0) is above limit_usd (10.0)" in check["found"]


def test_doctor_checks_limit_keys_against_the_store_and_rate_limits_against_the_replicas(tmp_path: Path, pg_url):
    store = pg_url  # a shared PostgreSQL store: several replicas serve
    live, gone = create_key(store, "search"), create_key(store, "search")
    assert CliRunner().invoke(app, ["keys", "revoke", gone["id"], "--store", store]).exit_code == 0
    config = {"store": {"url": store}, "deploy": {"replicas": 3},
              "budgets": {"teams": {"search": {"limit_usd": 100, "soft_usd": 80}},
                          "keys": {live["id"]: {"limit_usd": 5}, gone["id"]: {"limit_usd": 5}}},
              "rate_limits": {"keys": {"key_000000000000": {"rpm": 60}}}}
    _, report, _ = doctor("--config", write(tmp_path, config), *NOWHERE)
    checks = by_check(report)
    assert checks["budgets"]["status"] == "ok" and "1 team and 2 key budget(s)" in checks["budgets"]["found"]
    keys = checks["limit keys"]
    assert keys["status"] == "warn" and "no such key: key_000000000000" in keys["found"]
    assert f"revoked or expired: {gone['id']}" in keys["found"] and live["id"] not in keys["found"]
    rates = checks["rate limits"]
    assert rates["status"] == "warn" and "with 3 replicas" in rates["found"] and "redis_url" in rates["fix"]

    config["store"]["url"] = f"sqlite:///{tmp_path / 'spend.db'}"  # a laptop's store: one gateway counts
    _, report, _ = doctor("--config", write(tmp_path, config), *NOWHERE)
    rates = by_check(report)["rate limits"]
    assert rates["status"] == "ok" and "counted in this gateway" in rates["found"]

    config["rate_limits"]["redis_url"] = "redis://127.0.0.1:6379/0"
    config["budgets"]["keys"].pop(gone["id"])
    config["rate_limits"]["keys"] = {live["id"]: {"rpm": 60}}
    del config["store"]
    _, report, _ = doctor("--config", write(tmp_path, config), *NOWHERE)
    checks = by_check(report)
    assert checks["rate limits"]["status"] == "ok" and "Redis" in checks["rate limits"]["found"]
    assert checks["budgets"]["status"] == "warn" and "no store.url" in checks["budgets"]["found"]
