"""A token bucket per API token: a burst, then a steady rate; in this process or in Redis.

With REDIS_URL every API process shares one bucket per token (one Lua call, Redis's own
clock, so hosts' clocks need not agree); without it each process keeps its own buckets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol


class RateLimit(Protocol):
    async def take(self, key: int) -> float:
        """0 when a request of `key` may go now (and takes a token), else seconds to wait."""
        ...


class LocalBuckets:
    """Buckets in this process's memory; an idle bucket is full again and is forgotten."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}

    async def take(self, key: int) -> float:
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}


_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
    tokens = tokens - 1
else
    wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """The same buckets in Redis, shared by every API process."""

    def __init__(self, redis: Any, rate: float, burst: int, *, prefix: str = "journalbot") -> None:
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script = redis.register_script(_TAKE)

    async def take(self, key: int) -> float:
        wait = await self._script(
            keys=[f"{self.prefix}:api:bucket:{key}"], args=[self.rate, self.burst]
        )
        return float(wait)
