"""Teams in storage."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_sigap.domain.teams import Role, Team, TeamStatus, Vehicle
from geo_sigap.errors import TeamNotFound
from geo_sigap.storage._upsert import upsert_by_code
from geo_sigap.storage.tables import TeamPositionRow, TeamRow


def to_team(r: TeamRow) -> Team:
    last = (r.last_lon, r.last_lat) if r.last_lon is not None and r.last_lat is not None else None
    return Team(
        id=r.id, code=r.code, name=r.name, role=Role(r.role), phone=r.phone,
        vehicle=Vehicle(r.vehicle), post=(r.post_lon, r.post_lat),
        area_codes=tuple(r.area_codes or ()), status=TeamStatus(r.status),
        last_position=last, last_position_at=r.last_position_at,
        members=tuple(r.members or ()),
    )


def upsert_teams(session: Session, teams: Iterable[Team]) -> tuple[int, int]:
    """Insert or replace teams by code. Returns (inserted, updated). No commit."""

    def fill(row: TeamRow, t: Team) -> None:
        row.name = t.name
        row.role = t.role.value
        row.phone = t.phone
        row.vehicle = t.vehicle.value
        row.post_lon, row.post_lat = t.post
        row.post_geom = Point(t.post)
        row.area_codes = list(t.area_codes)
        row.status = t.status.value
        row.members = list(t.members)
        if t.last_position is not None:
            row.last_lon, row.last_lat = t.last_position
            row.last_position_at = t.last_position_at

    return upsert_by_code(session, TeamRow, teams, fill)


def list_teams(session: Session, *, role: Role | None = None) -> list[Team]:
    q = select(TeamRow).order_by(TeamRow.code)
    if role is not None:
        q = q.where(TeamRow.role == role.value)
    return [to_team(r) for r in session.scalars(q)]


def team_row(session: Session, code: str, *, for_update: bool = False) -> TeamRow:
    q = select(TeamRow).where(TeamRow.code == code)
    if for_update:
        q = q.with_for_update()
    row = session.scalar(q)
    if row is None:
        raise TeamNotFound(f"Tim tidak ditemukan: {code}", f"Team not found: {code}", team=code)
    return row


def record_position(session: Session, code: str, lon: float, lat: float, at: datetime,
                    accuracy_m: float | None = None) -> TeamRow:
    row = team_row(session, code)
    if row.last_position_at is None or at >= row.last_position_at:
        row.last_lon, row.last_lat, row.last_position_at = lon, lat, at
    session.add(TeamPositionRow(team_id=row.id, at=at, lon=lon, lat=lat, accuracy_m=accuracy_m))
    return row
