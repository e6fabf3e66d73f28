"""Streams opened with the same credentials share one re-check per interval."""

from __future__ import annotations

import asyncio

import pytest

from app.web.sse import SharedChecks


class Checker:
    def __init__(self, answer: bool = True, fail: bool = False) -> None:
        self.calls, self.answer, self.fail = 0, answer, fail

    async def __call__(self) -> bool:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.fail:
            raise ConnectionError("database down")
        return self.answer


async def test_many_streams_of_one_credential_make_one_check_per_interval() -> None:
    checks, checker = SharedChecks(), Checker()
    answers = await asyncio.gather(*(checks.check("token-a", checker, 5) for _ in range(2000)))
    assert all(answers) and checker.calls == 1


async def test_an_answer_is_shared_only_while_fresh() -> None:
    checks, checker = SharedChecks(), Checker()
    assert await checks.check("token-a", checker, 0.05) and await checks.check("token-a", checker, 0.05)
    assert checker.calls == 1
    await asyncio.sleep(0.06)
    assert await checks.check("token-a", checker, 0.05) and checker.calls == 2


async def test_each_credential_is_checked_on_its_own() -> None:
    checks, valid, revoked = SharedChecks(), Checker(), Checker(answer=False)
    assert await checks.check("ada", valid, 5) and not await checks.check("eve", revoked, 5)
    assert (valid.calls, revoked.calls) == (1, 1)


async def test_a_check_that_failed_is_not_shared() -> None:
    checks, broken = SharedChecks(), Checker(fail=True)
    with pytest.raises(ConnectionError):
        await checks.check("ada", broken, 5)
    broken.fail = False
    assert await checks.check("ada", broken, 5) and broken.calls == 2


async def test_a_stream_that_stops_waiting_does_not_cancel_the_shared_check() -> None:
    checks, checker = SharedChecks(), Checker()
    leaving = asyncio.ensure_future(checks.check("ada", checker, 5))
    staying = asyncio.ensure_future(checks.check("ada", checker, 5))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying and checker.calls == 1
