"""Write transactions that serialise cleanly on SQLite and lock rows on PostgreSQL."""

from __future__ import annotations

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
    with db.session() as s:
        if not db.is_postgres:
            s.execute(text("BEGIN IMMEDIATE"))
        yield s
