"""Write transactions that serialise cleanly on SQLite and lock rows on PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_sigap.storage import Database


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
