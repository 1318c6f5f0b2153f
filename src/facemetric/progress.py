"""Progress bars for long library work, switched off by a flag or ``FACEMETRIC_NO_PROGRESS=1``.

Library functions that take a while accept a ``progress`` parameter (a bool, None for "the
environment decides", or a callback) and draw their bar through :func:`progress_bar`, so that
the CLI, scripts and notebooks share one behaviour. Bars go to stderr; when stderr is not a
terminal (a log under ``nohup``, CI), a progress line is printed now and then instead
(:class:`LogProgress`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console

#: The stderr console that bars draw on; the CLI prints its messages through it too, so that
#: messages and a live bar do not garble each other.
console = Console(stderr=True)


def progress_enabled(flag: bool | None = None) -> bool:
    """``flag`` when given; otherwise on unless ``FACEMETRIC_NO_PROGRESS`` is 1, true or yes."""
    if flag is not None:
        return flag
    return os.environ.get("FACEMETRIC_NO_PROGRESS", "") not in ("1", "true", "yes")


#: Seconds between two progress lines when stderr is not a terminal (a log, nohup, CI).
LOG_INTERVAL = 30.0


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class LogProgress:
    """The progress of long work for logs: a line per task now and then, and one when it ends.

    It takes the calls of rich's ``Progress`` that facemetric makes (``add_task``, ``update``,
    ``advance``). Lines read ``extract: 1200/13233 (9%) after 0:02:10, about 0:21:40 left``.
    """

    def __init__(self, console: Console, interval: float = LOG_INTERVAL) -> None:
        import time

        self.console, self.interval, self._now = console, interval, time.monotonic
        self.tasks: dict[int, dict] = {}

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        for task in self.tasks.values():
            if not task["ended"] and task["completed"]:
                self._print(task)

    def add_task(self, description: str, total: float | None = None, **_) -> int:
        now = self._now()
        self.tasks[len(self.tasks)] = {"description": description, "total": total, "completed": 0,
                                       "start": now, "last": now, "ended": False}
        return len(self.tasks) - 1

    def update(self, task_id: int, *, completed: float | None = None, total: float | None = None,
               advance: float | None = None, description: str | None = None, **_) -> None:
        task = self.tasks[task_id]
        if total is not None:
            task["total"] = total
        if description is not None:
            task["description"] = description
        if completed is not None:
            task["completed"] = completed
        if advance is not None:
            task["completed"] += advance
        done = task["total"] is not None and task["completed"] >= task["total"]
        if done and not task["ended"]:
            task["ended"] = True
            self._print(task)
        elif not done and self._now() - task["last"] >= self.interval:
            self._print(task)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def _print(self, task: dict) -> None:
        now = self._now()
        task["last"] = now
        elapsed, done, total = now - task["start"], task["completed"], task["total"]
        line = f"{task['description']}: {done:g}"
        if total:
            line += f"/{total:g} ({100 * done / total:.0f}%) after {_clock(elapsed)}"
            if 0 < done < total:
                line += f", about {_clock(elapsed * (total - done) / done)} left"
        else:
            line += f" after {_clock(elapsed)}"
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator:
    """A rich progress bar with ETA on a terminal; a progress line now and then in a log (every
    ``FACEMETRIC_PROGRESS_INTERVAL`` seconds, default 30, and when a task ends); nothing when disabled."""
    if enabled and not (console.is_terminal or console.is_jupyter):
        interval = float(os.environ.get("FACEMETRIC_PROGRESS_INTERVAL", LOG_INTERVAL))
        with LogProgress(console, interval) as progress:
            yield progress
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    ) as progress:
        yield progress
