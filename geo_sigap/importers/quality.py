"""Data-quality checks for boundary layers, and the record of how codes were found.

Checks run over the **whole layer** of each level, not only among siblings: overlaps
between any two units (also across kelurahan/kecamatan borders), gaps (holes in the
union of the layer, and parts of a known parent polygon that none of its children
covers), and each unit against its parent's polygon — an RW that lies mostly in another
kelurahan than its attribute says is reported with the kelurahan it actually lies in.
Areas are computed in the layer's own UTM zone (metres²). Real RT/RW layers drawn by a
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
MIN_GAP_M2 = 10.0
GRID_M = 0.01  # precision of unions in metres
OUTSIDE_SHARE = 0.5  # a unit with less than this share inside its parent is misplaced
PARTLY_OUTSIDE_SHARE = 0.9


@dataclass
class QualityIssue:
    # overlap, gap, outside_parent, partly_outside_parent, missing_code, duplicate_code,
    # repaired_geometry, no_parent, fuzzy_match, ambiguous_name, unmatched_name,
    # unmatched_parent, inferred_parent, unreadable_label, local_id_ignored, …
    kind: str
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
    matches: list[dict] = field(default_factory=list)  # one per unit matched by name
    parent_matches: list[dict] = field(default_factory=list)  # one per distinct parent name

    def add(self, issue: QualityIssue) -> None:
        self.issues.append(issue)

    def count(self, kind: str) -> int:
        return sum(1 for i in self.issues if i.kind == kind)

    def match(self, index: int, level, name, code, official, status: str, score: float,
              candidates: list[str], via: str) -> None:
        self.matches.append({
            "feature": index + 1, "level": level.name.lower(), "name": name, "code": code,
            "official_name": official, "status": status, "score": round(float(score), 1),
            "candidates": list(candidates)[:5], "via": via})

    def parent_match(self, level, name, code, official, status: str, score: float,
                     candidates: list[str]) -> None:
        self.parent_matches.append({
            "level": level.name.lower(), "name": name, "code": code, "official_name": official,
            "status": status, "score": round(float(score), 1),
            "candidates": list(candidates)[:5]})

    def match_summary(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for m in self.matches:
            out[m["status"]] += 1
        return dict(out)

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for i in self.issues:
            out[i.kind] += 1
        return dict(out)

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "match_summary": self.match_summary(),
                "issues": [i.to_dict() for i in self.issues],
                "parent_matches": self.parent_matches, "matches": self.matches}


def _point(geom, to_wgs) -> tuple[float, float]:
    p = shapely.point_on_surface(geom)
    x, y = to_wgs.transform(p.x, p.y)
    return round(x, 6), round(y, 6)


def _metric(gdf: gpd.GeoDataFrame):
    from pyproj import Transformer

    try:
        utm = gdf.estimate_utm_crs()
    except RuntimeError:  # far outside any UTM zone's area of use: world equal-area
        utm = "EPSG:6933"
    return utm, Transformer.from_crs(utm, "EPSG:4326", always_xy=True)


def _where(geom, to_wgs) -> dict:
    return dict(zip(("lon", "lat"), _point(geom, to_wgs), strict=True))


def layer_checks(gdf: gpd.GeoDataFrame, report: QualityReport, *,
                 parents: gpd.GeoDataFrame | None = None) -> None:
    """Overlaps, gaps and parent containment over the whole layer, per level.

    ``gdf`` (EPSG:4326) needs ``code``, ``parent_code``, ``level`` (int) and geometry.
    ``parents`` (same columns) holds polygons of units one level up that did not come
    from dissolving this layer (the database, or other levels of the same file): their
    uncovered parts are gaps, and each unit is checked to lie inside its own.
    """
    if gdf.empty:
        return
    utm, to_wgs = _metric(gdf)
    metric = gdf.to_crs(utm)
    pm = parents.to_crs(utm) if parents is not None and not parents.empty else None
    for level, group in metric.groupby("level"):
        _overlaps(group, report, to_wgs)
        _holes(group, report, to_wgs)
        if pm is not None:
            up = pm[pm["level"] == level - 1]
            if not up.empty:
                _against_parents(group, up, report, to_wgs)


def _overlaps(group: gpd.GeoDataFrame, report: QualityReport, to_wgs) -> None:
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
                f"{codes[i]} dan {codes[j]} bertumpang tindih {_m2(area)} m²",
                area_m2=round(area, 1), **_where(inter, to_wgs)))


def _holes(group: gpd.GeoDataFrame, report: QualityReport, to_wgs) -> None:
    union = _union(list(group.geometry))
    codes = list(group["code"])
    geoms = list(group.geometry)
    tree = STRtree(geoms)
    for poly in getattr(union, "geoms", [union]):
        for ring in getattr(poly, "interiors", []):
            hole = shapely.Polygon(ring)
            area = float(hole.area)
            if area <= MIN_GAP_M2:
                continue
            around = sorted({codes[int(k)] for k in
                             tree.query(hole.buffer(1.0), predicate="intersects")})
            report.add(QualityIssue(
                "gap", tuple(around[:6]),
                f"Celah {_m2(area)} m² di antara {', '.join(around[:6])}",
                area_m2=round(area, 1), **_where(hole, to_wgs)))


def _union(geoms):
    """Union on a 1 cm grid, so that borders that meet only up to float noise after
    reprojection do not leave hair-line slivers (or hide real holes)."""
    try:
        return shapely.union_all(geoms, grid_size=GRID_M)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)


def _m2(area: float) -> str:
    return f"{area:,.0f}".replace(",", ".")


def _against_parents(group: gpd.GeoDataFrame, up: gpd.GeoDataFrame, report: QualityReport,
                     to_wgs) -> None:
    pgeoms = list(up.geometry)
    pcodes = list(up["code"])
    by_code = dict(zip(pcodes, pgeoms, strict=True))
    tree = STRtree(pgeoms)
    children: dict[str, list] = defaultdict(list)
    for code, pcode, geom in zip(group["code"], group["parent_code"], group.geometry,
                                 strict=True):
        children[pcode].append(geom)
        parent = by_code.get(pcode)
        if parent is None or geom.area <= 0:
            continue
        share = float(shapely.intersection(geom, parent).area / geom.area)
        if share >= PARTLY_OUTSIDE_SHARE:
            continue
        best, best_share = None, 0.0
        for k in tree.query(geom, predicate="intersects"):
            s = float(shapely.intersection(geom, pgeoms[int(k)]).area / geom.area)
            if s > best_share:
                best, best_share = pcodes[int(k)], s
        if share < OUTSIDE_SHARE:
            actual = (f"; sebagian besar ({best_share:.0%}) ada di {best}"
                      if best and best != pcode else "")
            report.add(QualityIssue(
                "outside_parent", (code, pcode) + ((best,) if best and best != pcode else ()),
                f"{code} hanya {share:.0%} berada di dalam induknya {pcode}{actual}",
                area_m2=round(float(geom.area), 1), **_where(geom, to_wgs)))
        else:
            report.add(QualityIssue(
                "partly_outside_parent", (code, pcode),
                f"{code}: {1 - share:.0%} luasnya di luar induknya {pcode}",
                area_m2=round(float(geom.area * (1 - share)), 1), **_where(geom, to_wgs)))
    for pcode, geoms in children.items():
        parent = by_code.get(pcode)
        if parent is None:
            continue
        try:
            rest = shapely.difference(parent, _union(geoms), grid_size=GRID_M)
        except shapely.errors.GEOSException:
            rest = shapely.difference(parent, shapely.union_all(geoms))
        for g in getattr(rest, "geoms", [rest]):
            if g.geom_type == "Polygon" and g.area > MIN_GAP_M2 * 10:
                report.add(QualityIssue(
                    "gap", (pcode,),
                    f"Bagian {pcode} seluas {_m2(g.area)} m² tidak tercakup unit mana pun",
                    area_m2=round(float(g.area), 1), **_where(g, to_wgs)))
