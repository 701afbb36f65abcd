"""Every call leaves a spend record: forwarded paths (embeddings, files, batches, model lists), count_tokens.

Driven by the real `openai` and `anthropic` SDKs through the gateway to the fake upstream; the records
are read back from the store the gateway wrote (SQLite, and PostgreSQL when a server answers).
"""

from __future__ import annotations

import io
from decimal import Decimal

import anthropic
import httpx
import openai

from anyray.store import open_store
from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config
from tests.spend.conftest import wait_written

OPENAI_KEY = "sk-proj-gatewaykey-openai-proxied-0000000000000000000000EEEE"
META = {"x-anyray-metadata": "team=search;app=indexer;user=ana"}


def _config(fake, sa_key_file, store: str) -> dict:
    # a spill directory of its own: the default (~/.anyray/spill for a PostgreSQL store) is shared by every
    # process on the machine, and a gateway replays whatever it finds there into its store
    spill = sa_key_file.parent / "spill"
    config = vertex_and_anthropic_config(fake, sa_key_file, store__url=store, store__spill_dir=str(spill))
    config["providers"]["openai"] = {"base_url": f"{fake.url}/v1", "api_key": OPENAI_KEY}
    config["models"]["gpt-*"] = {"provider": "openai"}
    fake.openai_key = OPENAI_KEY
    return config


def _records(url: str) -> list[dict]:
    store = open_store(url)
    try:
        return store.fetch()
    finally:
        store.close()


def test_forwarded_calls_and_count_tokens_leave_priced_attributed_records(fake, sa_key_file, start_gateway,
                                                                          store_url):
    gw = start_gateway(_config(fake, sa_key_file, store_url))
    oai = openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0, default_headers=META)
    anth = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, default_headers=META)

    embedded = oai.embeddings.create(model="text-embedding-3-small", input=["a walrus ledger", "two okapis"])
    assert embedded.usage.prompt_tokens > 0
    uploaded = oai.files.create(file=("batch.jsonl", io.BytesIO(b'{"custom_id": "1"}\n')), purpose="batch")
    assert uploaded.id.startswith("file-")
    batch = anth.messages.batches.create(requests=[{"custom_id": "1", "params": {
        "model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}}])
    assert anth.messages.batches.retrieve(batch.id).id == batch.id
    counted = anth.messages.count_tokens(model="claude-haiku-4-5",
                                         messages=[{"role": "user", "content": "count these words"}])
    assert counted.input_tokens > 0
    wait_written(gw, 5)

    records = {r["endpoint"]: r for r in _records(store_url)}
    emb = records["/v1/embeddings"]
    assert (emb["dialect"], emb["provider"], emb["model_asked"], emb["status"]) == (
        "openai", "openai", "text-embedding-3-small", 200)
    assert emb["input_tokens"] == embedded.usage.prompt_tokens and emb["output_tokens"] == 0
    cost = Decimal(embedded.usage.prompt_tokens) * Decimal("0.02")  # $0.02 / MTok
    assert emb["cost_micros"] == int(cost.to_integral_value(rounding="ROUND_HALF_UP"))
    assert (emb["team"], emb["app"], emb["user_name"]) == ("search", "indexer", "ana")
    assert emb["latency_ms"] > 0 and emb["ttfb_ms"] is not None

    files = records["/v1/files"]
    assert (files["status"], files["input_tokens"], files["cost_micros"], files["team"]) == (200, 0, 0, "search")
    created = records["/v1/messages/batches"]
    assert (created["dialect"], created["provider"], created["status"], created["cost_micros"]) == (
        "anthropic", "anthropic", 200, 0)
    assert "/v1/messages/batches/{id}" in records  # the batch id folded: one label, not one per batch
    count = records["/v1/messages/count_tokens"]
    assert (count["status"], count["cost_micros"], count["input_tokens"], count["output_tokens"]) == (200, 0, 0, 0)
    assert count["team"] == "search" and count["model_asked"] == "claude-haiku-4-5"


def test_a_failed_or_refused_forward_is_recorded_with_its_status(fake, sa_key_file, start_gateway, sqlite_url):
    config = _config(fake, sa_key_file, sqlite_url)
    config["gateway"] = {"max_body_bytes": 4096}
    gw = start_gateway(config)
    headers = {"authorization": f"Bearer {CLIENT_KEY}", **META}
    with httpx.Client(base_url=gw.url, headers=headers, timeout=10) as client:
        too_big = client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x" * 10_000})
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
        no_input = client.post("/v1/embeddings", json={"model": "text-embedding-3-large"})
        assert no_input.status_code == 400  # the upstream's own answer, relayed
    wait_written(gw, 2)
    records = sorted(_records(sqlite_url), key=lambda r: r["ts_ms"])
    assert [r["status"] for r in records] == [413, 400]
    assert records[0]["decisions"] == [{"kind": "refused", "reason": "body_too_large"}]
    assert records[0]["cost_micros"] == 0 and records[0]["team"] == "search"
    assert records[1]["input_tokens"] == 0 and records[1]["cost_micros"] == 0
    assert (records[1]["model_asked"], records[1]["provider"], records[1]["decisions"]) == (
        "text-embedding-3-large", "openai", [])


def test_responses_api_calls_are_priced_from_the_usage_they_report(fake, sa_key_file, start_gateway, sqlite_url):
    """The Responses API, JSON and streamed: the usage is the one in the body or in `response.completed`."""
    gw = start_gateway(_config(fake, sa_key_file, sqlite_url))
    oai = openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0, default_headers=META)
    answer = oai.responses.create(model="gpt-4o", input="name three okapis")
    assert answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0
    with oai.responses.stream(model="gpt-4o-mini", input="and a fourth one, please") as stream:
        streamed = stream.get_final_response()
    assert streamed.usage.output_tokens > 0
    wait_written(gw, 2)
    records = sorted(_records(sqlite_url), key=lambda r: r["ts_ms"])
    assert [(r["endpoint"], r["model_asked"], r["streamed"]) for r in records] == [
        ("/v1/responses", "gpt-4o", False), ("/v1/responses", "gpt-4o-mini", True)]
    for record, usage, (inp, out) in zip(records, (answer.usage, streamed.usage), ((2.5, 10), (0.15, 0.6)),
                                         strict=True):
        assert (record["input_tokens"], record["output_tokens"]) == (usage.input_tokens, usage.output_tokens)
        cost = Decimal(usage.input_tokens) * Decimal(str(inp)) + Decimal(usage.output_tokens) * Decimal(str(out))
        assert record["cost_micros"] == int(cost.to_integral_value(rounding="ROUND_HALF_UP"))


def test_the_usage_is_read_from_the_tail_past_any_content():
    """Only the last 64 KB are kept; a `"usage"` inside a string (escaped quotes) is not taken for the key."""
    from anyray.server.gateway.call import Usage
    from anyray.server.gateway.usage import TailUsage

    tail = TailUsage(openai=True)
    text = 'say \\"usage\\": {\\"input_tokens\\": 999} ' * 4000  # ~170 KB of escaped look-alikes
    body = ('{"output": [{"text": "' + text + '"}], "usage": {"input_tokens": 1200, '
            '"input_tokens_details": {"cached_tokens": 200}, "output_tokens": 30}, "user": null}').encode()
    for i in range(0, len(body), 1000):
        tail.feed(body[i:i + 1000])
    usage = Usage()
    assert tail.fold_into(usage)
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (1000, 200, 30)
    none = TailUsage(openai=False)
    none.feed(b'{"id": "file-1", "note": "\\"usage\\": {}"}')
    assert not none.fold_into(Usage())
