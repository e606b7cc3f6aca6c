"""The shared chat pacer in virtual time: no window ever exceeds its limit for random concurrent sends, and a
429 hold delays only its target (the clock and the sleeps are the test's: nothing waits for real)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.services.pacing import Limits, Pacer, RateLimited, Window
from digest.services.posting import RetryLater
from digest.telegram.pacing import LIMITS as TELEGRAM

EPS = 1e-9
TARGETS = ("a", "b", "g1", "g2")  # "g…" are groups


class VirtualTime:
    """A clock that jumps to the next sleeper's wake-up once every task is asleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # sleepers due at the same time wake in the order they slept

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, coros: list[Coroutine[Any, Any, Any]]) -> list[Any]:
        tasks = [asyncio.ensure_future(c) for c in coros]
        while True:
            for _ in range(5):  # a woken task runs until its next sleep within a loop iteration or two
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            assert self._sleepers, "a task waits on something other than time"
            at, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            future.set_result(None)


def is_group(target: str) -> bool:
    return target.startswith("g")


def sent_log(time: VirtualTime, pacer: Pacer, log: list[tuple[float, str]], target: str, start: float,
             refuse: float | None = None) -> Coroutine[Any, Any, Any]:
    """A send to `target` issued at `start`, logging when it reached the platform; `refuse`: first answer a 429."""
    refusals = [refuse] if refuse is not None else []

    async def request() -> None:
        log.append((time.now, target))
        if refusals:
            raise RateLimited(refusals.pop())

    async def one() -> Any:
        await time.sleep(start)
        try:
            return await pacer.send(request, target)
        except RetryLater as gave_up:
            return gave_up

    return one()


def check_within(limits: Limits, log: list[tuple[float, str]]) -> None:
    """Every window of `limits` holds in the departures `log`."""
    margin = limits.margin
    for target in {t for _, t in log}:
        times = sorted(at for at, t in log if t == target)
        assert all(b - a >= limits.spacing * margin - EPS for a, b in itertools.pairwise(times))
        if limits.group and is_group(target):
            n, span = limits.group.count, limits.group.seconds * margin
            assert all(times[i + n] - times[i] >= span - EPS for i in range(len(times) - n))
    if math.isfinite(limits.rate):
        interval = margin / limits.rate
        times = sorted(at for at, _ in log)
        for i in range(len(times)):  # a token bucket: `burst` at once, then one per interval
            for j in range(i, len(times)):
                assert j - i + 1 <= limits.burst + (times[j] - times[i]) / interval + EPS


limits_strategy = st.builds(
    Limits,
    spacing=st.sampled_from([0.0, 0.3, 1.0, 2.5]),
    group=st.none() | st.builds(Window, st.integers(1, 5), st.sampled_from([1.0, 4.0, 60.0])),
    is_group=st.just(is_group),
    rate=st.sampled_from([math.inf, 0.5, 3.0, 30.0]),
    burst=st.integers(1, 6),
    margin=st.sampled_from([1.0, 1.05]),
)
sends_strategy = st.lists(st.tuples(st.sampled_from(TARGETS), st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0, 20.0])),
                          min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(limits=limits_strategy, sends=sends_strategy)
def test_no_window_ever_exceeds_its_limit(limits: Limits, sends: list[tuple[str, float]]) -> None:
    time = VirtualTime()
    pacer = Pacer(limits, clock=time.clock, sleep=time.sleep)
    log: list[tuple[float, str]] = []
    asyncio.run(time.run([sent_log(time, pacer, log, target, start) for target, start in sends]))
    assert len(log) == len(sends)
    check_within(limits, log)
    assert pacer.unplanned == 0


@settings(max_examples=100, deadline=None)
@given(limits=limits_strategy.map(lambda lim: Limits(lim.spacing, lim.group, is_group)),  # no overall rate
       sends=sends_strategy, held=st.sampled_from(TARGETS), hold=st.sampled_from([0.5, 5.0, 40.0]))
def test_a_hold_delays_its_target_only(limits: Limits, sends: list[tuple[str, float]], held: str,
                                       hold: float) -> None:
    """Without an overall rate, the other targets leave exactly when they would have without the hold."""
    runs = []
    for with_hold in (False, True):
        time = VirtualTime()
        pacer = Pacer(limits, clock=time.clock, sleep=time.sleep)
        if with_hold:
            pacer.hold(held, hold)
        log: list[tuple[float, str]] = []
        asyncio.run(time.run([sent_log(time, pacer, log, target, start) for target, start in sends]))
        check_within(limits, log)
        runs.append(log)
    without, with_ = runs
    assert sorted(e for e in with_ if e[1] != held) == sorted(e for e in without if e[1] != held)
    assert all(at >= hold - EPS for at, target in with_ if target == held)


@pytest.mark.parametrize(("limits", "retry_after", "a_sent", "a_result"), [
    # a short 429 is sat out: the target's retry leaves after the hold, the other target at once
    (Limits(spacing=1.0, max_wait=30.0), 5.0, [0.0, 5.0], None),
    # a long one gives up with the platform's wait; the target stays held for it
    (Limits(spacing=1.0, max_wait=30.0), 60.0, [0.0], 60.0),
    # Telegram's: any 429 gives up at once, the chat held
    (TELEGRAM, 3.0, [0.0], 3.0),
])
def test_a_429_holds_only_its_target(limits: Limits, retry_after: float, a_sent: list[float],
                                     a_result: float | None) -> None:
    time = VirtualTime()
    pacer = Pacer(limits, clock=time.clock, sleep=time.sleep)
    log: list[tuple[float, str]] = []
    first, *_ = asyncio.run(time.run([sent_log(time, pacer, log, "-1", 0.0, refuse=retry_after),
                                      sent_log(time, pacer, log, "b", 0.0), sent_log(time, pacer, log, "b", 0.5)]))
    assert [at for at, t in log if t == "-1"] == a_sent
    spacing, interval = limits.spacing * limits.margin, limits.margin / limits.rate  # Telegram: 30/s in all
    assert [at for at, t in log if t == "b"] == pytest.approx([interval, interval + spacing])
    assert pacer.unplanned == 1
    if a_result is None:
        assert first is None
    else:
        assert isinstance(first, RetryLater) and first.retry_after == a_result
        later: list[tuple[float, str]] = []
        time.now = 10.0
        asyncio.run(time.run([sent_log(time, pacer, later, "-1", 0.0)]))
        assert later == [(max(10.0, a_result), "-1")]  # the next send to it waits out the hold


def test_telegram_limits_are_the_faq_s() -> None:
    """One a second per chat, 20 a minute per group, 30 a second in all; each 5% under."""
    for sends, expected in [
        ([("-100", 21)], [n * 1.05 for n in range(20)] + [60 * 1.05]),  # the 21st waits for the minute
        ([("7", 3)], [0.0, 1.05, 2.1]),  # a private chat: one a second, no minute window
        ([(str(chat), 1) for chat in range(40)], [n * 1.05 / 30 for n in range(40)]),  # 40 chats at 30/s
    ]:
        time = VirtualTime()
        pacer = Pacer(TELEGRAM, clock=time.clock, sleep=time.sleep)
        log: list[tuple[float, str]] = []
        asyncio.run(time.run([sent_log(time, pacer, log, chat, 0.0) for chat, n in sends for _ in range(n)]))
        assert sorted(at for at, _ in log) == pytest.approx(expected)
