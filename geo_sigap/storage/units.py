"""Administrative units in storage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.storage._upsert import upsert_by_code
from geo_sigap.storage.tables import AdminUnitRow


def _multi(geom):
    if geom is None:
        return None
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    return geom


def upsert_units(session: Session, units: Iterable[AdminUnit], *, source: str | None = None
                 ) -> tuple[int, int]:
    """Insert or replace units by code. Returns (inserted, updated). No commit."""

    def fill(row: AdminUnitRow, u: AdminUnit) -> None:
        row.level = int(u.level)
        row.name = u.name
        row.parent_code = u.parent_code
        row.population = u.population
        row.kind = u.kind
        row.attrs = dict(u.attrs)
        row.geom = _multi(u.geometry)
        if u.geometry is not None:
            row.minx, row.miny, row.maxx, row.maxy = (float(v) for v in u.geometry.bounds)
        row.source = source

    return upsert_by_code(session, AdminUnitRow, units, fill)


def load_units(session: Session, levels: Sequence[AdminLevel] | None = None) -> list[AdminUnit]:
    q = select(AdminUnitRow).order_by(AdminUnitRow.level, AdminUnitRow.code)
    if levels:
        q = q.where(AdminUnitRow.level.in_([int(lv) for lv in levels]))
    return [
        AdminUnit(
            code=r.code, level=AdminLevel(r.level), name=r.name, parent_code=r.parent_code,
            geometry=r.geom, population=r.population, kind=r.kind, attrs=dict(r.attrs or {}),
        )
        for r in session.scalars(q)
    ]


def units_frame(session: Session, levels: Sequence[AdminLevel] | None = None):
    """Units as a GeoDataFrame (EPSG:4326): code, name, level, parent_code, population."""
    import geopandas as gpd

    units = load_units(session, levels)
    return gpd.GeoDataFrame(
        {
            "code": [u.code for u in units],
            "name": [u.name for u in units],
            "level": [u.level.name.lower() for u in units],
            "level_no": [int(u.level) for u in units],
            "parent_code": [u.parent_code for u in units],
            "population": [u.population for u in units],
        },
        geometry=[u.geometry for u in units],
        crs="EPSG:4326",
    )


def delete_units(session: Session, codes: Iterable[str]) -> int:
    res = session.execute(delete(AdminUnitRow).where(AdminUnitRow.code.in_(list(codes))))
    return res.rowcount or 0


def coverage_bbox(session: Session) -> tuple[float, float, float, float] | None:
    from sqlalchemy import func

    row = session.execute(
        select(func.min(AdminUnitRow.minx), func.min(AdminUnitRow.miny),
               func.max(AdminUnitRow.maxx), func.max(AdminUnitRow.maxy))
    ).one()
    return None if row[0] is None else tuple(float(v) for v in row)  # type: ignore[return-value]


__all__ = ["upsert_units", "load_units", "units_frame", "delete_units", "coverage_bbox"]
