"""Store faults: PostgreSQL really stopped and restarted under a running gateway; nothing is lost.

A throwaway PostgreSQL cluster (initdb in a tmp dir, see pgcluster.py) is the spend store; the test
stops it with `pg_ctl stop` between requests sent by the real `anthropic` SDK through a real gateway on
loopback (providers: anyray.testing.FakeUpstream). Every request must be answered while the store is
down, and afterwards the store must hold every record: the count, the ids and the token sums match
what the clients were told. Unit-level tests below pin the spill file's bound (loss counted and
logged) and the replay of a spill left by a previous process.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import anthropic
import httpx
import pytest

from anyray.store import SpendRecord, SpendWriter, open_store
from anyray.store.sqlite import SQLiteStore
from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config
from tests.reliability.pgcluster import PgCluster

PROMPT = "store-fault-prompt-orca-5521 count to three"


@pytest.fixture
def pg():
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def _ask(client: anthropic.Anthropic, i: int) -> tuple[int, int]:
    """One call, streamed every third time; returns the usage the client saw."""
    model = "claude-haiku-4-5" if i % 2 else "claude-sonnet-4-5"
    messages = [{"role": "user", "content": f"{PROMPT} #{i}"}]
    if i % 3 == 0:
        with client.messages.stream(model=model, max_tokens=50, messages=messages) as stream:
            text = "".join(stream.text_stream)
            usage = stream.get_final_message().usage
    else:
        answer = client.messages.create(model=model, max_tokens=50, messages=messages)
        text, usage = answer.content[0].text, answer.usage
    assert PROMPT in text
    return usage.input_tokens, usage.output_tokens


def _wait(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _totals(url: str) -> tuple[int, int, int, int]:
    store = open_store(url)
    try:
        rows = store.fetch()
    finally:
        store.close()
    return (
        len(rows),
        len({r["request_id"] for r in rows}),
        sum(r["input_tokens"] for r in rows),
        sum(r["output_tokens"] for r in rows),
    )


def _config(fake, sa_key_file, url: str, spill: Path):
    return vertex_and_anthropic_config(
        fake, sa_key_file, store__url=url, store__spill_dir=str(spill), store__retry_max_s=0.5
    )


def test_postgres_stopped_and_restarted_during_a_run_loses_nothing(fake, sa_key_file, start_gateway, pg, tmp_path):
    gw = start_gateway(_config(fake, sa_key_file, pg.url, tmp_path / "spill"))
    writer = gw.gateway.spend.writer
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def run(first: int, n: int) -> None:
        try:
            for i in range(first, first + n):
                seen.append(_ask(client, i))
        except BaseException as exc:
            errors.append(exc)

    run(0, 8)
    _wait(lambda: writer.written == 8, "the first records")

    # stopped while a second client keeps sending: nothing it sends may fail
    sender = threading.Thread(target=run, args=(100, 12))
    pg.stop()
    sender.start()
    run(200, 12)
    sender.join(60)
    assert not errors, errors
    _wait(lambda: writer.store_down, "the writer to notice the store is down")
    assert writer.written < 32 and writer.backlog > 0

    pg.start()
    run(300, 8)
    assert not errors, errors
    _wait(lambda: writer.backlog == 0 and writer.written >= 40, "the kept records to be written")
    assert writer.lost == 0 and writer.failures >= 1
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert "anyray_spend_records_lost_total 0.0" in metrics and "anyray_spend_records_backlog 0.0" in metrics

    gw.server.stop()
    count, unique, inputs, outputs = _totals(pg.url)
    assert len(seen) == 40
    assert (count, unique) == (40, 40)
    assert (inputs, outputs) == (sum(u[0] for u in seen), sum(u[1] for u in seen))


def test_gateway_stopped_while_postgres_is_down_spills_and_the_next_start_replays(
    fake, sa_key_file, start_gateway, pg, tmp_path
):
    spill = tmp_path / "spill"
    gw = start_gateway(_config(fake, sa_key_file, pg.url, spill))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    seen = [_ask(client, i) for i in range(3)]
    pg.stop()
    seen += [_ask(client, i) for i in range(3, 10)]
    gw.server.stop(timeout=30)  # shutdown: the store is down, so the buffer goes to the spill file
    files = list(spill.glob("spend-spill-*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert PROMPT.encode() not in files[0].read_bytes()  # records are content-free, on disk too

    pg.start()
    gw2 = start_gateway(_config(fake, sa_key_file, pg.url, spill))
    client2 = anthropic.Anthropic(base_url=gw2.url, api_key=CLIENT_KEY, max_retries=0)
    seen.append(_ask(client2, 10))
    writer = gw2.gateway.spend.writer
    _wait(lambda: writer.backlog == 0 and writer.written >= 1 + writer.replayed and writer.replayed > 0, "replay")
    gw2.server.stop()
    assert not list(spill.glob("spend-spill-*.jsonl"))  # replayed, then deleted
    count, unique, inputs, outputs = _totals(pg.url)
    assert (count, unique) == (11, 11)
    assert (inputs, outputs) == (sum(u[0] for u in seen), sum(u[1] for u in seen))


def test_a_gateway_started_while_postgres_is_down_serves_and_writes_once_it_answers(
    fake, sa_key_file, start_gateway, pg, tmp_path
):
    """Without gateway keys (auth.required: false) a store outage at start costs no request."""
    pg.stop()  # a fresh cluster: not even the migrations are applied yet
    config = _config(fake, sa_key_file, pg.url, tmp_path / "spill") | {"auth": {"required": False}}
    gw = start_gateway(config)
    writer = gw.gateway.spend.writer
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    seen = [_ask(client, i) for i in range(6)]
    assert writer.store_down and writer.written == 0

    pg.start()
    seen += [_ask(client, i) for i in range(6, 9)]
    _wait(lambda: writer.backlog == 0 and writer.written == 9, "the kept records to be written")
    gw.server.stop()
    count, unique, inputs, outputs = _totals(pg.url)
    assert (count, unique) == (9, 9)
    assert (inputs, outputs) == (sum(u[0] for u in seen), sum(u[1] for u in seen))


def test_keys_that_cannot_be_read_at_start_fail_closed_until_the_store_answers(
    fake, sa_key_file, start_gateway, pg, tmp_path
):
    """auth.required unset: whether keys exist is unknown while the store is down, so nobody gets in."""
    pg.stop()
    config = _config(fake, sa_key_file, pg.url, tmp_path / "spill") | {"auth": {"refresh_s": 0.2}}
    gw = start_gateway(config)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as refused:
        _ask(client, 0)
    assert refused.value.status_code == 503 and refused.value.body["type"] == "error"
    assert not [r for r in fake.received if "/messages" in r.path or "Predict" in r.path]

    pg.start()
    _wait(lambda: gw.gateway.keys.ready, "the keys to be read")
    seen = [_ask(client, i) for i in range(1, 4)]  # no key was ever created: open again
    writer = gw.gateway.spend.writer
    _wait(lambda: writer.backlog == 0 and writer.written >= 3, "the records")
    gw.server.stop()
    count, _unique, inputs, _outputs = _totals(pg.url)
    # the refused call never reached an upstream, so it cost nothing and is not a spend record
    assert count == 3 and inputs == sum(u[0] for u in seen)


# ---------------------------------------------------------------------------- unit level


class FlakyStore(SQLiteStore):
    """A SQLite store that can be switched off: insert raises while `down` is set."""

    down = False
    insert_s = 0.0  # how long an insert takes (a busy database): the replay after an outage takes that long per batch

    def insert(self, records):  # type: ignore[no-untyped-def]
        if self.down:
            raise ConnectionError("store is down (test)")
        time.sleep(self.insert_s)
        super().insert(records)


def _record(i: int) -> SpendRecord:
    return SpendRecord(
        ts_ms=1_000 + i, request_id=f"req-{i}", dialect="anthropic", endpoint="/v1/messages",
        model_asked="claude-haiku-4-5", status=200, input_tokens=i, output_tokens=2 * i,
    )  # fmt: skip


def _writer(url: str, spill: Path, **kw) -> tuple[SpendWriter, FlakyStore]:
    store = FlakyStore(url)
    lost: list[int] = []
    writer = SpendWriter(store, retry_min_s=0.01, retry_max_s=0.05, spill_dir=spill, on_lost=lost.append, **kw)
    writer.lost_calls = lost  # type: ignore[attr-defined]
    writer.start()
    return writer, store


def test_past_the_spill_bound_the_loss_is_counted_and_logged(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'spend.db'}"
    line = len(__import__("anyray.store.spill", fromlist=["encode"]).encode(_record(10)))
    writer, store = _writer(url, tmp_path / "spill", max_queue=100, max_pending=5, spill_max_bytes=line * 10)
    store.down = True
    with caplog.at_level(logging.WARNING, logger="anyray.store"):
        for i in range(10, 40):  # 30 records: 5 in memory, 10 in the spill, 15 lost
            assert writer.submit(_record(i))
            writer.flush()
        assert writer.flush()
    assert writer.spilled == 10 and writer.lost == 15 and sum(writer.lost_calls) == 15
    assert writer.backlog == 15
    assert any("spend records lost" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)

    store.down = False  # back: memory and spill are written, the lost stay lost (and counted)
    _wait(lambda: writer.backlog == 0, "the backlog to drain")
    writer.close()
    assert writer.written == 15 and writer.replayed == 10
    check = open_store(url)
    try:
        assert len(check.fetch()) == 15
    finally:
        check.close()


def test_a_spill_left_by_a_previous_process_is_replayed_once_at_start(tmp_path):
    url, spill = f"sqlite:///{tmp_path / 'spend.db'}", tmp_path / "spill"
    first, store = _writer(url, spill, max_pending=0)
    first.submit(_record(1))
    assert first.flush()
    store.down = True
    for i in range(2, 12):
        first.submit(_record(i))
    assert first.flush()
    first.close()  # the store is down at shutdown: everything left goes to the spill
    left = list(spill.glob("spend-spill-*.jsonl"))
    assert len(left) == 1
    # a record the store already has, spilled again (a commit whose acknowledgement was lost): still once
    left[0].write_bytes(left[0].read_bytes() + __import__("anyray.store.spill", fromlist=["x"]).encode(_record(1)))

    second, _ = _writer(url, spill)
    assert second.flush()
    second.close()
    assert second.replayed == 11 and second.lost == 0
    assert not list(spill.glob("spend-spill-*.jsonl"))
    check = open_store(url)
    try:
        rows = check.fetch()
    finally:
        check.close()
    assert sorted(r["request_id"] for r in rows) == sorted(f"req-{i}" for i in range(1, 12))
    assert sum(r["input_tokens"] for r in rows) == sum(range(1, 12))


def test_live_records_are_not_lost_while_a_long_spill_is_replayed(tmp_path):
    """The soak's PostgreSQL outage, small: 46,779 records kept through it were replayed in one go after it,
    and live traffic filled the queue meanwhile (699 lost). Here: 1,000 records spilled, a store that takes
    20 ms a batch (50 batches, 1 s of replay), and records arriving at 200/s into a queue of 50 throughout.
    Replayed in one go, ~150 would be lost; the replay now yields to the queue after every batch."""
    url = f"sqlite:///{tmp_path / 'spend.db'}"
    writer, store = _writer(url, tmp_path / "spill", max_queue=50, max_pending=0, max_batch=20, linger_s=0)
    store.down = True
    for i in range(1_000):
        assert writer.submit(_record(i))
        if i % 40 == 39:
            assert writer.flush()
    assert writer.flush()
    assert writer.spilled == 1_000 and writer.lost == 0

    store.insert_s = 0.02
    store.down = False
    live = range(1_000, 1_300)
    for i in live:  # 1.5 s of traffic at 200 records/s, while the spill is replayed
        writer.submit(_record(i))
        time.sleep(0.005)
    _wait(lambda: writer.backlog == 0, "the spill and the live records to be written")
    writer.close()
    assert writer.lost == 0 and writer.dropped == 0 and sum(writer.lost_calls) == 0
    assert writer.replayed >= 1_000  # and any live record that came while the store was still taken for down
    check = open_store(url)
    try:
        assert len(check.fetch()) == 1_300
    finally:
        check.close()
