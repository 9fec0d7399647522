"""The one place where kefu's command line prints errors and warnings (stderr).

Messages quote values from the user's files, so they are printed with rich markup
escaped (a cell holding ``[/]`` must not break the printer) and each line is cut,
so a damaged 10 MB cell cannot flood the terminal. Only the CLI and the app import this.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import TaskID

MAX_LINE_CHARS = 400

err = Console(stderr=True)


def cut(line: str, limit: int = MAX_LINE_CHARS) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def plain(text: str) -> str:
    """Text made safe for rich: markup escaped, every line cut."""
    return "\n".join(escape(cut(line)) for line in str(text).splitlines() or [""])


def print_error(message: str) -> None:
    err.print(f"[bold red]error:[/] {plain(message)}", highlight=False, soft_wrap=True)


def print_warning(line: str) -> None:
    err.print(f"[yellow]warning:[/] {plain(line)}", highlight=False, soft_wrap=True)


def print_note(line: str, label: str = "") -> None:
    """An informational line; ``label`` (e.g. 'skipped') is shown in yellow before it."""
    prefix = f"[yellow]{escape(label)}:[/] " if label else ""
    err.print(prefix + plain(line), highlight=False, soft_wrap=True)


PROGRESS_MIN_BYTES = 20 * 1024 * 1024  # smaller inputs load too fast for a bar


@contextlib.contextmanager
def progress_bar(show: bool = True) -> Iterator[Callable[[int, int, str], None]]:
    """A reading-progress callback for the core, drawn as a bar on stderr for large inputs."""
    if not show:
        yield lambda done, total, label: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task: list[TaskID] = []

        def advance(done: int, total: int, label: str) -> None:
            if total < PROGRESS_MIN_BYTES:
                return
            if not task:
                task.append(bar.add_task("loading", total=total))
            bar.update(task[0], completed=done, description=escape(label))

        yield advance
