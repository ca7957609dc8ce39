"""Compiled loops of the conditional-permutation tests (numba, cached on disk).

``cache=True`` writes the machine code beside this module (or under
``NUMBA_CACHE_DIR``) the first time it is compiled, so later processes load it in a
fraction of a second instead of paying the JIT again. :func:`warm_up` compiles (or
loads) every kernel on a tiny case; the service calls it in a background thread at
start-up.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
def count_extremes(y, indptr, indices, wdata, self_w, perm, observed, scaling, mode):
    """For each unit, how many permuted statistics are >= the observed one.

    Conditional randomisation as in esda's ``crand``: unit ``i`` keeps its own value;
    its ``k_i`` (non-self) neighbours take the values of ``perm[p, :k_i]``, indices into
    the other ``n - 1`` units (index ``m >= i`` means unit ``m + 1``). The permuted lag
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
                if m >= i:
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


def warm_up() -> None:
    """Compile or load the cached kernels on a 3-unit case (well under a second when cached)."""
    y = np.array([1.0, 2.0, 3.0])
    indptr = np.array([0, 1, 3, 4], dtype=np.int64)
    indices = np.array([1, 0, 2, 1], dtype=np.int64)
    w = np.full(4, 0.5)
    perm = np.array([[0, 1], [1, 0]], dtype=np.int64)
    count_extremes(y, indptr, indices, w, np.zeros(3), perm, np.zeros(3), 6.0, GI_STAR)
