"""The batch reverse-geocoding kernel: every layer of a geocoder stacked into flat
arrays, and one numba loop that places each point through all layers at once.

The loop does what :meth:`ReverseGeocoder.locate_many` documents for the common
case — grid cell look-up, point-in-polygon on boundary cells, the hierarchy check and
the fill from parent codes, the missing-level flags — and writes the output columns
directly (category positions per level, flag bits). A point it cannot finish alone
is marked ``slow`` and placed by the array path in Python: two or more overlapping
interiors left after the hierarchy (the overlap duel), or a layer not covering the
point while a polygon of it may lie within the gap tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from geo_sigap.geocoding._grid import GridIndex, _pip

_MAX_CAND = 64


@dataclass(frozen=True, slots=True)
class Stack:
    """All layers of a geocoder, concatenated; polygon ids are global (layer offset +
    index in the layer)."""

    gx0: np.ndarray
    gy0: np.ndarray
    inv_dx: np.ndarray
    inv_dy: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    cell_off: np.ndarray  # first cell of each layer in the cell arrays
    poly_off: np.ndarray  # first global polygon id of each layer
    column: np.ndarray  # level column of each layer
    cell_start: np.ndarray  # into cell_poly (global positions)
    cell_poly: np.ndarray  # global polygon ids (int32: a city's cells hold millions)
    cell_full: np.ndarray
    near: np.ndarray  # bool per cell: a polygon may lie within the gap tolerance
    near_pad: np.ndarray  # per layer, degrees: the tolerance beyond the grid
    start: np.ndarray  # edges of global polygon p: start[p]:start[p+1]
    ex0: np.ndarray
    ey0: np.ndarray
    ex1: np.ndarray
    ey1: np.ndarray
    anc: np.ndarray  # (polygons, levels) unit ids
    cell_answer: np.ndarray  # int32 global polygon id when one polygon fills the cell; -1 / -2
    poly_out: np.ndarray  # (polygons, 2 * levels + 1): code and name positions, deepest


def stack(grids: list[GridIndex], near: list[np.ndarray], near_pad: list[float],
          columns: list[int], anc: list[np.ndarray], code_pos: np.ndarray,
          name_pos: np.ndarray) -> Stack:
    cell_off = np.zeros(len(grids) + 1, dtype=np.int64)
    poly_off = np.zeros(len(grids) + 1, dtype=np.int64)
    starts, polys, edge_off = [], [], 0
    cell_pos = 0
    ex0, ey0, ex1, ey1, estart = [], [], [], [], []
    for i, g in enumerate(grids):
        cell_off[i + 1] = cell_off[i] + g.nx * g.ny
        npoly = len(g.edges.start) - 1
        poly_off[i + 1] = poly_off[i] + npoly
        starts.append(g.cell_start[:-1] + cell_pos)
        polys.append(g.cell_poly.astype(np.int64) + poly_off[i])
        cell_pos += len(g.cell_poly)
        e = g.edges
        estart.append(e.start[:-1] + edge_off)
        edge_off += len(e.x0)
        ex0.append(e.x0), ey0.append(e.y0), ex1.append(e.x1), ey1.append(e.y1)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0), dtype=dtype)

    answers = [np.where(g.cell_answer >= 0, g.cell_answer.astype(np.int64) + poly_off[i],
                        g.cell_answer) for i, g in enumerate(grids)]
    all_anc = np.ascontiguousarray(np.concatenate(anc) if anc else np.zeros((0, 5)),
                                   dtype=np.int64)
    n_levels = all_anc.shape[1]
    poly_out = np.full((len(all_anc), 2 * n_levels + 1), -1, dtype=np.int32)
    for k in range(n_levels):
        has = all_anc[:, k] >= 0
        poly_out[has, k] = code_pos[k, all_anc[has, k]]
        poly_out[has, n_levels + k] = name_pos[k, all_anc[has, k]]
        poly_out[has, 2 * n_levels] = k
    return Stack(
        np.array([g.x0 for g in grids], dtype=np.float64),
        np.array([g.y0 for g in grids], dtype=np.float64),
        np.array([g.inv_dx for g in grids], dtype=np.float64),
        np.array([g.inv_dy for g in grids], dtype=np.float64),
        np.array([g.nx for g in grids], dtype=np.int64),
        np.array([g.ny for g in grids], dtype=np.int64),
        cell_off, poly_off, np.array(columns, dtype=np.int64),
        np.ascontiguousarray(np.r_[cat(starts, np.int64), cell_pos], dtype=np.int64),
        cat(polys, np.int32), cat([g.cell_full for g in grids], np.bool_),
        cat(near, np.bool_), np.array(near_pad, dtype=np.float64),
        np.ascontiguousarray(np.r_[cat(estart, np.int64), edge_off], dtype=np.int64),
        cat(ex0, np.float64), cat(ey0, np.float64), cat(ex1, np.float64), cat(ey1, np.float64),
        all_anc, cat(answers, np.int32), poly_out,
    )


@njit(cache=True, nogil=True)
def place(xs, ys, bits, gap_on, rt_col, rw_col,
          gx0, gy0, inv_dx, inv_dy, nx, ny, cell_off, column, cell_start, cell_poly,
          cell_full, near, near_pad, start, ex0, ey0, ex1, ey1, anc, cell_answer, poly_out,
          code_pos, name_pos, b_overlap, b_border, b_conflict, b_rt, b_rw, b_outside,
          b_unusable, out_code, out_name, out_deepest, slow):
    """Place every point (see module docstring); ``bits`` holds the coordinate flags on
    entry and all flags on exit; rows marked ``slow`` are left for the caller."""
    n_layers = gx0.shape[0]
    n_levels = anc.shape[1]
    taken = np.empty(n_levels, dtype=np.int64)
    cand = np.empty(_MAX_CAND, dtype=np.int64)
    cst = np.empty(_MAX_CAND, dtype=np.int64)
    for t in range(xs.shape[0]):
        for k in range(n_levels):
            out_code[k, t] = -1
            out_name[k, t] = -1
        out_deepest[t] = -1
        slow[t] = False
        b = bits[t]
        if b & b_unusable:
            continue
        x = xs[t]
        y = ys[t]
        for k in range(n_levels):
            taken[k] = -1
        done = True
        top = -1  # taken is exactly the units of this polygon
        for lyr in range(n_layers):
            x0 = gx0[lyr]
            y0 = gy0[lyr]
            gnx = nx[lyr]
            gny = ny[lyr]
            x1 = x0 + gnx / inv_dx[lyr]
            y1 = y0 + gny / inv_dy[lyr]
            inside_grid = x >= x0 and x <= x1 and y >= y0 and y <= y1
            n_c = 0
            n_in = 0
            cell = -1
            if inside_grid:
                ix = min(int((x - x0) * inv_dx[lyr]), gnx - 1)
                iy = min(int((y - y0) * inv_dy[lyr]), gny - 1)
                cell = cell_off[lyr] + iy * gnx + ix
                one = cell_answer[cell]
                if one >= 0:  # a cell wholly inside one polygon: no test
                    cand[0] = one
                    cst[0] = 2
                    n_c = 1
                    n_in = 1
                    q_end = 0
                else:
                    q_end = cell_start[cell + 1]
                for q in range(cell_start[cell] if one < 0 else 0, q_end):
                    p = cell_poly[q]
                    st = 2 if cell_full[q] else _pip(x, y, start[p], start[p + 1],
                                                     ex0, ey0, ex1, ey1)
                    if st == 0:
                        continue
                    if n_c < _MAX_CAND:
                        cand[n_c] = p
                        cst[n_c] = st
                    n_c += 1
                    if st == 2:
                        n_in += 1
            if n_c > _MAX_CAND:
                done = False
                break
            if n_c == 0:
                if gap_on:
                    if inside_grid:
                        if near[cell]:
                            done = False
                            break
                    elif (x >= x0 - near_pad[lyr] and x <= x1 + near_pad[lyr]
                          and y >= y0 - near_pad[lyr] and y <= y1 + near_pad[lyr]):
                        done = False
                        break
                continue
            chosen = cand[0]
            if n_c >= 2:
                if n_in >= 2:
                    b |= b_overlap
                else:
                    b |= b_border
                # keep candidates that agree with the units taken; then interiors
                n_fit = 0
                for i in range(n_c):
                    ok = True
                    for k in range(n_levels):
                        tk = taken[k]
                        a = anc[cand[i], k]
                        if tk >= 0 and a >= 0 and tk != a:
                            ok = False
                            break
                    if ok:
                        n_fit += 1
                        cst[i] += 10  # mark as fitting
                fit_in = 0
                best = -1
                best_in = False
                for i in range(n_c):
                    fits = cst[i] >= 10 or n_fit == 0
                    if not fits:
                        continue
                    inner = (cst[i] % 10) == 2
                    if inner:
                        fit_in += 1
                    if best < 0 or (inner and not best_in) or (
                            inner == best_in and cand[i] < best):
                        best = cand[i]
                        best_in = inner
                if fit_in >= 2:
                    done = False  # overlapping interiors: the duel is done in Python
                    break
                chosen = best
            clash = False
            covers = True  # the chosen polygon names every unit taken so far
            for k in range(n_levels):
                tk = taken[k]
                a = anc[chosen, k]
                if tk >= 0 and a >= 0 and tk != a:
                    clash = True
                    break
                if tk >= 0 and tk != a:
                    covers = False
            if clash:
                b |= b_conflict
                continue
            top = chosen if covers else -1
            for k in range(n_levels):
                if taken[k] < 0:
                    taken[k] = anc[chosen, k]
        if not done:
            slow[t] = True
            continue
        if top >= 0:  # the common case: one row of precomputed output positions
            for k in range(n_levels):
                out_code[k, t] = poly_out[top, k]
                out_name[k, t] = poly_out[top, n_levels + k]
            out_deepest[t] = poly_out[top, 2 * n_levels]
            if rt_col >= 0 and taken[rt_col] < 0:
                b |= b_rt
            if rw_col >= 0 and taken[rw_col] < 0:
                b |= b_rw
            bits[t] = b
            continue
        placed = False
        for k in range(n_levels):
            u = taken[k]
            if u >= 0:
                placed = True
                out_code[k, t] = code_pos[k, u]
                out_name[k, t] = name_pos[k, u]
                out_deepest[t] = k
        if placed:
            if rt_col >= 0 and taken[rt_col] < 0:
                b |= b_rt
            if rw_col >= 0 and taken[rw_col] < 0:
                b |= b_rw
        else:
            b |= b_outside
        bits[t] = b


@njit(cache=True, nogil=True)
def check_points(x, y, missing, area, indo, refuse, b_invalid, b_swapped, b_missing,
                 out_x, out_y, out_bits):
    """:func:`geo_sigap.domain.coordinates.check_lonlat` for arrays: coordinates used
    (swaps corrected, NaN when unusable) and their flag bits."""
    for t in range(x.shape[0]):
        a = x[t]
        b = y[t]
        if missing[t]:
            out_x[t] = np.nan
            out_y[t] = np.nan
            out_bits[t] = b_missing
            continue
        if not (np.isfinite(a) and np.isfinite(b)):
            out_x[t] = np.nan
            out_y[t] = np.nan
            out_bits[t] = b_invalid
            continue
        as_ok = abs(a) <= 180 and abs(b) <= 90
        sw_ok = abs(b) <= 180 and abs(a) <= 90
        in_area = area[0] <= a <= area[2] and area[1] <= b <= area[3]
        in_indo = indo[0] <= a <= indo[2] and indo[1] <= b <= indo[3]
        sw_area = area[0] <= b <= area[2] and area[1] <= a <= area[3]
        sw_indo = indo[0] <= b <= indo[2] and indo[1] <= a <= indo[3]
        if not as_ok:
            swapped = sw_ok and (sw_area or sw_indo)
        else:
            swapped = (not in_area and sw_ok and sw_area) or (not in_indo and sw_ok and sw_indo)
        if (not as_ok and not swapped) or (swapped and refuse):
            out_x[t] = np.nan
            out_y[t] = np.nan
            out_bits[t] = b_invalid
        elif swapped:
            out_x[t] = b
            out_y[t] = a
            out_bits[t] = b_swapped
        else:
            out_x[t] = a
            out_y[t] = b
            out_bits[t] = 0


def checked(lons: Any, lats: Any, area: tuple[float, ...], indo: tuple[float, ...],
            refuse: bool, b_invalid: int, b_swapped: int, b_missing: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Degrees from array-likes (text with a decimal comma read) checked by
    :func:`check_points`: ``(lon, lat, bits)``."""
    x, x_missing = to_float(lons)
    y, y_missing = to_float(lats)
    if len(x) != len(y):
        raise ValueError("lons and lats differ in length")
    xs, ys = np.empty(len(x)), np.empty(len(x))
    bits = np.empty(len(x), dtype=np.int64)
    check_points(np.ascontiguousarray(x), np.ascontiguousarray(y),
                 np.ascontiguousarray(x_missing | y_missing), np.array(area, dtype=np.float64),
                 np.array(indo, dtype=np.float64), refuse, b_invalid, b_swapped, b_missing,
                 xs, ys, bits)
    return xs, ys, bits


def to_float(values: Any) -> tuple[np.ndarray, np.ndarray]:
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
