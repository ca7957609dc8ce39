"""Grid-accelerated point-in-polygon index (numba kernels).

A uniform grid is laid over one layer of polygons (EPSG:4326 degrees; the grid is
only an index, so no projection is needed). Each cell lists the polygons that may
contain a point of the cell:

* a polygon whose boundary passes through the (slightly enlarged) cell is listed
  as a *boundary* candidate: a point there is tested exactly against all rings of
  that polygon (even-odd rule, point-on-edge detected first);
* a polygon that contains the whole cell without its boundary touching it is listed
  as *full*: every point of the cell is in its interior, no test needed.

Most points fall in a cell with a single full polygon and are answered by two array
reads. Boundary points (on an edge or a vertex) count as covered, like
``shapely.intersects`` / ``geopandas.sjoin(predicate="intersects")``; the caller
resolves several covering polygons by the smallest polygon index (polygons are sorted
by code, so that is the smallest code).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numba import njit

# Cells are enlarged by this much (degrees, ~1 mm) when deciding whether an edge
# touches them, so that an edge lying on a cell border marks both cells.
_EPS = 1e-8

STATUS_OUTSIDE, STATUS_BOUNDARY, STATUS_INSIDE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class PolygonEdges:
    """All ring edges of a set of polygons, flattened: polygon ``i`` owns
    edges ``start[i]:start[i+1]`` of ``x0, y0, x1, y1`` (EPSG:4326 degrees)."""

    start: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy
    packed: np.ndarray  # (4, edges): x0, y0, x1, y1 as rows (the arrays above are views)


@dataclass(frozen=True, slots=True)
class GridIndex:
    """A uniform grid over one polygon layer (see module docstring)."""

    edges: PolygonEdges
    x0: float
    y0: float
    inv_dx: float
    inv_dy: float
    nx: int
    ny: int
    cell_start: np.ndarray  # int64, ncells + 1
    cell_poly: np.ndarray  # int32 candidate polygon indices, ascending inside a cell
    cell_full: np.ndarray  # bool: the candidate contains the whole cell
    # Fast path for a single point: polygon index when the cell has exactly one
    # candidate and it is full, -1 when the cell is empty, -2 when a test is needed.
    cell_answer: np.ndarray  # int32, ncells


def polygon_edges(geoms: np.ndarray) -> PolygonEdges:
    """Flatten the rings (exteriors and holes) of (multi)polygons into edge arrays."""
    n = len(geoms)
    geoms = np.asarray(geoms, dtype=object)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    same = coord_of[1:] == coord_of[:-1]
    edge_geom = part_of[ring_of[coord_of[:-1][same]]]
    counts = np.bincount(edge_geom, minlength=n) if n else np.zeros(0, dtype=np.int64)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    packed = np.empty((4, int(same.sum())), dtype=np.float64)  # rows x0, y0, x1, y1
    packed[0], packed[1] = coords[:-1, 0][same], coords[:-1, 1][same]
    packed[2], packed[3] = coords[1:, 0][same], coords[1:, 1][same]
    return PolygonEdges(start, packed[0], packed[1], packed[2], packed[3],
                        shapely.bounds(geoms).astype(np.float64).reshape(n, 4), packed)


def build_grid(geoms: np.ndarray, *, cells_per_polygon: int = 64, cells_per_edge: int = 8,
               max_cells: int = 1 << 22, min_cells: int = 1 << 12) -> GridIndex:
    """Build a :class:`GridIndex` over polygons ``geoms`` (EPSG:4326).

    The grid has about ``max(cells_per_polygon * polygons, cells_per_edge * edges)``
    cells (bounded by ``min_cells`` and ``max_cells``), square-ish in degrees, so that
    most cells lie wholly inside one polygon and boundary cells hold few edges.
    """
    edges = polygon_edges(geoms)
    if len(geoms):
        minx, miny = edges.bounds[:, 0].min(), edges.bounds[:, 1].min()
        maxx, maxy = edges.bounds[:, 2].max(), edges.bounds[:, 3].max()
    else:
        minx = miny = 0.0
        maxx = maxy = 1e-6
    w = max(maxx - minx, 1e-9)
    h = max(maxy - miny, 1e-9)
    pad_x, pad_y = w * 1e-6 + 1e-7, h * 1e-6 + 1e-7
    minx, miny, w, h = minx - pad_x, miny - pad_y, w + 2 * pad_x, h + 2 * pad_y
    want = max(cells_per_polygon * len(geoms), cells_per_edge * len(edges.x0), min_cells)
    target = int(min(want, max_cells))
    cell = np.sqrt(w * h / target)
    nx = max(1, int(np.ceil(w / cell)))
    ny = max(1, int(np.ceil(h / cell)))
    dx, dy = w / nx, h / ny
    cells, polys, full = _grid_pairs(
        edges.start, edges.x0, edges.y0, edges.x1, edges.y1, edges.bounds,
        minx, miny, dx, dy, nx, ny,
    )
    ncells = nx * ny
    order = np.lexsort((polys, cells))
    cells, polys, full = cells[order], polys[order], full[order]
    cell_start = np.zeros(ncells + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells, minlength=ncells), out=cell_start[1:])
    count = np.diff(cell_start)
    answer = np.full(ncells, -2, dtype=np.int32)
    answer[count == 0] = -1
    single = np.flatnonzero(count == 1)
    first = cell_start[single]
    ok = full[first]
    answer[single[ok]] = polys[first[ok]]
    return GridIndex(edges, float(minx), float(miny), 1.0 / dx, 1.0 / dy, nx, ny,
                     cell_start, polys.astype(np.int32), full, answer)


@njit(cache=True, nogil=True)
def _pip(px, py, s, e, ex0, ey0, ex1, ey1):
    """0 outside, 1 on the boundary, 2 inside (even-odd over all rings)."""
    inside = False
    for k in range(s, e):
        x0 = ex0[k]; y0 = ey0[k]; x1 = ex1[k]; y1 = ey1[k]
        cross = (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)
        if cross == 0.0:
            if min(x0, x1) <= px <= max(x0, x1) and min(y0, y1) <= py <= max(y0, y1):
                return 1
        if (y0 > py) != (y1 > py):
            if (cross > 0.0) == (y1 > y0):
                inside = not inside
    return 2 if inside else 0


@njit(cache=True, nogil=True)
def _segment_touches_box(x0, y0, x1, y1, bx0, by0, bx1, by1):
    if max(x0, x1) < bx0 or min(x0, x1) > bx1 or max(y0, y1) < by0 or min(y0, y1) > by1:
        return False
    dx = x1 - x0
    dy = y1 - y0
    c1 = dx * (by0 - y0) - dy * (bx0 - x0)
    c2 = dx * (by0 - y0) - dy * (bx1 - x0)
    c3 = dx * (by1 - y0) - dy * (bx0 - x0)
    c4 = dx * (by1 - y0) - dy * (bx1 - x0)
    if c1 > 0 and c2 > 0 and c3 > 0 and c4 > 0:
        return False
    if c1 < 0 and c2 < 0 and c3 < 0 and c4 < 0:
        return False
    return True


@njit(cache=True)
def _grid_pairs(start, ex0, ey0, ex1, ey1, bounds, gx0, gy0, dx, dy, nx, ny):
    cap = 1024
    cells = np.empty(cap, dtype=np.int64)
    polys = np.empty(cap, dtype=np.int64)
    full = np.empty(cap, dtype=np.bool_)
    n = 0
    npoly = start.shape[0] - 1
    for p in range(npoly):
        s = start[p]
        e = start[p + 1]
        if e <= s:
            continue
        ix0 = max(0, int(np.floor((bounds[p, 0] - _EPS - gx0) / dx)))
        iy0 = max(0, int(np.floor((bounds[p, 1] - _EPS - gy0) / dy)))
        ix1 = min(nx - 1, int(np.floor((bounds[p, 2] + _EPS - gx0) / dx)))
        iy1 = min(ny - 1, int(np.floor((bounds[p, 3] + _EPS - gy0) / dy)))
        bw = ix1 - ix0 + 1
        bh = iy1 - iy0 + 1
        mask = np.zeros((bh, bw), dtype=np.int8)
        for k in range(s, e):
            x0 = ex0[k]; y0 = ey0[k]; x1 = ex1[k]; y1 = ey1[k]
            jx0 = max(ix0, int(np.floor((min(x0, x1) - _EPS - gx0) / dx)))
            jx1 = min(ix1, int(np.floor((max(x0, x1) + _EPS - gx0) / dx)))
            jy0 = max(iy0, int(np.floor((min(y0, y1) - _EPS - gy0) / dy)))
            jy1 = min(iy1, int(np.floor((max(y0, y1) + _EPS - gy0) / dy)))
            for j in range(jy0, jy1 + 1):
                by0 = gy0 + j * dy - _EPS
                by1 = gy0 + (j + 1) * dy + _EPS
                for i in range(jx0, jx1 + 1):
                    if mask[j - iy0, i - ix0] == 1:
                        continue
                    bx0 = gx0 + i * dx - _EPS
                    bx1 = gx0 + (i + 1) * dx + _EPS
                    if _segment_touches_box(x0, y0, x1, y1, bx0, by0, bx1, by1):
                        mask[j - iy0, i - ix0] = 1
        # Untouched runs of cells in a row are wholly inside or wholly outside:
        # test the centre of the first cell of each run.
        for j in range(bh):
            cy = gy0 + (iy0 + j + 0.5) * dy
            i = 0
            while i < bw:
                if mask[j, i] != 0:
                    i += 1
                    continue
                r = i
                while r < bw and mask[j, r] == 0:
                    r += 1
                cx = gx0 + (ix0 + i + 0.5) * dx
                if _pip(cx, cy, s, e, ex0, ey0, ex1, ey1) == 2:
                    for q in range(i, r):
                        mask[j, q] = 2
                i = r
        for j in range(bh):
            for i in range(bw):
                m = mask[j, i]
                if m == 0:
                    continue
                if n == cap:
                    cap *= 2
                    c2 = np.empty(cap, dtype=np.int64); c2[:n] = cells[:n]; cells = c2
                    p2 = np.empty(cap, dtype=np.int64); p2[:n] = polys[:n]; polys = p2
                    f2 = np.empty(cap, dtype=np.bool_); f2[:n] = full[:n]; full = f2
                cells[n] = (iy0 + j) * nx + (ix0 + i)
                polys[n] = p
                full[n] = m == 2
                n += 1
    return cells[:n], polys[:n], full[:n]


@njit(cache=True, nogil=True)
def query_grid(xs, ys, gx0, gy0, inv_dx, inv_dy, nx, ny, cell_start, cell_poly,
               cell_full, start, ex0, ey0, ex1, ey1, out_poly, out_inside, out_boundary):
    """For each point: smallest covering polygon index (-1: none), and how many
    polygons contain it in their interior / on their boundary."""
    gx1 = gx0 + nx / inv_dx
    gy1 = gy0 + ny / inv_dy
    for t in range(xs.shape[0]):
        x = xs[t]
        y = ys[t]
        out_poly[t] = -1
        out_inside[t] = 0
        out_boundary[t] = 0
        if not (x >= gx0 and x <= gx1 and y >= gy0 and y <= gy1):
            continue
        ix = min(int((x - gx0) * inv_dx), nx - 1)
        iy = min(int((y - gy0) * inv_dy), ny - 1)
        c = iy * nx + ix
        best = -1
        n_in = 0
        n_b = 0
        for q in range(cell_start[c], cell_start[c + 1]):
            p = cell_poly[q]
            if cell_full[q]:
                st = 2
            else:
                st = _pip(x, y, start[p], start[p + 1], ex0, ey0, ex1, ey1)
            if st == 0:
                continue
            if st == 2:
                n_in += 1
            else:
                n_b += 1
            if best < 0 or p < best:
                best = p
        out_poly[t] = best
        out_inside[t] = n_in
        out_boundary[t] = n_b


def query(index: GridIndex, xs: np.ndarray, ys: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised lookup; see :func:`query_grid`. ``xs, ys`` lon/lat degrees."""
    n = len(xs)
    out_poly = np.empty(n, dtype=np.int64)
    out_in = np.empty(n, dtype=np.int32)
    out_b = np.empty(n, dtype=np.int32)
    e = index.edges
    query_grid(np.ascontiguousarray(xs, dtype=np.float64),
               np.ascontiguousarray(ys, dtype=np.float64),
               index.x0, index.y0, index.inv_dx, index.inv_dy, index.nx, index.ny,
               index.cell_start, index.cell_poly, index.cell_full,
               e.start, e.x0, e.y0, e.x1, e.y1, out_poly, out_in, out_b)
    return out_poly, out_in, out_b


def covering(index: GridIndex, x: float, y: float) -> list[tuple[int, int]]:
    """All ``(polygon index, status)`` covering one point (status 1 boundary, 2 inside)."""
    if not (index.x0 <= x <= index.x0 + index.nx / index.inv_dx
            and index.y0 <= y <= index.y0 + index.ny / index.inv_dy):
        return []
    ix = min(int((x - index.x0) * index.inv_dx), index.nx - 1)
    iy = min(int((y - index.y0) * index.inv_dy), index.ny - 1)
    c = iy * index.nx + ix
    e = index.edges
    out = []
    for q in range(int(index.cell_start[c]), int(index.cell_start[c + 1])):
        p = int(index.cell_poly[q])
        st = 2 if index.cell_full[q] else int(
            _pip(x, y, e.start[p], e.start[p + 1], e.x0, e.y0, e.x1, e.y1))
        if st:
            out.append((p, st))
    return out


@njit(cache=True, nogil=True)
def query_one(x, y, gx0, gy0, inv_dx, inv_dy, nx, ny, cell_start, cell_poly, cell_full,
              start, ex0, ey0, ex1, ey1):
    """One point: (smallest covering polygon index or -1, interior count, boundary count)."""
    gx1 = gx0 + nx / inv_dx
    gy1 = gy0 + ny / inv_dy
    if not (x >= gx0 and x <= gx1 and y >= gy0 and y <= gy1):
        return -1, 0, 0
    ix = min(int((x - gx0) * inv_dx), nx - 1)
    iy = min(int((y - gy0) * inv_dy), ny - 1)
    c = iy * nx + ix
    best = -1
    n_in = 0
    n_b = 0
    for q in range(cell_start[c], cell_start[c + 1]):
        p = cell_poly[q]
        st = 2 if cell_full[q] else _pip(x, y, start[p], start[p + 1], ex0, ey0, ex1, ey1)
        if st == 0:
            continue
        if st == 2:
            n_in += 1
        else:
            n_b += 1
        if best < 0 or p < best:
            best = p
    return best, n_in, n_b


@njit(cache=True, nogil=True)
def covering_many(xs, ys, gx0, gy0, inv_dx, inv_dy, nx, ny, cell_start, cell_poly, cell_full,
                  start, ex0, ey0, ex1, ey1):
    """Every ``(point, polygon, status)`` with status 1 (boundary) or 2 (interior)."""
    cap = 2 * xs.shape[0] + 16
    out_pt = np.empty(cap, dtype=np.int64)
    out_poly = np.empty(cap, dtype=np.int64)
    out_st = np.empty(cap, dtype=np.int8)
    n = 0
    gx1 = gx0 + nx / inv_dx
    gy1 = gy0 + ny / inv_dy
    for t in range(xs.shape[0]):
        x = xs[t]
        y = ys[t]
        if not (x >= gx0 and x <= gx1 and y >= gy0 and y <= gy1):
            continue
        ix = min(int((x - gx0) * inv_dx), nx - 1)
        iy = min(int((y - gy0) * inv_dy), ny - 1)
        c = iy * nx + ix
        for q in range(cell_start[c], cell_start[c + 1]):
            p = cell_poly[q]
            st = 2 if cell_full[q] else _pip(x, y, start[p], start[p + 1], ex0, ey0, ex1, ey1)
            if st == 0:
                continue
            if n == cap:
                cap *= 2
                a = np.empty(cap, dtype=np.int64); a[:n] = out_pt[:n]; out_pt = a
                b = np.empty(cap, dtype=np.int64); b[:n] = out_poly[:n]; out_poly = b
                d = np.empty(cap, dtype=np.int8); d[:n] = out_st[:n]; out_st = d
            out_pt[n] = t
            out_poly[n] = p
            out_st[n] = st
            n += 1
    return out_pt[:n], out_poly[:n], out_st[:n]


@njit(cache=True, nogil=True)
def query_one_packed(x, y, prm, cell_start, cell_pf, start, edges):
    """:func:`query_one` with fewer arguments (each array argument costs a Python→numba
    conversion per call): ``prm`` = (x0, y0, inv_dx, inv_dy, nx, ny), ``cell_pf`` =
    ``2 * polygon + full`` per cell entry, ``edges`` = :attr:`PolygonEdges.packed`."""
    gx0 = prm[0]
    gy0 = prm[1]
    nx = int(prm[4])
    ny = int(prm[5])
    if not (x >= gx0 and x <= gx0 + nx / prm[2] and y >= gy0 and y <= gy0 + ny / prm[3]):
        return -1, 0, 0
    c = min(int((y - gy0) * prm[3]), ny - 1) * nx + min(int((x - gx0) * prm[2]), nx - 1)
    best = -1
    n_in = 0
    n_b = 0
    for q in range(cell_start[c], cell_start[c + 1]):
        v = cell_pf[q]
        p = v >> 1
        st = 2 if v & 1 else _pip(x, y, start[p], start[p + 1], edges[0], edges[1], edges[2],
                                  edges[3])
        if st == 0:
            continue
        if st == 2:
            n_in += 1
        else:
            n_b += 1
        if best < 0 or p < best:
            best = p
    return best, n_in, n_b


def one_point_query(args: tuple[np.ndarray, ...]):
    """:func:`query_one_packed` as a function of ``(x, y, *args)`` for these ``args``
    (from :func:`packed_args`), compiled (or loaded) now: its compiled entry point, which
    skips the dispatcher's look-up of the argument types on each call (about a third of
    the call). ``x`` and ``y`` must be Python floats."""
    from numba import typeof, types

    sig = (types.float64, types.float64, *(typeof(a) for a in args))
    query_one_packed.compile(sig)
    return query_one_packed.get_overload(sig)


def packed_args(index: GridIndex) -> tuple[np.ndarray, ...]:
    """Arguments of :func:`query_one_packed` after ``x, y``."""
    prm = np.array([index.x0, index.y0, index.inv_dx, index.inv_dy, index.nx, index.ny],
                   dtype=np.float64)
    cell_pf = index.cell_poly * np.int32(2) + index.cell_full.astype(np.int32)  # int32
    return prm, index.cell_start, cell_pf, index.edges.start, index.edges.packed


def covering_all(index: GridIndex, xs: np.ndarray, ys: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`covering`: arrays ``(point, polygon, status)``, by point."""
    e = index.edges
    return covering_many(np.ascontiguousarray(xs, dtype=np.float64),
                         np.ascontiguousarray(ys, dtype=np.float64),
                         index.x0, index.y0, index.inv_dx, index.inv_dy, index.nx, index.ny,
                         index.cell_start, index.cell_poly, index.cell_full,
                         e.start, e.x0, e.y0, e.x1, e.y1)


def warm(index: GridIndex) -> None:
    """Compile (or load from numba's cache) the query kernels now, not on the first point
    (the one-point kernel of a layer: :func:`one_point_query`, with the layer's own
    arguments)."""
    empty = np.zeros(0)
    query(index, empty, empty)
    covering_all(index, empty, empty)
    e = index.edges
    query_one(0.0, 0.0, index.x0, index.y0, index.inv_dx, index.inv_dy, index.nx, index.ny,
              index.cell_start, index.cell_poly, index.cell_full, e.start, e.x0, e.y0, e.x1, e.y1)
