"""Reverse geocoding: a point (lon, lat, EPSG:4326) → kabupaten/kota, kecamatan,
kelurahan/desa, RW and RT, with codes, names and quality flags.

Rules (the same for one point and for a batch; deterministic):

* **Covered** means inside a polygon or on its boundary (like
  ``geopandas.sjoin(predicate="intersects")``).
* **Shared border / overlap**: when several polygons of one level cover a point, the
  one that agrees with the units already taken above wins (the RW of the kelurahan that
  contains the point, the RT of its RW); then one that has the point in its interior;
  then, for overlapping interiors, the smaller polygon when one lies (80 %) inside the
  other, else the one the point is deeper inside (:mod:`geo_sigap.geocoding._overlap`);
  then the **smallest code** (a point on a shared border). A point on a border gets
  flag ``border``; a point in the interior of two polygons (overlapping data) gets flag
  ``overlap``; the other units are returned as alternatives by
  :meth:`ReverseGeocoder.locate`.
* **Gap**: a point covered by no polygon of a level takes the nearest polygon of that
  level within ``gap_tolerance_m`` metres (local equirectangular metres), flag
  ``gap_nearest``; ties go to the smallest code.
* **Hierarchy**: polygons that really cover the point are taken before gap answers,
  shallow levels before deep ones. A deeper unit whose parents disagree with a unit
  already taken (an RT polygon drawn across a kelurahan border) is dropped with flag
  ``hierarchy_conflict``: the kelurahan boundary (government data) wins over locally
  drawn RW/RT. Missing upper levels are filled from the deepest unit's parent codes.
* **Missing RW/RT**: when an RW or RT layer is loaded but gives no unit for the point
  (e.g. a kelurahan without RT polygons), flag ``rw_missing`` / ``rt_missing``;
  ``deepest_level`` says which level was answered.
* **Outside coverage**: no unit at any level → flag ``outside_coverage``; never an
  exception in a batch.
* **No coordinates**: a batch row whose lon or lat is empty (``None``, ``""``, NaN)
  gets ``missing_coordinates`` — no coordinates were given, none are wrong.
* **Bad coordinates**: unreadable, infinite or out-of-range → ``invalid_coordinates`` (a batch
  row) or :class:`~geo_sigap.errors.InvalidCoordinates` (one point). Lat/lon given
  swapped (detected with Indonesia's extent and the covered area, as
  :func:`geo_sigap.domain.coordinates.check_lonlat`) are corrected with flag
  ``swapped_latlon``, or refused when ``swap="refuse"``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.domain.coordinates import INDONESIA_BBOX, check_lonlat
from geo_sigap.domain.incidents import Placement
from geo_sigap.geocoding import _grid, _kernel, _overlap
from geo_sigap.geocoding._hierarchy import LEVEL_COLUMN, N_LEVELS, unit_index
from geo_sigap.geocoding.units import LEVEL_KEYS, UnitTable, unit_table

_EARTH_M_PER_DEG = 6_371_008.8 * math.pi / 180.0

#: Flag names, in the order of their bits.
FLAGS = ("invalid_coordinates", "swapped_latlon", "outside_coverage", "gap_nearest",
         "overlap", "border", "hierarchy_conflict", "rt_missing", "rw_missing",
         "missing_coordinates")
_BIT = {name: 1 << i for i, name in enumerate(FLAGS)}
_INVALID, _SWAPPED, _OUTSIDE, _GAP = (_BIT[k] for k in FLAGS[:4])
_OVERLAP, _BORDER, _CONFLICT, _RT_MISSING, _RW_MISSING = (_BIT[k] for k in FLAGS[4:9])
_MISSING = _BIT["missing_coordinates"]
_UNUSABLE = _INVALID | _MISSING


def flag_names(bits: int) -> tuple[str, ...]:
    """Flag names set in a bit mask."""
    return tuple(name for name in FLAGS if bits & _BIT[name])


@dataclass(slots=True)
class ReverseResult:
    """The answer for one point (read-only by convention; not frozen, which would cost
    a microsecond per point on the single-point path).

    ``lon, lat`` are the coordinates used (EPSG:4326, after a swap correction);
    ``alternatives`` lists other units that also cover the point (border/overlap) as
    dicts ``{code, name, level}``; ``gap_distance_m`` is the distance in metres to a
    unit taken by the gap rule (0 when the point is inside).
    """

    lon: float
    lat: float
    placement: Placement
    deepest_level: str | None
    flags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    alternatives: tuple[dict[str, str | None], ...] = ()
    gap_distance_m: float = 0.0

    @property
    def outside_coverage(self) -> bool:
        return "outside_coverage" in self.flags

    def to_dict(self) -> dict[str, Any]:
        p = self.placement
        units = {key: {"code": getattr(p, f"{key}_code"), "name": getattr(p, f"{key}_name")}
                 for key in LEVEL_KEYS.values()}
        return {
            "lon": self.lon, "lat": self.lat, "units": units,
            "deepest_level": self.deepest_level, "description": p.describe(),
            "flags": list(self.flags), "warnings": list(self.warnings),
            "alternatives": list(self.alternatives), "gap_distance_m": self.gap_distance_m,
        }


@dataclass(slots=True)
class _Layer:
    level: AdminLevel
    column: int  # column of the level in the hierarchy arrays
    codes: np.ndarray  # sorted ascending; polygon index = position
    geoms: np.ndarray
    grid: _grid.GridIndex
    tree: shapely.STRtree  # over metric geometries, for the gap rule
    bbox: tuple[float, float, float, float]
    near_cells: np.ndarray  # bool per grid cell: a polygon lies within the gap tolerance
    uid: np.ndarray  # unit id per polygon
    anc: np.ndarray  # (polygons, levels) unit ids of each polygon's units
    overlaps: _overlap.OverlapRule
    # plain-Python copies for the single-point fast path
    anc_rows: list[tuple[int, ...]] = field(default_factory=list)
    results: list[tuple[Placement, tuple[str, ...], str | None]] = field(default_factory=list)
    grid_args: tuple[Any, ...] = ()
    query_one: Any = None  # _grid.one_point_query(grid_args)
    gx0: float = 0.0
    gy0: float = 0.0
    gx1: float = 0.0
    gy1: float = 0.0


class ReverseGeocoder:
    """Point → administrative units, for one point or millions (see module rules).

    Build with :meth:`from_units`. Everything a single point needs (grid index,
    hierarchy arrays, the placement of every polygon, compiled kernels) is prepared when
    the geocoder is built; the batch kernel's flat arrays are made by the first batch
    (:meth:`warm_batch` makes them now), since a web worker never asks for one.
    Thread-safe for reading once built.
    """

    def __init__(self, units: UnitTable, *, gap_tolerance_m: float = 50.0,
                 swap: str = "correct") -> None:
        if swap not in ("correct", "refuse"):
            raise ValueError("swap must be 'correct' or 'refuse'")
        self.units = units
        self.gap_tolerance_m = float(gap_tolerance_m)
        self.swap = swap
        poly = units.frame[units.frame["polygonal"]]
        if len(poly):
            b = shapely.total_bounds(poly.geometry.values)
            self.coverage_bbox: tuple[float, float, float, float] | None = tuple(map(float, b))
            self._lon0 = (b[0] + b[2]) / 2
            self._lat0 = (b[1] + b[3]) / 2
        else:
            self.coverage_bbox = None
            self._lon0 = self._lat0 = 0.0
        # a point in this box is valid and not swapped (check_lonlat would return it as is)
        area = self.coverage_bbox or INDONESIA_BBOX
        self._fast_box = (max(area[0], INDONESIA_BBOX[0]), max(area[1], INDONESIA_BBOX[1]),
                          min(area[2], INDONESIA_BBOX[2]), min(area[3], INDONESIA_BBOX[3]))
        self._kx = _EARTH_M_PER_DEG * math.cos(math.radians(self._lat0))
        self._ky = _EARTH_M_PER_DEG
        self._index = unit_index(units)
        self._layers: list[_Layer] = []
        for level in LEVEL_KEYS:
            sub = poly[poly["level"] == int(level)]
            if len(sub):
                self._layers.append(self._build_layer(level, sub))
        self._has_rt = any(layer.level == AdminLevel.RT for layer in self._layers)
        self._has_rw = any(layer.level == AdminLevel.RW for layer in self._layers)
        self._build_outputs()
        self._rt_col = LEVEL_COLUMN[AdminLevel.RT] if self._has_rt else -1
        self._rw_col = LEVEL_COLUMN[AdminLevel.RW] if self._has_rw else -1
        self._tol_deg = self.gap_tolerance_m / min(self._kx or _EARTH_M_PER_DEG, self._ky)
        # per layer, what the single-point loop reads (no attribute look-ups per call)
        self._fast = [(la, la.gx0, la.gy0, la.gx1, la.gy1, la.grid.inv_dx, la.grid.inv_dy,
                       la.grid.nx, la.grid.ny, la.grid.cell_answer.item) for la in self._layers]
        # the batch kernel's flat copy of every layer is made by the first batch (about
        # 25 MB for a city's 17,000 RT; a web worker places single points only)
        self._stack_built: _kernel.Stack | None = None
        self._stack_lock = threading.Lock()
        # (units per level, flag bits) → (Placement, flag names, deepest level); every
        # polygon's own placement is resolved now, unusual combinations on first sight
        self._results: dict[tuple[tuple[int, ...], int], tuple[Placement, tuple[str, ...],
                                                              str | None]] = {}
        for layer in self._layers:
            layer.results = [self._result(row, 0) for row in layer.anc_rows]

    def _build_layer(self, level: AdminLevel, sub: gpd.GeoDataFrame) -> _Layer:
        geoms = np.asarray(sub.geometry.values)
        grid = _grid.build_grid(geoms)
        _grid.warm(grid)
        metric = self._to_metric(geoms)
        codes = sub["code"].to_numpy(dtype=object)
        uid = np.asarray([self._index.pos[c] for c in codes], dtype=np.int64)
        anc = self._index.anc[uid]
        b = tuple(map(float, shapely.total_bounds(geoms)))
        layer = _Layer(level, LEVEL_COLUMN[level], codes, geoms, grid, shapely.STRtree(metric),
                       b, self._near_cells(grid), uid, anc, _overlap.OverlapRule(metric))
        layer.anc_rows = [tuple(r) for r in anc.tolist()]
        layer.grid_args = _grid.packed_args(grid)
        layer.query_one = _grid.one_point_query(layer.grid_args)
        layer.gx0, layer.gy0 = grid.x0, grid.y0
        layer.gx1 = grid.x0 + grid.nx / grid.inv_dx
        layer.gy1 = grid.y0 + grid.ny / grid.inv_dy
        return layer

    def _build_outputs(self) -> None:
        """Categories of the batch output columns, and unit id → category position."""
        idx = self._index
        self._out_codes: list[tuple[pd.Index, np.ndarray]] = []
        self._out_names: list[tuple[pd.Index, np.ndarray]] = []
        for k in range(N_LEVELS):
            ids = np.flatnonzero(idx.column == k)
            codes = [idx.codes[u] for u in ids]
            order = np.argsort(np.asarray(codes, dtype=object), kind="stable")
            pos = np.full(len(idx) + 1, -1, dtype=np.int64)  # last slot: "none"
            pos[ids[order]] = np.arange(len(ids))
            self._out_codes.append((pd.Index([codes[i] for i in order], dtype=object), pos))
            names = sorted({idx.names[u] for u in ids if idx.names[u] is not None})
            npos = {nm: i for i, nm in enumerate(names)}
            name_pos = np.full(len(idx) + 1, -1, dtype=np.int64)
            for u in ids:
                nm = idx.names[u]
                if nm is not None:
                    name_pos[u] = npos[nm]
            self._out_names.append((pd.Index(names, dtype=object), name_pos))
        self._flag_labels = [";".join(flag_names(b)) for b in range(1 << len(FLAGS))]
        self._code_pos = np.ascontiguousarray(
            np.stack([pos for _, pos in self._out_codes]), dtype=np.int32)
        self._name_pos = np.ascontiguousarray(
            np.stack([pos for _, pos in self._out_names]), dtype=np.int32)
        self._level_cats = pd.Index(list(LEVEL_KEYS.values()), dtype=object)

    @property
    def _stack(self) -> _kernel.Stack:
        """Every layer stacked into the flat arrays of the batch kernel, made once, by the
        first batch (or :meth:`warm_batch`)."""
        st = self._stack_built
        if st is None:
            with self._stack_lock:
                if self._stack_built is None:
                    layers = self._layers
                    self._stack_built = _kernel.stack(
                        [la.grid for la in layers], [la.near_cells for la in layers],
                        [self._tol_deg] * len(layers), [la.column for la in layers],
                        [la.anc for la in layers], self._code_pos, self._name_pos)
                st = self._stack_built
        return st

    def warm_batch(self) -> None:
        """Prepare batches now: stack the layers and load (or compile) the batch kernel,
        so that the first :meth:`locate_many` is as fast as the next."""
        self.locate_many(np.zeros(1), np.zeros(1))

    @classmethod
    def from_units(cls, units: Iterable[AdminUnit] | gpd.GeoDataFrame | UnitTable, *,
                   gap_tolerance_m: float = 50.0, swap: str = "correct") -> ReverseGeocoder:
        """Build from :class:`AdminUnit` objects or a GeoDataFrame
        (``code, name, level, parent_code, geometry``; EPSG:4326; any levels).

        ``gap_tolerance_m``: metres within which a point in a gap takes the nearest unit.
        ``swap``: ``"correct"`` swapped lat/lon with a flag, or ``"refuse"`` them.
        """
        return cls(unit_table(units), gap_tolerance_m=gap_tolerance_m, swap=swap)

    @property
    def levels(self) -> list[str]:
        """Levels with polygons, shallow to deep (``"kelurahan"``, ``"rt"`` …)."""
        return [LEVEL_KEYS[layer.level] for layer in self._layers]

    # ------------------------------------------------------------------ one point
    def locate(self, lon: object, lat: object) -> ReverseResult:
        """Administrative units at one point (lon, lat in EPSG:4326 degrees).

        Raises
        ------
        InvalidCoordinates
            NaN, infinite, non-numeric or out-of-range values; swapped values when
            ``swap="refuse"``.
        """
        fb = self._fast_box
        if (isinstance(lon, float) and isinstance(lat, float)
                and fb[0] <= lon <= fb[2] and fb[1] <= lat <= fb[3]):
            x, y, bits, warnings = float(lon), float(lat), 0, ()
        else:
            cp = check_lonlat(lon, lat, coverage_bbox=self.coverage_bbox, swap=self.swap)
            x, y = float(cp.lon), float(cp.lat)
            bits = _SWAPPED if cp.swapped else 0
            warnings = (cp.warning,) if cp.warning else ()
        taken: list[int] | tuple[int, ...] | None = None
        top: tuple[_Layer, int] | None = None  # taken is exactly this polygon's units
        alternatives: list[dict[str, str | None]] | None = None
        uncovered: list[_Layer] | None = None
        for layer, gx0, gy0, gx1, gy1, inv_dx, inv_dy, nx, ny, answer in self._fast:
            p = -1
            if gx0 <= x <= gx1 and gy0 <= y <= gy1:
                ix = int((x - gx0) * inv_dx)
                iy = int((y - gy0) * inv_dy)
                p = answer((iy if iy < ny else ny - 1) * nx + (ix if ix < nx else nx - 1))
                if p == -2:
                    p, n_in, n_b = layer.query_one(x, y, *layer.grid_args)
                    if n_in + n_b >= 2:
                        bits |= _OVERLAP if n_in >= 2 else _BORDER
                        p, others = self._choose_one(layer, x, y, taken)
                        alternatives = (alternatives or []) + [
                            self._unit_ref(layer.codes[q]) for q in others]
            if p < 0:
                if self.gap_tolerance_m > 0 and self._maybe_near(layer, x, y):
                    uncovered = (uncovered or []) + [layer]
                continue
            row = layer.anc_rows[p]
            if taken is None or _names_all(row, taken):
                taken, top = row, (layer, p)
            elif _agrees(taken, row):
                taken, top = [t if t >= 0 else v for t, v in zip(taken, row)], None
            else:
                bits |= _CONFLICT
        gap_m = 0.0
        if uncovered:
            for layer in uncovered:
                near, dist = self._nearest(layer, np.array([x]), np.array([y]))
                if near[0] < 0:
                    continue
                row = layer.anc_rows[int(near[0])]
                if taken is None:
                    taken = row
                elif taken[layer.column] < 0 and _agrees(taken, row):
                    taken = [t if t >= 0 else v for t, v in zip(taken, row)]
                else:
                    continue
                top = None
                bits |= _GAP
                gap_m = max(gap_m, float(dist[0]))
        if top is not None and not bits:
            placement, flags, deepest = top[0].results[top[1]]
        else:
            placement, flags, deepest = self._result(
                _EMPTY if taken is None else tuple(taken), bits)
        return ReverseResult(x, y, placement, deepest, flags, warnings,
                             tuple(alternatives) if alternatives else (), gap_m)

    def _maybe_near(self, layer: _Layer, x: float, y: float) -> bool:
        """A polygon of ``layer`` may lie within the gap tolerance of the point."""
        if layer.gx0 <= x <= layer.gx1 and layer.gy0 <= y <= layer.gy1:
            g = layer.grid
            ix = min(int((x - layer.gx0) * g.inv_dx), g.nx - 1)
            iy = min(int((y - layer.gy0) * g.inv_dy), g.ny - 1)
            return bool(layer.near_cells[iy * g.nx + ix])
        pad = self._tol_deg
        return (layer.gx0 - pad <= x <= layer.gx1 + pad
                and layer.gy0 - pad <= y <= layer.gy1 + pad)

    def place(self, lon: object, lat: object) -> Placement:
        """:class:`Placement` of one point (what the dispatch service stores)."""
        return self.locate(lon, lat).placement

    def _choose_one(self, layer: _Layer, x: float, y: float,
                    taken: list[int] | tuple[int, ...] | None) -> tuple[int, list[int]]:
        """The covering polygon the overlap rules choose, and the others."""
        pt, poly, st = _grid.covering_all(layer.grid, np.array([x]), np.array([y]))
        t = np.asarray([_EMPTY if taken is None else taken], dtype=np.int64)
        chosen = self._choose(layer, np.array([x]), np.array([y]), t, pt, poly, st)
        p = int(chosen[0])
        return p, [int(q) for q in poly if q != p]

    def _choose(self, layer: _Layer, xs: np.ndarray, ys: np.ndarray, taken: np.ndarray,
                pt: np.ndarray, poly: np.ndarray, st: np.ndarray) -> np.ndarray:
        """Per point, the polygon chosen among several covering it (see module rules)."""
        m = len(xs)
        a = layer.anc[poly]
        t = taken[pt]
        fits = ~((t >= 0) & (a >= 0) & (t != a)).any(axis=1)
        keep = fits | ~_any_per(pt, fits, m)[pt]
        inner = st == 2
        keep &= inner | ~_any_per(pt, keep & inner, m)[pt]
        return layer.overlaps.choose(m, pt[keep], poly[keep], inner[keep],
                                     *self._metric_xy(xs, ys))

    # ------------------------------------------------------------------ batches
    def locate_many(self, lons: Any, lats: Any) -> pd.DataFrame:
        """Administrative units for many points; never raises for bad rows.

        Parameters
        ----------
        lons, lats
            Array-likes of degrees (EPSG:4326); strings with a decimal comma are read.

        Returns
        -------
        DataFrame, one row per input point, in order: ``lon, lat`` (used, after swap
        correction), ``<level>_code`` and ``<level>_name`` for kabkota, kecamatan,
        kelurahan, rw, rt (categorical; missing as NA), ``deepest_level``,
        ``quality_flags`` (``;``-separated), one boolean column per flag, ``gap_distance_m``.
        """
        x, y, bits = self._check_many(lons, lats)
        n = len(x)
        out_code = np.empty((N_LEVELS, n), dtype=np.int32)
        out_name = np.empty((N_LEVELS, n), dtype=np.int32)
        deepest = np.empty(n, dtype=np.int8)
        slow = np.empty(n, dtype=np.bool_)
        st = self._stack
        _kernel.place(x, y, bits, self.gap_tolerance_m > 0, self._rt_col, self._rw_col,
                      st.gx0, st.gy0, st.inv_dx, st.inv_dy, st.nx, st.ny, st.cell_off,
                      st.column, st.cell_start, st.cell_poly, st.cell_full, st.near,
                      st.near_pad, st.start, st.ex0, st.ey0, st.ex1, st.ey1, st.anc,
                      st.cell_answer, st.poly_out,
                      self._code_pos, self._name_pos, _OVERLAP, _BORDER, _CONFLICT,
                      _RT_MISSING, _RW_MISSING, _OUTSIDE, _UNUSABLE,
                      out_code, out_name, deepest, slow)
        gap_m = np.full(n, np.nan)  # the kernel places no point by the gap rule
        sub = np.flatnonzero(slow)
        if len(sub):
            taken, bits[sub], gap_m[sub] = self._place_arrays(x[sub], y[sub], bits[sub])
            gap_m = np.where((bits & _GAP) != 0, gap_m, np.nan)
            none = len(self._index)
            for k in range(N_LEVELS):
                col = np.where(taken[:, k] >= 0, taken[:, k], none)
                out_code[k, sub] = self._code_pos[k, col]
                out_name[k, sub] = self._name_pos[k, col]
            dl = np.full(len(sub), -1, dtype=np.int8)
            for k in range(N_LEVELS):
                dl[taken[:, k] >= 0] = k
            deepest[sub] = dl
        out: dict[str, Any] = {"lon": x, "lat": y}  # NaN where unusable
        for k, key_name in enumerate(LEVEL_KEYS.values()):
            for what, codes, cats in (("code", out_code, self._out_codes[k][0]),
                                      ("name", out_name, self._out_names[k][0])):
                out[f"{key_name}_{what}"] = pd.Categorical.from_codes(
                    codes[k], categories=cats, validate=False)
        out["deepest_level"] = pd.Categorical.from_codes(
            deepest, categories=self._level_cats, validate=False)
        used = np.flatnonzero(np.bincount(bits, minlength=len(self._flag_labels)))
        remap = np.full(len(self._flag_labels), -1, dtype=np.int32)
        remap[used] = np.arange(len(used))
        out["quality_flags"] = pd.Categorical.from_codes(
            remap[bits], categories=pd.Index([self._flag_labels[b] for b in used], dtype=object),
            validate=False)
        for name in FLAGS:
            out[name] = (bits & _BIT[name]) != 0
        out["gap_distance_m"] = gap_m
        return pd.DataFrame(out, copy=False)

    def _place_arrays(self, x: np.ndarray, y: np.ndarray, bits: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rules with numpy and shapely for the points the kernel leaves (overlap
        duels, the gap rule): (unit id per level, flag bits, gap metres)."""
        n = len(x)
        bits = bits.copy()
        valid = (bits & _UNUSABLE) == 0
        taken = np.full((n, N_LEVELS), -1, dtype=np.int64)
        uncovered = []
        for layer in self._layers:
            poly, n_in, n_b = _grid.query(layer.grid, x, y)
            bits |= np.where(n_in >= 2, _OVERLAP, 0)
            bits |= np.where((n_in < 2) & (n_in + n_b >= 2), _BORDER, 0)
            multi = np.flatnonzero(n_in + n_b >= 2)
            if len(multi):
                pt, cand, st = _grid.covering_all(layer.grid, x[multi], y[multi])
                poly[multi] = self._choose(layer, x[multi], y[multi], taken[multi],
                                           pt, cand, st)
            has = np.flatnonzero(poly >= 0)
            t = taken[has]
            a = layer.anc[poly[has]]
            clash = ((t >= 0) & (a >= 0) & (t != a)).any(axis=1)
            bits[has[clash]] |= _CONFLICT
            ok = ~clash
            taken[has[ok]] = np.where(t[ok] >= 0, t[ok], a[ok])
            if self.gap_tolerance_m > 0:
                uncovered.append((layer, np.flatnonzero((poly < 0) & valid)))
        gap_m = np.full(n, np.nan)
        for layer, miss in uncovered:
            if not len(miss):
                continue
            near, dist = self._nearest(layer, x[miss], y[miss])
            hit = near >= 0
            rows, near, dist = miss[hit], near[hit], dist[hit]
            t = taken[rows]
            a = layer.anc[near]
            use = (t[:, layer.column] < 0) & ~((t >= 0) & (a >= 0) & (t != a)).any(axis=1)
            rows, t, a = rows[use], t[use], a[use]
            taken[rows] = np.where(t >= 0, t, a)
            bits[rows] |= _GAP
            gap_m[rows] = np.fmax(gap_m[rows], dist[use])
        placed = (taken >= 0).any(axis=1)
        if self._has_rt:
            bits |= np.where(placed & (taken[:, LEVEL_COLUMN[AdminLevel.RT]] < 0), _RT_MISSING, 0)
        if self._has_rw:
            bits |= np.where(placed & (taken[:, LEVEL_COLUMN[AdminLevel.RW]] < 0), _RW_MISSING, 0)
        bits |= np.where(~placed & valid, _OUTSIDE, 0)
        return taken, bits, gap_m

    # ------------------------------------------------------------------ helpers
    def _result(self, taken: tuple[int, ...], bits: int
                ) -> tuple[Placement, tuple[str, ...], str | None]:
        """Placement, flags and deepest level for the units taken (unit id per level)."""
        key = (taken, bits)
        hit = self._results.get(key)
        if hit is not None:
            return hit
        placed = any(t >= 0 for t in taken)
        all_bits = bits
        if placed and self._has_rt and taken[LEVEL_COLUMN[AdminLevel.RT]] < 0:
            all_bits |= _RT_MISSING
        if placed and self._has_rw and taken[LEVEL_COLUMN[AdminLevel.RW]] < 0:
            all_bits |= _RW_MISSING
        if not placed:
            all_bits |= _OUTSIDE
        idx = self._index
        fields: dict[str, str | None] = {}
        deepest = None
        for k, key_name in enumerate(LEVEL_KEYS.values()):
            u = taken[k]
            fields[f"{key_name}_code"] = idx.codes[u] if u >= 0 else None
            fields[f"{key_name}_name"] = idx.names[u] if u >= 0 else None
            if u >= 0:
                deepest = key_name
        flags = flag_names(all_bits)
        res = (Placement(**fields, flags=flags), flags, deepest)
        self._results[key] = res
        return res

    def _check_many(self, lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised :func:`check_lonlat`: (lon, lat, bits) with swaps corrected."""
        return _kernel.checked(lons, lats, self.coverage_bbox or INDONESIA_BBOX, INDONESIA_BBOX,
                               self.swap == "refuse", _INVALID, _SWAPPED, _MISSING)

    def _to_metric(self, geoms: Any) -> Any:
        lon0, lat0, kx, ky = self._lon0, self._lat0, self._kx, self._ky
        return shapely.transform(
            geoms, lambda c: np.column_stack(((c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * ky)))

    def _near_cells(self, grid: _grid.GridIndex) -> np.ndarray:
        """Cells from which a polygon may lie within the gap tolerance."""
        occupied = (np.diff(grid.cell_start) > 0).reshape(grid.ny, grid.nx)
        rx = int(math.ceil(self.gap_tolerance_m * grid.inv_dx / max(self._kx, 1e-9))) + 1
        ry = int(math.ceil(self.gap_tolerance_m * grid.inv_dy / self._ky)) + 1
        if rx > grid.nx and ry > grid.ny:
            return np.ones(grid.nx * grid.ny, dtype=bool)
        rx, ry = min(rx, grid.nx), min(ry, grid.ny)
        return _dilate(occupied, ry, rx).reshape(-1)

    def _nearest(self, layer: _Layer, x: np.ndarray, y: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest polygon within the gap tolerance (index, metres); -1 when none."""
        n = len(x)
        near = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        tol_deg = self.gap_tolerance_m / (self._kx if self._kx > 0 else _EARTH_M_PER_DEG)
        tol_deg = max(tol_deg, self.gap_tolerance_m / self._ky)
        b = layer.bbox
        in_box = ((x >= b[0] - tol_deg) & (x <= b[2] + tol_deg)
                  & (y >= b[1] - tol_deg) & (y <= b[3] + tol_deg))
        g = layer.grid
        on_grid = in_box & (x >= layer.gx0) & (x <= layer.gx1) & (y >= layer.gy0) & (y <= layer.gy1)
        ix = np.minimum(((np.where(on_grid, x, layer.gx0) - layer.gx0) * g.inv_dx).astype(np.int64),
                        g.nx - 1)
        iy = np.minimum(((np.where(on_grid, y, layer.gy0) - layer.gy0) * g.inv_dy).astype(np.int64),
                        g.ny - 1)
        in_box &= ~on_grid | layer.near_cells[iy * g.nx + ix]
        cand = np.flatnonzero(in_box)
        if not len(cand):
            return near, dist
        pts = shapely.points((x[cand] - self._lon0) * self._kx, (y[cand] - self._lat0) * self._ky)
        (pi, ti), d = layer.tree.query_nearest(
            pts, max_distance=self.gap_tolerance_m, return_distance=True, all_matches=True)
        if len(pi):
            # ties: smallest polygon index (= smallest code) per point
            order = np.lexsort((ti, pi))
            pi, ti, d = pi[order], ti[order], d[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            near[cand[pi[first]]] = ti[first]
            dist[cand[pi[first]]] = d[first]
        return near, dist

    def _unit_ref(self, code: str) -> dict[str, str | None]:
        lvl = self.units.level(code)
        return {"code": code, "name": self.units.name(code),
                "level": LEVEL_KEYS.get(lvl) if lvl else None}

    def _metric_xy(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (xs - self._lon0) * self._kx, (ys - self._lat0) * self._ky


_EMPTY = (-1,) * N_LEVELS


def _agrees(taken: Any, row: tuple[int, ...]) -> bool:
    """No level where both name a unit and the units differ."""
    for t, v in zip(taken, row):
        if t >= 0 and v >= 0 and t != v:
            return False
    return True


def _names_all(row: tuple[int, ...], taken: Any) -> bool:
    """``row`` names every unit of ``taken`` (and maybe more): it can replace it."""
    for t, v in zip(taken, row):
        if t >= 0 and t != v:
            return False
    return True


def _any_per(pt: np.ndarray, mask: np.ndarray, m: int) -> np.ndarray:
    out = np.zeros(m, dtype=bool)
    out[pt[mask]] = True
    return out


def _dilate(occupied: np.ndarray, ry: int, rx: int) -> np.ndarray:
    """Cells with an occupied cell within ``ry`` rows and ``rx`` columns (a rectangle):
    ``scipy.ndimage.binary_dilation`` with a ``(2ry+1, 2rx+1)`` block of ones, outside
    the grid empty — counted with a summed-area table instead, so that the geocoder
    does not load scipy.ndimage (and the scipy.linalg/special it imports) into every
    worker."""
    ny, nx = occupied.shape
    s = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    np.cumsum(np.cumsum(occupied, axis=0, dtype=np.int64), axis=1, out=s[1:, 1:])
    rows, cols = np.arange(ny), np.arange(nx)
    band = s[np.minimum(rows + ry + 1, ny)] - s[np.maximum(rows - ry, 0)]
    return band[:, np.minimum(cols + rx + 1, nx)] - band[:, np.maximum(cols - rx, 0)] > 0
