"""Write transactions that serialise cleanly on SQLite and lock rows on PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_sigap.storage import Database

T = TypeVar("T")


@contextmanager
def write_session(db: Database) -> Iterator[Session]:
    """A unit of work that will write.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: concurrent writers wait
    for the lock (``busy_timeout``) instead of failing when a read snapshot turns out to
    be stale. On PostgreSQL use ``with_for_update`` on the rows to change.
    """
    if db.is_postgres:
        with db.session() as s:
            yield s
        return
    # One writer at a time inside this process: waiting threads wake as soon as the lock
    # is free, instead of SQLite's busy handler sleeping up to 100 ms between retries.
    with _sqlite_lock(db), db.session() as s:
        s.execute(text("BEGIN IMMEDIATE"))
        yield s


_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _sqlite_lock(db: Database) -> threading.Lock:
    with _GUARD:
        lock = _LOCKS.get(db.engine)
        if lock is None:
            lock = _LOCKS[db.engine] = threading.Lock()
        return lock


# ------------------------------------------------------------------ group commit (SQLite)

class _Item:
    __slots__ = ("fn", "value", "error", "done", "lead")

    def __init__(self, fn: Callable[[Session], T]) -> None:
        self.fn = fn
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False  # set with ``done`` when this caller is to run the next batch


class _Group:
    __slots__ = ("mutex", "pending", "leading", "batches", "items")

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.pending: deque[_Item] = deque()
        self.leading = False
        self.batches = 0  # transactions committed (for tests and benchmarks)
        self.items = 0


_GROUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
GROUP_MAX = 16  # units of work in one transaction at most


def group_stats(db: Database) -> tuple[int, int]:
    """(transactions, units of work) that :func:`grouped_write` has run on ``db``
    (committed or not)."""
    g = _GROUPS.get(db.engine)
    return (g.batches, g.items) if g is not None else (0, 0)


def _group(db: Database) -> _Group:
    with _GUARD:
        g = _GROUPS.get(db.engine)
        if g is None:
            g = _GROUPS[db.engine] = _Group()
        return g


def grouped_write(db: Database, fn: Callable[[Session], T]) -> T:
    """``fn(session)`` in a write transaction, and its result (or its exception).

    On SQLite the units of work of callers arriving together share one transaction
    (group commit): the first caller runs a batch — every unit waiting when it starts,
    each in a SAVEPOINT of its own — and commits once; the others wait and receive their
    own answer. One unit's exception rolls back that unit only; if the commit fails,
    every unit of the batch fails with it (nothing of the batch is stored). A unit sees
    the units before it in its batch (a duplicate of a report in the same batch is
    found). Alone, a caller runs its own transaction at once, as with
    :func:`write_session`. Under load this writes the pages the reports share (the
    tables' and indexes' last leaves, the R-tree) once per batch instead of once per
    report, and syncs the WAL once. On PostgreSQL each unit is its own transaction.

    ``fn`` may run in another caller's thread; it must not call :func:`grouped_write`
    or :func:`write_session` itself.
    """
    if db.is_postgres:
        with write_session(db) as s:
            return fn(s)
    g = _group(db)
    item = _Item(fn)
    with g.mutex:
        g.pending.append(item)
        lead = not g.leading
        if lead:
            g.leading = True
    if not lead:
        item.done.wait()
        if item.lead:  # handed the lead: this caller's unit runs in its batch
            item.done.clear()
            _lead(db, g)
            item.done.wait()
    else:
        _lead(db, g)
        item.done.wait()
    if item.error is not None:
        raise item.error
    return item.value


def _lead(db: Database, g: _Group) -> None:
    """Run one batch (every unit pending now, up to :data:`GROUP_MAX`), then hand the
    lead to the first unit that arrived meanwhile, or give it up."""
    with g.mutex:
        batch = [g.pending.popleft() for _ in range(min(GROUP_MAX, len(g.pending)))]
    try:
        _run_batch(db, g, batch)
    finally:
        with g.mutex:
            nxt = g.pending[0] if g.pending else None
            if nxt is None:
                g.leading = False
        for it in batch:
            it.done.set()
        if nxt is not None:
            nxt.lead = True
            nxt.done.set()


def _run_batch(db: Database, g: _Group, batch: list[_Item]) -> None:
    g.batches += 1
    g.items += len(batch)
    try:
        with write_session(db) as s:
            if len(batch) == 1:  # alone: no savepoint needed
                it = batch[0]
                try:
                    it.value = it.fn(s)
                except BaseException as exc:  # noqa: BLE001 - handed to its caller
                    it.error = exc
                    raise
            else:
                for it in batch:
                    try:
                        with s.begin_nested():
                            it.value = it.fn(s)
                    except BaseException as exc:  # noqa: BLE001 - handed to its caller
                        it.error = exc
    except BaseException as exc:  # noqa: BLE001 - the commit failed: the whole batch
        for it in batch:
            if it.error is None:
                it.error, it.value = exc, None
