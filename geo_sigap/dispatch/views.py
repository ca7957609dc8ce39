"""What each role sees of an incident: JSON-ready dicts built from storage rows.

Reporter name/phone and the citizen message appear only for roles in
:data:`~geo_sigap.dispatch.actors.SEES_CONTACT`; :func:`public_view` has no personal
data at all. Times are ISO 8601 UTC; coordinates (lon, lat) EPSG:4326.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from geo_sigap.dispatch.actors import Actor
from geo_sigap.domain.categories import CategoryTable, Priority
from geo_sigap.domain.lifecycle import Status, UserRole, allowed_actions
from geo_sigap.storage.incidents import TIMESTAMPS, placement_from_row, to_incident
from geo_sigap.storage.tables import IncidentRow


# Built once (compiled SQL reused by SQLAlchemy's cache).
_TICKET_BY_ID = select(IncidentRow.ticket).where(IncidentRow.id == bindparam("id"))
_DUPLICATE_TICKETS = (select(IncidentRow.ticket)
                      .where(IncidentRow.duplicate_of_id == bindparam("id"))
                      .order_by(IncidentRow.id))


def _ticket(session: Session, incident_id: int) -> str | None:
    """Ticket of incident ``incident_id``: from the session when that row is already
    loaded (e.g. by the duplicate search at intake), otherwise one small query."""
    loaded = session.identity_map.get(identity_key(IncidentRow, incident_id))
    if loaded is not None:
        return loaded.ticket
    return session.scalar(_TICKET_BY_ID, {"id": incident_id})


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def target_minutes(categories: CategoryTable, row: IncidentRow) -> float | None:
    try:
        return categories.target_minutes(row.category, Priority(row.priority))
    except Exception:  # noqa: BLE001 - a category removed from the table since
        return None


def timing(categories: CategoryTable, row: IncidentRow, now: datetime) -> dict[str, Any]:
    """Target response time (report → team on scene), due time and overdue flag."""
    target = target_minutes(categories, row)
    if target is None:
        return {"target_minutes": None, "due_at": None, "overdue": False,
                "response_target_met": None}
    due = row.reported_at + timedelta(minutes=target)
    open_ = Status(row.status).is_open
    overdue = open_ and row.on_scene_at is None and now > due
    met = None if row.on_scene_at is None else row.on_scene_at <= due
    late_s = (now - due).total_seconds() if overdue else None
    return {"target_minutes": target, "due_at": due.isoformat(), "overdue": overdue,
            "overdue_by_s": late_s, "response_target_met": met}


def assigned_teams(row: IncidentRow) -> set[str]:
    return {a.team_code for a in row.assignments if a.active}


def _actions_for(row: IncidentRow, actor: Actor) -> list[str]:
    acts = allowed_actions(Status(row.status), actor.role)
    if actor.role == UserRole.TEAM_MEMBER and actor.team_code not in assigned_teams(row):
        return []
    return [a for a in acts if a != "dispatch"] + (
        ["assign"] if "dispatch" in acts or (
            actor.role in (UserRole.DISPATCHER, UserRole.COORDINATOR, UserRole.ADMIN)
            and row.status in (Status.DITUGASKAN, Status.MENUJU_LOKASI, Status.DI_LOKASI))
        else [])


def placement_view(p) -> dict[str, Any]:
    """The ``placement`` part of a view (a :class:`Placement` of the row)."""
    return {"description": p.describe(), "kecamatan_code": p.kecamatan_code,
            "kecamatan_name": p.kecamatan_name, "kelurahan_code": p.kelurahan_code,
            "kelurahan_name": p.kelurahan_name, "rw_code": p.rw_code, "rw_name": p.rw_name,
            "rt_code": p.rt_code, "rt_name": p.rt_name, "flags": list(p.flags)}


def incident_view(session: Session, categories: CategoryTable, row: IncidentRow,
                  actor: Actor, now: datetime, *, full: bool = True) -> dict[str, Any]:
    """The staff view of one incident (``full``: with assignments, reports, durations)."""
    p = placement_from_row(row)
    try:
        cat = categories.get(row.category)
        cat_name = cat.label()
    except Exception:  # noqa: BLE001
        cat_name = row.category
    status = Status(row.status)
    out: dict[str, Any] = {
        "ticket": row.ticket, "category": row.category, "category_name": cat_name,
        "description": row.description, "channel": row.channel,
        "lon": row.lon, "lat": row.lat, "address_text": row.address_text,
        "priority": row.priority, "priority_label": Priority(row.priority).label,
        "status": status.value, "status_label": status.label, "step": status.step,
        "placement": placement_view(p),
        **{k: _iso(getattr(row, k)) for k in TIMESTAMPS},
        "rejection_reason": row.rejection_reason, "resolution_note": row.resolution_note,
        "duplicate_of": None, "version": row.version,
        "allowed_actions": _actions_for(row, actor),
        **timing(categories, row, now),
    }
    if row.duplicate_of_id is not None:  # a listed case has it joined
        out["duplicate_of"] = (getattr(row, "duplicate_of_ticket", None)
                               or _ticket(session, row.duplicate_of_id))
    if actor.sees_contact:
        out["reporter_name"] = row.reporter_name
        out["reporter_phone"] = row.reporter_phone
        out["citizen_message"] = row.citizen_message
    if full:
        inc = to_incident(row)
        out["durations"] = inc.step_durations()
        out["assignments"] = [
            {"team_code": a.team_code, "kind": a.kind.value, "role": a.role.value,
             "assigned_at": _iso(a.assigned_at), "assigned_by": a.assigned_by,
             "eta_s": a.eta_s, "distance_m": a.distance_m, "message": a.message}
            for a in inc.assignments]
        out["reports"] = [
            {"id": f.id, "team_code": f.team_code, "text": f.text,
             "created_at": _iso(f.created_at), "author": f.author,
             "attachments": [{"id": x.id, "filename": x.filename,
                              "content_type": x.content_type, "size": x.size,
                              "sha256": x.sha256, "url": f"/api/attachments/{x.id}"}
                             for x in f.attachments]}
            for f in inc.reports]
        out["duplicates"] = list(session.scalars(_DUPLICATE_TICKETS, {"id": row.id}))
    return out


def public_view(categories: CategoryTable, row: IncidentRow) -> dict[str, Any]:
    """What anyone with the ticket code may see: status, category, kelurahan, step
    times. No description, address, coordinates, names or phone numbers."""
    p = placement_from_row(row)
    status = Status(row.status)
    try:
        cat = categories.get(row.category)
        names = (cat.name, cat.name_en)
    except Exception:  # noqa: BLE001
        names = (row.category, row.category)
    return {
        "ticket": row.ticket, "status": status.value, "status_label": status.label,
        "status_label_en": status.label_for("en"), "step": status.step,
        "category": row.category, "category_name": names[0], "category_name_en": names[1],
        "kelurahan": p.kelurahan_name, "kecamatan": p.kecamatan_name,
        "steps": {k: _iso(getattr(row, k)) for k in TIMESTAMPS},
        "message": row.citizen_message,
    }
