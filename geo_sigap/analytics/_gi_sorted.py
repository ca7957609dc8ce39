"""Gi*'s permutation counts by sorting, for units with equal weights (NumPy only).

With binary weights (equal after row standardisation) a unit's permuted Gi* orders the
permutations as the plain sum of the ``k`` values drawn for its neighbours. In the
``"fast"`` stream a drawn id equal to the unit itself stands for the last unit, ``n -
1`` (ids are drawn out of ``0 … n - 2``; see :func:`geo_sigap.analytics.gistar.permuted_ids`),
so row ``p`` of the permutation table gives *the same* sum ``S_p`` to every unit with
``k`` neighbours, except to the ``k`` units it drew — about ``k / (n - 1)`` of a unit's
rows. A unit's counts are then those of its observed sum against the sorted ``S`` of
each block of rows between two checks of the stopping rule (one binary search per
distinct observed sum and block), corrected at the few rows that drew the unit itself:
``O((P + n) log P)`` for each cardinality ``k`` instead of ``O(n · P · k)`` gathers, and
no compiled code (nothing to load on a first call).

The sums are the kernels' (:mod:`geo_sigap.analytics._kernels`): left to right in the
order of the drawn ids (the observed one in the order of the unit's CSR row), so that
the counts — ties included — and the early stops are those of
``gi_star_counts(…, swap=True)``.
"""

from __future__ import annotations

import numpy as np

#: Permutations drawn per unit between two checks of the stopping rule.
CHUNK = 200
#: Units × checks held in memory at once (int32 cells).
_CELLS = 1 << 22


def draw_fast(n: int, k: int, permutations: int, seed: int) -> np.ndarray:
    """``permutations`` rows of ``min(k, n)`` distinct ids out of ``0 … n - 1``, each row a
    uniform ordered sample without replacement, from NumPy's PCG64 seeded with ``seed``.

    Column by column: an id that repeats an earlier one of its row is drawn again
    (sequential sampling without replacement), about ``k`` draws a row while ``k ≤ n /
    2``; a random order of all ``n`` ids a row otherwise (tiny ``n``).
    """
    rng = np.random.default_rng(seed)
    k = min(k, n)
    if k == 0 or n == 0:
        return np.zeros((permutations, k), dtype=np.int64)
    if 2 * k > n:
        return np.argsort(rng.random((permutations, n)), axis=1, kind="stable")[:, :k] \
            .astype(np.int64)
    out = np.empty((permutations, k), dtype=np.int64)
    for j in range(k):
        col = rng.integers(0, n, permutations)
        redo = np.nonzero((col[:, None] == out[:, :j]).any(axis=1))[0] if j else \
            np.zeros(0, dtype=np.int64)
        while len(redo):
            col[redo] = rng.integers(0, n, len(redo))
            redo = redo[(col[redo, None] == out[redo, :j]).any(axis=1)]
        out[:, j] = col
    return out


def equal_rows(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Per unit: every (non-self) weight of its row equals the row's first (True for
    rows without weights)."""
    n = len(indptr) - 1
    k = np.diff(indptr)
    first = np.repeat(data[indptr[:-1][k > 0]], k[k > 0])
    rows = np.repeat(np.arange(n), k)
    return np.bincount(rows, weights=(data != first), minlength=n) == 0


def counts(y: np.ndarray, indptr: np.ndarray, indices: np.ndarray, perm: np.ndarray,
           stop_at: int, units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(#≥, #≤, permutations drawn) of the units flagged in ``units`` (bool, n; units with
    equal weights), each as ``gi_star_counts(…, swap=True)`` gives them, early stops
    included; -1, -1, 0 elsewhere and for units without neighbours.

    ``y`` must be finite. ``perm`` is the (P, ≥ max k) table of ids out of ``0 … n - 2``.
    """
    n = len(y)
    P = perm.shape[0]
    larger = np.full(n, -1, dtype=np.int64)
    smaller = np.full(n, -1, dtype=np.int64)
    used = np.zeros(n, dtype=np.int64)
    card = np.diff(indptr)
    units = units & (card > 0)
    if not units.any() or P == 0:
        return larger, smaller, used
    K = int(card[units].max())
    ids = perm[:, :K]
    vals = y[ids]
    S = np.cumsum(vals, axis=1)  # left to right, as the kernels sum
    # rows that drew a unit among its own first k ids: there it gets y[n - 1] instead
    k_of = np.where(units, card, 0)
    hit_p, hit_j = np.nonzero(np.arange(K)[None, :] < k_of[ids])
    hit_u = ids[hit_p, hit_j]
    hit_k = card[hit_u]
    hit_new = np.empty(len(hit_p))
    run = np.zeros(len(hit_p))
    for j in range(K):  # the sum with y[n - 1] in the unit's place, in the same order
        run += np.where(hit_j == j, y[n - 1], vals[hit_p, j])
        at = hit_k - 1 == j
        hit_new[at] = run[at]
    hit_old = S[hit_p, hit_k - 1]
    # checks of the stopping rule: every CHUNK permutations, from the first that can stop
    if stop_at > 0:
        ends = np.array([c for c in range(CHUNK, P, CHUNK) if c >= stop_at] + [P])
    else:
        ends = np.array([P])
    starts = np.r_[0, ends[:-1]]
    hit_b = np.searchsorted(ends, hit_p, "right")  # the block of each hit row
    for k in np.nonzero(np.bincount(card[units]))[0]:
        U = np.nonzero(units & (card == k))[0]
        nb = indices[indptr[U][:, None] + np.arange(k)[None, :]]
        obs = np.cumsum(y[nb], axis=1)[:, -1]
        # counts of each distinct observed sum, block by block, then cumulated
        o_val, o_inv = np.unique(obs, return_inverse=True)
        Sk = S[:, k - 1]
        cge = np.empty((len(o_val), len(ends)), dtype=np.int32)
        cle = np.empty_like(cge)
        for b, (lo, hi) in enumerate(zip(starts, ends)):
            block = np.sort(Sk[lo:hi])
            cge[:, b] = (hi - lo) - np.searchsorted(block, o_val, "left")
            cle[:, b] = np.searchsorted(block, o_val, "right")
        cge = np.cumsum(cge, axis=1, dtype=np.int32)
        cle = np.cumsum(cle, axis=1, dtype=np.int32)
        h = np.nonzero(hit_k == k)[0]
        h_pos = np.searchsorted(U, hit_u[h])
        step = max(1, _CELLS // len(ends))
        for c0 in range(0, len(U), step):
            sel = slice(c0, c0 + step)
            mine = (h_pos >= c0) & (h_pos < c0 + step)
            larger[U[sel]], smaller[U[sel]], used[U[sel]] = _stopped(
                cge[o_inv[sel]], cle[o_inv[sel]], obs[sel], h_pos[mine] - c0,
                hit_b[h][mine], hit_old[h][mine], hit_new[h][mine], ends, stop_at)
    return larger, smaller, used


def _stopped(ge, le, obs, pos, blk, old, new, ends, stop_at):
    """Counts at each check (units × checks, cumulated), corrected at the rows that drew
    the unit itself (unit ``pos``, block ``blk``: the sum ``new`` instead of ``old``),
    read at the first check where both reached ``stop_at`` (the last one without)."""
    o = obs[pos]
    dg = (new >= o).astype(np.int32) - (old >= o)
    dl = (new <= o).astype(np.int32) - (old <= o)
    ch = np.nonzero((dg != 0) | (dl != 0))[0]
    if len(ch):
        rows, at = np.unique(pos[ch], return_inverse=True)
        for mat, d in ((ge, dg), (le, dl)):
            sub = np.zeros((len(rows), len(ends)), dtype=np.int32)
            np.add.at(sub, (at, blk[ch]), d[ch])
            mat[rows] += np.cumsum(sub, axis=1, dtype=np.int32)
    if stop_at > 0:
        ok = (ge >= stop_at) & (le >= stop_at)
        ok[:, -1] = True
        first = np.argmax(ok, axis=1)
    else:
        first = np.full(len(ge), len(ends) - 1)
    r = np.arange(len(ge))
    return ge[r, first], le[r, first], ends[first]
