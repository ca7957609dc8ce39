"""Synthetic administrative polygons: kecamatan outline → kelurahan → RW → RT.

Every unit is a union of cells of one Voronoi diagram of jittered points (built in the
local metric frame of :mod:`geo_sigap.demo.area`, written in EPSG:4326 on a 1e-6°
grid). Sibling units therefore share their edges exactly: no gaps, no overlaps, and
each child lies inside its parent by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.cluster.vq import kmeans2
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Voronoi

from geo_sigap.demo.area import (
    EXTENT, KECAMATAN, KEL_WITHOUT_RT, KELURAHAN, KOTA, PROVINSI, TARGET_AREA_KM2,
    to_lonlat, to_xy,
)
from geo_sigap.domain.admin import rw_code, rt_code

GRID = 1e-6  # degrees; coordinates are written with 6 decimals
_CELL_M = 105.0  # spacing of the Voronoi generators, metres
COLUMNS = ["code", "name", "level", "parent_code", "population", "geometry"]


@dataclass(slots=True)
class Boundaries:
    """The demo units per level, each a GeoDataFrame (EPSG:4326) in :data:`COLUMNS`."""

    layers: dict[str, gpd.GeoDataFrame]

    def __getitem__(self, level: str) -> gpd.GeoDataFrame:
        return self.layers[level]


def build_boundaries(rng: np.random.Generator) -> Boundaries:
    """Build all six levels from the fixed kelurahan seeds and ``rng``."""
    pts, cells = _voronoi_cells(rng)
    inside = shapely.contains_xy(_outline_shape(), pts[:, 0], pts[:, 1])
    idx = np.flatnonzero(inside)
    pts, cells = pts[idx], [cells[i] for i in idx]
    adj = _adjacency(pts)

    kel_label = _assign_kelurahan(pts, adj, rng)
    rows: dict[str, list[dict]] = {lvl: [] for lvl in ("kelurahan", "rw", "rt")}
    for k, kel in enumerate(KELURAHAN):
        kel_cells = np.flatnonzero(kel_label == k)
        rw_groups = _split(pts, adj, kel_cells, kel.n_rw, rng)
        rw_groups.sort(key=lambda g: (-round(pts[g, 1].mean(), -1), round(pts[g, 0].mean(), -1)))
        rw_pops = _split_int(kel.population, [len(g) * rng.lognormal(0, 0.25) for g in rw_groups])
        rt_no = 0
        for r, (group, pop) in enumerate(zip(rw_groups, rw_pops, strict=True), start=1):
            rwc = rw_code(kel.code, r)
            rows["rw"].append(dict(code=rwc, name=f"RW {r:03d}", level="rw",
                                   parent_code=kel.code, population=pop,
                                   geometry=_union(cells, group)))
            if kel.code == KEL_WITHOUT_RT:
                continue
            n_rt = int(rng.integers(3, 8))
            rt_groups = _split(pts, adj, group, n_rt, rng)
            rt_groups.sort(key=lambda g: (-round(pts[g, 1].mean(), -1), round(pts[g, 0].mean(), -1)))
            rt_pops = _split_int(pop, [len(g) * rng.lognormal(0, 0.3) for g in rt_groups])
            for g, p in zip(rt_groups, rt_pops, strict=True):
                rt_no += 1
                rows["rt"].append(dict(code=rt_code(kel.code, r, rt_no), name=f"RT {rt_no:03d}",
                                       level="rt", parent_code=rwc, population=p,
                                       geometry=_union(cells, g)))
        rows["kelurahan"].append(dict(code=kel.code, name=kel.name, level="kelurahan",
                                      parent_code=KECAMATAN[0], population=kel.population,
                                      geometry=_union(cells, kel_cells)))
    total = sum(k.population for k in KELURAHAN)
    outline = _union(cells, np.arange(len(cells)))
    kota = shapely.set_precision(shapely.box(*shapely.buffer(outline, 0.02).bounds), GRID)
    prov = shapely.set_precision(shapely.box(*shapely.buffer(outline, 0.06).bounds), GRID)
    top = {
        "provinsi": [dict(code=PROVINSI[0], name=PROVINSI[1], level="provinsi",
                          parent_code=None, population=None, geometry=prov)],
        "kabupaten_kota": [dict(code=KOTA[0], name=KOTA[1], level="kabupaten_kota",
                                parent_code=PROVINSI[0], population=None, geometry=kota)],
        "kecamatan": [dict(code=KECAMATAN[0], name=KECAMATAN[1], level="kecamatan",
                           parent_code=KOTA[0], population=total, geometry=outline)],
    }
    layers = {}
    for level, recs in {**top, **rows}.items():
        gdf = gpd.GeoDataFrame(recs, columns=COLUMNS, geometry="geometry", crs="EPSG:4326")
        gdf["population"] = gdf["population"].astype("Int64")
        layers[level] = gdf.sort_values("code", ignore_index=True)
    return Boundaries(layers)


# --- geometry helpers -------------------------------------------------------------

def _outline_shape() -> shapely.Geometry:
    """A smooth kecamatan-like shape (local metres) of about TARGET_AREA_KM2.

    Union of ellipses inscribed in the (shrunk) real kelurahan boxes, closed with a
    buffer, then scaled about its centroid to the target area.
    """
    parts = []
    for kel in KELURAHAN:
        x0, y0 = to_xy(kel.bbox[0], kel.bbox[1])
        x1, y1 = to_xy(kel.bbox[2], kel.bbox[3])
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        circle = shapely.Point(0, 0).buffer(1.0, quad_segs=32)
        ell = shapely.affinity.scale(circle, (x1 - x0) / 2 * 0.9, (y1 - y0) / 2 * 0.9, origin=(0, 0))
        parts.append(shapely.affinity.translate(ell, float(cx), float(cy)))
    shape = shapely.union_all(parts).buffer(400, quad_segs=16).buffer(-400, quad_segs=16)
    factor = np.sqrt(TARGET_AREA_KM2 * 1e6 / shape.area)
    return shapely.affinity.scale(shape, factor, factor, origin="centroid")


def _voronoi_cells(rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """Jittered generators over the extent (+ margin) and their bounded cells (metres)."""
    x0, y0 = to_xy(EXTENT[0], EXTENT[1])
    x1, y1 = to_xy(EXTENT[2], EXTENT[3])
    margin = 1500.0
    xs = np.arange(float(x0) - margin, float(x1) + margin, _CELL_M)
    ys = np.arange(float(y0) - margin, float(y1) + margin, _CELL_M * 0.8660254)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * _CELL_M / 2  # hexagonal layout
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts = pts + rng.uniform(-0.38, 0.38, pts.shape) * _CELL_M
    vor = Voronoi(pts)
    cells = []
    for region_idx in vor.point_region:
        region = vor.regions[region_idx]
        if not region or -1 in region:
            cells.append(None)
            continue
        xy = vor.vertices[region]
        lon, lat = to_lonlat(xy[:, 0], xy[:, 1])
        # Shared Voronoi vertices map to identical degrees, then to identical grid points.
        ring = np.column_stack([np.round(lon, 6), np.round(lat, 6)])
        cells.append(shapely.Polygon(ring))
    return pts, cells


def _adjacency(pts: np.ndarray):
    """Sparse symmetric adjacency between Voronoi neighbours (cells sharing an edge)."""
    vor = Voronoi(pts)
    a, b = vor.ridge_points[:, 0], vor.ridge_points[:, 1]
    n = len(pts)
    m = coo_matrix((np.ones(len(a) * 2), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    m.data[:] = 1.0
    return m


def _union(cells: list, idx) -> shapely.Geometry:
    geom = shapely.union_all([cells[i] for i in idx], grid_size=GRID)
    return shapely.set_precision(geom, GRID)


def _assign_kelurahan(pts: np.ndarray, adj, rng: np.random.Generator) -> np.ndarray:
    """Label each cell with a kelurahan: warped, weighted nearest seed point + bbox pull."""
    phase = rng.uniform(0, 2 * np.pi, 4)
    wx = 170 * np.sin(pts[:, 1] / 900 + phase[0]) + 90 * np.sin(pts[:, 0] / 430 + phase[1])
    wy = 170 * np.sin(pts[:, 0] / 800 + phase[2]) + 90 * np.sin(pts[:, 1] / 380 + phase[3])
    warped = pts + np.column_stack([wx, wy])
    cost = np.empty((len(pts), len(KELURAHAN)))
    seeds = []
    for k, kel in enumerate(KELURAHAN):
        sx, sy = to_xy(*kel.point)
        bx0, by0 = to_xy(kel.bbox[0], kel.bbox[1])
        bx1, by1 = to_xy(kel.bbox[2], kel.bbox[3])
        weight = np.sqrt((bx1 - bx0) * (by1 - by0)) ** 0.5
        d = np.hypot(warped[:, 0] - sx, warped[:, 1] - sy) / weight
        out = np.hypot(np.maximum(0, np.maximum(bx0 - pts[:, 0], pts[:, 0] - bx1)),
                       np.maximum(0, np.maximum(by0 - pts[:, 1], pts[:, 1] - by1)))
        cost[:, k] = d + 0.08 * out
        seeds.append(int(np.argmin(np.hypot(pts[:, 0] - sx, pts[:, 1] - sy))))
    labels = np.argmin(cost, axis=1)
    labels[seeds] = np.arange(len(KELURAHAN))
    return _make_contiguous(labels, adj, anchors=dict(enumerate(seeds)))


def _make_contiguous(labels: np.ndarray, adj, anchors: dict[int, int] | None = None,
                     subset: np.ndarray | None = None) -> np.ndarray:
    """Give every stray fragment of a label to its most common neighbouring label.

    ``anchors`` maps a label to a cell whose component must be kept. Only cells in
    ``subset`` (indices) take part when given.
    """
    labels = labels.copy()
    cells = np.arange(len(labels)) if subset is None else np.asarray(subset)
    pos = {c: i for i, c in enumerate(cells)}
    sub = adj[cells][:, cells]
    for _ in range(20):
        changed = False
        for lab in np.unique(labels[cells]):
            members = cells[labels[cells] == lab]
            mi = np.array([pos[c] for c in members])
            n_comp, comp = connected_components(sub[mi][:, mi], directed=False)
            if n_comp == 1:
                continue
            sizes = np.bincount(comp)
            keep = int(np.argmax(sizes))
            if anchors and lab in anchors and anchors[lab] in pos:
                keep = int(comp[list(members).index(anchors[lab])])
            for c in members[comp != keep]:
                nb = cells[sub[pos[c]].indices]
                nb_labels = labels[nb][labels[nb] != lab]
                if len(nb_labels):
                    vals, counts = np.unique(nb_labels, return_counts=True)
                    labels[c] = vals[np.argmax(counts)]
                    changed = True
        if not changed:
            break
    return labels


def _split(pts: np.ndarray, adj, cells: np.ndarray, n: int, rng: np.random.Generator) -> list:
    """Split ``cells`` into ``n`` contiguous groups of similar size (k-means + repair)."""
    xy = pts[cells]
    _, lab = kmeans2(xy, n, iter=30, minit="++", seed=rng)
    lab = _make_contiguous(_full(lab, cells, len(pts)), adj, subset=cells)[cells]
    groups = [cells[lab == i] for i in np.unique(lab)]
    return [g for g in groups if len(g)]


def _full(lab: np.ndarray, cells: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=int)
    out[cells] = lab
    return out


def _split_int(total: int, weights: list[float]) -> list[int]:
    """Split an integer in proportion to ``weights`` (largest remainder), sum preserved."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return [int(v) for v in base]
