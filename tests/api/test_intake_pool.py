"""The intake threads (``web.routes.incidents._IntakePool``): each call's answer or
exception reaches its own request, with the request's context variables, and calls run
side by side up to the pool's size (group commit needs them waiting together)."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from geo_sigap.web.routes import incidents

who = contextvars.ContextVar("who", default="nobody")


def test_answers_errors_and_context_reach_their_own_caller():
    pool = incidents._IntakePool(3)

    def work(n):
        if n % 4 == 1:
            raise ValueError(n)
        return n * 10, who.get(), threading.current_thread().name

    async def one(n):
        who.set(f"caller-{n}")
        fn = incidents.functools.partial(contextvars.copy_context().run, work, n)
        try:
            return await pool.run(fn)
        except ValueError as exc:
            return exc

    async def main():
        return await asyncio.gather(*(one(n) for n in range(40)))

    out = asyncio.run(main())
    for n, got in enumerate(out):
        if n % 4 == 1:
            assert isinstance(got, ValueError) and got.args == (n,)
        else:
            assert got[:2] == (n * 10, f"caller-{n}")
            assert got[2].startswith("sigap-intake-")
    assert len(pool._threads) <= 3


def test_calls_run_side_by_side_up_to_the_pools_size():
    pool = incidents._IntakePool(4)
    inside, most, lock = 0, 0, threading.Lock()
    gate = threading.Event()

    def work():
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
            if inside == 4:
                gate.set()
        gate.wait(10)  # the fourth arrives while three are still inside
        with lock:
            inside -= 1
        return True

    async def main():
        return await asyncio.wait_for(asyncio.gather(*(pool.run(work) for _ in range(8))), 20)

    assert asyncio.run(main()) == [True] * 8
    assert most == 4 and len(pool._threads) == 4


def test_a_cancelled_request_does_not_break_the_pool():
    pool = incidents._IntakePool(1)
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return "late"

    async def main():
        task = asyncio.ensure_future(pool.run(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        return await pool.run(lambda: "next")  # the thread is free again

    assert asyncio.run(main()) == "next"
