"""Which polygon of one layer a point gets when several cover it.

The reverse geocoder first keeps the candidates that agree with the units already
taken above (the RW of the kelurahan that contains the point), then those that have
the point in their interior (a point inside one polygon and on the edge of another
belongs to the first). What is left is decided here:

* one candidate, or only boundary candidates (a shared border): the smallest code;
* two or more overlapping interiors, compared two at a time in code order:

  - **nested** — at least :data:`NESTED_SHARE` of the smaller polygon lies inside the
    larger (an RT drawn inside another, an enclave): the **smaller area** wins;
  - **partial overlap** (neighbours digitised over each other's edge): the polygon the
    point lies **deeper inside** (farther from its boundary) wins, which splits the
    overlap along its middle, where the shared edge most likely was;
  - equal (to 1 mm): the smaller code.

Areas and distances are in local metres (the geocoder's equirectangular projection).
"""

from __future__ import annotations

import numpy as np
import shapely

#: share of the smaller polygon inside the other above which the two are nested
NESTED_SHARE = 0.8
_EPS_M = 1e-3


class OverlapRule:
    """The rule above over one layer's polygons (metric coordinates, index = code order)."""

    def __init__(self, metric_geoms: np.ndarray) -> None:
        self.geoms = metric_geoms
        self.area = shapely.area(metric_geoms).astype(np.float64)
        self._boundary = np.full(len(metric_geoms), None, dtype=object)
        self._nested: dict[tuple[int, int], bool] = {}

    def choose(self, m: int, pt: np.ndarray, poly: np.ndarray, inner: np.ndarray,
               mx: np.ndarray, my: np.ndarray) -> np.ndarray:
        """Chosen polygon per point (``-1`` when none), from the candidate pairs
        ``(pt, poly)`` sorted by point then polygon; ``mx, my`` the points in metres."""
        out = np.full(m, -1, dtype=np.int64)
        if not len(pt):
            return out
        first = np.r_[True, pt[1:] != pt[:-1]]
        out[pt[first]] = poly[first]
        count = np.bincount(pt, minlength=m)
        n_inner = np.bincount(pt[inner], minlength=m)
        duel = np.flatnonzero((count >= 2) & (n_inner >= 2))
        if not len(duel):
            return out
        starts = np.searchsorted(pt, duel)
        two = count[duel] == 2
        if two.any():
            d = duel[two]
            out[d] = self._duel(poly[starts[two]], poly[starts[two] + 1], mx[d], my[d])
        for i, s in zip(duel[~two], starts[~two]):
            win = np.array([poly[s]])
            for q in poly[s + 1:s + count[i]]:
                win = self._duel(win, np.array([q]), mx[i:i + 1], my[i:i + 1])
            out[i] = win[0]
        return out

    def _duel(self, a: np.ndarray, b: np.ndarray, mx: np.ndarray, my: np.ndarray
              ) -> np.ndarray:
        """Winner of ``a[i]`` against ``b[i]`` (``a < b``) for the point ``(mx, my)[i]``."""
        nested = self.nested(a, b)
        smaller = np.where(self.area[b] < self.area[a] - _EPS_M, b, a)
        pts = shapely.points(mx, my)
        da = shapely.distance(pts, self.boundary(a))
        db = shapely.distance(pts, self.boundary(b))
        deeper = np.where(db > da + _EPS_M, b, a)
        return np.where(nested, smaller, deeper)

    def boundary(self, idx: np.ndarray) -> np.ndarray:
        missing = np.unique(idx[self._boundary[idx] == None])  # noqa: E711 (object array)
        if len(missing):
            self._boundary[missing] = shapely.boundary(self.geoms[missing])
        return self._boundary[idx]

    def nested(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether most of the smaller of each pair lies inside the other (cached)."""
        pairs = list(zip(a.tolist(), b.tolist()))
        new = sorted({p for p in pairs if p not in self._nested})
        if new:
            na = np.array([p[0] for p in new])
            nb = np.array([p[1] for p in new])
            try:
                inter = shapely.area(shapely.intersection(self.geoms[na], self.geoms[nb]))
            except shapely.errors.GEOSException:  # invalid rings: repair, then measure
                inter = shapely.area(shapely.intersection(shapely.make_valid(self.geoms[na]),
                                                          shapely.make_valid(self.geoms[nb])))
            small = np.minimum(self.area[na], self.area[nb])
            for p, v in zip(new, (inter >= NESTED_SHARE * small).tolist()):
                self._nested[p] = v
        return np.array([self._nested[p] for p in pairs], dtype=bool)
