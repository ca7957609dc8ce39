"""Spatial units for hotspot tests: Queen contiguity of polygons and a hexagonal grid.

Metric work is in the UTM zone of the area (:mod:`geo_sigap.domain.projection`: 48S for
Jambi, 49S for Surabaya, 54S for Jayapura …), so that a 250 m cell is 250 m on the
ground anywhere in Indonesia; geometries come in and go out in EPSG:4326 (lon/lat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geo_sigap.domain.projection import metric_crs_for_frame, metric_crs_for_lonlat

if TYPE_CHECKING:  # imported where used: a grid's Gi* needs neither (a first call is cheap)
    import geopandas as gpd
    import scipy.sparse as sp

WGS84 = "EPSG:4326"

_SQRT3 = np.sqrt(3.0)
# axial neighbour offsets of a hexagon (pointy-top)
_HEX_NEIGHBOURS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))


def queen_weights(units: gpd.GeoDataFrame) -> sp.csr_matrix:
    """Binary Queen contiguity (shared edge or corner) of ``units``, in row order.

    Two units are neighbours when their boundaries (every ring, every part) share an
    exact vertex — libpysal's ``Queen`` rule, found here by sorting all vertices once
    (no pairwise tests, no Python per polygon: 50,000 polygons in a fraction of a
    second). Polygons drawn locally often leave slivers, so units that only *almost*
    touch are not neighbours (they may become islands — see
    :mod:`geo_sigap.analytics.gistar` for the islands rule).
    """
    import scipy.sparse as sp
    import shapely

    geoms = np.asarray(units.geometry.to_numpy(), dtype=object)
    n = len(geoms)
    xy, unit = shapely.get_coordinates(geoms, return_index=True)
    order = np.lexsort((unit, xy[:, 1], xy[:, 0]))
    x, y, unit = xy[order, 0], xy[order, 1], unit[order]
    vertex = np.cumsum(np.r_[True, (x[1:] != x[:-1]) | (y[1:] != y[:-1])])
    once = np.r_[True, (vertex[1:] != vertex[:-1]) | (unit[1:] != unit[:-1])]
    vertex, unit = vertex[once], unit[once]  # each (vertex, unit) once, units ascending
    rows, cols = [], []
    d = 1
    while d < len(vertex):  # the units d apart at one vertex (groups are tiny)
        same = np.nonzero(vertex[d:] == vertex[:-d])[0]
        if not len(same):
            break
        rows += [unit[same], unit[same + d]]
        cols += [unit[same + d], unit[same]]
        d += 1
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    a = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


@dataclass(frozen=True)
class HexGrid:
    """A regular hexagonal grid (pointy-top) in the metric CRS ``crs`` (a UTM zone).

    ``size_m`` is the distance between the centres of adjacent cells (the flat-to-flat
    width); a cell's area is ``size_m**2 * sqrt(3) / 2`` m².
    """

    size_m: float
    q: np.ndarray  # axial coordinates of the cells kept
    r: np.ndarray
    crs: str = "EPSG:32748"

    def to_metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:4326 lon/lat → metres in the grid's CRS (for :meth:`cell_index`)."""
        return to_metric(lon, lat, crs=self.crs)

    @property
    def radius_m(self) -> float:
        return self.size_m / _SQRT3

    @property
    def cell_area_km2(self) -> float:
        return self.size_m**2 * _SQRT3 / 2 / 1e6

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres (x, y) in metres of the grid's CRS."""
        R = self.radius_m
        return R * _SQRT3 * (self.q + self.r / 2.0), R * 1.5 * self.r

    def codes(self) -> np.ndarray:
        """``HEX<q><r>`` with signs (``HEX+12-3``), one a cell (object array)."""
        uq, iq = np.unique(np.asarray(self.q), return_inverse=True)
        ur, ir = np.unique(np.asarray(self.r), return_inverse=True)
        fq = np.array([f"HEX{v:+d}" for v in uq.tolist()], dtype=object)
        fr = np.array([f"{v:+d}" for v in ur.tolist()], dtype=object)
        return fq[iq] + fr[ir]

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the cell holding each metric point (x, y), -1 outside the grid."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        q, r = _axial_round(np.where(ok, x, 0.0), np.where(ok, y, 0.0), self.radius_m)
        keys = _pack(q, r)
        table = _pack(self.q, self.r)
        order = np.argsort(table)
        pos = np.searchsorted(table[order], keys)
        pos = np.clip(pos, 0, len(table) - 1)
        hit = (table[order][pos] == keys) & ok
        return np.where(hit, order[pos], -1)

    def adjacency(self) -> sp.csr_matrix:
        """Binary adjacency (six neighbours where they exist in the grid)."""
        import scipy.sparse as sp

        n = len(self.q)
        table = _pack(self.q, self.r)
        order = np.argsort(table)
        rows, cols = [], []
        for dq, dr in _HEX_NEIGHBOURS:
            keys = _pack(self.q + dq, self.r + dr)
            pos = np.clip(np.searchsorted(table[order], keys), 0, n - 1)
            hit = table[order][pos] == keys
            rows.append(np.nonzero(hit)[0])
            cols.append(order[pos[hit]])
        rows = np.concatenate(rows)
        cols = np.concatenate(cols)
        a = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        a.sort_indices()
        return a

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """Cells as polygons in EPSG:4326 with ``code``."""
        import geopandas as gpd
        import shapely

        cx, cy = self.centres()
        R = self.radius_m
        ang = np.deg2rad(np.arange(6) * 60 + 30)
        xs = cx[:, None] + R * np.cos(ang)[None, :]
        ys = cy[:, None] + R * np.sin(ang)[None, :]
        # the corners projected once as arrays (what GeoDataFrame.to_crs does per vertex)
        lon, lat = to_lonlat(xs.ravel(), ys.ravel(), crs=self.crs)
        coords = np.stack([lon.reshape(xs.shape), lat.reshape(xs.shape)], axis=-1)
        coords = np.concatenate([coords, coords[:, :1]], axis=1)
        polys = shapely.polygons(coords)
        return gpd.GeoDataFrame({"code": self.codes(), "level": "hex"}, geometry=polys,
                                crs=WGS84)


def _pack(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    return (np.asarray(q, dtype=np.int64) + 2**20) * 2**21 + (np.asarray(r, dtype=np.int64) + 2**20)


def _axial_round(x: np.ndarray, y: np.ndarray, R: float) -> tuple[np.ndarray, np.ndarray]:
    qf = (_SQRT3 / 3 * np.asarray(x) - np.asarray(y) / 3) / R
    rf = (2 / 3 * np.asarray(y)) / R
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def hex_grid(area: gpd.GeoDataFrame | gpd.GeoSeries, size_m: float = 250.0, *,
             crs: str | None = None) -> HexGrid:
    """The hexagonal cells whose centre lies in ``area`` (any CRS; usually the kelurahan).

    Parameters
    ----------
    area : GeoDataFrame or GeoSeries
        The study area; its union is used.
    size_m : float
        Distance between adjacent cell centres, metres (default 250 m, a few
        minutes' walk — about the reach of one patrol stop).
    crs : str, optional
        Metric CRS; by default the UTM zone of the area's centre.
    """
    import shapely

    crs = crs or metric_crs_for_frame(area)
    geom = area.to_crs(crs).union_all()
    minx, miny, maxx, maxy = geom.bounds
    R = size_m / _SQRT3
    r0, r1 = int(np.floor(miny / (1.5 * R))) - 1, int(np.ceil(maxy / (1.5 * R))) + 1
    rr = np.arange(r0, r1 + 1)
    q_lo = np.floor(minx / (R * _SQRT3) - rr.max() / 2) - 1
    q_hi = np.ceil(maxx / (R * _SQRT3) - rr.min() / 2) + 1
    qq = np.arange(int(q_lo), int(q_hi) + 1)
    Q, Rr = np.meshgrid(qq, rr)
    Q, Rr = Q.ravel(), Rr.ravel()
    cx, cy = R * _SQRT3 * (Q + Rr / 2.0), R * 1.5 * Rr
    shapely.prepare(geom)
    keep = shapely.contains_xy(geom, cx, cy)
    return HexGrid(size_m=float(size_m), q=Q[keep], r=Rr[keep], crs=crs)


def to_metric(lon: np.ndarray, lat: np.ndarray, *, crs: str | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4326 lon/lat → metres in ``crs`` (default: the UTM zone of the points)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if crs is None:
        try:
            crs = metric_crs_for_lonlat(lon, lat)
        except ValueError:  # no finite point (e.g. no incidents): nothing to project
            return np.full(lon.shape, np.nan), np.full(lat.shape, np.nan)
    return _transformer(WGS84, crs).transform(lon, lat)


def to_lonlat(x: np.ndarray, y: np.ndarray, *, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Metres in ``crs`` → EPSG:4326 lon/lat."""
    return _transformer(crs, WGS84).transform(np.asarray(x, dtype=np.float64),
                                              np.asarray(y, dtype=np.float64))


_TRANSFORMERS: dict[tuple[str, str], object] = {}


def _transformer(src: str, dst: str):
    if (src, dst) not in _TRANSFORMERS:
        from pyproj import Transformer

        _TRANSFORMERS[(src, dst)] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[(src, dst)]
