"""Keeps the background tasks of a process alive: a task that dies is restarted with backoff.

A task is a coroutine function that runs until `stop` is set. If it raises, or returns before
`stop`, it is logged, marked dead in the health registry (what `/readyz` reads), counted, and
started again after an exponential backoff. A task that keeps dying (`max_failures` within
`window` seconds) cannot be kept alive: the supervisor stops the others and raises
SupervisorGaveUp, so that the process exits non-zero and its service manager starts it anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from services.health import REGISTRY, Registry
from services.metrics import TASK_RESTARTS
from services.tracing import frames

log = logging.getLogger(__name__)

Task = Callable[[], Awaitable[None]]


class SupervisorGaveUp(RuntimeError):
    """A background task could not be kept alive."""

    def __init__(self, name: str, failures: int) -> None:
        super().__init__(f"the {name} task failed {failures} times; giving up")
        self.name = name


@dataclass(frozen=True, slots=True)
class Policy:
    """Backoff between restarts: base · 2^(n-1), at most `cap`, where n counts the failures
    within `window`; `max_failures` within `window` and the supervisor gives up."""

    base: float = 1.0
    cap: float = 60.0
    max_failures: int = 8
    window: float = 600.0

    def backoff(self, failures: int) -> float:
        return float(min(self.cap, self.base * 2.0 ** max(0, failures - 1)))


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _keep_alive(
    name: str, task: Task, *, stop: asyncio.Event, policy: Policy, registry: Registry
) -> None:
    failures: deque[float] = deque()
    while not stop.is_set():
        registry.set(name, True)
        try:
            await task()
        except Exception as exc:
            # The kind and the frames, not the error's text: that may quote a statement's
            # values or a text, with names in them.
            log.error(
                "supervisor: the %s task died with %s%s", name, type(exc).__name__, frames(exc)
            )
        else:
            if not stop.is_set():
                log.error("supervisor: the %s task ended before the process stops", name)
        if stop.is_set():
            return  # the process is stopping: nothing to restart
        registry.set(name, False)
        now = time.monotonic()
        failures.append(now)
        while failures and failures[0] < now - policy.window:
            failures.popleft()
        if len(failures) >= policy.max_failures:
            registry.failed = name
            raise SupervisorGaveUp(name, len(failures))
        delay = policy.backoff(len(failures))
        TASK_RESTARTS.labels(task=name).inc()
        log.warning("supervisor: restarting the %s task in %.1f s", name, delay)
        await _wait(stop, delay)


async def supervise(
    tasks: Mapping[str, Task],
    *,
    stop: asyncio.Event,
    policy: Policy | None = None,
    registry: Registry = REGISTRY,
) -> None:
    """Run `tasks` (by name) until `stop`, restarting any that dies.

    Returns once every task has ended after `stop` was set; raises SupervisorGaveUp (after
    cancelling the others) when a task cannot be kept alive.
    """
    policy = policy or Policy()
    runners = {
        asyncio.create_task(
            _keep_alive(name, task, stop=stop, policy=policy, registry=registry),
            name=f"supervised-{name}",
        ): name
        for name, task in tasks.items()
    }
    try:
        pending = set(runners)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for finished in done:
                error = None if finished.cancelled() else finished.exception()
                if error is not None:
                    raise error
    finally:
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        for name in tasks:
            if registry.failed is None:
                registry.forget(name)
            else:
                registry.set(name, False)  # the process is going down
