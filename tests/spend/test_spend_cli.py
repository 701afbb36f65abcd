"""`anyray spend` over a seeded store: the table and --json agree with totals worked out by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from typer.testing import CliRunner

from anyray.cli import app
from anyray.store import SpendRecord, SpendWriter, open_store

HOUR_MS = 3_600_000


def seed(url: str, now_ms: int) -> list[SpendRecord]:
    def rec(**kw) -> SpendRecord:
        base = dict(request_id=f"r{len(kw)}{kw['ts_ms']}", dialect="anthropic", endpoint="/v1/messages", status=200)
        return SpendRecord(**{**base, **kw})

    records = [
        rec(ts_ms=now_ms - 1 * HOUR_MS, team="search", app="idx", provider="vertex", model_asked="claude-sonnet-4-5",
            model_used="claude-sonnet-4-5@20250929", input_tokens=1000, output_tokens=500, cache_write_tokens=2000,
            cache_read_tokens=10000, cost_micros=23_100, savings_micros=500, latency_ms=100.0, ttfb_ms=40.0),
        rec(ts_ms=now_ms - 2 * HOUR_MS, team="search", app="idx", provider="anthropic", model_asked="claude-haiku-4-5",
            model_used="claude-haiku-4-5-20251001", input_tokens=1234, output_tokens=567, cost_micros=8_969,
            latency_ms=300.0, cache_hit=True, streamed=True),
        rec(ts_ms=now_ms - 3 * HOUR_MS, team="infra", app="bot", provider="openai", model_asked="gpt-4o",
            model_used="gpt-4o-2024-08-06", input_tokens=976, output_tokens=300, cache_read_tokens=1024,
            cost_micros=6_720, latency_ms=200.0, fail_open=True, dialect="openai", endpoint="/v1/chat/completions"),
        rec(ts_ms=now_ms - HOUR_MS // 2, provider="anthropic", model_asked="claude-new-model", input_tokens=10,
            cost_micros=None, latency_ms=50.0, status=502),
        rec(ts_ms=now_ms - 72 * HOUR_MS, team="infra", app="bot", provider="anthropic", model_asked="claude-opus-4-1",
            model_used="claude-opus-4-1-20250805", input_tokens=10_000, cost_micros=1_000_000, latency_ms=1000.0),
    ]  # fmt: skip
    writer = SpendWriter(open_store(url))
    writer.start()
    for r in records:
        assert writer.submit(r)
    writer.close()  # flushes
    return records


def run_json(url: str, *args: str) -> dict:
    result = CliRunner().invoke(app, ["spend", "--store", url, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_spend_json_by_team_since_24h(store_url):
    seed(store_url, int(time.time() * 1000))
    doc = run_json(store_url, "--since", "24h", "--by", "team")
    groups = {g["group"]: g for g in doc["groups"]}
    assert set(groups) == {"search", "infra", None}  # the 3-day-old record is outside the window
    search, infra, none = groups["search"], groups["infra"], groups[None]
    assert search["requests"] == 2
    assert search["cost_micros"] == 23_100 + 8_969 == 32_069
    assert search["cost_usd"] == "0.032069"
    assert search["savings_micros"] == 500
    assert search["input_tokens"] == 2234 and search["output_tokens"] == 1067
    assert search["cache_hit_rate"] == 0.5
    assert (search["p50_ms"], search["p95_ms"]) == (100.0, 300.0)  # nearest rank of [100, 300]
    assert infra["fail_open"] == 1 and infra["cost_micros"] == 6_720
    assert infra["cached_input_ratio"] == round(1024 / (976 + 1024), 4)
    assert none["unpriced_requests"] == 1 and none["errors"] == 1 and none["cost_micros"] == 0
    assert [g["group"] for g in doc["groups"]] == ["search", "infra", None]  # most expensive first
    total = doc["total"]
    assert total["requests"] == 4 and total["cost_micros"] == 38_789 and total["cost_usd"] == "0.038789"
    assert (total["p50_ms"], total["p95_ms"]) == (100.0, 300.0)  # nearest rank of [50, 100, 200, 300]


def test_spend_json_all_time_by_model_and_day(store_url):
    now_ms = int(time.time() * 1000)
    records = seed(store_url, now_ms)
    doc = run_json(store_url, "--since", "all", "--by", "model")
    assert doc["total"]["requests"] == 5 and doc["total"]["cost_micros"] == 1_038_789
    by_model = {g["group"]: g["cost_micros"] for g in doc["groups"]}
    assert by_model["claude-opus-4-1-20250805"] == 1_000_000
    assert by_model["claude-new-model"] == 0  # no model_used: grouped under what was asked
    days = run_json(store_url, "--since", "all", "--by", "day")
    expected: dict[str, int] = {}
    for r in records:
        day = datetime.fromtimestamp(r.ts_ms / 1000, UTC).strftime("%Y-%m-%d")
        expected[day] = expected.get(day, 0) + 1
    assert {g["group"]: g["requests"] for g in days["groups"]} == expected


def test_spend_table_through_the_real_command(store_url):
    seed(store_url, int(time.time() * 1000))
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "anyray", "spend", "--store", store_url, "--since", "24h", "--by", "team"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.strip() and line.split()[0] in ("search", "infra", "total")
    }
    assert "$0.032069" in lines["search"] and "50.0%" in lines["search"]
    assert "$0.006720" in lines["infra"]
    assert "$0.038789" in lines["total"]
    assert "$1.000000" not in out  # outside --since 24h
    assert "1 request(s) used a model with no price" in out


def test_spend_errors_are_clear(tmp_path):
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    result = CliRunner().invoke(app, ["spend", "--store", missing])
    assert result.exit_code == 1
    assert "no spend store at" in result.output
    assert not (tmp_path / "none.db").exists()  # reading never creates a store
    result = CliRunner().invoke(app, ["spend", "--store", missing, "--by", "colour"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["spend", "--store", missing, "--since", "yesterday"])
    assert result.exit_code == 2


def test_spend_reads_the_store_from_the_config(tmp_path, sqlite_url):
    seed(sqlite_url, int(time.time() * 1000))
    config = tmp_path / "anyray.yaml"
    config.write_text(f"store:\n  url: {sqlite_url}\n")
    result = CliRunner().invoke(app, ["spend", "--config", str(config), "--json", "--since", "all"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"]["cost_micros"] == 1_038_789


def test_the_writer_drops_when_full_and_flushes_at_close(sqlite_url):
    writer = SpendWriter(open_store(sqlite_url), max_queue=2)

    def record(n: int) -> SpendRecord:
        return SpendRecord(
            ts_ms=1, request_id=f"x{n}", dialect="anthropic", endpoint="/v1/messages", model_asked="m", status=200
        )

    assert writer.submit(record(1)) and writer.submit(record(2))
    assert not writer.submit(record(3))  # the request path never waits on a slow store
    assert writer.dropped == 1 and writer.lost == 1  # counted, never silent
    writer.start()
    writer.close()
    assert writer.written == 2
    store = open_store(sqlite_url)
    try:
        assert len(store.fetch()) == 2
    finally:
        store.close()


def test_spend_table_without_grouping_shows_one_total_row(sqlite_url):
    seed(sqlite_url, int(time.time() * 1000))
    result = CliRunner().invoke(app, ["spend", "--store", sqlite_url, "--since", "all"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert result.output.count("$1.038789") == 1


def test_spend_and_keys_at_80_columns_and_in_a_pipe_cut_no_number_or_id(sqlite_url):
    """A pipe is 80 columns to rich: columns that do not fit are left out whole (and named), never shown as
    `$0...` or a key id the revoke command cannot take."""
    seed(sqlite_url, int(time.time() * 1000))
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    for by in ("team", "model"):
        done = subprocess.run([sys.executable, "-m", "anyray", "spend", "--store", sqlite_url, "--since", "all",
                               "--by", by], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "…" not in done.stdout and max(len(line) for line in done.stdout.splitlines()) <= 80
        assert "$1.038789" in done.stdout and "requests" in done.stdout and "cost" in done.stdout
        assert "left out at 80 columns:" in done.stdout and "fail-open" in done.stdout.split("left out")[1]
        if by == "model":  # the model with no price costs something unknown, not $0
            [unpriced] = [line for line in done.stdout.splitlines() if "claude-new-model" in line]
            assert "unpriced" in unpriced and "$0.000000 │ $" not in unpriced
    made = [json.loads(CliRunner().invoke(app, ["keys", "create", "--team", f"team-with-a-long-name-{i}",
                                                "--name", "the nightly indexer", "--store", sqlite_url,
                                                "--json"]).output)["id"] for i in range(2)]
    listed = subprocess.run([sys.executable, "-m", "anyray", "keys", "list", "--store", sqlite_url],
                            capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert all(key_id in listed.stdout for key_id in made) and "team-with-a-long-name-1" in listed.stdout
    assert "…" not in listed.stdout and max(len(line) for line in listed.stdout.splitlines()) <= 80


def test_spend_by_user_and_by_tag(store_url):
    """Per user and per tag value (a Claude Code session): the records' own numbers; no such tag: None."""
    now_ms = int(time.time() * 1000)
    records = [
        SpendRecord(ts_ms=now_ms - i * 60_000, request_id=f"u{i}", dialect="anthropic", endpoint="/v1/messages",
                    model_asked="claude-haiku-4-5", status=200, user_name=user, tags=tags, cost_micros=cost,
                    input_tokens=10 * cost)
        for i, (user, tags, cost) in enumerate([
            ("ana", {"session": "s-1", "env": "prod"}, 100), ("ana", {"session": "s-2"}, 250),
            ("bo", {"session": "s-1"}, 40), (None, {}, 7), ("bo", {"env": "dev"}, 3)])
    ]
    store = open_store(store_url)
    store.migrate()
    store.insert(records)
    store.close()
    by_user = {g["group"]: (g["requests"], g["cost_micros"]) for g in run_json(store_url, "--by", "user")["groups"]}
    assert by_user == {"ana": (2, 350), "bo": (2, 43), None: (1, 7)}
    doc = run_json(store_url, "--by", "tag:session")
    assert [(g["group"], g["requests"], g["cost_micros"]) for g in doc["groups"]] == [
        ("s-2", 1, 250), ("s-1", 2, 140), (None, 2, 10)]
    env = {g["group"]: g["input_tokens"] for g in run_json(store_url, "--by", "tag:env")["groups"]}
    assert env == {"prod": 1000, "dev": 30, None: 2500 + 400 + 70}
    bad = CliRunner().invoke(app, ["spend", "--store", store_url, "--by", "tag:x'; DROP TABLE spend_records"])
    assert bad.exit_code == 2 and "tag:NAME" in bad.output
