"""Helpers shared by CLI commands: settings, progress bars, error printing."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from geo_sigap.errors import GeoSigapError

if TYPE_CHECKING:  # pydantic is imported by the first command that reads settings, so that
    from geo_sigap.settings import Settings  # `geo-sigap --help` starts fast


console = Console(stderr=True)


def settings(**overrides) -> Settings:
    from geo_sigap.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@contextlib.contextmanager
def progress_bar() -> Iterator:
    """Yield a ``progress(step, done, total, message=None)`` callback drawing a rich
    progress bar (``message``: what was just done, shown after the step's name)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False,
                  disable=not sys.stderr.isatty() and False) as bar:
        tasks: dict[str, int] = {}

        def cb(step: str, done: int, total: int, message: str | None = None) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=max(total, 1))
            bar.update(tasks[step], completed=done, total=max(total, 1),
                       **({"description": f"{step}: {message}"} if message else {}))

        yield cb


@contextlib.contextmanager
def friendly_errors(locale: str = "id") -> Iterator[None]:
    """Print a domain error as one clear line and exit with status 2."""
    try:
        yield
    except GeoSigapError as exc:
        label = "Galat" if locale == "id" else "Error"
        console.print(f"[bold red]{label}:[/] {exc.message(locale)}")
        errs = exc.details.get("errors") if isinstance(exc.details, dict) else None
        if errs and len(errs) > 1:
            for line in errs[:30]:
                console.print(f"  • {line}")
        raise typer.Exit(2) from None
