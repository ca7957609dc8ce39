"""Compiled loops of the conditional-permutation tests (numba, cached on disk).

``cache=True`` writes the machine code beside this module (or under
``NUMBA_CACHE_DIR``) the first time it is compiled, so later processes load it in a
fraction of a second instead of paying the JIT again. :func:`warm_up` compiles (or
loads) every kernel on a tiny case; the service calls it in a background thread at
start-up.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from geo_sigap.analytics._gi_sorted import CHUNK  # noqa: F401 - the stopping rule's step

GI_STAR = 0
MORAN = 1


@njit(cache=True, nogil=True, fastmath=True)
def _gi_star_stats(rlag, self_w, yi, scaling):
    # the same expression (and fastmath flags) as esda's ``_g_local_star_crand``
    return (rlag + self_w * yi) / scaling


@njit(cache=True, nogil=True, fastmath=True)
def _moran_stats(rlag, self_w, yi, scaling):
    # the same expression as esda's ``_moran_local_crand``
    return yi * (rlag + self_w * yi) * scaling


@njit(cache=True, nogil=True)
def count_extremes(y, indptr, indices, wdata, self_w, perm, observed, scaling, mode, swap):
    """For each unit, how many permuted statistics are >= the observed one.

    Conditional randomisation as in esda's ``crand``: unit ``i`` keeps its own value;
    its ``k_i`` (non-self) neighbours take the values of ``perm[p, :k_i]``, ids out of
    ``0 … n - 2`` standing for the other ``n - 1`` units: with ``swap=False`` (esda's
    convention) id ``m >= i`` means unit ``m + 1``, with ``swap=True`` (the ``"fast"``
    stream) id ``i`` means unit ``n - 1`` and every other id itself. The permuted lag
    is a matrix-vector product and the statistic is computed with the same expression
    as esda, so that floating-point ties between permuted and observed statistics
    (common with counts) fall the same way.

    Parameters
    ----------
    y : float64 (n,)
        Values (Gi*: raw values; Moran: standardised values).
    indptr, indices, wdata : CSR of the non-self weights (row order = unit order).
    self_w : float64 (n,)
        Self weights (Gi*: the weight of the unit itself; Moran: 0).
    perm : int64 (permutations, max_k)
        Permuted ids, shared by every unit.
    observed : float64 (n,)
        Observed statistic per unit.
    scaling : float
        Gi*: the sum of ``y`` (statistic is ``(lag + w_ii y_i) / scaling``);
        Moran: ``(n - 1) / sum(z**2)`` (statistic is ``z_i (lag) scaling``).
    mode : int
        :data:`GI_STAR` or :data:`MORAN`.
    swap : bool
        The id convention (above).

    Returns
    -------
    larger, smaller : int64 (n,)
        Counts of permuted statistics >= and <= the observed one; -1 for islands.
    """
    n = y.shape[0]
    n_perm = perm.shape[0]
    larger = np.zeros(n, dtype=np.int64)
    smaller = np.zeros(n, dtype=np.int64)
    for i in range(n):
        start = indptr[i]
        k = indptr[i + 1] - start
        if k == 0:
            larger[i] = -1
            smaller[i] = -1
            continue
        zrand = np.empty((n_perm, k))
        for p in range(n_perm):
            for j in range(k):
                m = perm[p, j]
                if swap:
                    if m == i:
                        m = n - 1
                elif m >= i:
                    m += 1
                zrand[p, j] = y[m]
        wts = wdata[start:start + k].copy()
        rlag = zrand @ wts
        if mode == GI_STAR:
            rstats = _gi_star_stats(rlag, self_w[i], y[i], scaling)
        else:
            rstats = _moran_stats(rlag, self_w[i], y[i], scaling)
        obs = observed[i]
        ge = 0
        le = 0
        for p in range(n_perm):
            if rstats[p] >= obs:
                ge += 1
            if rstats[p] <= obs:
                le += 1
        larger[i] = ge
        smaller[i] = le
    return larger, smaller


@njit(cache=True, nogil=True, inline="always")
def _all_equal(wts):
    """Every weight equals the first (binary weights after row standardisation)."""
    for j in range(1, wts.shape[0]):
        if wts[j] != wts[0]:
            return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _unit_of(u, i, last, swap):
    """The unit that drawn id ``u`` stands for in unit ``i``'s permutation (ids out of
    ``0 … n - 2``): with ``swap`` id ``i`` is the last unit ``n - 1`` and every other id
    itself (the ``"fast"`` stream); else ids from ``i`` on are shifted by one (esda's)."""
    if swap:
        return last if u == i else u
    return u + (u >= i)


@njit(cache=True, nogil=True)
def _gi_unit(i, y, nbrs, wts, perm, stop_at, swap):
    """(#≥, #≤, permutations drawn) of one unit: its permuted lags against its observed
    lag, both summed in the same order; with equal weights (binary weights after row
    standardisation) the plain sums of the values are compared, exact for counts."""
    n_perm = perm.shape[0]
    k = nbrs.shape[0]
    last = y.shape[0] - 1
    equal = _all_equal(wts)
    obs = 0.0
    for j in range(k):
        obs += y[nbrs[j]] if equal else wts[j] * y[nbrs[j]]
    ge = 0
    le = 0
    p = 0
    while p < n_perm:
        end = min(p + CHUNK, n_perm)
        if equal:  # binary weights: plain sums of the values
            for q in range(p, end):
                s = 0.0
                for j in range(k):
                    s += y[_unit_of(perm[q, j], i, last, swap)]
                ge += s >= obs
                le += s <= obs
        else:
            for q in range(p, end):
                s = 0.0
                for j in range(k):
                    s += wts[j] * y[_unit_of(perm[q, j], i, last, swap)]
                ge += s >= obs
                le += s <= obs
        p = end
        if stop_at > 0 and ge >= stop_at and le >= stop_at:
            break
    return ge, le, p


def gi_star_counts(y, indptr, indices, wdata, perm, stop_at, swap, todo):
    """Gi*'s permutation counts per unit: how many permuted statistics are >= and <= the
    observed one (conditional randomisation with the shared permutation table ``perm``,
    ids mapped to units as ``swap`` says — see :func:`count_extremes`), and the number of
    permutations drawn; only for the units flagged in ``todo`` (others -1, -1, 0).

    Gi* is ``(lag + w_ii y_i) / sum(y)`` with ``y_i`` held fixed, so it orders the
    permutations as their lag does (for ``sum(y) > 0``): the lags are compared directly,
    summed in one order, and with equal weights as plain sums of the values — so a
    permuted neighbourhood with the same total as the observed one is a tie, counted on
    both sides, exactly (esda compares rounded statistics, and such ties fall either way
    in the last bit). Units run in parallel (threads over interleaved units, see
    :func:`_in_threads`); each unit's counts depend on its own draws only, so they are the
    same on any number of threads.

    Early stopping (sequential Monte Carlo, Besag & Clifford 1991), only where the
    decision is certain: with ``stop_at > 0`` a unit stops drawing (checked every
    :data:`CHUNK` permutations) once both counts have reached ``stop_at``. The counts only
    grow with more permutations, so that unit's folded p over all the permutations would
    be at least ``(stop_at + 1) / (permutations + 1)``: with
    ``stop_at = floor(alpha · (permutations + 1))`` it is certainly not significant at
    ``alpha``, and the rest of its draws cannot change any decision at ``alpha`` or below.

    Returns
    -------
    larger, smaller, used : int64 (n,)
        -1, -1, 0 for islands and units not in ``todo``.
    """
    return _counts(_gi_counts_part, y, indptr, indices, wdata, perm, stop_at, swap, todo)


@njit(cache=True, nogil=True)
def _gi_counts_part(first, step, y, indptr, indices, wdata, perm, stop_at, swap, todo,
                    larger, smaller, used):
    """:func:`gi_star_counts` of the units ``first, first + step, …`` (in place)."""
    for i in range(first, y.shape[0], step):
        start = indptr[i]
        end = indptr[i + 1]
        if end == start or not todo[i]:
            continue
        ge, le, done = _gi_unit(i, y, indices[start:end], wdata[start:end], perm, stop_at,
                                swap)
        larger[i] = ge
        smaller[i] = le
        used[i] = done


@njit(cache=True, nogil=True)
def _gi_unit_many(i, Y, nbrs, wts, perm, stop_at, swap, ge, le, used):
    """:func:`_gi_unit` for the ``m`` value columns of ``Y`` at once: each permutation's
    neighbour ids are read and mapped once for all columns; each column is summed in the
    same order and stops at the same check as alone, so its counts are those of
    :func:`gi_star_counts` on that column."""
    n_perm = perm.shape[0]
    k = nbrs.shape[0]
    m = Y.shape[1]
    last = Y.shape[0] - 1
    equal = _all_equal(wts)
    obs = np.zeros(m)
    for v in range(m):
        for j in range(k):
            obs[v] += Y[nbrs[j], v] if equal else wts[j] * Y[nbrs[j], v]
    done = np.zeros(m, dtype=np.bool_)
    idx = np.empty(k, dtype=np.int64)
    left = m
    p = 0
    while p < n_perm and left > 0:
        end = min(p + CHUNK, n_perm)
        for q in range(p, end):
            for j in range(k):
                idx[j] = _unit_of(perm[q, j], i, last, swap)
            for v in range(m):
                if done[v]:
                    continue
                s = 0.0
                if equal:
                    for j in range(k):
                        s += Y[idx[j], v]
                else:
                    for j in range(k):
                        s += wts[j] * Y[idx[j], v]
                ge[v] += s >= obs[v]
                le[v] += s <= obs[v]
        p = end
        if stop_at > 0:
            for v in range(m):
                if not done[v] and ge[v] >= stop_at and le[v] >= stop_at:
                    done[v] = True
                    used[v] = p
                    left -= 1
    for v in range(m):
        if not done[v]:
            used[v] = p


def gi_star_counts_many(Y, indptr, indices, wdata, perm, stop_at, swap, todo):
    """:func:`gi_star_counts` of every column of ``Y`` (n units × m value sets, e.g. the
    categories of one time slice) with one permutation table: (larger, smaller, used),
    each (n, m); -1, -1, 0 for islands and units not in ``todo``."""
    return _counts(_gi_counts_many_part, Y, indptr, indices, wdata, perm, stop_at, swap,
                   todo)


def _counts(part, values, *args):
    """``(larger, smaller, used)`` shaped like ``values`` (-1, -1, 0 where not counted),
    filled by the kernel ``part`` over the units (rows of ``values``) in threads."""
    larger = np.full(values.shape, -1, dtype=np.int64)
    smaller = np.full(values.shape, -1, dtype=np.int64)
    used = np.zeros(values.shape, dtype=np.int64)
    _in_threads(values.shape[0], lambda first, step: part(
        first, step, values, *args, larger, smaller, used))
    return larger, smaller, used


@njit(cache=True, nogil=True)
def _gi_counts_many_part(first, step, Y, indptr, indices, wdata, perm, stop_at, swap, todo,
                         larger, smaller, used):
    """:func:`gi_star_counts_many` of the units ``first, first + step, …`` (in place)."""
    m = Y.shape[1]
    for i in range(first, Y.shape[0], step):
        start = indptr[i]
        end = indptr[i + 1]
        if end == start or not todo[i]:
            continue
        ge = np.zeros(m, dtype=np.int64)
        le = np.zeros(m, dtype=np.int64)
        us = np.zeros(m, dtype=np.int64)
        _gi_unit_many(i, Y, indices[start:end], wdata[start:end], perm, stop_at, swap,
                      ge, le, us)
        larger[i] = ge
        smaller[i] = le
        used[i] = us


_POOL: list = []  # the one thread pool (made on first need)
_POOL_LOCK = threading.Lock()
_MIN_PER_THREAD = 64  # fewer units than this per thread: one thread does them all


def _threads() -> int:
    """Threads for the unit loops: numba's setting (``NUMBA_NUM_THREADS``, by default
    the cores), as the ``prange`` loops these replace used."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _in_threads(n: int, part) -> None:
    """``part(first, step)`` on ``t`` threads (``first`` = 0 … t - 1, ``step`` = t): units
    interleaved, so slow and fast units spread evenly. The kernels release the GIL.

    Plain threads over a ``nogil`` kernel instead of ``parallel=True``: the same speed on
    these loops, and half the compile time of a first start (a parallel kernel's compile
    is several seconds more)."""
    t = min(_threads(), max(1, n // _MIN_PER_THREAD))
    if t == 1:
        part(0, 1)
        return
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=_threads(),
                                            thread_name_prefix="geo-sigap-gi"))
        pool = _POOL[0]
    jobs = [pool.submit(part, first, t) for first in range(t)]
    for j in jobs:
        j.result()


@njit(cache=True, nogil=True)
def esda_permutations(n, k, permutations, seed):
    """esda's ``vec_permutations(k, n, permutations, seed)``: ``permutations`` rows of ``k``
    ids out of ``n``, without replacement, from numba's generator seeded with ``seed``
    (the stream of NumPy's legacy ``RandomState(seed)``)."""
    np.random.seed(seed)
    out = np.empty((permutations, k), dtype=np.int64)
    for p in range(permutations):
        out[p] = np.random.choice(n, k, replace=False)
    return out


def warm_up() -> None:
    """Compile or load the cached kernels on a 3-unit case (well under a second when cached)."""
    y = np.array([1.0, 2.0, 3.0])
    indptr = np.array([0, 1, 3, 4], dtype=np.int64)
    indices = np.array([1, 0, 2, 1], dtype=np.int64)
    w = np.full(4, 0.5)
    perm = np.array([[0, 1], [1, 0]], dtype=np.int64)
    todo = np.ones(3, dtype=np.bool_)
    for swap in (False, True):
        count_extremes(y, indptr, indices, w, np.zeros(3), perm, np.zeros(3), 6.0, GI_STAR,
                       swap)
        gi_star_counts(y, indptr, indices, w, perm, 0, swap, todo)
        gi_star_counts_many(np.ones((3, 2)), indptr, indices, w, perm, 0, swap, todo)
    # not esda_permutations: only esda's own stream of permutations (comparisons with
    # esda, never the service) uses it (a second of a first start's compile)
