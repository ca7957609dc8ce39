"""A compact feed of open incidents for the live map (thousands of markers at once).

Columnar JSON (one array per field) is a fraction of the size of a list of full incident
views and is built with one SELECT. No reporter name or phone is included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from geo_sigap.domain.categories import CategoryTable, Priority
from geo_sigap.domain.lifecycle import Status
from geo_sigap.storage.tables import AssignmentRow, IncidentRow, as_utc

OPEN_STATUSES = [s.value for s in Status if s.is_open]
FIELDS = ("ticket", "category", "status", "priority", "lon", "lat", "reported_at", "due_at",
          "on_scene_at", "kelurahan_code", "description", "teams")
DESCRIPTION_CHARS = 160


def open_incidents_feed(session: Session, categories: CategoryTable, *,
                        limit: int = 50_000, team_code: str | None = None) -> dict[str, Any]:
    """Open incidents as ``{"fields": [...], "rows": [[...], ...], "truncated": bool}``.

    ``team_code``: only the incidents that team is actively assigned to (what a team
    member may see).

    Coordinates lon/lat EPSG:4326; times ISO 8601 UTC; ``due_at`` is report time plus the
    target response time of the category and priority (``None`` for an unknown category).
    """
    # the two times as the driver gives them (SQLite: naive UTC text): SQLAlchemy's
    # per-value parsing of them was most of the feed's time; converted in _utc
    cols = (IncidentRow.ticket, IncidentRow.category, IncidentRow.status,
            IncidentRow.priority, IncidentRow.lon, IncidentRow.lat,
            type_coerce(IncidentRow.reported_at, NullType()),
            type_coerce(IncidentRow.on_scene_at, NullType()), IncidentRow.kelurahan_code,
            IncidentRow.description)
    q = select(*cols).where(IncidentRow.status.in_(OPEN_STATUSES))
    if team_code is not None:
        q = q.where(IncidentRow.id.in_(
            select(AssignmentRow.incident_id).where(AssignmentRow.team_code == team_code,
                                                    AssignmentRow.active.is_(True))))
    q = (q.order_by(IncidentRow.reported_at.desc()).limit(limit + 1))
    targets: dict[tuple[str, int], float | None] = {}
    assigned: dict[str, list[str]] = {}  # ticket → active team codes (the incident board)
    for tk, code in session.execute(
            select(IncidentRow.ticket, AssignmentRow.team_code)
            .join(AssignmentRow, AssignmentRow.incident_id == IncidentRow.id)
            .where(AssignmentRow.active.is_(True), IncidentRow.status.in_(OPEN_STATUSES))
            .order_by(AssignmentRow.id)):
        assigned.setdefault(tk, []).append(code)
    rows = []
    for tk, cat, status, prio, lon, lat, rep, onscene, kel, desc in session.execute(q):
        rep = _utc(rep)
        if onscene is not None:
            onscene = _utc(onscene)
        key = (cat, prio)
        if key not in targets:
            try:
                targets[key] = categories.target_minutes(cat, Priority(prio))
            except Exception:  # noqa: BLE001 - a category removed from the table since
                targets[key] = None
        tgt = targets[key]
        due: datetime | None = rep + timedelta(minutes=tgt) if tgt is not None else None
        rows.append([tk, cat, status, prio, lon, lat, rep.isoformat(),
                     due.isoformat() if due else None,
                     onscene.isoformat() if onscene else None, kel,
                     (desc or "")[:DESCRIPTION_CHARS], assigned.get(tk, [])])
    truncated = len(rows) > limit
    return {"fields": list(FIELDS), "rows": rows[:limit], "truncated": truncated}



def _utc(value: datetime | str) -> datetime:
    """A time as the driver gives it (SQLite: naive UTC text, ``2026-03-04
    14:15:16.123456``; PostgreSQL: an aware datetime) read as ``UTCDateTime`` reads it."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
