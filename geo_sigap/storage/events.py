"""The live-event outbox: one row per incident/team change, written in the change's own
transaction. On PostgreSQL the row id is also sent with ``NOTIFY geo_sigap_events`` so
that listeners in other processes (uvicorn workers) wake up at commit time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo_sigap.storage.tables import EventRow, utcnow

CHANNEL = "geo_sigap_events"


def add_event(session: Session, kind: str, payload: dict[str, Any]) -> EventRow:
    """Append an event; on PostgreSQL queue a NOTIFY delivered when the session commits."""
    row = EventRow(at=utcnow(), kind=kind, payload=payload)
    session.add(row)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:ch, :id)"), {"ch": CHANNEL, "id": str(row.id)})
    return row


def events_after(session: Session, after_id: int, limit: int = 500) -> list[EventRow]:
    """Events with ``id > after_id``, oldest first."""
    return list(session.scalars(
        select(EventRow).where(EventRow.id > after_id).order_by(EventRow.id).limit(limit)
    ))


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EventRow.id), 0))) or 0)
