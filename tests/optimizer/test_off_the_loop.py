"""The in-process optimizer works off the event loop, in its decider process (the default) or its own
thread: a request whose optimization is CPU-bound costs that request its time budget at most (it is then
forwarded untouched), and costs the other calls of the process nothing, because the gateway's event loop
goes on serving them. Real Anthropic SDK clients, the gateway with its in-process optimizer, and the fake
Vertex upstream (anyray.testing.FakeUpstream)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import anthropic
import pytest

from anyray.server.optimizer.strategies.context_compression import ContextCompression
from anyray.server.optimizer.worker import Worker
from tests.conftest import CLIENT_KEY, vertex_and_anthropic_config

WORK_S = 2.5  # what the slowed strategy burns, holding the interpreter between switches


# the slowed strategy (for the decider process, loaded there by Python's sitecustomize hook)
SLOW = f"""
import time
from anyray.server.optimizer.strategies.context_compression import ContextCompression
original = ContextCompression.transform

def slow(self, output, ctx, params, earlier):
    if "SLOW-MARKER" in output.text:
        deadline = time.perf_counter() + {WORK_S}
        while time.perf_counter() < deadline:  # pure CPU: no sleep, no I/O
            pass
    return original(self, output, ctx, params, earlier)
"""


@pytest.mark.parametrize("worker", ["process", "thread"])
def test_cpu_bound_optimization_costs_its_call_the_budget_and_other_calls_nothing(fake, sa_key_file, start_gateway,
                                                                                  monkeypatch, tmp_path: Path,
                                                                                  worker: str):
    if worker == "process":  # the decider is a process of its own: the slowdown is loaded there
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "sitecustomize.py").write_text(SLOW + "ContextCompression.transform = slow\n")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]))
    else:
        namespace: dict[str, object] = {}
        exec(SLOW, namespace)
        monkeypatch.setattr(ContextCompression, "transform", namespace["slow"])
    gw = start_gateway(vertex_and_anthropic_config(fake, sa_key_file, optimizer__budget_ms=300,
                                                   optimizer__worker=worker))
    text = "SLOW-MARKER\n" + "\n".join(f"2026-12-07T10:00:{i % 60:02d}Z INFO worker-{i % 4} handled job {i}"
                                       for i in range(400))
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=30)
    took: dict[str, float] = {}

    def big_call() -> None:
        started = time.monotonic()
        client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[
            {"role": "user", "content": [{"type": "text", "text": text},
                                         {"type": "text", "text": "Which worker handled job 17?"}]}])
        took["big"] = time.monotonic() - started

    caller = threading.Thread(target=big_call)
    caller.start()
    time.sleep(0.15)  # the big call is in the optimizer by now
    small = []
    started = time.monotonic()
    while time.monotonic() - started < 1.0:  # small calls while the optimizer burns its CPU
        t = time.monotonic()
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        small.append(time.monotonic() - t)
    caller.join(timeout=30)

    assert took["big"] < WORK_S - 0.5, took  # the budget ended the wait, not the work
    assert len(small) >= 5 and max(small) < 0.5, small  # the loop kept serving: no call waited for the work
    sent = [r for r in fake.received if "SLOW-MARKER" in json.dumps(r.body)]
    assert len(sent) == 1 and sent[0].body["messages"][0]["content"][0]["text"] == text  # forwarded untouched


def test_a_full_queue_refuses_more_work_instead_of_queueing_it():
    import asyncio

    async def scenario() -> tuple[list[str], int]:
        worker = Worker(max_queued=2)
        gate = threading.Event()
        jobs = [asyncio.ensure_future(worker.run(lambda: gate.wait(5) and "done")) for _ in range(2)]
        await asyncio.sleep(0.05)
        outcomes = []
        try:
            await worker.run(lambda: "third")
        except Exception as exc:  # Busy: two jobs already hold the queue
            outcomes.append(type(exc).__name__)
        gate.set()
        outcomes += await asyncio.gather(*jobs)
        outcomes.append(await worker.run(lambda: "after"))  # slots come back when work ends
        worker.close()
        return outcomes, worker.busy_refused

    outcomes, refused = asyncio.run(scenario())
    assert outcomes == ["Busy", "done", "done", "after"] and refused == 1
