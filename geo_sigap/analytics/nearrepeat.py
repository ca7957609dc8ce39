"""Near-repeat pattern: the Knox test with Monte Carlo significance (as the Near Repeat
Calculator, Ratcliffe 2009).

Every pair of incidents falls into one distance band (``[0, s), [s, 2s), …`` metres, and
"farther") and one time band (``[0, T), [T, 2T), …`` days, and "later"). The observed
pair counts are compared with the counts when the incident times are shuffled among the
locations (``permutations`` random permutations, ``numpy.random.default_rng(seed)``, one
``rng.permutation(n)`` per run): the Knox ratio is observed / mean of the shuffles, and
the p-value of a cell is ``(1 + #{shuffled ≥ observed}) / (1 + permutations)``.

Only the close pairs (within the last distance band) are kept; the "farther" row follows
from the time differences of all pairs, which do not change when times are shuffled
(each shuffle keeps the multiset of times), so it is computed without the O(n²) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class KnoxResult:
    distance_edges: np.ndarray  # metres, e.g. [0, 100, 200, 300, 400]
    time_edges: np.ndarray  # days, e.g. [0, 7, 14, 21, 28]
    observed: np.ndarray  # (n_distance + 1, n_time + 1) pair counts; last row/col: beyond
    expected: np.ndarray  # mean of the shuffles
    p_value: np.ndarray
    permutations: int
    n: int

    @property
    def ratio(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.expected > 0, self.observed / self.expected, np.nan)

    def distance_labels(self) -> list[str]:
        e = self.distance_edges
        return [f"{e[i]:.0f}–{e[i + 1]:.0f} m" for i in range(len(e) - 1)] + [
            f"> {e[-1]:.0f} m"]

    def time_labels(self) -> list[str]:
        e = self.time_edges
        return [f"{e[i]:.0f}–{e[i + 1]:.0f} hari" for i in range(len(e) - 1)] + [
            f"> {e[-1]:.0f} hari"]

    def raised(self, alpha: float = 0.05, min_ratio: float = 1.2) -> np.ndarray:
        """Cells where close pairs are significantly more frequent than by chance."""
        r = self.ratio
        return (self.p_value < alpha) & (np.nan_to_num(r) >= min_ratio)

    def extent(self, alpha: float = 0.05, min_ratio: float = 1.2):
        """``(metres, days)`` of the raised-risk zone grown from the nearest/earliest
        cell (it must be raised itself), or ``None``: the largest distance band up to
        which the first time band stays raised, and the largest time band up to which
        the first distance band stays raised."""
        z = self.raised(alpha, min_ratio)[:-1, :-1]
        if z.size == 0 or not z[0, 0]:
            return None
        nd = int(np.argmin(np.r_[z[:, 0], False]))
        nt = int(np.argmin(np.r_[z[0, :], False]))
        return float(self.distance_edges[nd]), float(self.time_edges[nt])


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index per value: ``i`` for ``edges[i] <= v < edges[i+1]``, ``len(edges)-1``
    beyond the last edge."""
    return np.searchsorted(edges, values, side="right") - 1


@njit(cache=True, nogil=True)
def _pair_table(t, i, j, db, t_edges, out):
    """Add the close pairs ``(i, j)`` (distance band ``db``) to ``out[db, time band]``,
    time bands as :func:`_band` (``edges[b] <= |Δt| < edges[b + 1]``, last: beyond)."""
    n_t = len(t_edges) - 1
    for p in range(len(i)):
        dt = abs(t[i[p]] - t[j[p]])
        b = 0
        while b < n_t and dt >= t_edges[b + 1]:
            b += 1
        out[db[p], b] += 1


@njit(cache=True, nogil=True, parallel=True)
def _shuffled_tables(t, perms, i, j, db, t_edges, n_rows):
    """The close-pair table of every shuffle ``t[perms[r]]``, shuffles in parallel."""
    out = np.zeros((perms.shape[0], n_rows, len(t_edges)), dtype=np.int64)
    for r in prange(perms.shape[0]):
        _pair_table(t[perms[r]], i, j, db, t_edges, out[r])
    return out


def _time_hist_all_pairs(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Pairs of all points per time band (|t_i − t_j|), by sorting (O(n log n · bands))."""
    ts = np.sort(t)
    n = len(ts)
    out = np.zeros(len(edges), dtype=np.int64)
    # pairs with difference < e: for each i, j > i with ts[j] - ts[i] < e
    cum = []
    for e in edges[1:]:
        j = np.searchsorted(ts, ts + e, side="left")
        cum.append(int((j - np.arange(n) - 1).sum()))
    total = n * (n - 1) // 2
    prev = 0
    for k, c in enumerate(cum):
        out[k] = c - prev
        prev = c
    out[-1] = total - prev
    return out


def knox_test(x, y, t_days, distance_m: float = 100.0, n_distance: int = 4,
              time_days: float = 7.0, n_time: int = 4, permutations: int = 99,
              seed: int = 12345) -> KnoxResult:
    """Knox test of incidents at metric ``x, y`` (metres) and times ``t_days`` (days).

    Parameters
    ----------
    distance_m, n_distance : band width and number of distance bands (then "farther").
    time_days, n_time : band width and number of time bands (then "later").
    permutations : Monte Carlo shuffles of the times (99 gives p ≥ 0.01).
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    t = np.asarray(t_days, float)
    n = len(t)
    d_edges = distance_m * np.arange(n_distance + 1)
    t_edges = time_days * np.arange(n_time + 1)
    shape = (n_distance + 1, n_time + 1)
    if n < 2:
        z = np.zeros(shape)
        return KnoxResult(d_edges, t_edges, z.astype(np.int64), z, np.ones(shape),
                          permutations, n)
    pairs = cKDTree(np.c_[x, y]).query_pairs(d_edges[-1], output_type="ndarray")
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.zeros(0, int),) * 2
    db = _band(np.hypot(x[i] - x[j], y[i] - y[j]), d_edges)
    keep = db < n_distance
    i, j, db = i[keep], j[keep], db[keep]
    all_t = _time_hist_all_pairs(t, t_edges)

    i, j, db = i.astype(np.int64), j.astype(np.int64), db.astype(np.int64)

    def finish(m):
        m[..., -1, :] = all_t - m[..., :-1, :].sum(axis=-2)
        return m

    obs = np.zeros(shape, dtype=np.int64)
    _pair_table(t, i, j, db, t_edges, obs)
    obs = finish(obs)
    rng = np.random.default_rng(seed)
    perms = np.array([rng.permutation(n) for _ in range(permutations)],
                     dtype=np.int64).reshape(permutations, n)
    sims = finish(_shuffled_tables(t, perms, i, j, db, t_edges, shape[0]))
    ge = (sims >= obs).sum(axis=0)
    expected = sims.sum(axis=0) / max(permutations, 1)
    p = (1 + ge) / (1 + permutations)
    return KnoxResult(d_edges, t_edges, obs, expected, p, permutations, n)
