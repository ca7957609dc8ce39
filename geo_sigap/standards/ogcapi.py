"""OGC API – Features, Part 1 (read-only): collections and their items as GeoJSON.

Collections (all CRS84 lon/lat):

* ``boundaries-<level>`` — administrative units per level (kecamatan, kelurahan, rw, rt);
  anyone.
* ``incidents-kelurahan`` — incident counts per kelurahan (polygons; ``datetime``
  filters the report time); anyone.
* ``incidents`` — one point per incident, for staff tokens only. Roles in
  :data:`EXACT_ROLES` get the exact point and the ticket; other staff (team members) get a
  pseudonymous id and the point moved to the centre of its ~280 m grid cell (bbox filters
  apply to the moved point, so the exact one cannot be narrowed down), and categories
  with ``public_exact = false`` (pekat, ODGJ) are left out. Never a description, an
  address, a name or a phone number.
* ``team-posts`` — the teams' posts (no phone numbers); staff.
* ``hotspots`` — Gi* hot/cold spots per kelurahan of a quarter (``quarter`` parameter,
  default: the latest); staff.

Items take ``bbox`` (minx,miny,maxx,maxy CRS84), ``datetime`` (an instant or an interval
``a/b``, ``../b``, ``a/..``), ``limit`` (1–1000, default 100) and ``offset``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import box, mapping, shape
from sqlalchemy import func, select

from geo_sigap.dispatch.actors import STAFF, Actor
from geo_sigap.domain.admin import AdminLevel
from geo_sigap.domain.lifecycle import Status, UserRole
from geo_sigap.errors import InvalidInput, NotAuthenticated, NotFound
from geo_sigap.storage.tables import IncidentRow

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
EXACT_ROLES = frozenset({UserRole.OPERATOR, UserRole.DISPATCHER, UserRole.COORDINATOR,
                         UserRole.PLANNER, UserRole.ADMIN})
GRID_DEG = 0.0025  # ~280 m at the equator
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_LEVELS = {AdminLevel.KECAMATAN: "kecamatan", AdminLevel.KELURAHAN: "kelurahan",
           AdminLevel.RW: "rw", AdminLevel.RT: "rt"}


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    description: str
    staff_only: bool = False
    temporal: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    quarter: str | None = None


# -- parameters -------------------------------------------------------------------------

def parse_query(bbox: str | None, datetime_: str | None, limit: int | str | None,
                offset: int | str | None, quarter: str | None = None) -> Query:
    """Check the items parameters; :class:`InvalidInput` (400 at the edge) when wrong."""
    box_ = None
    if bbox:
        try:
            parts = [float(x) for x in bbox.split(",")]
        except ValueError:
            raise InvalidInput("bbox harus minx,miny,maxx,maxy", "bbox must be "
                               "minx,miny,maxx,maxy", field="bbox") from None
        if len(parts) == 6:  # with heights
            parts = [parts[0], parts[1], parts[3], parts[4]]
        if len(parts) != 4 or not all(math.isfinite(p) for p in parts) or \
                parts[1] > parts[3]:
            raise InvalidInput("bbox harus minx,miny,maxx,maxy", "bbox must be "
                               "minx,miny,maxx,maxy", field="bbox")
        box_ = tuple(parts)
    start = end = None
    if datetime_:
        start, end = _interval(datetime_)
    try:
        lim = DEFAULT_LIMIT if limit in (None, "") else int(limit)
        off = int(offset or 0)
    except ValueError:
        raise InvalidInput("limit dan offset harus bilangan bulat",
                           "limit and offset must be integers", field="limit") from None
    if lim < 1:
        raise InvalidInput("limit minimal 1", "limit must be at least 1", field="limit")
    if off < 0:
        raise InvalidInput("offset tidak boleh negatif", "offset cannot be negative",
                           field="offset")
    return Query(box_, start, end, min(lim, MAX_LIMIT), off, quarter)


def _interval(value: str) -> tuple[datetime | None, datetime | None]:
    def one(v: str) -> datetime | None:
        v = v.strip()
        if v in ("", ".."):
            return None
        try:
            at = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"datetime tidak sah: {v!r} (RFC 3339)",
                               f"Invalid datetime: {v!r} (RFC 3339)", field="datetime") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at
    if "/" in value:
        a, b = value.split("/", 1)
        return one(a), one(b)
    at = one(value)
    return at, at


# -- collections ------------------------------------------------------------------------

def collections(services: Any, actor: Actor) -> list[Collection]:
    """The collections ``actor`` may read (anonymous: boundaries and aggregates)."""
    levels = sorted({u.level for u in services.units if u.level in _LEVELS})
    out = [Collection(f"boundaries-{_LEVELS[lv]}", f"Batas wilayah: {lv.label}",
                      f"Batas administratif tingkat {lv.label} (kode Kemendagri)")
           for lv in levels]
    out.append(Collection("incidents-kelurahan", "Jumlah kejadian per kelurahan",
                          "Jumlah laporan per kelurahan (semua / masih terbuka / per "
                          "kategori) dalam rentang datetime", temporal=True))
    if actor.role in STAFF:
        exact = actor.role in EXACT_ROLES
        out += [
            Collection("incidents", "Kejadian", "Satu titik per laporan" + (
                "" if exact else " (titik digeser ke pusat sel ±280 m, id samaran; "
                "kategori sensitif tidak ditampilkan)") + "; tanpa data pribadi",
                staff_only=True, temporal=True),
            Collection("team-posts", "Pos tim", "Pos setiap tim lapangan (tanpa nomor "
                       "telepon)", staff_only=True),
            Collection("hotspots", "Titik panas Gi* per kelurahan",
                       "Hotspot Gi* (FDR) per kelurahan untuk satu triwulan (parameter "
                       "quarter, mis. 2026Q3; bawaan: semua data)", staff_only=True),
        ]
    return out


def collection(services: Any, actor: Actor, collection_id: str) -> Collection:
    for c in collections(services, actor):
        if c.id == collection_id:
            return c
    staff_ids = {"incidents", "team-posts", "hotspots"}
    if collection_id in staff_ids and actor.role not in STAFF:
        raise NotAuthenticated("Koleksi ini memerlukan token API petugas",
                               "This collection needs a staff API token")
    raise NotFound(f"Koleksi {collection_id!r} tidak ada", f"No collection {collection_id!r}")


def extent(services: Any) -> list[float] | None:
    bbox = services.coverage_bbox
    return [float(x) for x in bbox] if bbox else None


# -- items ------------------------------------------------------------------------------

def items(services: Any, actor: Actor, collection_id: str, q: Query
          ) -> tuple[list[dict[str, Any]], int]:
    """``(features of the page, number matched)`` of a collection."""
    c = collection(services, actor, collection_id)
    if c.id == "incidents":
        if actor.role in EXACT_ROLES:
            return _incidents_exact(services, q)
        return _incidents_pseudonymous(services, q)
    if c.id == "incidents-kelurahan":
        return _page(_by_kelurahan(services, q), q)
    if c.id == "team-posts":
        return _page(_team_posts(services, q), q)
    if c.id == "hotspots":
        return _page(_hotspots(services, q), q)
    level = next(lv for lv, name in _LEVELS.items() if c.id == f"boundaries-{name}")
    return _page(_boundaries(services, level, q), q)


def item(services: Any, actor: Actor, collection_id: str, feature_id: str) -> dict[str, Any]:
    c = collection(services, actor, collection_id)
    if c.id == "incidents" and actor.role in EXACT_ROLES:
        with services.db.session() as s:
            row = s.scalar(select(IncidentRow).where(IncidentRow.ticket == feature_id,
                                                     IncidentRow.lon.is_not(None)))
            if row is not None:
                return _incident_feature(services, row)
    else:
        feats, _ = items(services, actor, collection_id, Query(limit=10 ** 9))
        for f in feats:
            if str(f["id"]) == feature_id:
                return f
    raise NotFound(f"Fitur {feature_id!r} tidak ada di {collection_id}",
                   f"No feature {feature_id!r} in {collection_id}")


def _page(feats: list[dict[str, Any]], q: Query) -> tuple[list[dict[str, Any]], int]:
    if q.bbox is not None:
        b = box(*q.bbox)
        feats = [f for f in feats if f["geometry"] and shape(f["geometry"]).intersects(b)]
    return feats[q.offset:q.offset + q.limit], len(feats)


def _cat_name(services: Any, code: str) -> str:
    try:
        return services.categories.get(code).name
    except Exception:  # noqa: BLE001
        return code


def _incident_props(services: Any, row: IncidentRow) -> dict[str, Any]:
    return {"category": row.category, "category_name": _cat_name(services, row.category),
            "status": row.status, "priority": row.priority,
            "reported_at": row.reported_at.isoformat(),
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
            "kelurahan_code": row.kelurahan_code}


def _incident_feature(services: Any, row: IncidentRow) -> dict[str, Any]:
    return {"type": "Feature", "id": row.ticket,
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "properties": {"ticket": row.ticket, **_incident_props(services, row),
                           "channel": row.channel, "rw_code": row.rw_code,
                           "rt_code": row.rt_code,
                           "verified_at": row.verified_at.isoformat() if row.verified_at
                           else None,
                           "on_scene_at": row.on_scene_at.isoformat() if row.on_scene_at
                           else None}}


def _incident_filter(stmt, q: Query, *, with_bbox: bool):
    stmt = stmt.where(IncidentRow.lon.is_not(None), IncidentRow.lat.is_not(None))
    if q.start is not None:
        stmt = stmt.where(IncidentRow.reported_at >= q.start)
    if q.end is not None:
        stmt = stmt.where(IncidentRow.reported_at <= q.end)
    if with_bbox and q.bbox is not None:
        stmt = stmt.where(IncidentRow.lon.between(q.bbox[0], q.bbox[2]),
                          IncidentRow.lat.between(q.bbox[1], q.bbox[3]))
    return stmt


def _incidents_exact(services: Any, q: Query) -> tuple[list[dict[str, Any]], int]:
    with services.db.session() as s:
        matched = s.scalar(_incident_filter(select(func.count(IncidentRow.id)), q,
                                            with_bbox=True))
        rows = s.scalars(_incident_filter(select(IncidentRow), q, with_bbox=True)
                         .order_by(IncidentRow.reported_at, IncidentRow.id)
                         .offset(q.offset).limit(q.limit))
        return [_incident_feature(services, r) for r in rows], int(matched or 0)


def _snap(v: float) -> float:
    return round((math.floor(v / GRID_DEG) + 0.5) * GRID_DEG, 6)


def _cells(lo: float, hi: float) -> tuple[float, float]:
    """The raw-coordinate range ``[a, b)`` whose cell centres fall in ``[lo, hi]``."""
    k0 = math.ceil(lo / GRID_DEG - 0.5)
    k1 = math.floor(hi / GRID_DEG - 0.5)
    return k0 * GRID_DEG, (k1 + 1) * GRID_DEG


def _incidents_pseudonymous(services: Any, q: Query) -> tuple[list[dict[str, Any]], int]:
    """Grid-snapped points with a keyed-hash id; ``bbox`` applies to the snapped point
    (translated to a range of raw coordinates, so filtering and paging stay in SQL)."""
    hidden = [c.code for c in services.categories if not c.public_exact]
    secret = (services.settings.secret_key or "geo-sigap").encode()
    t = IncidentRow.__table__.c

    def where(stmt):
        stmt = _incident_filter(stmt, replace(q, bbox=None), with_bbox=False)
        if hidden:
            stmt = stmt.where(t.category.not_in(hidden))
        if q.bbox is not None:
            x0, x1 = _cells(q.bbox[0], q.bbox[2])
            y0, y1 = _cells(q.bbox[1], q.bbox[3])
            stmt = stmt.where(t.lon >= x0, t.lon < x1, t.lat >= y0, t.lat < y1)
        return stmt

    cols = select(t.ticket, t.category, t.status, t.priority, t.reported_at, t.resolved_at,
                  t.kelurahan_code, t.lon, t.lat)
    with services.db.session() as s:
        matched = int(s.scalar(where(select(func.count(t.id)))) or 0)
        rows = s.execute(where(cols).order_by(t.reported_at, t.id)
                         .offset(q.offset).limit(q.limit)).all()
    names = {c.code: c.name for c in services.categories}
    out = []
    for ticket, cat, status, prio, reported, resolved, kel, lon, lat in rows:
        reported = reported if reported.tzinfo else reported.replace(tzinfo=UTC)
        out.append({
            "type": "Feature",
            "id": hmac.new(secret, ticket.encode(), hashlib.sha256).hexdigest()[:16],
            "geometry": {"type": "Point", "coordinates": [_snap(lon), _snap(lat)]},
            "properties": {
                "category": cat, "category_name": names.get(cat, cat), "status": status,
                "priority": prio,
                "reported_at": reported.replace(minute=0, second=0,
                                                microsecond=0).isoformat(),
                "resolved_at": (resolved if resolved.tzinfo else resolved.replace(
                    tzinfo=UTC)).isoformat() if resolved else None,
                "kelurahan_code": kel}})
    return out, matched


def _boundaries(services: Any, level: AdminLevel, q: Query) -> list[dict[str, Any]]:
    return [{"type": "Feature", "id": u.code,
             "geometry": mapping(u.geometry) if u.geometry is not None else None,
             "properties": {"code": u.code, "name": u.name, "level": _LEVELS[level],
                            "parent_code": u.parent_code, "population": u.population}}
            for u in services.units if u.level == level]


def _by_kelurahan(services: Any, q: Query) -> list[dict[str, Any]]:
    stmt = select(IncidentRow.kelurahan_code, IncidentRow.category, IncidentRow.status,
                  func.count(IncidentRow.id)).group_by(
        IncidentRow.kelurahan_code, IncidentRow.category, IncidentRow.status)
    if q.start is not None:
        stmt = stmt.where(IncidentRow.reported_at >= q.start)
    if q.end is not None:
        stmt = stmt.where(IncidentRow.reported_at <= q.end)
    codes = [c.code for c in services.categories]
    counts: dict[str, dict[str, int]] = {}
    with services.db.session() as s:
        for kel, cat, status, n in s.execute(stmt):
            if kel is None:
                continue
            d = counts.setdefault(kel, {"count": 0, "open_count": 0})
            d["count"] += n
            d["open_count"] += n if Status(status).is_open else 0
            d[f"n_{cat}"] = d.get(f"n_{cat}", 0) + n
    out = []
    for u in services.units:
        if u.level != AdminLevel.KELURAHAN:
            continue
        d = counts.get(u.code, {})
        props = {"code": u.code, "name": u.name, "count": d.get("count", 0),
                 "open_count": d.get("open_count", 0),
                 **{f"n_{c}": d.get(f"n_{c}", 0) for c in codes}}
        out.append({"type": "Feature", "id": u.code,
                    "geometry": mapping(u.geometry) if u.geometry is not None else None,
                    "properties": props})
    return out


def _team_posts(services: Any, q: Query) -> list[dict[str, Any]]:
    from geo_sigap.dispatch.ports import current_teams

    return [{"type": "Feature", "id": t.code,
             "geometry": {"type": "Point", "coordinates": [t.post[0], t.post[1]]},
             "properties": {"code": t.code, "name": t.name, "role": t.role.value,
                            "vehicle": t.vehicle.value, "status": t.status.value,
                            "area_codes": ";".join(t.area_codes)}}
            for t in current_teams(services)]


def _hotspots(services: Any, q: Query) -> list[dict[str, Any]]:
    fc = services.analytics.hotspots(quarter=q.quarter, level="kelurahan", permutations=999)
    out = []
    for f in fc.get("features", []):
        props = dict(f.get("properties") or {})
        out.append({"type": "Feature", "id": props.get("code"), "geometry": f.get("geometry"),
                    "properties": props})
    return out


def openapi(base: str) -> dict[str, Any]:
    """An OpenAPI 3.0 description of these endpoints (conformance class oas30)."""
    def get(summary: str, params: list[str] = (), media: str = "application/json"):
        return {"get": {"summary": summary, "parameters": [{"$ref": f"#/components/"
                                                           f"parameters/{p}"} for p in params],
                        "responses": {"200": {"description": "OK",
                                              "content": {media: {}}},
                                      "400": {"description": "Invalid parameter"},
                                      "404": {"description": "Not found"}}}}
    string = {"type": "string"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "GeoSIGAP OGC API – Features", "version": "1.0"},
        "servers": [{"url": base}],
        "paths": {
            "/": get("Landing page"),
            "/conformance": get("Conformance classes"),
            "/collections": get("Collections"),
            "/collections/{collectionId}": get("One collection", ["collectionId"]),
            "/collections/{collectionId}/items": get(
                "Features", ["collectionId", "bbox", "datetime", "limit", "offset", "quarter"],
                "application/geo+json"),
            "/collections/{collectionId}/items/{featureId}": get(
                "One feature", ["collectionId", "featureId"], "application/geo+json"),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "collectionId": {"name": "collectionId", "in": "path", "required": True,
                                 "schema": string},
                "featureId": {"name": "featureId", "in": "path", "required": True,
                              "schema": string},
                "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form",
                         "explode": False, "schema": {"type": "array", "minItems": 4,
                                                      "maxItems": 6,
                                                      "items": {"type": "number"}}},
                "datetime": {"name": "datetime", "in": "query", "required": False,
                             "schema": string},
                "limit": {"name": "limit", "in": "query", "required": False,
                          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                     "default": DEFAULT_LIMIT}},
                "offset": {"name": "offset", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 0, "default": 0}},
                "quarter": {"name": "quarter", "in": "query", "required": False,
                            "schema": string},
            },
        },
        "security": [{}, {"bearer": []}],
    }
