"""A progress callback shared by importers and long jobs: ``progress(step, done, total)``."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, step: str, done: int, total: int) -> None: ...


def null_progress(step: str, done: int, total: int) -> None:  # noqa: ARG001
    return None
