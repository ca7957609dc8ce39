"""Reading cases: one incident, lists, overdue cases, the audit trail, a team member's
assignments, teams, routes and the public status page. Each function checks the actor."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from geo_sigap.dispatch import ports
from geo_sigap.dispatch.actors import AUDITORS, STAFF, Actor
from geo_sigap.dispatch.views import assigned_teams, incident_view, public_view, timing
from geo_sigap.domain.lifecycle import Status, UserRole
from geo_sigap.errors import IncidentNotFound, InvalidInput, PermissionDenied
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import incident_row
from geo_sigap.storage.tables import AssignmentRow, IncidentRow, utcnow
from geo_sigap.storage.teams import list_teams, team_row, to_team

OPEN = [s.value for s in Status if s.is_open]


def _check_team_access(actor: Actor, row: IncidentRow) -> None:
    if actor.role == UserRole.TEAM_MEMBER and actor.team_code not in assigned_teams(row):
        raise PermissionDenied(f"Kasus {row.ticket} tidak ditugaskan kepada tim Anda",
                               f"Case {row.ticket} is not assigned to your team")


def get_incident(services, actor: Actor, ticket: str, *, now: datetime | None = None
                 ) -> dict[str, Any]:
    actor.require(STAFF, "melihat kasus", "see cases")
    now = now or utcnow()
    with services.db.session() as s:
        row = incident_row(s, ticket)
        _check_team_access(actor, row)
        return incident_view(s, services.categories, row, actor, now)


def list_incidents(services, actor: Actor, *, status: str | None = None,
                   category: str | None = None, kelurahan: str | None = None,
                   open_only: bool = False, since: datetime | None = None,
                   overdue_only: bool = False, limit: int = 200,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """Newest first. Team members see only their team's cases."""
    actor.require(STAFF, "melihat daftar kasus", "list cases")
    now = now or utcnow()
    if not 1 <= limit <= 2000:
        raise InvalidInput("limit harus 1–2000", "limit must be 1–2000")
    # plain rows, not ORM objects (a list is read-only): the columns the view shows (no
    # geometry), the original's ticket joined, the active teams in one more query
    q = (select(*_LIST_COLUMNS, _ORIGINAL.c.ticket.label("duplicate_of_ticket"))
         .outerjoin(_ORIGINAL, _ORIGINAL.c.id == IncidentRow.duplicate_of_id)
         .order_by(IncidentRow.reported_at.desc(), IncidentRow.id.desc()))
    if status:
        try:
            q = q.where(IncidentRow.status == Status(status).value)
        except ValueError:
            raise InvalidInput(f"Status tidak dikenal: {status!r}",
                               f"Unknown status: {status!r}",
                               choices=[x.value for x in Status]) from None
    if category:
        services.categories.get(category)
        q = q.where(IncidentRow.category == category)
    if kelurahan:
        q = q.where(IncidentRow.kelurahan_code == kelurahan)
    if open_only or overdue_only:
        q = q.where(IncidentRow.status.in_(OPEN))
    if overdue_only:
        q = q.where(IncidentRow.on_scene_at.is_(None))
    if since is not None:
        if since.tzinfo is None:
            raise InvalidInput("'since' harus berzona waktu", "'since' must have a timezone")
        q = q.where(IncidentRow.reported_at >= since)
    if actor.role == UserRole.TEAM_MEMBER:
        q = q.where(IncidentRow.id.in_(
            select(AssignmentRow.incident_id).where(AssignmentRow.team_code == actor.team_code,
                                                    AssignmentRow.active.is_(True))))
    with services.db.session() as s:
        rows = [ListedIncident(r) for r in s.execute(
            q.limit(limit if not overdue_only else 5000))]
        if overdue_only:
            rows = [r for r in rows if timing(services.categories, r, now)["overdue"]]
            rows = rows[:limit]
        teams = _active_teams(s, [r.id for r in rows])
        out = []
        for row in rows:
            row.assignments = teams.get(row.id, ())
            v = incident_view(s, services.categories, row, actor, now, full=False)
            v["teams"] = sorted(assigned_teams(row))
            out.append(v)
        return out


_LIST_COLUMNS = tuple(c for c in IncidentRow.__table__.c if c.key != "geom")
_ORIGINAL = IncidentRow.__table__.alias("original")
_ACTIVE_BY_INCIDENT = (select(AssignmentRow.incident_id, AssignmentRow.team_code)
                       .where(AssignmentRow.active.is_(True)))


class _Assigned:
    __slots__ = ("team_code",)
    active = True

    def __init__(self, team_code: str) -> None:
        self.team_code = team_code


class ListedIncident:
    """A listed case: the row's columns as attributes (what :func:`incident_view` reads
    of an :class:`IncidentRow`), its active assignments and the original's ticket."""

    __slots__ = (*(c.key for c in _LIST_COLUMNS), "duplicate_of_ticket", "assignments")

    def __init__(self, row) -> None:
        for k, v in row._mapping.items():
            setattr(self, k, v)
        self.assignments = ()


def _active_teams(s, ids: list[int]) -> dict[int, list[_Assigned]]:
    out: dict[int, list[_Assigned]] = {}
    for start in range(0, len(ids), 1000):  # bounded IN lists
        for incident_id, code in s.execute(_ACTIVE_BY_INCIDENT.where(
                AssignmentRow.incident_id.in_(ids[start:start + 1000]))):
            out.setdefault(incident_id, []).append(_Assigned(code))
    return out


def overdue_incidents(services, actor: Actor, *, now: datetime | None = None
                      ) -> list[dict[str, Any]]:
    """Open cases with no team on scene past their target (category/priority), most
    overdue first."""
    rows = list_incidents(services, actor, overdue_only=True, limit=2000, now=now)
    return sorted(rows, key=lambda v: -(v.get("overdue_by_s") or 0))


def audit_log(services, actor: Actor, ticket: str) -> dict[str, Any]:
    """Who did what when, and the time each step took."""
    actor.require(AUDITORS, "melihat jejak audit", "see the audit trail")
    with services.db.session() as s:
        row = incident_row(s, ticket)
        entries = audit.entries(s, incident_id=row.id, limit=5000)
        from geo_sigap.storage.incidents import to_incident

        durations = to_incident(row, with_children=False).step_durations()
    return {"ticket": ticket, "durations": durations, "entries": [
        {"at": e.at.isoformat(), "actor": e.actor, "actor_role": e.actor_role,
         "action": e.action, "from_status": e.from_status, "to_status": e.to_status,
         "details": e.details} for e in entries]}


def my_assignments(services, actor: Actor, *, now: datetime | None = None
                   ) -> list[dict[str, Any]]:
    """A team member's open assignments, with the assignment message."""
    if actor.role != UserRole.TEAM_MEMBER or not actor.team_code:
        raise PermissionDenied("Hanya untuk anggota tim", "Team members only")
    now = now or utcnow()
    rows = list_incidents(services, actor, open_only=True, limit=500, now=now)
    with services.db.session() as s:
        for v in rows:
            row = incident_row(s, v["ticket"])
            mine = next((a for a in row.assignments
                         if a.active and a.team_code == actor.team_code), None)
            v["my_assignment"] = None if mine is None else {
                "kind": mine.kind, "assigned_at": mine.assigned_at.isoformat(),
                "eta_s": mine.eta_s, "message": mine.message}
            # what step 6 still needs from this team (its reports since the last rework)
            from geo_sigap.dispatch.workflow import last_rework_at

            since = last_rework_at(s, row)
            reps = [r for r in row.reports if r.team_code == actor.team_code
                    and (since is None or r.created_at >= since)]
            v["my_reports"] = len(reps)
            v["my_photos"] = sum(len(r.attachments) for r in reps)
            try:
                v["report_photo_required"] = services.categories.get(
                    row.category).report_photo_required
            except Exception:  # noqa: BLE001 - a category removed from the table since
                v["report_photo_required"] = False
    return rows


def public_status(services, ticket: str) -> dict[str, Any]:
    """The citizen's view of a ticket (no personal data); ``public_note``: the closing
    note the coordinator wrote for the public when resolving."""
    ticket = (ticket or "").strip().upper()
    with services.db.session() as s:
        row = s.scalar(select(IncidentRow).where(IncidentRow.ticket == ticket))
        if row is None:
            raise IncidentNotFound(f"Tiket {ticket} tidak ditemukan",
                                   f"Ticket {ticket} not found", ticket=ticket)
        out = public_view(services.categories, row)
        notes = [e.details.get("public_note") for e in audit.entries(s, incident_id=row.id,
                                                                        limit=5000)
                 if e.action == "resolve"]
        out["public_note"] = (notes[-1] or None) if notes and row.status == "selesai" \
            else None
        return out


def teams_view(services, actor: Actor, *, now: datetime | None = None
               ) -> list[dict[str, Any]]:
    """Teams with role, status, position and its age (seconds)."""
    actor.require(STAFF, "melihat tim", "see teams")
    now = now or utcnow()
    stale = timedelta(minutes=services.settings.stale_position_minutes)
    with services.db.session() as s:
        teams = list_teams(s)
    out = []
    for t in teams:
        age = (now - t.last_position_at).total_seconds() if t.last_position_at else None
        pos, is_stale = t.position_at(now, stale)
        out.append({
            "code": t.code, "name": t.name, "role": t.role.value, "role_label": t.role.label,
            "vehicle": t.vehicle.value, "status": t.status.value,
            "phone": t.phone if actor.role != UserRole.PLANNER else None,
            "post": list(t.post), "area_codes": list(t.area_codes),
            "last_position": list(t.last_position) if t.last_position else None,
            "last_position_at": t.last_position_at.isoformat() if t.last_position_at else None,
            "position_age_s": age, "position": list(pos), "position_stale": is_stale})
    return out


def route_for(services, actor: Actor, ticket: str, team_code: str, *,
              now: datetime | None = None) -> dict[str, Any]:
    """The team's road route to the incident (GeoJSON Feature, distance_m, eta_s)."""
    actor.require(STAFF, "melihat rute", "see routes")
    now = now or utcnow()
    with services.db.session() as s:
        row = incident_row(s, ticket)
        _check_team_access(actor, row)
        team = to_team(team_row(s, team_code))
        if row.lon is None:
            raise InvalidInput("Kasus belum punya lokasi", "The case has no location yet")
        lonlat = (row.lon, row.lat)
    route = ports.team_route(services, lonlat, team, now)
    return {"ticket": ticket, "team_code": team_code, "distance_m": round(route.distance_m, 1),
            "eta_s": round(route.eta_s, 1), "is_estimate": route.is_estimate,
            "profile": route.profile, "route": route.to_geojson()}


# A public point is rounded to this many decimals of a degree (3 ≈ 110 m at Jambi).
PUBLIC_DECIMALS = 3


def _kelurahan_points(units) -> dict[str, tuple[float, float]]:
    """Kelurahan code → a point inside it (lon, lat), for places shown only roughly."""
    from geo_sigap.domain.admin import AdminLevel

    out = {}
    for u in units:
        if u.level == AdminLevel.KELURAHAN and u.geometry is not None:
            p = u.geometry.representative_point()
            out[u.code] = (round(p.x, 5), round(p.y, 5))
    return out


def public_nearby(services, lon: float | None = None, lat: float | None = None, *,
                  radius_m: float = 2000, days: int = 14, limit: int = 300,
                  now: datetime | None = None) -> dict[str, Any]:
    """Recent reports for the public map (no sign-in), newest first.

    Each: ``category, category_name(_en), icon, status, status_label(_en), kelurahan,
    reported_on`` (date, WIB), ``lon, lat`` and ``approximate``: ``"area"`` (the
    kelurahan's centre, for categories with ``public_exact = false`` such as pekat and
    ODGJ) or ``"rounded"`` (to ~110 m). No ticket, text, address or reporter. Rejected
    reports and duplicates are left out. (lon, lat) EPSG:4326; ``radius_m`` metres.
    """
    from geo_sigap.dispatch.intake import _metres
    from geo_sigap.dispatch.whatsapp import WIB

    now = now or utcnow()
    centre = None
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            raise InvalidInput("lon dan lat harus diisi bersama", "lon and lat go together")
        from geo_sigap.domain.coordinates import check_lonlat

        cp = check_lonlat(lon, lat)
        centre = (cp.lon, cp.lat)
    kel_points = _kelurahan_points(services.units)
    q = (select(IncidentRow.category, IncidentRow.status, IncidentRow.lon, IncidentRow.lat,
                IncidentRow.kelurahan_code, IncidentRow.placement, IncidentRow.reported_at)
         .where(IncidentRow.reported_at >= now - timedelta(days=days),
                IncidentRow.status != Status.DITOLAK.value,
                IncidentRow.duplicate_of_id.is_(None), IncidentRow.lon.is_not(None))
         .order_by(IncidentRow.reported_at.desc()).limit(5000))
    items = []
    with services.db.session() as s:
        rows = s.execute(q).all()
    for cat_code, status, x, y, kel_code, placement, at in rows:
        if centre is not None and _metres((x, y), centre) > radius_m:
            continue
        try:
            cat = services.categories.get(cat_code)
        except Exception:  # noqa: BLE001 - a category removed since
            continue
        if cat.public_exact:
            px, py, approx = round(x, PUBLIC_DECIMALS), round(y, PUBLIC_DECIMALS), "rounded"
        elif kel_code in kel_points:
            (px, py), approx = kel_points[kel_code], "area"
        else:
            continue  # no area to show it by: not on the public map
        st = Status(status)
        items.append({
            "category": cat.code, "category_name": cat.name, "category_name_en": cat.name_en,
            "icon": cat.icon, "status": st.value, "status_label": st.label,
            "status_label_en": st.label_for("en"),
            "kelurahan": (placement or {}).get("kelurahan_name"),
            "reported_on": at.astimezone(WIB).date().isoformat(),
            "lon": px, "lat": py, "approximate": approx})
        if len(items) >= limit:
            break
    return {"days": days, "count": len(items), "items": items}


def public_places(services, q: str, *, limit: int = 5) -> dict[str, Any]:
    """Forward-geocoded candidates for a citizen's address/landmark text (no personal
    data: the gazetteer and the area's names only)."""
    found = ports.search_places(services, q, limit=limit)
    out = []
    for c in found:
        place = (c.get("placement") or {}).get("description")
        out.append({"label": c.get("label"), "lon": c.get("lon"), "lat": c.get("lat"),
                    "level": c.get("level"), "place": place})
    return {"query": q, "candidates": out}
