"""Reverse geocoding: a point (lon, lat, EPSG:4326) → kabupaten/kota, kecamatan,
kelurahan/desa, RW and RT, with codes, names and quality flags.

Rules (the same for one point and for a batch; deterministic):

* **Covered** means inside a polygon or on its boundary (like
  ``geopandas.sjoin(predicate="intersects")``).
* **Shared border / overlap**: when several polygons of one level cover a point, the
  one with the **smallest code** wins. A point on a border gets flag ``border``; a point
  in the interior of two polygons (overlapping data) gets flag ``overlap``; the other
  units are returned as alternatives by :meth:`ReverseGeocoder.locate`.
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
from geo_sigap.geocoding import _grid
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


@dataclass(frozen=True, slots=True)
class ReverseResult:
    """The answer for one point.

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
    codes: np.ndarray  # sorted ascending; polygon index = position
    geoms: np.ndarray
    grid: _grid.GridIndex
    tree: shapely.STRtree  # over metric geometries, for the gap rule
    bbox: tuple[float, float, float, float]
    near_cells: np.ndarray  # bool per grid cell: a polygon lies within the gap tolerance
    # plain-Python copies for the single-point fast path
    gx0: float = 0.0
    gy0: float = 0.0
    gx1: float = 0.0
    gy1: float = 0.0


@dataclass(frozen=True, slots=True)
class _Resolved:
    codes: tuple[str | None, ...]  # per LEVEL_KEYS order
    names: tuple[str | None, ...]
    deepest: str | None
    bits: int
    fields: dict[str, str | None] = field(default_factory=dict)


class ReverseGeocoder:
    """Point → administrative units, for one point or millions (see module rules).

    Build with :meth:`from_units`. Thread-safe for reading once built.
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
        self._kx = _EARTH_M_PER_DEG * math.cos(math.radians(self._lat0))
        self._ky = _EARTH_M_PER_DEG
        self._layers: list[_Layer] = []
        for level in LEVEL_KEYS:
            sub = poly[poly["level"] == int(level)]
            if not len(sub):
                continue
            geoms = np.asarray(sub.geometry.values)
            grid = _grid.build_grid(geoms)
            tree = shapely.STRtree(self._to_metric(geoms))
            b = tuple(map(float, shapely.total_bounds(geoms)))
            layer = _Layer(level, sub["code"].to_numpy(dtype=object), geoms, grid, tree, b,
                           self._near_cells(grid))
            layer.gx0, layer.gy0 = grid.x0, grid.y0
            layer.gx1 = grid.x0 + grid.nx / grid.inv_dx
            layer.gy1 = grid.y0 + grid.ny / grid.inv_dy
            self._layers.append(layer)
        self._cache: dict[tuple[int, ...], _Resolved] = {}

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
        cp = check_lonlat(lon, lat, coverage_bbox=self.coverage_bbox, swap=self.swap)
        x, y = cp.lon, cp.lat
        key: list[int] = []
        point_bits = _SWAPPED if cp.swapped else 0
        alternatives: list[dict[str, str | None]] = []
        gap_m = 0.0
        for layer in self._layers:
            idx, gap = -1, False
            if layer.gx0 <= x <= layer.gx1 and layer.gy0 <= y <= layer.gy1:
                g = layer.grid
                ix = min(int((x - layer.gx0) * g.inv_dx), g.nx - 1)
                iy = min(int((y - layer.gy0) * g.inv_dy), g.ny - 1)
                idx = int(g.cell_answer[iy * g.nx + ix])
                if idx == -2:
                    cover = _grid.covering(g, x, y)
                    idx = cover[0][0] if cover else -1
                    if len(cover) > 1:
                        n_in = sum(1 for _, st in cover if st == 2)
                        point_bits |= _OVERLAP if n_in >= 2 else _BORDER
                        for p, _ in cover[1:]:
                            alternatives.append(self._unit_ref(layer.codes[p]))
            if idx < 0 and self.gap_tolerance_m > 0:
                near, dist = self._nearest(layer, np.array([x]), np.array([y]))
                if near[0] >= 0:
                    idx, gap = int(near[0]), True
                    gap_m = max(gap_m, float(dist[0]))
            key.append(idx * 2 + (1 if gap else 0))
        res = self._resolve(tuple(key))
        bits = res.bits | point_bits
        placement = Placement(**res.fields, flags=flag_names(bits))
        warnings = (cp.warning,) if cp.warning else ()
        return ReverseResult(x, y, placement, res.deepest, flag_names(bits), warnings,
                             tuple(alternatives), gap_m if bits & _GAP else 0.0)

    def place(self, lon: object, lat: object) -> Placement:
        """:class:`Placement` of one point (what the dispatch service stores)."""
        return self.locate(lon, lat).placement

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
        x, y, point_bits = self._check_many(lons, lats)
        n = len(x)
        valid = (point_bits & _UNUSABLE) == 0
        keys = np.zeros((n, len(self._layers)), dtype=np.int64)
        gap_m = np.full(n, np.nan)
        for j, layer in enumerate(self._layers):
            poly, n_in, n_b = _grid.query(layer.grid, x, y)
            point_bits |= np.where(n_in >= 2, _OVERLAP, 0)
            point_bits |= np.where((n_in < 2) & (n_in + n_b >= 2), _BORDER, 0)
            key = poly * 2
            if self.gap_tolerance_m > 0:
                miss = np.flatnonzero((poly < 0) & valid)
                if len(miss):
                    near, dist = self._nearest(layer, x[miss], y[miss])
                    hit = near >= 0
                    key[miss[hit]] = near[hit] * 2 + 1
                    gap_m[miss[hit]] = np.fmax(gap_m[miss[hit]], dist[hit])
            keys[:, j] = key
        combo, uniq = self._factorize(keys)
        resolved = [self._resolve(tuple(int(v) for v in row)) for row in uniq]
        combo_bits = np.array([r.bits for r in resolved], dtype=np.int64)
        bits = np.where(valid, combo_bits[combo] if len(resolved) else 0, 0) | point_bits
        bits = np.where(valid, bits, point_bits & _UNUSABLE)
        out: dict[str, Any] = {"lon": np.where(valid, x, np.nan),
                               "lat": np.where(valid, y, np.nan)}
        combo_v = np.where(valid, combo, -1)
        for k, key_name in enumerate(LEVEL_KEYS.values()):
            for what, attr in (("code", "codes"), ("name", "names")):
                vals = [getattr(r, attr)[k] for r in resolved]
                out[f"{key_name}_{what}"] = _categorical(vals, combo_v)
        out["deepest_level"] = _categorical([r.deepest for r in resolved], combo_v)
        ubits, inv = np.unique(bits, return_inverse=True)
        out["quality_flags"] = pd.Categorical.from_codes(
            inv.reshape(-1), categories=[";".join(flag_names(int(b))) for b in ubits])
        for name in FLAGS:
            out[name] = (bits & _BIT[name]) != 0
        out["gap_distance_m"] = np.where((bits & _GAP) != 0, gap_m, np.nan)
        return pd.DataFrame(out)

    # ------------------------------------------------------------------ helpers
    def _check_many(self, lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised :func:`check_lonlat`: (lon, lat, bits) with swaps corrected."""
        x, x_missing = _to_float(lons)
        y, y_missing = _to_float(lats)
        if len(x) != len(y):
            raise ValueError("lons and lats differ in length")
        missing = x_missing | y_missing
        area = self.coverage_bbox or INDONESIA_BBOX
        finite = np.isfinite(x) & np.isfinite(y)
        with np.errstate(invalid="ignore"):
            as_ok = (np.abs(x) <= 180) & (np.abs(y) <= 90)
            sw_ok = (np.abs(y) <= 180) & (np.abs(x) <= 90)

            def inside(a: np.ndarray, b: np.ndarray, bb: tuple[float, ...]) -> np.ndarray:
                return (a >= bb[0]) & (a <= bb[2]) & (b >= bb[1]) & (b <= bb[3])

            in_area, in_indo = inside(x, y, area), inside(x, y, INDONESIA_BBOX)
            sw_area, sw_indo = inside(y, x, area), inside(y, x, INDONESIA_BBOX)
        swapped = finite & np.where(
            ~as_ok, sw_ok & (sw_area | sw_indo),
            (~in_area & sw_ok & sw_area) | (~in_indo & sw_ok & sw_indo))
        invalid = ~finite | (~as_ok & ~swapped)
        if self.swap == "refuse":
            invalid |= swapped
            swapped = np.zeros_like(swapped)
        invalid &= ~missing
        bits = (np.where(invalid, _INVALID, 0) | np.where(swapped, _SWAPPED, 0)
                | np.where(missing, _MISSING, 0))
        invalid |= missing
        xs = np.where(swapped, y, x)
        ys = np.where(swapped, x, y)
        xs = np.where(invalid, np.nan, xs)
        ys = np.where(invalid, np.nan, ys)
        return xs, ys, bits.astype(np.int64)

    def _to_metric(self, geoms: Any) -> Any:
        lon0, lat0, kx, ky = self._lon0, self._lat0, self._kx, self._ky
        return shapely.transform(
            geoms, lambda c: np.column_stack(((c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * ky)))

    def _near_cells(self, grid: _grid.GridIndex) -> np.ndarray:
        """Cells from which a polygon may lie within the gap tolerance."""
        from scipy.ndimage import binary_dilation

        occupied = (np.diff(grid.cell_start) > 0).reshape(grid.ny, grid.nx)
        rx = int(math.ceil(self.gap_tolerance_m * grid.inv_dx / max(self._kx, 1e-9))) + 1
        ry = int(math.ceil(self.gap_tolerance_m * grid.inv_dy / self._ky)) + 1
        if rx > grid.nx and ry > grid.ny:
            return np.ones(grid.nx * grid.ny, dtype=bool)
        rx, ry = min(rx, grid.nx), min(ry, grid.ny)
        near = binary_dilation(occupied, structure=np.ones((2 * ry + 1, 2 * rx + 1), bool))
        return near.reshape(-1)

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

    @staticmethod
    def _factorize(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if keys.shape[1] == 0:
            return np.zeros(len(keys), dtype=np.int64), np.zeros((1, 0), dtype=np.int64)
        radix = [int(keys[:, j].max(initial=0)) + 3 for j in range(keys.shape[1])]
        if math.prod(radix) < 2**62:
            flat = np.zeros(len(keys), dtype=np.int64)
            for j, r in enumerate(radix):
                flat = flat * r + (keys[:, j] + 2)
            codes, uniq_flat = pd.factorize(flat)
            uniq = np.zeros((len(uniq_flat), keys.shape[1]), dtype=np.int64)
            rest = np.asarray(uniq_flat, dtype=np.int64)
            for j in range(keys.shape[1] - 1, -1, -1):
                uniq[:, j] = rest % radix[j] - 2
                rest = rest // radix[j]
            return codes.astype(np.int64), uniq
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        return inv.reshape(-1).astype(np.int64), uniq

    def _unit_ref(self, code: str) -> dict[str, str | None]:
        lvl = self.units.level(code)
        return {"code": code, "name": self.units.name(code),
                "level": LEVEL_KEYS.get(lvl) if lvl else None}

    def _ancestors_by_level(self, code: str) -> dict[AdminLevel | None, str]:
        return {self.units.level(a): a for a in self.units.ancestors(code)}

    def _resolve(self, key: tuple[int, ...]) -> _Resolved:
        """Codes, names and flags for one combination of per-layer answers
        (``2 * polygon index + is_gap`` per layer, negative = none)."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        units = self.units
        answers = []  # (is_gap, depth, level, code)
        for layer, k in zip(self._layers, key):
            if k >= 0:
                answers.append((k & 1, int(layer.level), layer.level, layer.codes[k >> 1]))
        answers.sort(key=lambda a: (a[0], a[1]))  # real covers first, shallow first
        taken: dict[AdminLevel, str] = {}
        bits = 0
        for is_gap, _, level, code in answers:
            anc_by_level = self._ancestors_by_level(code)
            clash = any(lvl in anc_by_level and anc_by_level[lvl] != c
                        for lvl, c in taken.items())
            if level in taken:  # already filled from a deeper real unit's parents
                clash = clash or taken[level] != code
                if not clash:
                    continue
            if clash:
                # a gap guess that disagrees is simply not used; a real polygon that
                # disagrees with the levels above it is a data conflict
                if not is_gap:
                    bits |= _CONFLICT
                continue
            taken[level] = code
            if is_gap:
                bits |= _GAP
            for lvl, a in anc_by_level.items():
                if lvl in LEVEL_KEYS and lvl not in taken:
                    taken[lvl] = a
        for layer in self._layers if taken else ():
            if layer.level == AdminLevel.RT and AdminLevel.RT not in taken:
                bits |= _RT_MISSING
            if layer.level == AdminLevel.RW and AdminLevel.RW not in taken:
                bits |= _RW_MISSING
        if not taken:
            bits |= _OUTSIDE
        codes = tuple(taken.get(lvl) for lvl in LEVEL_KEYS)
        names = tuple(units.name(c) if c else None for c in codes)
        deepest = next((LEVEL_KEYS[lvl] for lvl in reversed(LEVEL_KEYS) if lvl in taken), None)
        fields = {}
        for k, key_name in enumerate(LEVEL_KEYS.values()):
            fields[f"{key_name}_code"] = codes[k]
            fields[f"{key_name}_name"] = names[k]
        res = _Resolved(codes, names, deepest, bits, fields)
        self._cache[key] = res
        return res


def _to_float(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Degrees as float64 and a mask of missing values (None, empty text, NaN)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        out = arr.astype(np.float64, copy=False).reshape(-1)
        return out, np.isnan(out)
    if arr.dtype.kind != "O":  # a list mixing numbers and text: keep the numbers
        arr = np.asarray(values, dtype=object)
    s = pd.Series(arr.reshape(-1), dtype=object).map(
        lambda v: v.strip().replace(",", ".") if isinstance(v, str) else v)
    missing = s.isna().to_numpy() | (s == "").to_numpy()
    return (pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
            missing)


def _categorical(values: list[str | None], combo: np.ndarray) -> pd.Categorical:
    cats = sorted({v for v in values if v is not None})
    pos = {c: i for i, c in enumerate(cats)}
    per_combo = np.array([pos[v] if v is not None else -1 for v in values] + [-1],
                         dtype=np.int64)
    return pd.Categorical.from_codes(per_combo[combo], categories=pd.Index(cats, dtype=object))
