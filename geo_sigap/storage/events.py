"""The live-event outbox: one row per incident/team change, written in the change's own
transaction. On PostgreSQL the row id is also sent with ``NOTIFY geo_sigap_events`` so
that listeners in other processes (uvicorn workers) wake up at commit time.

Event ids are visible in commit order, so that a reader's cursor ("everything up to id
N") never skips an event committed later with a smaller id: SQLite has one writer at a
time; on PostgreSQL :func:`add_event` takes a transaction-level advisory lock before the
id is drawn, held until commit (add events last in a transaction: the lock serialises
only the rest of it). Listeners registered with :func:`on_commit` are called (in the
committing thread) after a session that added events commits, to wake this process's
event stream at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, bindparam, event, func, insert, select, text
from sqlalchemy.orm import Session

from geo_sigap.storage.prepared import Prepared
from geo_sigap.storage.tables import EventRow, UTCDateTime, utcnow

CHANNEL = "geo_sigap_events"
_LOCK_KEY = 0x5349_4741  # "SIGA": pg_advisory_xact_lock key of the outbox
_FLAG = "geo_sigap_events_added"
_LISTENERS: set[Callable[[], None]] = set()


def on_commit(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback()`` after every commit of a session that added events in this
    process; returns a function that removes it. The callback must be thread-safe and
    quick (it runs in the committing thread)."""
    _LISTENERS.add(callback)
    return lambda: _LISTENERS.discard(callback)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        for callback in list(_LISTENERS):
            try:
                callback()
            except Exception:  # noqa: BLE001 - a closed event loop must not fail a commit
                pass


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


# PostgreSQL: the outbox lock, the row and its NOTIFY in one statement (one round trip
# instead of three, inside every write of an incident or team). The lock is taken in the
# CTE the INSERT reads its row from, so before the row's id is drawn from the sequence
# (a CTE with a volatile function is never inlined); taking it again later in the same
# transaction is free (advisory locks stack, all released at commit).
_PG_ADD = Prepared(text(
    "WITH outbox_lock AS (SELECT pg_advisory_xact_lock(:k)), "
    "added AS (INSERT INTO events (at, kind, payload) "
    "SELECT CAST(:at AS timestamptz), :kind, CAST(:payload AS json) FROM outbox_lock "
    "RETURNING id) "
    "SELECT id, pg_notify(:ch, id::text) FROM added"
).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("payload", type_=JSON())))
_SQLITE_ADD = Prepared(insert(EventRow.__table__), keys=("at", "kind", "payload"),
                       returning_id=True)


def add_event(session: Session, kind: str, payload: dict[str, Any]) -> EventRow:
    """Append an event; on PostgreSQL queue a NOTIFY delivered when the session commits.

    Returns the stored row as a detached copy (it is written by one SQL
    statement, outside the session's unit of work)."""
    at = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # ids in commit order: no other event-writing transaction draws an id until
        # this one has committed (or rolled back)
        id_ = _PG_ADD.execute(session, {"k": _LOCK_KEY, "at": at, "kind": kind,
                                        "payload": payload, "ch": CHANNEL}).first()[0]
        session.info[_FLAG] = True
        return EventRow(id=id_, at=at, kind=kind, payload=payload)
    # one prepared INSERT (not an ORM object and a flush of its own: the unit of work
    # costs more than the statement, in every write of an incident or team)
    id_ = _SQLITE_ADD.execute(session, {"at": at, "kind": kind, "payload": payload})
    session.info[_FLAG] = True
    return EventRow(id=id_, at=at, kind=kind, payload=payload)


def events_after(session: Session, after_id: int, limit: int = 500) -> list[EventRow]:
    """Events with ``id > after_id``, oldest first."""
    return list(session.scalars(
        select(EventRow).where(EventRow.id > after_id).order_by(EventRow.id).limit(limit)
    ))


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EventRow.id), 0))) or 0)
