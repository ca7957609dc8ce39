"""Incidents in storage: rows ↔ domain objects, queries for lists, maps and analytics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from geo_sigap.domain.categories import Priority
from geo_sigap.domain.incidents import (
    Assignment,
    AssignmentKind,
    Attachment,
    Channel,
    FieldReport,
    Incident,
    Placement,
)
from geo_sigap.domain.lifecycle import Status
from geo_sigap.domain.teams import Role
from geo_sigap.errors import IncidentNotFound
from geo_sigap.storage.tables import AssignmentRow, IncidentRow

TIMESTAMPS = ("reported_at", "verified_at", "rejected_at", "dispatched_at", "en_route_at",
              "on_scene_at", "handled_at", "resolved_at")


def placement_from_row(r: IncidentRow) -> Placement:
    p = dict(r.placement or {})
    p["flags"] = tuple(p.get("flags", ()))
    fields = set(Placement.__dataclass_fields__)
    return Placement(**{k: v for k, v in p.items() if k in fields})


def to_incident(r: IncidentRow, *, with_children: bool = True) -> Incident:
    inc = Incident(
        id=r.id, ticket=r.ticket, category=r.category, description=r.description,
        channel=Channel(r.channel),
        location=(r.lon, r.lat) if r.lon is not None and r.lat is not None else None,
        reported_at=r.reported_at, priority=Priority(r.priority), status=Status(r.status),
        address_text=r.address_text, placement=placement_from_row(r),
        reporter_name=r.reporter_name, reporter_phone=r.reporter_phone,
        rejection_reason=r.rejection_reason, version=r.version,
        **{k: getattr(r, k) for k in TIMESTAMPS if k != "reported_at"},
    )
    if with_children:
        inc.assignments = [
            Assignment(id=a.id, team_code=a.team_code, kind=AssignmentKind(a.kind),
                       role=Role(a.role), assigned_at=a.assigned_at, assigned_by=a.assigned_by,
                       eta_s=a.eta_s, distance_m=a.distance_m, message=a.message)
            for a in r.assignments if a.active
        ]
        inc.reports = [
            FieldReport(id=f.id, team_code=f.team_code, text=f.text, created_at=f.created_at,
                        author=f.author,
                        attachments=[Attachment(id=x.id, filename=x.filename,
                                                content_type=x.content_type, size=x.size,
                                                storage_key=x.storage_key, sha256=x.sha256)
                                     for x in f.attachments])
            for f in r.reports
        ]
    return inc


def new_row(inc: Incident, *, idempotency_key: str | None = None,
            created_by: str | None = None) -> IncidentRow:
    row = IncidentRow(
        ticket=inc.ticket, category=inc.category, description=inc.description,
        channel=inc.channel.value, address_text=inc.address_text,
        priority=int(inc.priority), status=inc.status.value,
        reporter_name=inc.reporter_name, reporter_phone=inc.reporter_phone,
        rejection_reason=inc.rejection_reason, idempotency_key=idempotency_key,
        created_by=created_by,
        **{k: getattr(inc, k) for k in TIMESTAMPS},
    )
    set_location(row, inc.location, inc.placement)
    return row


def set_location(row: IncidentRow, location: tuple[float, float] | None,
                 placement: Placement) -> None:
    if location is None:
        row.lon = row.lat = None
        row.geom = None
    else:
        row.lon, row.lat = float(location[0]), float(location[1])
        row.geom = Point(row.lon, row.lat)
    p = asdict(placement)
    p["flags"] = list(placement.flags)
    row.placement = p
    row.kelurahan_code = placement.kelurahan_code
    row.kecamatan_code = placement.kecamatan_code
    row.rw_code = placement.rw_code
    row.rt_code = placement.rt_code


def incident_row(session: Session, ticket: str, *, for_update: bool = False) -> IncidentRow:
    q = (select(IncidentRow).where(IncidentRow.ticket == ticket)
         .options(selectinload(IncidentRow.assignments), selectinload(IncidentRow.reports)))
    if for_update:
        q = q.with_for_update()
    row = session.scalar(q)
    if row is None:
        raise IncidentNotFound(
            f"Laporan dengan tiket {ticket} tidak ditemukan",
            f"No incident with ticket {ticket}", ticket=ticket,
        )
    return row


def add_rows(session: Session, rows: Iterable[IncidentRow]) -> int:
    rows = list(rows)
    session.add_all(rows)
    return len(rows)


def active_assignments(row: IncidentRow) -> list[AssignmentRow]:
    return [a for a in row.assignments if a.active]


def incidents_frame(session: Session, *, start: datetime | None = None,
                    end: datetime | None = None):
    """All incidents as a pandas DataFrame for analytics (no personal data).

    Columns: ticket, category, lon, lat, status, priority, channel, the SOP timestamps
    (tz-aware UTC), kecamatan/kelurahan/rw/rt codes, lead_team, lead_role.
    """
    import pandas as pd

    cols = [IncidentRow.id, IncidentRow.ticket, IncidentRow.category, IncidentRow.lon,
            IncidentRow.lat, IncidentRow.status, IncidentRow.priority, IncidentRow.channel,
            IncidentRow.kecamatan_code, IncidentRow.kelurahan_code, IncidentRow.rw_code,
            IncidentRow.rt_code, IncidentRow.duplicate_of_id,
            *[getattr(IncidentRow, k) for k in TIMESTAMPS]]
    q = select(*cols)
    if start is not None:
        q = q.where(IncidentRow.reported_at >= start)
    if end is not None:
        q = q.where(IncidentRow.reported_at < end)
    rows = session.execute(q).all()
    df = pd.DataFrame(rows, columns=[c.key for c in cols])
    leads = session.execute(
        select(AssignmentRow.incident_id, AssignmentRow.team_code, AssignmentRow.role)
        .where(AssignmentRow.kind == "lead", AssignmentRow.active.is_(True))
        .order_by(AssignmentRow.id)
    ).all()
    lead_map = {}
    for iid, team, role in leads:
        lead_map.setdefault(iid, (team, role))
    df["lead_team"] = [lead_map.get(i, (None, None))[0] for i in df["id"]]
    df["lead_role"] = [lead_map.get(i, (None, None))[1] for i in df["id"]]
    for k in TIMESTAMPS:
        df[k] = pd.to_datetime(df[k], utc=True)
    return df.drop(columns=["id"])
