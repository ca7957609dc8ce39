"""The append-only audit log (UPDATE/DELETE are refused by a database trigger)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from geo_sigap.domain.incidents import AuditEntry
from geo_sigap.storage.prepared import Prepared
from geo_sigap.storage.tables import AuditRow

_INSERT = Prepared(insert(AuditRow.__table__), keys=(
    "at", "actor", "actor_role", "action", "incident_id", "ticket", "from_status", "to_status",
    "details"))


def append(session: Session, entry: AuditEntry, incident_id: int | None = None) -> None:
    """One prepared INSERT in the session's transaction (pending changes are flushed
    first, so the entry follows them): no ORM object, no unit of work of its own."""
    _INSERT.execute(session, {
        "at": entry.at, "actor": entry.actor, "actor_role": entry.actor_role,
        "action": entry.action, "incident_id": incident_id, "ticket": entry.incident_ticket,
        "from_status": entry.from_status, "to_status": entry.to_status,
        "details": dict(entry.details)})


def entries(session: Session, *, incident_id: int | None = None, limit: int = 500
            ) -> list[AuditEntry]:
    q = select(AuditRow).order_by(AuditRow.id)
    if incident_id is not None:
        q = q.where(AuditRow.incident_id == incident_id)
    return [
        AuditEntry(at=r.at, actor=r.actor, actor_role=r.actor_role, action=r.action,
                   incident_ticket=r.ticket, from_status=r.from_status, to_status=r.to_status,
                   details=dict(r.details or {}))
        for r in session.scalars(q.limit(limit))
    ]
