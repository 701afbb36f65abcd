"""`within`: the optimizer call's budget, with a timer only when the call has to wait (optimizer_client.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from anyray.server.gateway.optimizer_client import within


def run(coro):
    return asyncio.run(coro)


def test_an_answer_without_waiting_comes_back_and_arms_no_timer():
    async def answer():
        return {"request": {}}

    async def main():
        loop = asyncio.get_running_loop()
        armed = []
        real_call_at = loop.call_at
        loop.call_at = lambda *a, **k: armed.append(a) or real_call_at(*a, **k)
        result = await within(0.5, answer())
        return result, armed

    result, armed = run(main())
    assert result == {"request": {}}
    assert armed == []


def test_a_call_that_waits_gets_its_answer_through_the_task():
    async def answer():
        await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return 42

    assert run(within(1.0, answer())) == 42


def test_a_call_that_waits_past_the_budget_is_cut_and_cleaned_up():
    cleaned = []

    async def slow():
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append(True)

    async def main():
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await within(0.05, slow())
        return loop.time() - started

    elapsed = run(main())
    assert cleaned == [True]
    assert elapsed < 1.0


def test_the_budget_counts_from_the_start_not_from_the_first_wait():
    async def busy_then_wait():
        import time

        time.sleep(0.06)  # a synchronous step longer than the budget...
        await asyncio.sleep(0.5)  # ...then a wait: the deadline has already passed
        return "late"

    with pytest.raises(TimeoutError):
        run(within(0.05, busy_then_wait()))


def test_errors_raised_before_or_after_a_wait_reach_the_caller():
    async def early():
        raise ValueError("early")

    async def late():
        await asyncio.sleep(0)
        raise KeyError("late")

    with pytest.raises(ValueError, match="early"):
        run(within(1.0, early()))
    with pytest.raises(KeyError, match="late"):
        run(within(1.0, late()))


def test_cancelling_the_caller_cancels_the_call():
    seen = []

    async def waits():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main():
        task = asyncio.create_task(within(5.0, waits()))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert seen == ["cancelled"]


def test_a_call_that_catches_an_exception_thrown_in_goes_on():
    async def resilient():
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(fut.set_exception, RuntimeError("thrown in"))
        with contextlib.suppress(RuntimeError):
            await fut
        await asyncio.sleep(0)
        return "recovered"

    assert run(within(1.0, resilient())) == "recovered"
