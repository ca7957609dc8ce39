"""Simplification of admin polygons for web maps, per level (EPSG:4326, degrees)."""

from __future__ import annotations

import shapely

from geo_sigap.domain.admin import AdminLevel

# Simplification tolerance per level, degrees (EPSG:4326); 1e-5° ≈ 1.1 m at Jambi.
TOLERANCE_DEG = {
    AdminLevel.PROVINSI: 5e-4, AdminLevel.KABKOTA: 2e-4, AdminLevel.KECAMATAN: 1e-4,
    AdminLevel.KELURAHAN: 4e-5, AdminLevel.RW: 2e-5, AdminLevel.RT: 1e-5,
}
DECIMALS = 6  # ≈ 0.1 m


def simplified(geoms, level: AdminLevel, tol: float | None = None):
    """Coverage-preserving simplification of one level's polygons (EPSG:4326, degrees);
    ``tol`` defaults to the level's tolerance."""
    tol = TOLERANCE_DEG[level] if tol is None else tol
    if not len(geoms):
        return []
    arr = shapely.make_valid(shapely.from_wkb(shapely.to_wkb(list(geoms))))
    try:
        simple = shapely.coverage_simplify(arr, tol, simplify_boundary=True)
    except Exception:  # not a valid coverage (overlaps): simplify one by one
        simple = shapely.simplify(arr, tol, preserve_topology=True)
    simple = shapely.set_precision(simple, 10 ** -DECIMALS)
    empty = shapely.is_empty(simple)
    simple[empty] = arr[empty]
    return simple
