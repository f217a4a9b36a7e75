"""What `/readyz` reports: the background tasks a process runs and whether each is alive.

The supervisor marks its tasks here; the health server reads this registry. One registry per
process (module level), so that the bot, the worker and the tests need no wiring for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Registry:
    # task name -> alive; a task that is restarting or has given up is False
    tasks: dict[str, bool] = field(default_factory=dict)
    # a task that could not be kept alive: the process is going down
    failed: str | None = None

    def set(self, name: str, alive: bool) -> None:
        self.tasks[name] = alive

    def forget(self, name: str) -> None:
        self.tasks.pop(name, None)

    def dead(self) -> list[str]:
        return sorted(name for name, alive in self.tasks.items() if not alive)


REGISTRY = Registry()
