"""The optimizer's decider process (optimizer.worker: process, the default): the same decisions as the
thread, turn after turn; no credential in its environment; a decider that dies costs its requests their
optimization, never their answers, and one that keeps dying is given up for the thread. Real child
processes (`python -m anyray.server.optimizer.decider`), the optimizer engine as the gateway drives it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from anyray.config import Config
from anyray.server.optimizer.engine import Optimizer
from anyray.server.optimizer.worker import DEATHS_TO_GIVE_UP, ProcessWorker, Worker

ROUTE = {"provider": "vertex", "model": "claude-sonnet-4-5@20250929"}
KEY = "x" * 43  # urlsafe base64 of 32 bytes: one sealing key for both optimizers, so their handles agree


def _log(lines: int, seed: int) -> str:
    out = []
    for i in range(lines):
        level = "ERROR" if i % 53 == 7 else "INFO"
        out.append(f"2026-12-07T10:{i // 60 % 60:02d}:{i % 60:02d}Z {level} worker-{i % 5} job={seed}-{i} "
                   f"status={500 if level == 'ERROR' else 200} took_ms={i * 37 % 900}")
    return "\n".join(out)


def _session(turns: int) -> dict[str, Any]:
    """An agent's session after `turns` tool calls, each answered by a log of its own."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Which jobs failed, and why?"}]
    for t in range(turns):
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"toolu_{t:04d}", "name": "run", "input": {"command": f"logs --part {t}"}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{t:04d}", "content": _log(300, t)}]})
    return {"model": "claude-sonnet-4-5", "max_tokens": 4096, "messages": messages}


def _optimizer(worker: str) -> Optimizer:
    return Optimizer(Config.model_validate({"optimizer": {"worker": worker}, "cache": {"key": KEY}}))


async def _turns(optimizer: Optimizer, turns: int) -> list[dict[str, Any]]:
    answers = []
    for t in range(1, turns + 1):
        answers.append(await optimizer.optimize({"endpoint": "/v1/messages", "request": _session(t), "route": ROUTE,
                                                 "canShortCircuit": True}))
    return answers


def test_the_decider_process_decides_as_the_thread_does_turn_after_turn():
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int | None]:
        by_thread, by_process = _optimizer("thread"), _optimizer("process")
        try:
            thread_answers = await _turns(by_thread, 4)
            process_answers = await _turns(by_process, 4)
            assert isinstance(by_thread.worker, Worker) and isinstance(by_process.worker, ProcessWorker)
            pid = by_process.worker.pid
            # what the decider stashed is stored by the optimizer: every marker's handle resolves
            for handle in process_answers[-1]["retrievable"]:
                assert await by_process.stash.get(handle) is not None
            return thread_answers, process_answers, pid
        finally:
            await by_thread.close()
            await by_process.close()

    thread_answers, process_answers, pid = asyncio.run(scenario())
    assert pid is not None and pid != os.getpid()
    assert all("context_compression" in a["applied"] for a in process_answers)  # there was work to agree on
    assert [orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in process_answers] == [
        orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in thread_answers]


def test_the_decider_process_holds_no_credential_in_its_environment(monkeypatch):
    secrets = {"ANTHROPIC_API_KEY": "sk-ant-api03-decider-must-not-see", "OPENAI_API_KEY": "sk-decider-must-not-see",
               "GOOGLE_APPLICATION_CREDENTIALS": "/secret/decider-must-not-see.json",
               "ANYRAY_CACHE_KEY": "decider-must-not-see"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)

    async def scenario() -> bytes:
        optimizer = _optimizer("process")
        try:
            answer = (await _turns(optimizer, 1))[0]
            assert "context_compression" in answer["applied"]
            pid = optimizer.worker.pid
            return Path(f"/proc/{pid}/environ").read_bytes()
        finally:
            await optimizer.close()

    environ = asyncio.run(scenario())
    assert b"PATH=" in environ  # the real environment of the real child
    for name, value in secrets.items():
        assert name.encode() not in environ and value.encode() not in environ


def test_a_killed_decider_is_replaced_and_its_requests_answered():
    async def scenario() -> tuple[int | None, int | None, dict[str, Any]]:
        optimizer = _optimizer("process")
        try:
            await _turns(optimizer, 1)
            first = optimizer.worker.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            for _ in range(200):  # the optimizer notices the end of its pipe
                if optimizer.worker.pid is None:
                    break
                await asyncio.sleep(0.01)
            answer = (await _turns(optimizer, 2))[-1]
            assert optimizer.worker.status() == {"mode": "process", "pid": optimizer.worker.pid, "deaths": 1,
                                                 "stuckKilled": 0, "busyRefused": 0}
            return first, optimizer.worker.pid, answer
        finally:
            await optimizer.close()

    first, second, answer = asyncio.run(scenario())
    assert second is not None and second != first
    assert "context_compression" in answer["applied"]


def test_a_decider_that_keeps_dying_is_given_up_for_the_thread(monkeypatch, tmp_path: Path):
    (tmp_path / "sitecustomize.py").write_text("import os\nos._exit(3)\n")  # every decider dies as it starts
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))

    async def scenario() -> tuple[list[dict[str, Any]], Any]:
        optimizer = _optimizer("process")
        try:
            answers = [(await _turns(optimizer, 1))[0] for _ in range(DEATHS_TO_GIVE_UP + 1)]
            return answers, optimizer.worker
        finally:
            await optimizer.close()

    answers, worker = asyncio.run(scenario())
    dead = answers[:DEATHS_TO_GIVE_UP]
    for answer in dead:  # forwarded as it came, and said why
        assert answer["applied"] == [] and answer["request"] == _session(1)
        assert answer["skipped"] == [{"kind": "optimizer", "reason": "optimizer worker failed"}]
    assert isinstance(worker, ProcessWorker) and worker.fallback is not None
    assert worker.status()["mode"] == "thread" and worker.status()["deaths"] >= DEATHS_TO_GIVE_UP
    assert "context_compression" in answers[-1]["applied"]  # the thread decides from then on


def test_a_strategy_failing_in_the_decider_is_skipped_and_the_rest_applies(monkeypatch, tmp_path: Path, capfd):
    (tmp_path / "sitecustomize.py").write_text(
        "from anyray.server.optimizer.strategies import REGISTRY\n"
        "def boom(*_):\n    raise RuntimeError('a bug in a strategy')\n"
        "type(REGISTRY['prompt_cache']).apply = boom\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))

    async def scenario() -> tuple[dict[str, Any], int | None]:
        optimizer = _optimizer("process")
        try:
            return (await _turns(optimizer, 2))[-1], optimizer.worker.pid
        finally:
            await optimizer.close()

    answer, pid = asyncio.run(scenario())
    assert pid is not None
    assert {"kind": "prompt_cache", "reason": "internal error (logged)"} in answer["skipped"]
    assert "context_compression" in answer["applied"]
    assert "strategy prompt_cache failed" in capfd.readouterr().err  # the decider's log, on the process's stderr


@pytest.mark.parametrize("worker", ["process", "thread"])
def test_a_short_request_is_decided_without_the_worker(worker: str):
    async def scenario() -> tuple[dict[str, Any], int | None]:
        optimizer = _optimizer(worker)
        try:
            answer = await optimizer.optimize({"endpoint": "/v1/messages", "route": ROUTE, "request": {
                "model": "claude-sonnet-4-5", "max_tokens": 64000, "messages": [{"role": "user", "content": "hi"}]}})
            return answer, getattr(optimizer.worker, "pid", None)
        finally:
            await optimizer.close()

    answer, pid = asyncio.run(scenario())
    assert pid is None  # no process started for a request with no long text
    assert "param_tuning" in answer["applied"] or answer["skipped"]


def test_an_optimizer_driven_from_a_new_event_loop_decides_in_the_thread():
    """`asyncio.run` per call (a script's way): the decider's pipes belonged to the first loop, which ended."""
    optimizer = _optimizer("process")
    message = {"endpoint": "/v1/messages", "request": _session(1), "route": ROUTE}

    async def first_call() -> tuple[dict[str, Any], int | None]:
        return await optimizer.optimize(message), optimizer.worker.pid

    first, pid = asyncio.run(first_call())
    second = asyncio.run(optimizer.optimize(message))
    optimizer.worker.close()
    assert pid is not None and optimizer.worker.fallback is not None
    assert "context_compression" in first["applied"] and second["request"] == first["request"]
    for _ in range(100):  # the first loop's decider was stopped
        if not Path(f"/proc/{pid}").exists() or b"Z" in Path(f"/proc/{pid}/stat").read_bytes().split(b")")[1][:3]:
            break
        time.sleep(0.02)
    else:
        raise AssertionError(f"decider {pid} still runs")


def test_a_decider_stuck_on_one_request_is_replaced_for_the_next(monkeypatch, tmp_path: Path):
    """A strategy that never returns on some input (a bug): its caller's budget forwards it untouched, and once
    the decision has run past STUCK_AFTER_S the next long request kills the decider and is decided by another."""
    (tmp_path / "sitecustomize.py").write_text(
        "from anyray.server.optimizer.strategies.context_compression import ContextCompression\n"
        "original = ContextCompression.transform\n"
        "def stuck(self, output, ctx, params, earlier):\n"
        "    while 'STUCK-MARKER' in output.text:\n"
        "        pass\n"
        "    return original(self, output, ctx, params, earlier)\n"
        "ContextCompression.transform = stuck\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr("anyray.server.optimizer.worker.STUCK_AFTER_S", 0.5)
    stuck = _session(1)
    stuck["messages"][-1]["content"][0]["content"] += "\nSTUCK-MARKER"

    async def scenario() -> tuple[int | None, int | None, dict[str, Any], dict[str, Any]]:
        optimizer = _optimizer("process")
        try:
            with pytest.raises(asyncio.TimeoutError):  # the gateway's budget, as the gateway applies it
                await asyncio.wait_for(optimizer.optimize(
                    {"endpoint": "/v1/messages", "request": stuck, "route": ROUTE}), 0.3)
            first = optimizer.worker.pid
            await asyncio.sleep(0.6)
            answer = (await asyncio.wait_for(_turns(optimizer, 2), 20))[-1]  # never behind the stuck one
            return first, optimizer.worker.pid, answer, optimizer.worker.status()
        finally:
            await optimizer.close()

    first, second, answer, status = asyncio.run(scenario())
    assert first is not None and second is not None and second != first
    assert "context_compression" in answer["applied"]
    assert status["stuckKilled"] == 1 and status["deaths"] == 0 and status["mode"] == "process"
    assert not Path(f"/proc/{first}").exists() or b" Z " in Path(f"/proc/{first}/stat").read_bytes()


def test_requests_arriving_together_start_one_decider(monkeypatch):
    started: list[int] = []
    original = asyncio.create_subprocess_exec

    async def counted(*args: Any, **kwargs: Any) -> Any:
        proc = await original(*args, **kwargs)
        started.append(proc.pid)
        return proc

    monkeypatch.setattr(asyncio, "create_subprocess_exec", counted)

    async def scenario() -> list[dict[str, Any]]:
        optimizer = _optimizer("process")
        try:
            return await asyncio.gather(*(optimizer.optimize({"endpoint": "/v1/messages", "request": _session(t),
                                                              "route": ROUTE}) for t in (1, 2, 3, 4)))
        finally:
            await optimizer.close()

    answers = asyncio.run(scenario())
    assert len(started) == 1
    assert all("context_compression" in a["applied"] for a in answers)


def test_a_decider_that_cannot_start_costs_the_request_its_optimization(monkeypatch):
    async def refused(*_: Any, **__: Any) -> Any:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", refused)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        optimizer = _optimizer("process")
        try:
            answer = (await _turns(optimizer, 1))[0]
            return answer, optimizer.worker.status()
        finally:
            await optimizer.close()

    answer, status = asyncio.run(scenario())
    assert answer["request"] == _session(1) and answer["applied"] == []
    assert answer["skipped"] == [{"kind": "optimizer", "reason": "optimizer worker failed"}]
    assert status["deaths"] == 1 and status["pid"] is None
