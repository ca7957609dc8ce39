"""Gi* and Local Moran: agreement with esda, planted hotspots, the FDR rate, islands."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from geo_sigap.analytics.gistar import bh_cutoff, gi_star, local_moran, permuted_ids
from geo_sigap.analytics.weights import hex_grid
from geo_sigap.analytics import _synthetic as S


def _lattice(n):
    from libpysal.weights import lat2W

    return lat2W(n, n, rook=False)


def test_permutation_stream_is_esdas():
    from esda.crand import vec_permutations

    np.testing.assert_array_equal(vec_permutations(6, 50, 20, 3),
                                  permuted_ids(50, 6, 20, 3, "esda"))


@pytest.mark.slow
def test_gi_star_agrees_with_esda_on_a_fixed_case():
    import esda

    # continuous values: no ties, so esda's rounded comparisons and ours count the same
    w = _lattice(8)
    y = np.random.default_rng(1).gamma(2.0, 1.5, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, w, star=True, transform="R", permutations=999, seed=11, n_jobs=1)
    got = gi_star(y, w, permutations=999, seed=11, stream="esda")
    np.testing.assert_array_equal(got.z, ref.Zs)  # exactly the same formulas
    np.testing.assert_array_equal(got.G, ref.Gs)
    # esda stores p_sim as float32; the counts are identical
    np.testing.assert_allclose(got.p_sim, ref.p_sim, rtol=0, atol=1e-7)


@pytest.mark.slow
def _plain_counts(y, w, permutations, seed):
    """Straightforward reference: each unit's neighbours drawn from esda's table, the
    permuted Gi* statistics compared with the observed one in exact (integer) sums."""
    a = sp.csr_matrix(w.sparse if hasattr(w, "sparse") else w)
    n = len(y)
    k_max = int(np.diff(a.indptr).max())
    perm = permuted_ids(n, k_max, permutations, seed, "fast")
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    for i in range(n):
        nb = a.indices[a.indptr[i]:a.indptr[i + 1]]
        others = np.delete(np.arange(n), i)
        sims = y[others[perm[:, :len(nb)]]].sum(axis=1)
        ge[i] = (sims >= y[nb].sum()).sum()
        le[i] = (sims <= y[nb].sum()).sum()
    return ge, le


def test_fast_stream_draws_distinct_uniform_neighbours():
    perm = permuted_ids(41, 6, 20000, 7, "fast")
    assert perm.shape == (20000, 6) and perm.min() == 0 and perm.max() == 39
    assert all(len(set(r)) == 6 for r in perm[:2000].tolist())
    freq = np.bincount(perm.ravel(), minlength=40) / perm.size  # each id 1/40 of draws
    assert np.abs(freq - 1 / 40).max() < 0.003
    first = np.bincount(perm[:, 0], minlength=40) / len(perm)  # every position uniform too
    assert np.abs(first - 1 / 40).max() < 0.01


@pytest.mark.parametrize("case", range(4))
def test_gi_star_counts_equal_a_plain_reference(case):
    # counts with many ties (a neighbourhood with the same total is a tie, both sides)
    rng = np.random.default_rng(100 + case)
    side = int(rng.integers(5, 9))
    w = _lattice(side)
    y = rng.poisson([0.3, 1.0, 3.0, 0.1][case], side * side).astype(float)
    y[0] += 1  # never all zero
    P = 499
    got = gi_star(y, w, permutations=P, seed=case)
    ge, le = _plain_counts(y, w, P, case)
    np.testing.assert_array_equal(got.p_folded, (np.minimum(ge, le) + 1) / (P + 1))
    directed = np.where(P - ge < ge, P - ge, ge)
    np.testing.assert_array_equal(got.p_sim, (directed + 1) / (P + 1))


@pytest.mark.parametrize("case", range(3))
def test_early_stopping_decides_exactly_as_the_full_run(case):
    rng = np.random.default_rng(200 + case)
    units = S.lattice_units()
    grid = hex_grid(units.loc[units["level"] == "kelurahan"], 250)
    cx, cy = grid.centres()
    y = rng.poisson([0.5, 2.0, 0.05][case], len(grid.q)).astype(float)
    hot = (cx - cx[case * 7]) ** 2 + (cy - cy[case * 7]) ** 2 < 600 ** 2
    y[hot] += rng.poisson(4, hot.sum())
    w = grid.adjacency()
    P = 2999
    full = gi_star(y, w, permutations=P, seed=case)
    fast = gi_star(y, w, permutations=P, seed=case, decide_alpha=0.05)
    for fdr in (True, False):
        np.testing.assert_array_equal(fast.classes(fdr=fdr), full.classes(fdr=fdr))
    for alpha in (0.05, 0.01):  # the emerging-hotspot rule: folded p under BH
        assert bh_cutoff(fast.p_folded, alpha) == bh_cutoff(full.p_folded, alpha)
    done = fast.used == P
    np.testing.assert_array_equal(fast.p_folded[done], full.p_folded[done])
    stopped = ~done & ~fast.island
    assert stopped.sum() > len(y) / 2  # most units are decided early …
    assert (full.p_folded[stopped] > 0.05).all()  # … and only the certainly not significant
    assert (fast.p_folded[stopped] > 0.05).all()
    assert fast.used.sum() < full.used.sum() / 2


def test_several_value_sets_at_once_equal_each_alone():
    from geo_sigap.analytics.gistar import gi_star_many

    rng = np.random.default_rng(31)
    units = S.lattice_units()
    grid = hex_grid(units.loc[units["level"] == "kelurahan"], 250)
    n = len(grid.q)
    ys = [rng.poisson(lam, n).astype(float) for lam in (0.2, 1.0, 4.0)] + [np.zeros(n)]
    ys[1][:10] += 6
    a = grid.adjacency().tolil()
    a[0, 1] = a[1, 0] = 0.5  # one row with unequal weights: the weighted sums
    for decide in (None, 0.05):
        many = gi_star_many(ys, a.tocsr(), permutations=1999, seed=4, decide_alpha=decide)
        for y, got in zip(ys, many):
            alone = gi_star(y, a.tocsr(), permutations=1999, seed=4, decide_alpha=decide)
            for f in ("z", "p_sim", "p_folded", "used"):
                np.testing.assert_array_equal(getattr(got, f), getattr(alone, f))


def test_local_moran_agrees_with_esda():
    import esda

    w = _lattice(8)
    y = np.random.default_rng(2).poisson(4, 64).astype(float)
    ref = esda.Moran_Local(y, w, permutations=999, seed=5, n_jobs=1)
    got = local_moran(y, w, permutations=999, seed=5, stream="esda")
    np.testing.assert_allclose(got.Is, ref.Is, rtol=1e-12)
    np.testing.assert_allclose(got.p_sim, ref.p_sim, atol=1e-7)


def test_esda_pinned_gi_star_values():
    # esda's own doctest case (six points, binary distance band 15): z-scores pinned there
    from libpysal.weights import DistanceBand

    pts = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    w = DistanceBand(pts, threshold=15.0, binary=True, silence_warnings=True)
    y = np.array([2, 3, 3.2, 5, 8, 7])
    got = gi_star(y, w, permutations=0)
    np.testing.assert_allclose(
        got.z, [-0.62488094, -0.09144599, 0.41150696, -0.09144599, 0.24690418, 1.28024388],
        atol=1e-8)


def test_planted_hotspot_is_found_at_99_percent():
    units = S.lattice_units()
    area = units.loc[units["level"] == "kelurahan"]
    grid = hex_grid(area, 250)
    rng = np.random.default_rng(0)
    counts = rng.poisson(1.0, len(grid.q)).astype(float)
    cx, cy = grid.centres()
    centre = np.argmin((cx - cx.mean()) ** 2 + (cy - cy.mean()) ** 2)
    d = np.sqrt((cx - cx[centre]) ** 2 + (cy - cy[centre]) ** 2)
    near = d <= 2.1 * 250  # the centre cell and two rings: 19 cells, about 1 km²
    assert near.sum() == 19
    counts[near] += 10
    # 9,999 permutations: with FDR over ~500 cells, 99 % needs p far below 0.001
    g = gi_star(counts, grid.adjacency(), permutations=9999, seed=3)
    cls = g.classes(fdr=True)
    assert (cls[d <= 1.1 * 250] == 3).all()  # the core at 99 %
    assert (cls[near] >= 2).all()  # the whole planted area at least at 95 %
    assert (cls[d > 1000] > 0).sum() == 0  # nothing hot far away


def test_uniform_pattern_stays_within_the_fdr_rate():
    units = S.lattice_units()
    grid = hex_grid(units.loc[units["level"] == "kelurahan"], 200)
    rng = np.random.default_rng(4)
    false = []
    for rep in range(5):
        counts = rng.poisson(3.0, len(grid.q)).astype(float)
        g = gi_star(counts, grid.adjacency(), permutations=999, seed=rep)
        false.append(int((np.abs(g.classes(fdr=True)) >= 2).sum()))  # 95 %
    # BH controls the expected share of false discoveries among discoveries; under the
    # global null every discovery is false, so P(any) <= 0.05 — allow one noisy rep
    assert sum(f > 0 for f in false) <= 1
    # without the correction about 5 % of units would be flagged
    g = gi_star(rng.poisson(3.0, len(grid.q)).astype(float), grid.adjacency(), seed=9)
    raw = (np.abs(g.classes(fdr=False)) >= 2).mean()
    assert 0.01 < raw < 0.10


def test_islands_are_not_tested():
    a = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]],
                               dtype=float))
    g = gi_star(np.array([1.0, 5.0, 2.0, 9.0]), a, permutations=99, seed=1)
    assert g.island.tolist() == [False, False, False, True]
    assert np.isnan(g.z[3]) and np.isnan(g.p_sim[3])
    assert g.classes()[3] == -9


def test_empty_neighbourhoods_are_not_cold_spots():
    # esda's directed p calls an all-zero neighbourhood significant (ties); p_folded not
    w = _lattice(10)
    y = np.zeros(100)
    y[:5] = 4
    g = gi_star(y, w, permutations=999, seed=2)
    zero_hood = np.asarray(w.sparse.sum(axis=1)).ravel() > 0
    far = np.arange(100) >= 30
    assert (g.p_sim[far & zero_hood] <= 0.01).all()
    assert (g.p_folded[far] > 0.5).all()
    assert (g.classes(fdr=False)[far] == 0).all()


def test_bh_cutoff():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    # textbook example: at 0.05 the first two are rejected
    assert bh_cutoff(p, 0.05) == 0.008
    assert bh_cutoff(np.array([0.5, 0.9]), 0.05) == 0.0
