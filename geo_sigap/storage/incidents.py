"""Incidents in storage: rows ↔ domain objects, queries for lists, maps and analytics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import Point
from sqlalchemy import insert, select
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
from geo_sigap.storage.prepared import Prepared, point_wkb
from geo_sigap.storage.tables import AssignmentRow, IncidentRow, utcnow

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


def _incident_values(inc: Incident, idempotency_key: str | None,
                     idempotency_fingerprint: str | None, created_by: str | None
                     ) -> dict[str, Any]:
    """The columns of a new incident's row that come from ``inc``, but its location."""
    return {
        "ticket": inc.ticket, "category": inc.category, "description": inc.description,
        "channel": inc.channel.value, "address_text": inc.address_text,
        "priority": int(inc.priority), "status": inc.status.value,
        "reporter_name": inc.reporter_name, "reporter_phone": inc.reporter_phone,
        "rejection_reason": inc.rejection_reason, "idempotency_key": idempotency_key,
        "idempotency_fingerprint": idempotency_fingerprint, "created_by": created_by,
        **{k: getattr(inc, k) for k in TIMESTAMPS},
    }


def _location_values(location: tuple[float, float] | None, placement: Placement,
                     point=Point) -> dict[str, Any]:
    """The location columns; ``point(lon, lat)`` makes the ``geom`` value (a shapely
    point for an ORM row, its WKB for a prepared INSERT)."""
    lon = lat = geom = None
    if location is not None:
        lon, lat = float(location[0]), float(location[1])
        geom = point(lon, lat)
    p = asdict(placement)
    p["flags"] = list(placement.flags)
    return {"lon": lon, "lat": lat, "geom": geom, "placement": p,
            "kelurahan_code": placement.kelurahan_code,
            "kecamatan_code": placement.kecamatan_code, "rw_code": placement.rw_code,
            "rt_code": placement.rt_code}


def new_row(inc: Incident, *, idempotency_key: str | None = None,
            idempotency_fingerprint: str | None = None,
            created_by: str | None = None) -> IncidentRow:
    return IncidentRow(**_incident_values(inc, idempotency_key, idempotency_fingerprint,
                                          created_by),
                       **_location_values(inc.location, inc.placement))


_COLUMNS = tuple(c.key for c in IncidentRow.__table__.columns if c.key != "id")
_INSERT = Prepared(insert(IncidentRow.__table__), keys=_COLUMNS, returning_id=True)


class NewIncident:
    """A just-inserted incident as its row's values (attributes named as
    :class:`IncidentRow`'s columns, no assignments or reports yet): what the answer,
    the audit entry and the outbox event of a report are made from. Not an ORM object:
    load the row to change it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
        self.assignments: list = []
        self.reports: list = []


def insert_new(session: Session, inc: Incident, *, duplicate_of_id: int | None = None,
               idempotency_key: str | None = None,
               idempotency_fingerprint: str | None = None,
               created_by: str | None = None) -> NewIncident:
    """Insert a new incident by one prepared INSERT (no ORM object, no unit of work:
    building and flushing one new row cost more than the rest of a report's write) and
    return its values. The stored row equals :func:`new_row`'s once flushed."""
    values = {
        **_incident_values(inc, idempotency_key, idempotency_fingerprint, created_by),
        **_location_values(inc.location, inc.placement, point_wkb),
        "resolution_note": None, "citizen_message": None,
        "duplicate_of_id": duplicate_of_id, "version": 1, "updated_at": utcnow(),
    }
    values["id"] = _INSERT.execute(session, values)
    return NewIncident(values)


def set_location(row: IncidentRow, location: tuple[float, float] | None,
                 placement: Placement) -> None:
    for k, v in _location_values(location, placement).items():
        setattr(row, k, v)


def incident_row(session: Session, ticket: str, *, for_update: bool = False,
                 related: bool = True) -> IncidentRow:
    """The row of ``ticket``; ``related``: its assignments and reports loaded with it
    (else they load when first read)."""
    q = select(IncidentRow).where(IncidentRow.ticket == ticket)
    if related:
        q = q.options(selectinload(IncidentRow.assignments),
                      selectinload(IncidentRow.reports))
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


def _lead_join(incident_ids=None):
    """(incident_id, team_code, role) of each incident's first active lead assignment
    (of the incidents ``incident_ids`` selects, when given: an index read per incident
    instead of grouping every assignment of the history)."""
    from sqlalchemy import func

    first = (select(AssignmentRow.incident_id.label("iid"),
                    func.min(AssignmentRow.id).label("aid"))
             .where(AssignmentRow.kind == "lead", AssignmentRow.active.is_(True)))
    if incident_ids is not None:
        first = first.where(AssignmentRow.incident_id.in_(incident_ids))
    first = first.group_by(AssignmentRow.incident_id).subquery()
    lead = AssignmentRow.__table__.alias("lead")
    return first, lead


def incidents_frame(session: Session, *, start: datetime | None = None,
                    end: datetime | None = None, columns: Sequence[str] | None = None):
    """Incidents (``start <= reported_at < end`` when given) as a pandas DataFrame for
    analytics (no personal data); only the rows of the range are read.

    Columns: ticket, category, lon, lat, status, priority, channel, the SOP timestamps
    (tz-aware UTC), kecamatan/kelurahan/rw/rt codes, lead_team, lead_role; with
    ``columns``, only those of the incidents table (no lead assignment join).
    """
    import pandas as pd
    from sqlalchemy import type_coerce
    from sqlalchemy.types import NullType

    t = IncidentRow.__table__.c
    in_range = []
    if start is not None:
        in_range.append(t.reported_at >= start)
    if end is not None:
        in_range.append(t.reported_at < end)
    first, lead = _lead_join(select(t.id).where(*in_range) if in_range else None)
    names = ["ticket", "category", "lon", "lat", "status", "priority", "channel",
             "kecamatan_code", "kelurahan_code", "rw_code", "rt_code", "duplicate_of_id",
             *TIMESTAMPS]
    if columns is not None:
        names = [c for c in names if c in columns]
    # values as the driver gives them (no per-value type processing: 400k rows × 8
    # timestamps at city scale); converted per column below
    raw = [type_coerce(t[c], NullType()).label(c) for c in names]
    if columns is None:
        q = (select(*raw, type_coerce(lead.c.team_code, NullType()).label("lead_team"),
                    type_coerce(lead.c.role, NullType()).label("lead_role"))
             .outerjoin(first, first.c.iid == t.id)
             .outerjoin(lead, lead.c.id == first.c.aid)
             .order_by(t.id))
    else:
        q = select(*raw).order_by(t.id)
    if in_range:
        q = q.where(*in_range)
    result = session.connection().execute(q)  # Core: the driver's cursor underneath
    out = [*names, "lead_team", "lead_role"] if columns is None else names
    parts = []
    while True:  # the driver's tuples (no Row objects), a batch at a time: bounded memory
        rows = result.cursor.fetchmany(50_000)
        if not rows:
            break
        part = pd.DataFrame.from_records(rows, columns=out, coerce_float=False,
                                         nrows=len(rows))
        del rows
        parts.append(_typed(part))
    result.close()
    if not parts:
        return _typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in out}))
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    del parts
    for k in out:  # equal strings one object (8 bytes a cell), over all the batches
        if k not in TIMESTAMPS and k not in _NUMBERS:
            df[k] = pd.Series(_shared_strings(df[k]), index=df.index, dtype=object)
    return df


_NUMBERS = ("lon", "lat", "priority", "duplicate_of_id")


def _typed(part):
    """Driver values → columns: timestamps aware UTC (SQLite: naive UTC text;
    PostgreSQL: aware datetimes), numbers, strings as shared objects."""
    import pandas as pd

    for k in part.columns:
        if k in TIMESTAMPS:
            part[k] = pd.to_datetime(part[k], utc=True, format="ISO8601")
        elif k in _NUMBERS:
            part[k] = pd.to_numeric(part[k], errors="coerce")
        else:
            part[k] = pd.Series(_shared_strings(part[k]), index=part.index, dtype=object)
    return part


def _shared_strings(col):
    """An object column in which equal strings are one object (8 bytes a cell instead of a
    string each: 400k rows of codes at city scale); missing values stay ``None``."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    vocab = np.empty(len(uniques) + 1, dtype=object)
    vocab[:-1] = [str(u) for u in uniques]
    vocab[-1] = None
    return vocab[codes]


# The columns the live analytics (KPIs, heat, hotspots, periods) keep per incident.
ANALYTICS_COLUMNS = ("id", "category", "lon", "lat", "status", "priority", "kelurahan_code",
                     "rw_code", "rt_code", "reported_at", "on_scene_at", "updated_at")


def analytics_rows(session: Session, *, start: datetime | None = None,
                   end: datetime | None = None, updated_since: datetime | None = None,
                   ids: Iterable[int] | None = None, after_id: int | None = None):
    """The compact analytics columns (:data:`ANALYTICS_COLUMNS`) of some incidents.

    ``start``/``end`` select by ``reported_at`` (index ``ix_incidents_reported_updated``),
    ``updated_since`` by ``updated_at >= since`` (index ``ix_incidents_updated_at``),
    ``ids`` and ``after_id`` (``id > after_id``) by primary key. Timestamps come back
    tz-aware UTC.
    """
    import pandas as pd

    from sqlalchemy import type_coerce
    from sqlalchemy.types import NullType

    t = IncidentRow.__table__.c
    # values as the driver gives them (no per-value type processing); converted per column
    q = select(*[type_coerce(t[c], NullType()).label(c) for c in ANALYTICS_COLUMNS])
    if start is not None:
        q = q.where(t.reported_at >= start)
    if end is not None:
        q = q.where(t.reported_at < end)
    if updated_since is not None:
        q = q.where(t.updated_at >= updated_since)
    if ids is not None:
        q = q.where(t.id.in_(list(ids)))
    if after_id is not None:
        q = q.where(t.id > after_id)
    rows = session.execute(q).fetchall()
    columns = list(zip(*rows)) if rows else [()] * len(ANALYTICS_COLUMNS)
    df = pd.DataFrame({c: pd.Series(v, dtype=object)
                       for c, v in zip(ANALYTICS_COLUMNS, columns, strict=True)})
    for k in ("reported_at", "on_scene_at", "updated_at"):
        # SQLite: naive UTC text; PostgreSQL: aware datetimes
        df[k] = pd.to_datetime(df[k], utc=True, format="ISO8601")
    for k in ("lon", "lat"):
        df[k] = pd.to_numeric(df[k], errors="coerce")
    df["id"] = df["id"].astype("int64")
    return df


def incident_ids_between(session: Session, start: datetime, end: datetime) -> list[int]:
    """Ids of the incidents with ``start <= reported_at < end`` (an index-only read)."""
    t = IncidentRow.__table__.c
    return list(session.scalars(select(t.id).where(t.reported_at >= start,
                                                   t.reported_at < end)))


def change_stamp(session: Session) -> tuple:
    """``(max(updated_at), max(id), n_units, max unit id)``: changes whenever an incident is
    added or changed (every write sets ``updated_at``) or units are imported.

    Each part is one index read (``ix_incidents_updated_at``, the primary keys); the unit
    count runs over the small ``admin_units`` table only.
    """
    from sqlalchemy import func

    from geo_sigap.storage.tables import AdminUnitRow

    t = IncidentRow.__table__.c
    u = AdminUnitRow.__table__.c
    # one scalar subquery per aggregate: SQLite answers a lone max() from the index
    row = session.execute(select(
        select(func.max(t.updated_at)).scalar_subquery(),
        select(func.max(t.id)).scalar_subquery(),
        select(func.count(u.id)).scalar_subquery(),
        select(func.max(u.id)).scalar_subquery(),
    )).one()
    last = row[0]
    if isinstance(last, str):  # SQLite through a scalar subquery: no type processing
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        from datetime import UTC

        last = last.replace(tzinfo=UTC)
    return (last, row[1] or 0, row[2] or 0, row[3] or 0)


def quarter_check(session: Session, start: datetime, end: datetime) -> tuple[int, int, int]:
    """``(rows, sum of ids, newest updated_at in µs since the epoch)`` of the incidents
    reported in ``[start, end)``: what a stored analytics quarter is checked against
    (:mod:`geo_sigap.analytics.snapshot`). Read from the index alone:
    ``ix_incidents_reported_updated`` holds ``reported_at``, ``updated_at`` and the id
    (SQLite's rowid, PostgreSQL's INCLUDE), migration 0005."""
    from sqlalchemy import func

    t = IncidentRow.__table__.c
    n, ids, newest = session.execute(
        select(func.count(), func.coalesce(func.sum(t.id), 0), func.max(t.updated_at))
        .where(t.reported_at >= start, t.reported_at < end)).one()
    if newest is None:
        return (int(n), int(ids), 0)
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return (int(n), int(ids), int(round(newest.timestamp() * 1_000_000)))
