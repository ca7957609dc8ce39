"""Getis-Ord Gi* and Local Moran's I with conditional permutation inference.

Results agree with esda (``esda.G_Local(y, w, star=True, transform="R",
permutations=999, seed=s)`` and ``esda.Moran_Local(..., seed=s)``): the z-scores are the
same formulas computed the same way, and with ``stream="esda"`` the permuted ids are
drawn with the same random stream as esda's ``vec_permutations`` (numba's
``np.random.choice`` without replacement equals NumPy's legacy
``RandomState(seed).permutation(n - 1)[:k]``), so the pseudo p-values agree too, apart
from exact floating-point ties that esda may break either way (Gi* counts a permuted
neighbourhood with the observed total as a tie, exactly). The default stream
(``"fast"``) draws the same distribution with k draws a permutation instead of a full
shuffle (NumPy's PCG64), and lets an id equal to the tested unit stand for the last unit
(esda shifts the ids instead), so that one permutation gives the same neighbours to every
unit it did not draw. What differs is the cost: with binary weights (every unit's
neighbours equally weighted) the default stream's counts are binary searches in sorted
permutation sums (:mod:`geo_sigap.analytics._gi_sorted`, NumPy only: ``O((P + n) log
P)``, nothing compiled to load on a first call); esda's stream and unequal weights run
in compiled loops, cached on disk and parallel over units
(:mod:`geo_sigap.analytics._kernels`); both stop early where the decision is already
certain (``decide_alpha``) and give the same counts on any number of threads; the
permutation table is reused between calls with the same shape.

Rule for islands (units with no neighbour): they are not tested. Their z-score and
pseudo p-value are NaN, they are left out of the FDR correction and classed
"tidak diuji (tanpa tetangga)". (esda would give them a p of 0.001 against a null
distribution of zeros, which is not evidence of anything.)

Two pseudo p-values are reported:

- ``p_sim``: esda's default "directed" one, ``(min(#≥, P − #≥) + 1) / (P + 1)`` — kept
  for agreement with esda;
- ``p_folded``: the same idea with ties counted on both sides,
  ``(min(#≥, #≤) + 1) / (P + 1)``. With counts many permuted statistics *equal* the
  observed one (a unit and its neighbours all at zero); esda's directed p counts those
  ties as extreme on the low side and so calls every empty neighbourhood a
  significant cold spot at p = 0.001. ``p_folded`` does not.

Hot/cold classes use ``p_two = min(1, 2 p_folded)``, a two-sided pseudo p, so that
"99 %" means what it means for a two-sided z-test (Esri's Gi* bins).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from geo_sigap.errors import InvalidInput

DEFAULT_SEED = 12345
CONFIDENCE_LEVELS = (0.99, 0.95, 0.90)

# Gi* bins: +3 hot 99 %, +2 hot 95 %, +1 hot 90 %, 0 not significant, -1..-3 cold.
GI_CLASS_LABELS = {
    3: "Titik panas 99%", 2: "Titik panas 95%", 1: "Titik panas 90%",
    0: "Tidak signifikan",
    -1: "Titik dingin 90%", -2: "Titik dingin 95%", -3: "Titik dingin 99%",
    -9: "Tidak diuji (tanpa tetangga)",
}
GI_CLASS_LABELS_EN = {
    3: "Hot spot 99%", 2: "Hot spot 95%", 1: "Hot spot 90%", 0: "Not significant",
    -1: "Cold spot 90%", -2: "Cold spot 95%", -3: "Cold spot 99%",
    -9: "Not tested (no neighbour)",
}
ISLAND = -9
MORAN_LABELS = {"HH": "Klaster tinggi-tinggi", "LL": "Klaster rendah-rendah",
                "HL": "Pencilan tinggi-rendah", "LH": "Pencilan rendah-tinggi",
                "ns": "Tidak signifikan", "island": "Tidak diuji (tanpa tetangga)"}


@dataclass(frozen=True)
class GiStar:
    """Gi* per unit (arrays in the order of the input values)."""

    G: np.ndarray
    EG: np.ndarray
    VG: np.ndarray
    z: np.ndarray  # NaN for islands
    p_sim: np.ndarray  # esda's directed pseudo p; NaN for islands
    p_folded: np.ndarray  # ties counted on both sides; NaN for islands
    island: np.ndarray  # bool
    permutations: int
    seed: int
    used: np.ndarray | None = None  # permutations drawn per unit (fewer where decided early)

    @property
    def p_two(self) -> np.ndarray:
        """Two-sided pseudo p (from the tie-aware ``p_folded``)."""
        return np.minimum(1.0, 2.0 * self.p_folded)

    def classes(self, *, fdr: bool = True) -> np.ndarray:
        """Hot/cold bins (+3..-3, -9 islands) at 99/95/90 % confidence (two-sided).

        With ``fdr=True`` a level counts only when Benjamini–Hochberg at that level
        (over the tested units) rejects the unit's null hypothesis.
        """
        return classify_gi(self.z, self.p_two, self.island, fdr=fdr)


@dataclass(frozen=True)
class LocalMoran:
    Is: np.ndarray
    z: np.ndarray  # standardised values
    lag: np.ndarray  # spatial lag of z
    p_sim: np.ndarray  # esda's directed pseudo p
    p_folded: np.ndarray  # ties on both sides (see the module docstring)
    island: np.ndarray

    def quadrants(self, alpha: float = 0.05, *, fdr: bool = True) -> np.ndarray:
        """'HH', 'LL', 'HL', 'LH' where significant, else 'ns' ('island' for islands)."""
        p_two = np.minimum(1.0, 2.0 * self.p_folded)
        tested = ~self.island
        sig = np.zeros(len(self.Is), dtype=bool)
        cut = bh_cutoff(p_two[tested], alpha) if fdr else alpha
        sig[tested] = p_two[tested] <= cut
        q = np.where(self.z > 0, np.where(self.lag > 0, "HH", "HL"),
                     np.where(self.lag > 0, "LH", "LL")).astype(object)
        q[~sig] = "ns"
        q[self.island] = "island"
        return q


# -- weights ---------------------------------------------------------------------------


def _adjacency(w) -> sp.csr_matrix:
    """A CSR matrix (float64, sorted indices, duplicates summed) from a libpysal W/Graph or
    a sparse matrix."""
    if hasattr(w, "sparse"):
        a = w.sparse
    elif sp.issparse(w):
        a = w
    else:
        raise InvalidInput("Bobot spasial tidak dikenal", "Unknown spatial weights type")
    a = sp.csr_matrix(a, dtype=np.float64, copy=True)
    a.sum_duplicates()  # also sorts the indices
    return a


def _with_diagonal(a: sp.csr_matrix, rows: np.ndarray, keep: np.ndarray,
                   diag: np.ndarray) -> sp.csr_matrix:
    """The entries ``keep`` of ``a`` (no diagonal among them) with ``diag`` on the diagonal
    where it is not 0, in CSR order (sorted columns) without a sort."""
    n = a.shape[0]
    r, c, d = rows[keep], a.indices[keep], a.data[keep]
    has = diag != 0
    per_row = np.bincount(r, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_row + has, out=indptr[1:])
    kept_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_row, out=kept_ptr[1:])
    pos = indptr[r] + (np.arange(len(r)) - kept_ptr[r]) + (has[r] & (c > r))
    at = np.nonzero(has)[0]
    dpos = indptr[at] + np.bincount(r[c < r], minlength=n)[at]
    cols = np.empty(indptr[-1], dtype=a.indices.dtype)
    data = np.empty(indptr[-1])
    cols[pos], data[pos] = c, d
    cols[dpos], data[dpos] = at, diag[at]
    return sp.csr_matrix((data, cols, indptr), shape=(n, n))


def _rows(a: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))


def _star_row_standardised(w) -> sp.csr_matrix:
    """As esda for ``star=True, transform="R"``: self weight = row max, then rows sum to 1."""
    a = _adjacency(w)
    n = a.shape[0]
    rows = _rows(a)
    on_diag = a.indices == rows
    if not a.data[on_diag].any():
        # scipy's row max counts the implicit zeros of a row that is not full
        k = np.diff(a.indptr)
        rowmax = np.zeros(n)
        some = k > 0
        rowmax[some] = np.maximum.reduceat(a.data, a.indptr[:-1][some])
        rowmax = np.where(k < a.shape[1], np.maximum(rowmax, 0.0), rowmax)
        a = _with_diagonal(a, rows, ~on_diag & (a.data != 0), rowmax)
    rs = np.asarray(a.sum(axis=1)).ravel()
    # w_ij / row_sum, elementwise like libpysal's transform "R"
    data = a.data / np.repeat(np.where(rs > 0, rs, 1.0), np.diff(a.indptr))
    out = sp.csr_matrix((data, a.indices, a.indptr), shape=a.shape)
    out.sort_indices()
    return out


def _split_self(wm: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of the off-diagonal part, and the diagonal."""
    self_w = wm.diagonal().astype(np.float64)
    rows = _rows(wm)
    keep = (wm.indices != rows) & (wm.data != 0)
    indptr = np.zeros(wm.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=wm.shape[0]), out=indptr[1:])
    return (indptr, wm.indices[keep].astype(np.int64), wm.data[keep].astype(np.float64),
            self_w)


@lru_cache(maxsize=16)
def permuted_ids(n: int, max_card: int, permutations: int, seed: int,
                 stream: str = "esda") -> np.ndarray:
    """The (permutations, max_card) table of neighbour draws for ``seed`` (read-only,
    cached): ids out of ``0 … n - 2`` standing for the other ``n - 1`` units, shared by
    every unit.

    ``stream="esda"``: esda's table — row ``p`` is ``RandomState(seed).permutation(n -
    1)[:max_card]`` for the p-th permutation of one stream (numba's ``np.random.choice(n
    - 1, max_card, replace=False)`` after ``np.random.seed(seed)``); each row costs a
    full shuffle of ``n - 1`` ids (3 s for 9,999 rows at 5,000 cells); id ``m`` means
    unit ``m + 1`` from the tested unit ``i`` on (esda's convention). ``stream="fast"``:
    ``max_card`` draws a row from NumPy's PCG64
    (:func:`geo_sigap.analytics._gi_sorted.draw_fast`) — the same distribution (uniform
    ordered samples without replacement), other numbers; id ``i`` means the last unit
    ``n - 1`` and every other id itself, so that one row gives the same neighbours to
    every unit it does not draw (what :mod:`geo_sigap.analytics._gi_sorted` counts on).
    """
    if stream == "fast":
        from geo_sigap.analytics._gi_sorted import draw_fast

        out = draw_fast(n - 1, max(max_card, 1), permutations, seed)
    elif stream == "esda":
        from geo_sigap.analytics import _kernels

        out = _kernels.esda_permutations(n - 1, max(max_card, 1), permutations, seed)
    else:
        raise InvalidInput(f"Aliran permutasi tidak dikenal: {stream!r}",
                           f"Unknown permutation stream: {stream!r}")
    out.setflags(write=False)
    return out


def _folded_p(larger: np.ndarray, smaller: np.ndarray, permutations) -> np.ndarray:
    """``(min(#≥, #≤) + 1) / (P + 1)``; ``permutations`` may be per unit (early stops)."""
    return (np.minimum(larger, smaller).astype(np.float64) + 1.0) / (
        np.asarray(permutations, dtype=np.float64) + 1.0)


def _directed_p(larger: np.ndarray, permutations) -> np.ndarray:
    larger = larger.astype(np.float64)
    total = np.broadcast_to(np.asarray(permutations, dtype=np.float64), larger.shape)
    low = (total - larger) < larger
    larger[low] = total[low] - larger[low]
    return (larger + 1.0) / (total + 1.0)


# -- statistics ------------------------------------------------------------------------


@dataclass(frozen=True)
class StarWeights:
    """Gi*'s weights of one set of units, prepared once and shared by every call on them
    (each category, each quarter slice): row-standardised with the self weight, split
    into the CSR of the neighbours and the diagonal."""

    wm: sp.csr_matrix
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    self_w: np.ndarray
    card: np.ndarray  # row sums of ``wm`` (1 for every unit with a neighbour)
    island: np.ndarray
    max_card: int
    equal: np.ndarray  # bool: every neighbour of the unit has the same weight

    @property
    def n(self) -> int:
        return self.wm.shape[0]


def star_weights(w) -> StarWeights:
    """:class:`StarWeights` from a libpysal W/Graph or a sparse matrix (returned as is when
    already prepared)."""
    if isinstance(w, StarWeights):
        return w
    wm = _star_row_standardised(w)
    indptr, indices, data, self_w = _split_self(wm)
    k = np.diff(indptr)
    from geo_sigap.analytics._gi_sorted import equal_rows

    return StarWeights(wm=wm, indptr=indptr, indices=indices, data=data, self_w=self_w,
                       card=np.asarray(wm.sum(axis=1)).ravel(), island=k == 0,
                       max_card=int(k.max()) if len(k) else 0,
                       equal=equal_rows(indptr, data))


def stop_count(decide_alpha: float | None, permutations: int) -> int:
    """The kernel's ``stop_at`` for an exact decision at folded p ≤ ``decide_alpha``."""
    if not decide_alpha:
        return 0
    return max(1, int(np.floor(decide_alpha * (permutations + 1))))


def gi_star(y, w, *, permutations: int = 999, seed: int = DEFAULT_SEED,
            decide_alpha: float | None = None, stream: str = "fast") -> GiStar:
    """Getis-Ord Gi* (self included, row-standardised weights) with permutation inference.

    Parameters
    ----------
    y : array-like (n,)
        Values per unit (e.g. incident counts), in the order of ``w``'s ids.
    w : libpysal ``W``/``Graph``, scipy sparse (n, n) or :class:`StarWeights`
        Binary (or general) spatial weights without self weights; the self weight is
        set to the row maximum, then rows are standardised (esda's ``star=True``).
    permutations : int
        Number of conditional permutations (0: analytical z only, ``p_sim`` NaN).
    seed : int
        Seed of the permutation stream (same meaning as esda's ``seed``).
    decide_alpha : float, optional
        Stop drawing for a unit as soon as it is certain that its folded p over all
        ``permutations`` exceeds ``decide_alpha`` (see
        :func:`geo_sigap.analytics._kernels.gi_star_counts`). Every decision at a level
        ≤ ``decide_alpha`` on ``p_folded`` (so at 90/95/99 % on the two-sided
        ``p_two``, with or without FDR) is then exactly that of the full run; units
        decided early carry the sequential estimate ``(min(#≥, #≤) + 1) / (drawn + 1)``
        (above ``decide_alpha``) instead of the full-run p. None: every permutation for
        every unit.
    stream : {"fast", "esda"}
        The permutation table (:func:`permuted_ids`): ``"esda"`` draws esda's numbers
        (its pseudo p-values, for comparison), ``"fast"`` the same distribution at a
        fraction of the cost (binary weights: about 0.1 s for 50,000 units and 9,999
        permutations, against seconds in the compiled loop).
    """
    return gi_star_many([y], w, permutations=permutations, seed=seed,
                        decide_alpha=decide_alpha, stream=stream)[0]


def _gi_analytic(y: np.ndarray, sw: StarWeights):
    """G, E[G], V[G] and z of Gi* (esda's formulas, computed the same way)."""
    n = len(y)
    y_sum = y.sum()
    # an all-zero y (an empty quarter) gives NaN statistics, not RuntimeWarnings
    with np.errstate(divide="ignore", invalid="ignore"):
        G = (sw.wm @ y) / y_sum
        N = n
        mean = y_sum / N
        mean_sq = (y**2).sum() / N
        var = mean_sq - mean**2
        card = sw.card
        EG = card / N
        VG = card * (N - card)
        VG = VG / (N - 1)
        VG = VG * (1 / N**2)
        VG = VG * (var / (mean**2))
        z = (G - EG) / np.sqrt(VG)
    return G, EG, VG, np.where(sw.island, np.nan, z)


def gi_star_many(ys, w, *, permutations: int = 999, seed: int = DEFAULT_SEED,
                 decide_alpha: float | None = None, stream: str = "fast") -> list[GiStar]:
    """:func:`gi_star` of several value sets on the same units (the categories of one
    time slice): one permutation table for all of them (in the compiled loop also one
    pass over each unit's draws: the neighbour ids of a draw are read once); each result
    equals ``gi_star(y, w, …)`` of its values alone."""
    sw = star_weights(w)
    n = sw.n
    ys = [np.asarray(y, dtype=np.float64).ravel() for y in ys]
    for y in ys:
        if len(y) != n:
            raise InvalidInput(
                f"Jumlah nilai ({len(y)}) tidak sama dengan jumlah unit bobot ({n})",
                f"Number of values ({len(y)}) differs from the weights' units ({n})",
            )
    out = []
    tested = [j for j, y in enumerate(ys) if permutations and n > 2 and y.sum() != 0]
    counts = {}
    if tested:
        perm = permuted_ids(n, sw.max_card, permutations, seed, stream)
        stop = stop_count(decide_alpha, permutations)
        for j, c in zip(tested, _counts([ys[j] for j in tested], sw, perm, stop,
                                        stream == "fast")):
            counts[j] = c
    for j, y in enumerate(ys):
        G, EG, VG, z = _gi_analytic(y, sw)
        p = np.full(n, np.nan)
        pf = np.full(n, np.nan)
        used = np.zeros(n, dtype=np.int64)
        if j in counts:
            larger, smaller, used = counts[j]
            if y.sum() < 0:  # the statistic orders permutations against their lag
                larger, smaller = smaller, larger
            p = np.where(sw.island, np.nan, _directed_p(larger, used))
            pf = np.where(sw.island, np.nan, _folded_p(larger, smaller, used))
        out.append(GiStar(G=G, EG=EG, VG=VG, z=z, p_sim=p, p_folded=pf, island=sw.island,
                          permutations=permutations, seed=seed, used=used))
    return out


def _counts(ys, sw: StarWeights, perm, stop: int, fast: bool):
    """(larger, smaller, used) of each value set: the ``"fast"`` stream's units with equal
    weights by sorting (:mod:`geo_sigap.analytics._gi_sorted`, NumPy), every other unit
    in the compiled kernels (loaded only when such a unit exists)."""
    from geo_sigap.analytics import _gi_sorted

    n = sw.n
    todo = ~sw.island
    res = [(np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64),
            np.zeros(n, dtype=np.int64)) for _ in ys]
    if fast:
        for y, (lg, sm, us) in zip(ys, res):
            if np.isfinite(y).all():  # NaN compares as neither: left to the kernels
                sorted_units = todo & sw.equal
                lg[:], sm[:], us[:] = _gi_sorted.counts(y, sw.indptr, sw.indices, perm,
                                                        stop, sorted_units)
        left = todo & np.stack([lg < 0 for lg, _, _ in res]).any(axis=0)
    else:
        left = todo
    if not left.any():
        return res
    from geo_sigap.analytics import _kernels

    Y = np.ascontiguousarray(np.stack(ys, axis=1))
    if len(ys) == 1:
        lg, sm, us = _kernels.gi_star_counts(Y[:, 0].copy(), sw.indptr, sw.indices,
                                             sw.data, perm, stop, fast, left)
        lg, sm, us = lg[:, None], sm[:, None], us[:, None]
    else:
        lg, sm, us = _kernels.gi_star_counts_many(Y, sw.indptr, sw.indices, sw.data, perm,
                                                  stop, fast, left)
    for c, (a, b, u) in enumerate(res):
        a[left], b[left], u[left] = lg[left, c], sm[left, c], us[left, c]
    return res


def local_moran(y, w, *, permutations: int = 999, seed: int = DEFAULT_SEED,
                stream: str = "fast") -> LocalMoran:
    """Local Moran's I (row-standardised weights), as esda's ``Moran_Local``.

    With the default stream, a unit whose neighbours are equally weighted orders its
    permutations as the plain sum of the drawn values (``I`` is ``z_i · lag ·
    (n - 1) / Σz²`` with ``z_i`` fixed, and the lag an increasing function of that sum):
    up for ``z_i > 0``, down for ``z_i < 0``, every permutation a tie at ``z_i = 0``.
    Those counts come from :mod:`geo_sigap.analytics._gi_sorted` (exact ties of counts
    on both sides, as Gi*'s); other units, and esda's stream, from the compiled loop
    that computes each permuted statistic as esda does."""
    y = np.asarray(y, dtype=np.float64).ravel()
    n = len(y)
    a = _adjacency(w)
    rs = np.asarray(a.sum(axis=1)).ravel()
    data = a.data / np.repeat(np.where(rs > 0, rs, 1.0), np.diff(a.indptr))
    wm = sp.csr_matrix((data, a.indices, a.indptr), shape=a.shape)
    z = y - y.mean()
    with np.errstate(all="ignore"):
        z = z / y.std()
    den = (z * z).sum()
    lag = wm @ z
    Is = (n - 1) * z * lag / den
    indptr, indices, wdata, self_w = _split_self(wm)
    island = np.diff(indptr) == 0
    p = np.full(n, np.nan)
    pf = np.full(n, np.nan)
    if permutations and n > 2 and np.isfinite(den) and den > 0:
        from geo_sigap.analytics import _gi_sorted

        max_card = int(np.diff(indptr).max())
        perm = permuted_ids(n, max_card, permutations, seed, stream)
        larger = np.full(n, -1, dtype=np.int64)
        smaller = np.full(n, -1, dtype=np.int64)
        left = ~island
        if stream == "fast" and np.isfinite(y).all():
            eq = left & _gi_sorted.equal_rows(indptr, wdata)
            ge, le, _ = _gi_sorted.counts(y, indptr, indices, perm, 0, eq)
            up, down = z > 0, z < 0
            larger[eq] = np.where(up, ge, np.where(down, le, permutations))[eq]
            smaller[eq] = np.where(up, le, np.where(down, ge, permutations))[eq]
            left = left & ~eq
        if left.any():
            from geo_sigap.analytics import _kernels

            lg, sm = _kernels.count_extremes(z, indptr, indices, wdata, self_w, perm, Is,
                                             float((n - 1) / den), _kernels.MORAN,
                                             stream == "fast")
            larger[left], smaller[left] = lg[left], sm[left]
        p = np.where(island, np.nan, _directed_p(larger, permutations))
        pf = np.where(island, np.nan, _folded_p(larger, smaller, permutations))
    return LocalMoran(Is=Is, z=z, lag=lag, p_sim=p, p_folded=pf, island=island)


# -- multiple testing and classes ------------------------------------------------------


def bh_cutoff(p: np.ndarray, alpha: float) -> float:
    """Benjamini–Hochberg: the largest p-value rejected at FDR ``alpha`` (0.0 if none).

    Reject every hypothesis with ``p <= cutoff``. (esda's ``fdr`` returns ``alpha/n``
    when nothing is rejected; here nothing is rejected then.)
    """
    p = np.asarray(p, dtype=np.float64)
    p = p[np.isfinite(p)]
    m = len(p)
    if m == 0:
        return 0.0
    ps = np.sort(p)
    ok = ps <= (np.arange(1, m + 1) / m) * alpha
    if not ok.any():
        return 0.0
    return float(ps[np.nonzero(ok)[0].max()])


def classify_gi(z: np.ndarray, p_two: np.ndarray, island: np.ndarray, *,
                fdr: bool = True) -> np.ndarray:
    """Bins +3..-3 (hot/cold at 99/95/90 %), 0 not significant, -9 islands."""
    z = np.asarray(z, dtype=np.float64)
    out = np.zeros(len(z), dtype=np.int64)
    tested = ~np.asarray(island, dtype=bool)
    for level, conf in zip((1, 2, 3), (0.90, 0.95, 0.99)):
        alpha = 1 - conf
        cut = bh_cutoff(p_two[tested], alpha) if fdr else alpha
        sig = tested & (p_two <= cut)
        out[sig] = level
    out = np.where(z < 0, -out, out)
    out[~tested] = ISLAND
    return out
