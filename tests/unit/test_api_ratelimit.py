"""The ingest API's token buckets: a burst, then the steady rate; per token; Redis alike."""

from __future__ import annotations

import fakeredis
import pytest

from bot.api.ratelimit import LocalBuckets, RedisBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_then_one_request_per_interval() -> None:
    clock = Clock()
    buckets = LocalBuckets(rate=2, burst=3, clock=clock)
    assert [await buckets.take(1) for _ in range(3)] == [0, 0, 0]
    assert await buckets.take(1) == pytest.approx(0.5)
    assert await buckets.take(2) == 0  # another token's bucket is full
    clock.now += 0.5
    assert await buckets.take(1) == 0
    clock.now += 60
    assert [await buckets.take(1) for _ in range(3)] == [0, 0, 0]  # full again, not more


async def test_redis_buckets_are_shared_by_every_process() -> None:
    redis = fakeredis.FakeAsyncRedis()
    first, second = RedisBuckets(redis, 1, 2), RedisBuckets(redis, 1, 2)
    assert await first.take(7) == 0
    assert await second.take(7) == 0
    assert await first.take(7) > 0
    assert await second.take(8) == 0
