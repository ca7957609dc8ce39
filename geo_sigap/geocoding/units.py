"""Administrative units as one table for the geocoders.

Accepts a list of :class:`~geo_sigap.domain.admin.AdminUnit` or a GeoDataFrame with
columns ``code, name, level, parent_code, geometry`` (EPSG:4326), any subset of levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_sigap.domain.admin import AdminLevel, AdminUnit, parent_code as _code_parent
from geo_sigap.errors import InvalidInput

#: Level keys used in results, shallow to deep.
LEVEL_KEYS: dict[AdminLevel, str] = {
    AdminLevel.KABKOTA: "kabkota",
    AdminLevel.KECAMATAN: "kecamatan",
    AdminLevel.KELURAHAN: "kelurahan",
    AdminLevel.RW: "rw",
    AdminLevel.RT: "rt",
}


class UnitTable:
    """Units keyed by code: level, name, parent code and geometry (EPSG:4326).

    ``frame`` is indexed by code (columns ``code, name, level`` as int, ``parent_code``,
    ``geometry``, ``polygonal``); look-ups by code use plain dicts (hot path).
    """

    __slots__ = ("frame", "_name", "_level", "_parent", "_anc")

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        self.frame = frame
        codes = frame["code"].tolist()
        self._name = {c: (None if pd.isna(v) else str(v))
                      for c, v in zip(codes, frame["name"].tolist())}
        self._level = {c: AdminLevel(int(v)) for c, v in zip(codes, frame["level"].tolist())}
        self._parent = {c: v for c, v in zip(codes, frame["parent_code"].tolist())
                        if isinstance(v, str) and v}
        self._anc: dict[str, list[str]] = {}

    def name(self, code: str) -> str | None:
        return self._name.get(code)

    def level(self, code: str) -> AdminLevel | None:
        lvl = self._level.get(code)
        if lvl is not None:
            return lvl
        try:
            from geo_sigap.domain.admin import level_of
            return level_of(code)
        except InvalidInput:
            return None

    def parent(self, code: str) -> str | None:
        p = self._parent.get(code)
        if p:
            return p
        try:
            return _code_parent(code)
        except InvalidInput:
            return None

    def ancestors(self, code: str) -> list[str]:
        """Codes above ``code`` (nearest first), from parent codes or code structure."""
        hit = self._anc.get(code)
        if hit is not None:
            return hit
        out: list[str] = []
        seen = {code}
        p = self.parent(code)
        while p and p not in seen:
            out.append(p)
            seen.add(p)
            p = self.parent(p)
        self._anc[code] = out
        return out

    def of_level(self, level: AdminLevel) -> gpd.GeoDataFrame:
        return self.frame[self.frame["level"] == int(level)]


def unit_table(units: Iterable[AdminUnit] | gpd.GeoDataFrame | UnitTable) -> UnitTable:
    """Normalise units into a :class:`UnitTable` (sorted by code, duplicates refused).

    Raises
    ------
    InvalidInput
        Missing columns, unknown levels or duplicate codes.
    """
    if isinstance(units, UnitTable):
        return units
    if isinstance(units, gpd.GeoDataFrame):
        missing = {"code", "name", "level", "geometry"} - set(units.columns)
        if missing:
            raise InvalidInput(
                f"Kolom wilayah tidak lengkap, kurang: {sorted(missing)}",
                f"Unit table lacks columns: {sorted(missing)}",
            )
        gdf = units
        if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
            gdf = gdf.to_crs(4326)
        rows: dict[str, Any] = {
            "code": gdf["code"].astype(str).str.strip().to_numpy(),
            "name": gdf["name"].to_numpy(),
            "level": [int(AdminLevel.parse(v)) for v in gdf["level"]],
            "parent_code": (gdf["parent_code"].to_numpy() if "parent_code" in gdf
                            else [None] * len(gdf)),
        }
        geometry = np.asarray(gdf.geometry.values)
    else:
        lst = list(units)
        rows = {
            "code": [u.code for u in lst], "name": [u.name for u in lst],
            "level": [int(AdminLevel.parse(u.level)) for u in lst],
            "parent_code": [u.parent_code for u in lst],
        }
        geometry = np.asarray([u.geometry for u in lst], dtype=object)
    frame = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geometry), crs=4326)
    frame["parent_code"] = [p if isinstance(p, str) and p.strip() else None
                            for p in frame["parent_code"]]
    dup = frame["code"][frame["code"].duplicated()]
    if len(dup):
        raise InvalidInput(
            f"Kode wilayah ganda: {sorted(set(dup))[:5]}",
            f"Duplicate unit codes: {sorted(set(dup))[:5]}",
        )
    frame = frame.sort_values("code", kind="stable").set_index("code", drop=False)
    frame.index.name = None
    # Only polygonal, non-empty geometry takes part in reverse geocoding.
    geom = frame.geometry.values
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    ok &= np.isin(shapely.get_type_id(geom), [3, 6])  # Polygon, MultiPolygon
    frame["polygonal"] = ok
    return UnitTable(frame)
