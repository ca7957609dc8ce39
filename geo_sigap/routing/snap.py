"""Snapping points to the nearest road a profile may use.

Metric work happens in a local equirectangular projection centred on the network
(metres east/north of the centre; error well under 0.1 % across a city). Every edge's
polyline is cut into pieces of at most :data:`PIECE_M` metres whose midpoints go in a
grid (:class:`geo_sigap.routing._fused.SnapGrid`); the nearest piece is found exactly by
rings of cells around the point, until no piece outside them can be nearer. A KD-tree
of the midpoints (scipy, built on first use) is the reference it is tested against and
the path for points with non-finite coordinates.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from functools import lru_cache

import numpy as np

from geo_sigap.routing.graph import EARTH_RADIUS_M, RoadGraph

PIECE_M = 40.0
_K = 8
SNAP_CACHE_SIZE = 10_000  # points remembered per profile by :class:`SnapCache`
# team sets remembered whole (a service asks for a few in turn: one per set of roles)
RECENT_BATCHES = 8
# what a SnapIndex keeps (saved with the engine's prepared data)
SNAP_ARRAYS = ("snap_ax", "snap_ay", "snap_bx", "snap_by", "snap_edge", "snap_start",
               "snap_len", "snap_edge_geomlen")


@lru_cache(maxsize=64)
def _metres_per_degree_lon(lat0: float) -> float:
    return float(np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat0)))


_KY = float(np.radians(1.0) * EARTH_RADIUS_M)


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular projection around (lon0, lat0): metres east/north."""

    lon0: float
    lat0: float

    @property
    def _kx(self) -> float:
        return _metres_per_degree_lon(self.lat0)

    @property
    def _ky(self) -> float:
        return _KY

    def forward(self, lon, lat):
        return ((np.asarray(lon, dtype=np.float64) - self.lon0) * self._kx,
                (np.asarray(lat, dtype=np.float64) - self.lat0) * self._ky)

    def inverse(self, x, y):
        return (np.asarray(x) / self._kx + self.lon0, np.asarray(y) / self._ky + self.lat0)


@dataclass(frozen=True, slots=True)
class Snaps:
    """Snapped points (arrays, one entry per query point).

    ``edge`` is the road's canonical directed edge (u→v), ``frac`` the position along
    its polyline from u (0..1), ``access_m`` the straight distance from the point to
    the road (metres), ``lon``/``lat`` the point on the road.
    """

    edge: np.ndarray
    frac: np.ndarray
    access_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


class SnapIndex:
    """Nearest-road index for one profile of a :class:`RoadGraph`."""

    def __init__(self, graph: RoadGraph, profile: str, projection: LocalProjection) -> None:
        self.graph = graph
        self.projection = projection
        p = graph.profile_index(profile)
        allowed = np.isfinite(graph.edge_time[p])
        twin = graph.edge_twin
        twin_ok = (twin >= 0) & allowed[np.maximum(twin, 0)]
        canonical = allowed & (~twin_ok | (np.arange(graph.n_edges) < twin))
        self._build(np.flatnonzero(canonical))

    def _build(self, edges: np.ndarray) -> None:
        g = self.graph
        starts, ends = g.geom_ptr[edges], g.geom_ptr[edges + 1]
        counts = ends - starts
        vert = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + \
            np.arange(counts.sum())
        x, y = self.projection.forward(g.geom_lon[vert], g.geom_lat[vert])
        owner = np.repeat(edges, counts)
        is_seg = np.ones(len(vert), bool)
        is_seg[np.cumsum(counts) - 1] = False  # last vertex of each edge starts no segment
        s = np.flatnonzero(is_seg)
        ax, ay, bx, by = x[s], y[s], x[s + 1], y[s + 1]
        seg_len = np.hypot(bx - ax, by - ay)
        # metres along the edge polyline where each segment starts
        cum = np.concatenate([[0.0], np.cumsum(seg_len)])
        first_seg = np.concatenate([[0], np.cumsum(counts - 1)[:-1]])
        seg_edge_pos = np.repeat(np.arange(len(edges)), counts - 1)
        seg_start = cum[:-1] - cum[first_seg][seg_edge_pos]
        self.edge_geomlen = np.zeros(g.n_edges)
        self.edge_geomlen[edges] = np.add.reduceat(seg_len, first_seg) if len(s) else 0.0
        # cut long segments into pieces of at most PIECE_M metres
        n_sub = np.maximum(1, np.ceil(seg_len / PIECE_M)).astype(np.int64)
        rep = np.repeat(np.arange(len(s)), n_sub)
        k = np.arange(rep.size) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
        f0, f1 = k / n_sub[rep], (k + 1) / n_sub[rep]
        dx, dy = bx - ax, by - ay
        self._ax = ax[rep] + f0 * dx[rep]
        self._ay = ay[rep] + f0 * dy[rep]
        self._bx = ax[rep] + f1 * dx[rep]
        self._by = ay[rep] + f1 * dy[rep]
        self._edge = owner[s][rep]
        self._start = seg_start[rep] + f0 * seg_len[rep]
        self._len = (f1 - f0) * seg_len[rep]
        self._index()

    def _index(self) -> None:
        self._half = float(self._len.max() / 2) if self._len.size else 0.0
        self._tree_ = None
        self._grid = None
        self._grid_lock = threading.Lock()

    @property
    def _tree(self):
        """A KD-tree of the pieces' midpoints (made on first use: snapping goes by
        :attr:`grid`; scipy is not imported for it)."""
        if self._tree_ is None and not self.empty:
            from scipy.spatial import cKDTree

            with self._grid_lock:
                if self._tree_ is None:
                    mid = np.column_stack([(self._ax + self._bx) / 2,
                                           (self._ay + self._by) / 2])
                    # the sliding-midpoint tree builds twice as fast; answers do not
                    # depend on the tree (ties go to the lowest piece, see snap)
                    self._tree_ = cKDTree(mid, balanced_tree=False)
        return self._tree_

    @property
    def grid(self):
        """The pieces by grid cell (:class:`geo_sigap.routing._fused.SnapGrid`, made on
        first use; ``None`` without pieces)."""
        if self._grid is None and not self.empty:
            from geo_sigap.routing._fused import SnapGrid

            with self._grid_lock:
                if self._grid is None:
                    self._grid = SnapGrid(self._ax, self._ay, self._bx, self._by,
                                          self._half, self._edge, self._start, self._len)
        return self._grid

    def arrays(self) -> dict[str, np.ndarray]:
        """The pieces, to be saved (:meth:`from_arrays` rebuilds the index from them)."""
        return {name: getattr(self, "_" + name[5:]) if name != "snap_edge_geomlen"
                else self.edge_geomlen for name in SNAP_ARRAYS}

    @classmethod
    def from_arrays(cls, graph: RoadGraph, projection: LocalProjection,
                    arrays: dict[str, np.ndarray]) -> SnapIndex:
        self = cls.__new__(cls)
        self.graph = graph
        self.projection = projection
        for name in SNAP_ARRAYS:
            if name == "snap_edge_geomlen":
                self.edge_geomlen = arrays[name]
            else:
                setattr(self, "_" + name[5:], arrays[name])
        self._index()
        return self

    @property
    def empty(self) -> bool:
        return self._edge.size == 0

    def snap(self, lon, lat) -> Snaps:
        """Snap lon/lat points (degrees, EPSG:4326) to the nearest usable road."""
        return self._snap(lon, lat, self._nearest_grid)

    def snap_reference(self, lon, lat) -> Snaps:
        """:meth:`snap` by the KD-tree: the reference the grid path is tested against."""
        return self._snap(lon, lat, self._nearest_tree)

    def _snap(self, lon, lat, nearest) -> Snaps:
        px, py = self.projection.forward(np.atleast_1d(lon), np.atleast_1d(lat))
        n = px.shape[0]
        ok = np.isfinite(px) & np.isfinite(py)  # any other point snaps nowhere
        if self.empty or not ok.any():
            nan = np.full(n, np.nan)
            return Snaps(np.full(n, -1, np.int64), nan, np.full(n, np.inf), nan, nan)
        if ok.all():
            return self._answer(*nearest(px, py))
        return _fill(ok, self._answer(*nearest(px[ok], py[ok])))

    def _nearest_grid(self, px: np.ndarray, py: np.ndarray):
        """``(piece, distance, t)`` of every (finite) point, by the grid."""
        from geo_sigap.routing._fused import snap_many

        g = self.grid
        return snap_many(np.ascontiguousarray(px, np.float64),
                         np.ascontiguousarray(py, np.float64), g.params(), *g.arrays[:6])

    def _nearest_tree(self, px: np.ndarray, py: np.ndarray):
        """``(piece, distance, t)`` of every (finite) point, by the KD-tree."""
        n = px.shape[0]
        piece = np.zeros(n, np.int64)
        best = np.full(n, np.inf)
        frac_piece = np.zeros(n)
        todo = np.arange(n)
        for k in (_K, 8 * _K):
            k = min(k, len(self._edge))
            dmid, idx = self._tree.query(np.column_stack([px[todo], py[todo]]), k=k)
            idx, dmid = idx.reshape(len(todo), k), dmid.reshape(len(todo), k)
            d, t = self._distance(px[todo, None], py[todo, None], idx)
            # the nearest piece; of equally near ones the lowest (whatever the tree)
            lowest = np.where(d == d.min(axis=1, keepdims=True), idx, np.iinfo(np.int64).max)
            col = np.argmin(lowest, axis=1)
            rows = np.arange(len(todo))
            piece[todo], best[todo], frac_piece[todo] = idx[rows, col], d[rows, col], t[rows, col]
            # exact when no piece left out can be nearer (or every piece was looked at)
            sure = (best[todo] <= dmid[:, -1] - self._half + 1e-9) | (best[todo] <= 1e-9)
            if k == len(self._edge):
                sure[:] = True
            todo = todo[~sure]
            if len(todo) == 0:
                break
        for i in todo:
            cand = np.asarray(self._tree.query_ball_point((px[i], py[i]), best[i] + self._half
                                                          + 1e-6), dtype=np.int64)
            dd, tt = self._distance(px[i], py[i], cand)
            j = int(np.argmin(np.where(dd == dd.min(), cand, np.iinfo(np.int64).max)))
            piece[i], best[i], frac_piece[i] = cand[j], dd[j], tt[j]
        return piece, best, frac_piece

    def _answer(self, piece: np.ndarray, best: np.ndarray, frac_piece: np.ndarray) -> Snaps:
        """Snaps from the nearest pieces, their distances and fractions along them."""
        edge = self._edge[piece]
        along = self._start[piece] + frac_piece * self._len[piece]
        glen = self.edge_geomlen[edge]
        frac = np.where(glen > 0, np.clip(along / np.where(glen > 0, glen, 1.0), 0.0, 1.0), 0.0)
        sx = self._ax[piece] + frac_piece * (self._bx[piece] - self._ax[piece])
        sy = self._ay[piece] + frac_piece * (self._by[piece] - self._ay[piece])
        slon, slat = self.projection.inverse(sx, sy)
        return Snaps(edge.astype(np.int64), frac, best, np.asarray(slon), np.asarray(slat))

    def _distance(self, px, py, pieces):
        ax, ay = self._ax[pieces], self._ay[pieces]
        dx, dy = self._bx[pieces] - ax, self._by[pieces] - ay
        ll = dx * dx + dy * dy
        t = np.where(ll > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(ll > 0, ll, 1.0), 0.0)
        t = np.clip(t, 0.0, 1.0)
        return np.hypot(ax + t * dx - px, ay + t * dy - py), t


class Recent:
    """The last ``size`` values put here, by key (the least recently used is dropped
    first); thread-safe."""

    def __init__(self, size: int = RECENT_BATCHES) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class SnapCache:
    """Snaps of recently seen points for one :class:`SnapIndex`, keyed by exact (lon, lat).

    Team positions rarely change between suggestions, so snapping them again is wasted
    work. A point snaps to the same answer whatever else is in the batch, so the cached
    answer is bit-identical to a fresh :meth:`SnapIndex.snap`. At most ``capacity``
    points are kept (least recently used dropped first); a batch identical to the
    previous one is answered without looking at single points. Thread-safe.

    Parameters
    ----------
    index
        The snapping index (EPSG:4326 in, metres in its local projection).
    capacity
        Points remembered; ``0`` turns the cache off.
    """

    def __init__(self, index: SnapIndex, capacity: int = SNAP_CACHE_SIZE) -> None:
        self.index = index
        self.capacity = max(0, int(capacity))
        self.hits = 0
        self.misses = 0
        self._slots: OrderedDict[tuple[float, float], int] = OrderedDict()
        self._store = (np.empty(self.capacity, np.int64),) + tuple(
            np.empty(self.capacity) for _ in range(4))  # edge, frac, access_m, lon, lat
        self._last_key: bytes | None = None
        self._last: Snaps | None = None
        # snap_points: the recent batches by their bytes, and read-only ones by identity
        # (a service asks for a few team sets in turn: one per set of roles wanted)
        self._batches = Recent()  # bytes → Snaps
        self._by_id = Recent()  # id → (the array, its Snaps)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._slots)

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()
            self._last_key, self._last = None, None
            self._batches.clear()
            self._by_id.clear()

    def snap(self, lon, lat) -> Snaps:
        """Like :meth:`SnapIndex.snap`; the returned arrays are read-only."""
        lon = np.ascontiguousarray(np.atleast_1d(lon), dtype=np.float64)
        lat = np.ascontiguousarray(np.atleast_1d(lat), dtype=np.float64)
        n = lon.shape[0]
        if n > self.capacity or self.index.empty:
            self.misses += n
            return self.index.snap(lon, lat)
        key = lon.tobytes() + lat.tobytes()
        with self._lock:
            if key == self._last_key and self._last is not None:
                self.hits += n
                return self._last
            out = self._lookup(lon, lat)
            self._last_key, self._last = key, out
            return out

    def snap_points(self, points: np.ndarray) -> Snaps:
        """:meth:`snap` of an ``(n, 2)`` lon/lat array; a batch equal to one of the last
        ``RECENT_BATCHES`` given here is known from its bytes alone (no column copies),
        the very same read-only array by itself."""
        n = points.shape[0]
        if n > self.capacity or self.index.empty:
            return self.snap(points[:, 0], points[:, 1])
        frozen = not points.flags.writeable
        if frozen:
            got = self._by_id.get(id(points))
            if got is not None and got[0] is points:  # the very batch (read-only: unchanged)
                self.hits += n
                return got[1]
        key = points.tobytes()
        out = self._batches.get(key)
        if out is not None:
            self.hits += n
        else:
            out = self.snap(points[:, 0], points[:, 1])
            self._batches.put(key, out)
        if frozen:
            self._by_id.put(id(points), (points, out))
        return out

    def _lookup(self, lon: np.ndarray, lat: np.ndarray) -> Snaps:
        n = lon.shape[0]
        slots = np.full(n, -1, np.int64)
        points = list(zip(lon.tolist(), lat.tolist(), strict=True))
        get, touch = self._slots.get, self._slots.move_to_end
        for i, pt in enumerate(points):
            s = get(pt)
            if s is not None:
                touch(pt)
                slots[i] = s
        miss = np.flatnonzero(slots < 0)
        self.hits += n - len(miss)
        self.misses += len(miss)
        cols = [col[np.maximum(slots, 0)] for col in self._store]
        if len(miss):
            fresh = self.index.snap(lon[miss], lat[miss])
            new = (fresh.edge, fresh.frac, fresh.access_m, fresh.lon, fresh.lat)
            for col, values in zip(cols, new, strict=True):
                col[miss] = values
            self._remember([points[i] for i in miss.tolist()], new, n)
        for col in cols:
            col.setflags(write=False)
        return Snaps(*cols)

    def _remember(self, points: list[tuple[float, float]], values, batch: int) -> None:
        """Store fresh snaps; slots of this batch's hits are never evicted (recent)."""
        for j, pt in enumerate(points):
            if pt in self._slots or pt[0] != pt[0] or pt[1] != pt[1]:
                continue  # a duplicate in the batch, or NaN (never equal to itself)
            if len(self._slots) < self.capacity:
                s = len(self._slots)
            else:
                _, s = self._slots.popitem(last=False)
            self._slots[pt] = s
            for col, v in zip(self._store, values, strict=True):
                col[s] = v[j]


def _fill(ok: np.ndarray, sub: Snaps) -> Snaps:
    """``sub`` (the snaps of the points where ``ok``) spread over all points; the others
    snap nowhere (edge -1, NaN, infinitely far)."""
    n = ok.shape[0]
    edge = np.full(n, -1, np.int64)
    frac, lon, lat = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    access = np.full(n, np.inf)
    edge[ok], frac[ok], access[ok], lon[ok], lat[ok] = (sub.edge, sub.frac, sub.access_m,
                                                         sub.lon, sub.lat)
    return Snaps(edge, frac, access, lon, lat)
