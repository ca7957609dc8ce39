"""Data-quality checks for boundary layers: overlaps and gaps between siblings.

Areas are computed in the local UTM zone (metres²). Real RT/RW layers drawn by a
kelurahan often overlap or leave gaps; the report says where, so that a person can fix
the file — the importer does not silently "correct" boundaries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from shapely.strtree import STRtree

MIN_AREA_M2 = 1.0  # slivers smaller than this are floating-point noise


@dataclass
class QualityIssue:
    kind: str  # overlap, gap, missing_code, duplicate_code, repaired_geometry, no_parent
    codes: tuple[str, ...]
    message: str
    area_m2: float | None = None
    lon: float | None = None
    lat: float | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "codes": list(self.codes), "message": self.message,
                "area_m2": self.area_m2, "lon": self.lon, "lat": self.lat}


@dataclass
class QualityReport:
    issues: list[QualityIssue] = field(default_factory=list)

    def add(self, issue: QualityIssue) -> None:
        self.issues.append(issue)

    def count(self, kind: str) -> int:
        return sum(1 for i in self.issues if i.kind == kind)

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for i in self.issues:
            out[i.kind] += 1
        return dict(out)

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "issues": [i.to_dict() for i in self.issues]}


def _point(geom, to_wgs) -> tuple[float, float]:
    p = shapely.point_on_surface(geom)
    x, y = to_wgs.transform(p.x, p.y)
    return round(x, 6), round(y, 6)


def sibling_checks(
    gdf: gpd.GeoDataFrame, report: QualityReport, *, parents: gpd.GeoDataFrame | None = None
) -> None:
    """Overlaps and gaps among units with the same ``parent_code``.

    ``gdf`` (EPSG:4326) needs ``code``, ``parent_code``, geometry. Gaps are holes in the
    union of siblings, and, when ``parents`` has the parent polygon, the part of the
    parent that no child covers.
    """
    if gdf.empty:
        return
    from pyproj import Transformer

    try:
        utm = gdf.estimate_utm_crs()
    except RuntimeError:  # far outside any UTM zone's area of use: world equal-area
        utm = "EPSG:6933"
    metric = gdf.to_crs(utm)
    to_wgs = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    parent_geoms = {}
    if parents is not None and not parents.empty:
        pm = parents.to_crs(utm)
        parent_geoms = dict(zip(pm["code"], pm.geometry, strict=True))
    for parent, group in metric.groupby(metric["parent_code"].fillna("")):
        geoms = list(group.geometry)
        codes = list(group["code"])
        tree = STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for i, j in zip(left, right, strict=True):
            if i >= j:
                continue
            inter = shapely.intersection(geoms[i], geoms[j])
            area = float(shapely.area(inter))
            if area > MIN_AREA_M2:
                report.add(QualityIssue(
                    "overlap", (codes[i], codes[j]),
                    f"{codes[i]} dan {codes[j]} bertumpang tindih {area:,.0f} m²",
                    area_m2=round(area, 1), **dict(zip(("lon", "lat"), _point(inter, to_wgs),
                                                       strict=True)),
                ))
        union = shapely.union_all(geoms)
        holes = []
        for poly in getattr(union, "geoms", [union]):
            holes += [shapely.Polygon(r) for r in getattr(poly, "interiors", [])]
        if parent in parent_geoms:
            rest = shapely.difference(parent_geoms[parent], union)
            holes += [g for g in getattr(rest, "geoms", [rest]) if g.geom_type == "Polygon"]
        for hole in holes:
            area = float(hole.area)
            if area > MIN_AREA_M2 * 10:
                report.add(QualityIssue(
                    "gap", (parent,) if parent else tuple(codes[:3]),
                    f"Celah {area:,.0f} m² di antara unit dalam {parent or 'lapisan ini'}",
                    area_m2=round(area, 1), **dict(zip(("lon", "lat"), _point(hole, to_wgs),
                                                       strict=True)),
                ))
