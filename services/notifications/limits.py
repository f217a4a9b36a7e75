"""Telegram's limits: a global rate (with a single probe after a 429) and one message a second
per chat, in this process or shared by every process through Redis (SPEC §5, §7)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any, Protocol


class RateLimiter(Protocol):
    """Telegram's global limit, shared by the sends of this process (or of every process).

    After a 429 and its `retry_after`, the first send is a probe that goes alone: `acquire`
    returns True for it, and its sender reports with `probe_succeeded` (any answer but 429),
    `pause` (429 again) or `probe_skipped` (it did not go out after all).
    """

    async def acquire(self) -> bool: ...

    async def pause(self, seconds: float) -> None: ...

    async def probe_succeeded(self) -> None: ...

    async def probe_skipped(self) -> None: ...


class ChatGate(Protocol):
    async def wait_for(self, chat_id: int) -> float:
        """0 when a message may go to the chat now (and takes the slot), else seconds to wait."""
        ...


class LocalRateLimiter:
    """Evenly spaced sends at `rate` a second in this process; a 429 pauses all of them, and
    the first send after the pause goes alone."""

    def __init__(self, rate: float, *, probe_timeout: float = 30.0) -> None:
        self.interval = 1.0 / rate
        # A probe that never reports (its task was cancelled) stops holding the others then.
        self.probe_timeout = probe_timeout
        self._next = 0.0
        self._paused_until = 0.0
        self._probe_due = False
        self._probe_out_until = 0.0
        self._answered = asyncio.Event()
        self._lock = asyncio.Lock()

    async def acquire(self) -> bool:
        while True:
            async with self._lock:
                now = time.monotonic()
                probing = self._probe_out_until > now
                if not probing:
                    if self._probe_out_until:
                        # The probe went unanswered: the next send probes again.
                        self._probe_out_until = 0.0
                        self._probe_due = True
                    slot = max(now, self._next, self._paused_until)
                    self._next = slot + self.interval
                    probe = self._probe_due
                    if probe:
                        self._probe_due = False
                        self._probe_out_until = slot + self.probe_timeout
                        self._answered.clear()
            if probing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._answered.wait(), self._probe_out_until - now)
                continue
            if slot > now:
                await asyncio.sleep(slot - now)
                if self._paused_until > slot:
                    continue  # a 429 came while this send waited for its slot
            return probe

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._probe_due = True
        self._probe_out_until = 0.0
        self._answered.set()

    async def probe_succeeded(self) -> None:
        self._probe_out_until = 0.0
        self._answered.set()

    async def probe_skipped(self) -> None:
        self._probe_out_until = 0.0
        self._probe_due = True
        self._answered.set()


class LocalChatGate:
    def __init__(self, spacing: float = 1.0) -> None:
        self.spacing = spacing
        self._next: dict[int, float] = {}

    async def wait_for(self, chat_id: int) -> float:
        now = time.monotonic()
        ready = self._next.get(chat_id, 0.0)
        if ready > now:
            return ready - now
        self._next[chat_id] = now + self.spacing
        if len(self._next) > 100_000:
            self._next = {c: t for c, t in self._next.items() if t > now}
        return 0.0


# GCRA in one round trip: the theoretical arrival time lives in Redis, shared by every sender.
# While a probe is out nobody gets a slot ({-1, ms left}); the first slot after a pause is
# the probe ({wait, 1}), marked with its holder's token.
_GCRA = """
if redis.call('EXISTS', KEYS[3]) == 1 then
    return {'-1', tostring(redis.call('PTTL', KEYS[3]))}
end
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, tat, pause)
redis.call('SET', KEYS[1], start + interval, 'PX', math.ceil(start - now + interval + 60000))
local probe = 0
if redis.call('DEL', KEYS[4]) == 1 then
    probe = 1
    redis.call('SET', KEYS[3], ARGV[4], 'PX', math.ceil(start - now + tonumber(ARGV[3])))
end
return {tostring(start - now), tostring(probe)}
"""

# A 429: every process waits until `until`, then one probe goes (any probe out has failed).
_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
return 1
"""

# The probe's answer: the holder lets the others go (and, when it did not send, hands the
# probe on to the next send).
_PROBE_DONE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
if ARGV[2] == '1' then
    redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
end
return 1
"""


class RedisRateLimiter:
    """The same spacing shared by all processes through Redis (times in milliseconds)."""

    def __init__(
        self,
        redis: Any,
        rate: float,
        *,
        prefix: str = "journalbot",
        probe_timeout: float = 30.0,
        poll: float = 0.05,
    ) -> None:
        self.redis = redis
        self.interval_ms = 1000.0 / rate
        self.probe_ms = probe_timeout * 1000
        self.poll = poll
        self.key = f"{prefix}:rate:tat"
        self.pause_key = f"{prefix}:rate:paused_until"
        self.probe_key = f"{prefix}:rate:probe"
        self.probe_due_key = f"{prefix}:rate:probe_due"
        self._token = uuid.uuid4().hex
        self._script = redis.register_script(_GCRA)
        self._pause_script = redis.register_script(_PAUSE)
        self._probe_done_script = redis.register_script(_PROBE_DONE)

    async def _reserve(self, now_ms: float) -> tuple[float, bool | None]:
        """Milliseconds to wait and whether the slot is the probe; None while a probe is out
        (nothing reserved, ask again later)."""
        wait, probe = await self._script(
            keys=[self.key, self.pause_key, self.probe_key, self.probe_due_key],
            args=[now_ms, self.interval_ms, self.probe_ms, self._token],
        )
        if float(wait) < 0:
            return float(probe), None
        return float(wait), probe in (b"1", "1")

    async def reserve(self, now_ms: float) -> float:
        """Take the next free slot; milliseconds to wait for it (or to ask again, while a
        probe is out)."""
        wait, probe = await self._reserve(now_ms)
        return min(wait, self.poll * 1000) if probe is None else wait

    async def acquire(self) -> bool:
        while True:
            now_ms = time.time() * 1000
            wait, probe = await self._reserve(now_ms)
            if probe is None:
                await asyncio.sleep(self.poll)
                continue
            if wait <= 0:
                return probe
            await asyncio.sleep(wait / 1000)
            paused_until = float(await self.redis.get(self.pause_key) or 0)
            if paused_until <= now_ms + wait:
                return probe
            # A 429 came while this send waited for its slot: take a slot after the pause.

    async def pause(self, seconds: float) -> None:
        until = time.time() * 1000 + seconds * 1000
        await self._pause_script(
            keys=[self.pause_key, self.probe_key, self.probe_due_key],
            args=[f"{until:.0f}", int(seconds * 1000) + 1000, int(seconds * 1000) + 600_000],
        )

    async def _probe_done(self, *, hand_on: bool) -> None:
        await self._probe_done_script(
            keys=[self.probe_key, self.probe_due_key],
            args=[self._token, "1" if hand_on else "0", 600_000],
        )

    async def probe_succeeded(self) -> None:
        await self._probe_done(hand_on=False)

    async def probe_skipped(self) -> None:
        await self._probe_done(hand_on=True)


class RedisChatGate:
    def __init__(self, redis: Any, spacing: float = 1.0, *, prefix: str = "journalbot") -> None:
        self.redis = redis
        self.spacing_ms = int(spacing * 1000)
        self.prefix = prefix

    async def wait_for(self, chat_id: int) -> float:
        key = f"{self.prefix}:chat:{chat_id}"
        if await self.redis.set(key, "1", nx=True, px=self.spacing_ms):
            return 0.0
        left = await self.redis.pttl(key)
        return max(int(left), 1) / 1000
