"""Real `anthropic` SDK calls through the gateway -> one correct, content-free spend record per request.

Runs against SQLite always and PostgreSQL when a server answers on 127.0.0.1:5432. Fakes: the provider
APIs (anyray.testing.FakeUpstream). The store is read back with its own URL after the gateway shut down,
which also proves records are flushed at shutdown.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import anthropic
import httpx
import orjson
import pytest

from anyray.pricing import PriceBook
from anyray.store import open_store
from anyray.store.migrations import LATEST
from anyray.store.sqlite import sqlite_path
from tests.conftest import ANTHROPIC_KEY, CLIENT_KEY, vertex_and_anthropic_config
from tests.spend.conftest import wait_written

PROMPT_MARKER = "zebra-quartz-7781 what is the tallest mountain"
SYSTEM_MARKER = "walrus-ledger-5523"
SESSION = "5f1c2f9e-1111-4c3b-9a53-0123456789ab"
CLAUDE_CODE_USER_ID = f"user_{'ab' * 32}_account__session_{SESSION}"
# long enough (>1024 estimated tokens) for the fake's prompt cache to write, then read, the system prompt
SYSTEM = [{"type": "text", "text": f"{SYSTEM_MARKER} " * 900, "cache_control": {"type": "ephemeral"}}]

# published $/MTok (see anyray/data/prices.yaml): input, output, 5m write, read
SONNET_4_5 = (Decimal(3), Decimal(15), Decimal("3.75"), Decimal("0.30"))
HAIKU_4_5 = (Decimal(1), Decimal(5), Decimal("1.25"), Decimal("0.10"))


def hand_cost(usage, rates, uplift=Decimal(1)) -> int:
    inp, out, write, read = rates
    total = (
        usage.input_tokens * inp
        + usage.output_tokens * out
        + (usage.cache_creation_input_tokens or 0) * write
        + (usage.cache_read_input_tokens or 0) * read
    ) * uplift
    return int(total.to_integral_value(rounding="ROUND_HALF_UP"))


def scan_store(url: str) -> bytes:
    """Every byte the store holds: the SQLite file (and WAL), or every row of every table in the schema."""
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
        return b"".join(p.read_bytes() for p in files)
    import psycopg

    out = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
        assert {t[0] for t in tables} >= {"spend_records", "anyray_migrations"}
        for (table,) in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t'):
                out.append(row.encode())
    return b"\n".join(out)


def test_sdk_calls_leave_one_correct_content_free_record_each(fake, sa_key_file, start_gateway, store_url):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=store_url))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    headers = {"x-anyray-metadata": '{"team": "search", "app": "indexer", "user": "ana", "tags": {"env": "ci"}}'}

    # 1. non-streaming, to Vertex (regional location us-east5), attributed by JSON header
    first = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=200,
        messages=[{"role": "user", "content": PROMPT_MARKER}],
        extra_headers=headers,
    )
    assert PROMPT_MARKER in first.content[0].text  # the fake echoes: the answer carries the prompt text

    # 2 and 3. streaming, to the Anthropic API, Claude Code style: session in metadata.user_id, cached system
    usages = []
    for _ in range(2):
        with client.messages.stream(
            model="claude-haiku-4-5",
            max_tokens=100,
            system=SYSTEM,
            metadata={"user_id": CLAUDE_CODE_USER_ID},
            messages=[{"role": "user", "content": PROMPT_MARKER}],
            extra_headers={"x-anyray-metadata": "team=infra;app=claude-code"},
        ) as stream:
            text = "".join(stream.text_stream)
            usages.append(stream.get_final_message().usage)
        assert PROMPT_MARKER in text
    assert usages[0].cache_creation_input_tokens > 1000 and usages[1].cache_read_input_tokens > 1000

    wait_written(gw, 3)
    gw.server.stop()  # lifespan shutdown closes the store

    store = open_store(store_url)
    try:
        records = store.fetch()
        assert store.schema_version() == LATEST
    finally:
        store.close()
    assert len(records) == 3
    assert len({r["request_id"] for r in records}) == 3

    vertex = next(r for r in records if r["provider"] == "vertex")
    assert (vertex["team"], vertex["app"], vertex["user_name"]) == ("search", "indexer", "ana")
    assert vertex["tags"] == {"env": "ci"}
    assert (vertex["dialect"], vertex["endpoint"]) == ("anthropic", "/v1/messages")
    assert (vertex["model_asked"], vertex["model_used"]) == ("claude-sonnet-4-5", "claude-sonnet-4-5@20250929")
    assert (vertex["input_tokens"], vertex["output_tokens"]) == (first.usage.input_tokens, first.usage.output_tokens)
    assert vertex["cost_micros"] == hand_cost(first.usage, SONNET_4_5, Decimal("1.1")) > 0  # us-east5: +10%
    assert vertex["status"] == 200 and not vertex["streamed"] and not vertex["partial"]
    assert not vertex["fail_open"] and not vertex["cache_hit"]
    assert 0 < vertex["ttfb_ms"] <= vertex["latency_ms"] < 10_000

    streamed = [r for r in records if r["provider"] == "anthropic"]
    assert len(streamed) == 2
    for record, usage in zip(streamed, usages, strict=True):
        assert (record["team"], record["app"], record["user_name"]) == ("infra", "claude-code", None)
        assert record["tags"] == {"session": SESSION}
        assert record["model_used"] == "claude-haiku-4-5-20251001"
        assert record["streamed"] and record["status"] == 200 and not record["partial"]
        assert record["input_tokens"] == usage.input_tokens
        assert record["output_tokens"] == usage.output_tokens
        assert record["cache_write_tokens"] == (usage.cache_creation_input_tokens or 0)
        assert record["cache_read_tokens"] == (usage.cache_read_input_tokens or 0)
        assert record["cost_micros"] == hand_cost(usage, HAIKU_4_5)
    assert streamed[0]["ts_ms"] <= streamed[1]["ts_ms"]

    # no content, no credentials, anywhere in the store
    everything = scan_store(store_url)
    assert b"claude-haiku-4-5-20251001" in everything  # the scan does see the data
    secrets = [ANTHROPIC_KEY, CLIENT_KEY, *(t.token for t in fake.tokens_issued)]
    assert fake.tokens_issued
    content = [PROMPT_MARKER, "zebra-quartz", SYSTEM_MARKER, first.content[0].text[:30], "Hello from fake"]
    for needle in content + secrets:
        assert needle.encode() not in everything, f"{needle[:20]!r}... found in the spend store"


def test_the_metadata_header_is_not_sent_upstream(fake, sa_key_file, start_gateway, sqlite_url):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-anyray-metadata": "team=t1"},
    )
    seen = fake.received[-1]
    assert "x-anyray-metadata" not in {k.lower() for k in seen.headers}
    assert "t1" not in orjson.dumps(seen.body).decode()


def test_sqlite_store_runs_in_wal_mode_and_migrates_once(sqlite_url):
    from anyray.store.sqlite import SQLiteStore

    first = SQLiteStore(sqlite_url)
    try:
        assert first.migrate() == list(range(1, LATEST + 1))
        assert first.journal_mode() == "wal"
    finally:
        first.close()
    second = SQLiteStore(sqlite_url)
    try:
        assert second.migrate() == []  # already applied: the versioned table remembers
        assert second.schema_version() == LATEST
    finally:
        second.close()


@pytest.mark.parametrize("n_replicas", [3])
def test_replicas_starting_together_migrate_once(pg_url, n_replicas):
    """Several gateways on one PostgreSQL: the advisory lock lets exactly one apply each migration."""
    import threading

    from anyray.store.postgres import PostgresStore

    stores = [PostgresStore(pg_url) for _ in range(n_replicas)]
    results: list[list[int]] = []
    barrier = threading.Barrier(n_replicas)

    def migrate(store):
        barrier.wait()
        results.append(store.migrate())

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in stores:
        s.close()
    assert sorted(results) == [[], [], list(range(1, LATEST + 1))]


def test_a_one_hour_cache_write_is_priced_at_the_1h_rate(fake, sa_key_file, start_gateway, sqlite_url):
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    system = [{"type": "text", "text": "otter-manual " * 1200, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    message = client.messages.create(
        model="claude-haiku-4-5", max_tokens=20, system=system, messages=[{"role": "user", "content": "hi"}]
    )
    one_hour = message.usage.cache_creation.ephemeral_1h_input_tokens
    assert one_hour == message.usage.cache_creation_input_tokens > 1024
    wait_written(gw, 1)
    [record] = gw.gateway.spend.writer.store.fetch()
    assert record["cache_write_1h_tokens"] == record["cache_write_tokens"] == one_hour
    # Haiku 4.5 on the Anthropic API: $1 input, $5 output, $2 per MTok for 1h cache writes
    u = message.usage
    assert record["cost_micros"] == u.input_tokens * 1 + u.output_tokens * 5 + one_hour * 2


def test_a_bad_store_url_is_a_config_error(tmp_path):
    from anyray.config import ConfigError, load_config

    path = tmp_path / "anyray.yaml"
    path.write_text("store:\n  url: mysql://x\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "store.url (line 2)" in str(info.value)
    assert "sqlite:///" in str(info.value)


@pytest.mark.parametrize("size", [1, 31, 32, 150, 777])
def test_a_batch_of_any_size_is_written_whole_and_a_repeated_id_once(store_url, size):
    """SQLite writes batches as multi-row INSERTs of a few fixed shapes; PostgreSQL with executemany."""
    from anyray.store.records import SpendRecord

    def record(i: int) -> SpendRecord:
        return SpendRecord(ts_ms=1_700_000_000_000 + i, request_id=f"{i:032x}", dialect="anthropic",
                           endpoint="/v1/messages", model_asked="claude-haiku-4-5", status=200, team=f"t{i % 3}",
                           input_tokens=i, tags={"n": str(i)})

    store = open_store(store_url)
    try:
        store.migrate()
        batch = [record(i) for i in range(size)]
        store.insert(batch)
        store.insert([*batch[: size // 2 + 1], record(size)])  # a replay, plus one new record
        rows = store.fetch(limit=10_000)
        assert [r["request_id"] for r in rows] == [f"{i:032x}" for i in range(size + 1)]
        assert [r["input_tokens"] for r in rows] == list(range(size + 1))
        assert rows[-1]["tags"] == {"n": str(size)} and rows[size // 2]["team"] == f"t{(size // 2) % 3}"
    finally:
        store.close()


def test_claude_codes_default_model_is_priced_and_a_newer_one_is_an_estimate_that_says_so(
    fake, sa_key_file, start_gateway, sqlite_url
):
    """claude-opus-4-8 (Claude Code's default) is priced as itself (genai-prices' data); a model newer than
    every price source costs what its family's nearest version costs, and the record says which price it
    borrowed; `anyray spend` counts it apart."""
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    answers = [client.messages.create(model=model, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
               for model in ("claude-opus-4-8", "claude-opus-9-1")]
    wait_written(gw, 2)
    records = {r["model_used"]: r for r in gw.gateway.spend.writer.store.fetch()}
    newest = max((m for p, m in PriceBook.load().models() if p == "vertex" and m.startswith("claude-opus-")),
                 key=lambda m: tuple(int(n) for n in m.removeprefix("claude-opus-").split("-")))
    assert (records["claude-opus-4-8"]["provider"], records["claude-opus-4-8"]["priced_as"]) == ("vertex", None)
    assert records["claude-opus-9-1"]["priced_as"] == newest != "claude-opus-4-8"
    u = answers[0].usage  # Opus 4.8 on Vertex us-east5: $5 in, $25 out per MTok, plus the 10 % regional uplift
    cost = Decimal(u.input_tokens * 5 + u.output_tokens * 25) * Decimal("1.1")
    assert records["claude-opus-4-8"]["cost_micros"] == int(cost.to_integral_value(rounding="ROUND_HALF_UP"))
    summary = gw.gateway.spend.writer.store.summarize()[0]
    assert (summary.estimated, summary.unpriced) == (1, 0)


def test_a_cache_hit_records_the_input_and_output_it_saved(fake, sa_key_file, start_gateway, sqlite_url):
    """Served from the response cache, no upstream asked: the record costs nothing and saves what the answer it
    replayed cost (input and output, at the route's model), so the cache's worth shows in `anyray spend`."""
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url,
                                         optimizer__strategies=[{"kind": "semantic_cache", "enabled": True}])
    gw = start_gateway(config)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 200, "extra_body": {"temperature": 0},
           "messages": [{"role": "user", "content": "What is the capital of Peru?"}]}
    client.messages.create(**ask)
    optimizer = gw.gateway.optimizer.optimizer
    deadline = time.monotonic() + 5
    while optimizer.cache.stats.writes < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert client.messages.with_raw_response.create(**ask).headers["x-anyray-cache"] == "hit"
    wait_written(gw, 2)
    first, hit = sorted(gw.gateway.spend.writer.store.fetch(), key=lambda r: r["cache_hit"])
    assert hit["cache_hit"] and hit["cost_micros"] == 0 and first["cost_micros"] > 0
    assert hit["savings_micros"] == first["cost_micros"]  # the same answer, the same model and region
    summary = gw.gateway.spend.writer.store.summarize()[0]
    assert summary.cache_savings_micros == hit["savings_micros"] and summary.cache_hits == 1


def test_a_refused_call_leaves_a_record_of_its_status_and_reason(fake, sa_key_file, start_gateway, sqlite_url):
    """Refused before any provider was asked (an unknown model, a body that is not JSON): nothing was spent,
    but the caller's team sees its failed calls, and the spend errors count them."""
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, store__url=sqlite_url))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0,
                                 default_headers={"x-anyray-metadata": "team=search"})
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    # the SDK cannot send a body that is not JSON: a raw client does
    broken = httpx.post(f"{gw.url}/v1/messages", content=b'{"model": ', headers={"x-api-key": CLIENT_KEY})
    assert broken.status_code == 400
    wait_written(gw, 2)
    records = sorted(gw.gateway.spend.writer.store.fetch(), key=lambda r: r["status"])
    assert [(r["status"], r["decisions"]) for r in records] == [
        (400, [{"kind": "refused", "reason": "invalid_json"}]), (404, [{"kind": "refused", "reason": "unknown_model"}])]
    unknown = records[1]
    assert (unknown["model_asked"], unknown["team"], unknown["provider"]) == ("no-such-model", "search", None)
    assert unknown["input_tokens"] == unknown["output_tokens"] == unknown["cost_micros"] == 0
    assert gw.gateway.spend.writer.store.summarize()[0].errors == 2
