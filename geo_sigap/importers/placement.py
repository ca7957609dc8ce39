"""Placing many points in their administrative units, for importers."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.domain.incidents import Placement

_FIELDS = {
    AdminLevel.RT: "rt", AdminLevel.RW: "rw", AdminLevel.KELURAHAN: "kelurahan",
    AdminLevel.KECAMATAN: "kecamatan", AdminLevel.KABKOTA: "kabkota",
}


def placer_from_db(db):
    """A ``placer(lons, lats) -> list[Placement]`` over the units in ``db``."""
    from geo_sigap.storage.units import load_units

    with db.session() as s:
        units = load_units(s)
    return placer_from_units(units)


def placer_from_units(units):
    """Point-in-polygon per level with geopandas' spatial index (border: smallest code)."""
    layers = {}
    for level in _FIELDS:
        us = [u for u in units if u.level == level and u.geometry is not None]
        if us:
            layers[level] = gpd.GeoDataFrame(
                {"code": [u.code for u in us], "name": [u.name for u in us]},
                geometry=[u.geometry for u in us], crs="EPSG:4326",
            )

    def place(lons: np.ndarray, lats: np.ndarray) -> Sequence[Placement]:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
        out = [Placement() for _ in range(len(pts))]
        for level, layer in layers.items():
            j = gpd.sjoin(pts, layer, predicate="intersects", how="inner")
            j = j.sort_values("code").groupby(level=0).first()
            f = _FIELDS[level]
            for idx, code, name in zip(j.index, j["code"], j["name"], strict=True):
                setattr(out[idx], f"{f}_code", code)
                setattr(out[idx], f"{f}_name", name)
        for p in out:
            if p.kelurahan_code is None:
                p.flags = ("outside_coverage",)
        return out

    return place
