"""Incidents and hotspot results as GeoPackage (EPSG:4326) or CSV, for QGIS and
spreadsheets.

What an incident export holds depends on the audience (``audience``):

* ``staf`` (default) — exact points, tickets, category, status, SOP step times,
  RT/RW/kelurahan; no description, address, name or phone.
* ``publik`` — what the public may see (as Open311): points rounded to 3 decimals
  (~110 m) and none for categories with ``public_exact = false``.

Personal data (description, address, reporter name and phone) is added only with
``personal_data=True`` **and** the username of an active admin, and the export is written
to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from geo_sigap.dispatch.whatsapp import WIB
from geo_sigap.domain.incidents import AuditEntry
from geo_sigap.domain.lifecycle import UserRole
from geo_sigap.errors import InvalidInput, PermissionDenied
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import TIMESTAMPS, placement_from_row
from geo_sigap.storage.tables import IncidentRow, UserRow, utcnow

FORMATS = ("gpkg", "csv")
AUDIENCES = ("staf", "publik")
HOTSPOT_LEVELS = ("kelurahan", "rw", "rt", "hex")


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    rows: int
    layer: str
    personal_data: bool = False


def _check(fmt: str, out: Path) -> str:
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInput(f"Format tidak dikenal: {fmt!r} (gpkg atau csv)",
                           f"Unknown format: {fmt!r} (gpkg or csv)")
    out.parent.mkdir(parents=True, exist_ok=True)
    return fmt


def _window(quarter: str | None) -> tuple[datetime | None, datetime | None]:
    if not quarter:
        return None, None
    from geo_sigap.analytics.frames import Quarter

    q = Quarter.parse(quarter)
    return q.start.to_pydatetime(), q.end.to_pydatetime()


def _admin(services: Any, username: str | None) -> str:
    with services.db.session() as s:
        user = s.scalar(select(UserRow).where(UserRow.username == (username or "")))
    if user is None or not user.active or user.role != UserRole.ADMIN.value:
        raise PermissionDenied(
            "Data pribadi hanya diekspor atas permintaan admin aktif (--admin NAMA)",
            "Personal data is exported only at the request of an active admin (--admin NAME)")
    return user.username


def _wib(t: datetime | None) -> str | None:
    return t.astimezone(WIB).isoformat() if t else None


def incident_records(services: Any, *, quarter: str | None = None, audience: str = "staf",
                     personal_data: bool = False) -> list[dict[str, Any]]:
    """The rows of an incident export (``lon``/``lat`` may be ``None``), oldest first."""
    if audience not in AUDIENCES:
        raise InvalidInput(f"Audiens tidak dikenal: {audience!r} (staf atau publik)",
                           f"Unknown audience: {audience!r} (staf or publik)")
    if personal_data and audience != "staf":
        raise InvalidInput("Data pribadi tidak pernah masuk ekspor publik",
                           "Personal data never goes into a public export")
    start, end = _window(quarter)
    q = select(IncidentRow).order_by(IncidentRow.reported_at, IncidentRow.id)
    if start is not None:
        q = q.where(IncidentRow.reported_at >= start, IncidentRow.reported_at < end)
    exact_cat = {c.code: c.public_exact for c in services.categories}
    names = {c.code: c.name for c in services.categories}
    out = []
    with services.db.session() as s:
        for r in s.scalars(q):
            p = placement_from_row(r)
            lon, lat = r.lon, r.lat
            if audience == "publik" and lon is not None:
                if exact_cat.get(r.category, False):
                    lon, lat = round(lon, 3), round(lat, 3)
                else:
                    lon = lat = None
            rec: dict[str, Any] = {
                "ticket": r.ticket, "category": r.category,
                "category_name": names.get(r.category, r.category), "status": r.status,
                "priority": r.priority, "channel": r.channel,
                **{k: _wib(getattr(r, k)) for k in TIMESTAMPS},
                "kecamatan_code": p.kecamatan_code, "kelurahan_code": p.kelurahan_code,
                "kelurahan_name": p.kelurahan_name, "lon": lon, "lat": lat}
            if audience == "staf":
                rec.update(rw_code=p.rw_code, rt_code=p.rt_code)
            if personal_data:
                rec.update(description=r.description, address_text=r.address_text,
                           reporter_name=r.reporter_name, reporter_phone=r.reporter_phone)
            out.append(rec)
    return out


def export_incidents(services: Any, out: Path, *, fmt: str = "gpkg",
                     quarter: str | None = None, audience: str = "staf",
                     personal_data: bool = False, admin: str | None = None) -> Exported:
    """Write the incidents (of ``quarter``, e.g. ``2026Q3``; all when ``None``) to
    ``out`` as a GeoPackage layer ``incidents`` (points, EPSG:4326) or CSV (``lon``,
    ``lat`` columns)."""
    fmt = _check(fmt, out)
    who = _admin(services, admin) if personal_data else None
    rows = incident_records(services, quarter=quarter, audience=audience,
                            personal_data=personal_data)
    _write_points(rows, out, fmt, "incidents")
    if who is not None:
        from geo_sigap.dispatch._tx import write_session

        with write_session(services.db) as s:
            audit.append(s, AuditEntry(
                at=utcnow(), actor=who, actor_role=UserRole.ADMIN.value,
                action="export_personal_data",
                details={"rows": len(rows), "quarter": quarter, "file": out.name}))
    return Exported(out, len(rows), "incidents", personal_data)


def _write_points(rows: list[dict[str, Any]], out: Path, fmt: str, layer: str) -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    df = pd.DataFrame(rows)
    if fmt == "csv":
        df.to_csv(out, index=False)
        return
    if df.empty:
        df = pd.DataFrame(columns=["ticket", "lon", "lat"])
    geom = [Point(a, b) if a is not None and b is not None and a == a else None
            for a, b in zip(df["lon"], df["lat"], strict=True)]
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")
    out.unlink(missing_ok=True)
    gdf.to_file(out, layer=layer, driver="GPKG", engine="pyogrio")


def export_hotspots(services: Any, out: Path, *, fmt: str = "gpkg",
                    quarter: str | None = None, level: str = "kelurahan",
                    category: str | None = None, permutations: int = 999) -> Exported:
    """Gi* hotspot results (as on the map and in the rakor pack) as a GeoPackage layer
    ``hotspots`` (polygons) or CSV (with the centroid's ``lon``/``lat``)."""
    import geopandas as gpd

    fmt = _check(fmt, out)
    if level not in HOTSPOT_LEVELS:
        raise InvalidInput(f"Tingkat tidak dikenal: {level!r} ({', '.join(HOTSPOT_LEVELS)})",
                           f"Unknown level: {level!r} ({', '.join(HOTSPOT_LEVELS)})")
    fc = services.analytics.hotspots(category, quarter, None, None, level, 250.0,
                                     permutations)
    feats = fc.get("features", [])
    gdf = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326") if feats else \
        gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    gdf["quarter"] = quarter or "semua"
    if fmt == "csv":
        c = gdf.geometry.representative_point()
        df = gdf.drop(columns="geometry")
        df["lon"], df["lat"] = c.x.round(6), c.y.round(6)
        df.to_csv(out, index=False)
    else:
        out.unlink(missing_ok=True)
        gdf.to_file(out, layer="hotspots", driver="GPKG", engine="pyogrio")
    return Exported(out, len(gdf), "hotspots")


EXPORTERS = frozenset({UserRole.PLANNER, UserRole.COORDINATOR, UserRole.ADMIN})
MEDIA_TYPES = {"gpkg": "application/geopackage+sqlite3", "csv": "text/csv; charset=utf-8"}


def export_file(services: Any, actor: Any, what: str, folder: Path, *, fmt: str = "gpkg",
                quarter: str | None = None, audience: str = "staf",
                level: str = "kelurahan") -> tuple[Exported, str, str]:
    """For the planner page: ``what`` (``incidents`` or ``hotspots``) written into
    ``folder``; ``(result, media type, download name)``. Planners, coordinators and admins
    only; never personal data (that needs the CLI and an admin)."""
    actor.require(EXPORTERS, "mengekspor data", "export data")
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"Format tidak dikenal: {fmt!r} (gpkg atau csv)",
                           f"Unknown format: {fmt!r} (gpkg or csv)")
    if what not in ("incidents", "hotspots"):
        raise InvalidInput(f"Tidak dapat mengekspor {what!r}", f"Cannot export {what!r}")
    name = f"{what}_{quarter or 'semua'}.{fmt}"
    path = folder / name
    if what == "incidents":
        res = export_incidents(services, path, fmt=fmt, quarter=quarter, audience=audience)
    else:
        res = export_hotspots(services, path, fmt=fmt, quarter=quarter, level=level)
    return res, MEDIA_TYPES[fmt], name
