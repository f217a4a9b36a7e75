"""A rich progress bar on standard error, told (stage, done, total) as the services go."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = Callable[[str, int, int], None]


@contextmanager
def progress_bar(*, label_width: int, bar_per_stage: bool) -> Iterator[Progress]:
    """One bar per stage, or one bar whose label is the stage under way."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as Bar

    tasks: dict[str, Any] = {}
    with Bar(
        TextColumn(f"{{task.description:<{label_width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:

        def step(stage: str, done: int, total: int) -> None:
            key = stage if bar_per_stage else ""
            if key not in tasks:
                tasks[key] = bar.add_task(stage, total=total)
            bar.update(tasks[key], description=stage, completed=done, total=total)

        yield step
