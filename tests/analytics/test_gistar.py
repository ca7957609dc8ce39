"""Gi* and Local Moran: agreement with esda, planted hotspots, the FDR rate, islands."""


import numpy as np
import pytest
import scipy.sparse as sp

from geo_sigap.analytics.gistar import (bh_cutoff, gi_star, local_moran, permuted_ids,
                                         stop_count)
from geo_sigap.analytics.weights import hex_grid
from geo_sigap.analytics import _synthetic as S
from tests.analytics import esda_reference as R


def _lattice(n):
    from libpysal.weights import lat2W

    return lat2W(n, n, rook=False)


# esda's answers on the fixed cases, recorded (esda compiles its kernels in every
# process, ~20 s): tests/analytics/esda_reference.py; benchmarks.analytics compares live
ESDA = R.load()


def test_the_recorded_esda_answers_are_of_the_installed_esda():
    # an esda upgrade: record again (python -m tests.analytics.esda_reference)
    from importlib.metadata import version

    assert ESDA["meta"]["esda"] == version("esda"), ESDA["meta"]


def test_permutation_stream_is_esdas():
    np.testing.assert_array_equal(ESDA["stream"], permuted_ids(50, 6, 20, 3, "esda"))
    assert R.STREAM == (6, 50, 20, 3)


def test_gi_star_agrees_with_esda_on_a_fixed_case():
    # continuous values: no ties, so esda's rounded comparisons and ours count the same
    got = gi_star(R.gi_values(), R.lattice(), stream="esda", **R.GI_RUN)
    np.testing.assert_array_equal(got.z, ESDA["gi_z"])  # exactly the same formulas
    np.testing.assert_array_equal(got.G, ESDA["gi_G"])
    # esda stores p_sim as float32; the counts are identical
    np.testing.assert_allclose(got.p_sim, ESDA["gi_p_sim"], rtol=0, atol=1e-7)
    # the check has teeth: another seed gives other p-values
    other = gi_star(R.gi_values(), R.lattice(), stream="esda", permutations=999, seed=12)
    assert not np.allclose(other.p_sim, ESDA["gi_p_sim"], rtol=0, atol=1e-7)


def _plain_counts(y, a, perm, *, swap, stop_at=0, chunk=200):
    """Straightforward reference: each unit's neighbours drawn from the table ``perm``
    (ids out of the other n - 1 units: ``swap`` — the "fast" stream — id i is unit n - 1;
    else esda's shift), its permuted lags (plain sums with equal weights, weighted sums
    otherwise) compared with the observed one, stopped at the first check every
    ``chunk`` draws where both counts reached ``stop_at``."""
    dense = sp.csr_matrix(a).toarray()
    n = len(y)
    P = perm.shape[0]
    W = dense / (dense.sum(axis=1) + dense.max(axis=1))[:, None]
    ge = np.full(n, -1)
    le = np.full(n, -1)
    used = np.zeros(n, dtype=int)
    for i in range(n):
        nb = np.nonzero(dense[i])[0]
        if not len(nb):
            continue
        w = W[i, nb]
        equal = (w == w[0]).all()
        others = np.arange(n - 1)
        others = np.where(others == i, n - 1, others) if swap else others + (others >= i)
        drawn = y[others[perm[:, :len(nb)]]]
        sims = np.cumsum(drawn if equal else w * drawn, axis=1)[:, -1]
        obs = np.cumsum(y[nb] if equal else w * y[nb])[-1]
        g, l = np.cumsum(sims >= obs), np.cumsum(sims <= obs)
        stop = P
        for c in range(chunk, P, chunk):
            if stop_at and g[c - 1] >= stop_at and l[c - 1] >= stop_at:
                stop = c
                break
        ge[i], le[i], used[i] = g[stop - 1], l[stop - 1], stop
    return ge, le, used


def _random_weights(rng, side, unequal):
    """Queen lattice weights, with a share of the links weighted 2 (unequal rows)."""
    a = sp.csr_matrix(_lattice(side).sparse, dtype=float)
    if unequal:
        up = sp.triu(a, 1).tocoo()
        two = rng.random(up.nnz) < unequal
        heavy = sp.coo_matrix((np.where(two, 2.0, 1.0), (up.row, up.col)), shape=a.shape)
        a = (heavy + heavy.T).tocsr()
    return a


def test_fast_stream_draws_distinct_uniform_neighbours():
    perm = permuted_ids(41, 6, 20000, 7, "fast")
    assert perm.shape == (20000, 6) and perm.min() == 0 and perm.max() == 39
    assert all(len(set(r)) == 6 for r in perm[:2000].tolist())
    freq = np.bincount(perm.ravel(), minlength=40) / perm.size  # each id 1/40 of draws
    assert np.abs(freq - 1 / 40).max() < 0.003
    first = np.bincount(perm[:, 0], minlength=40) / len(perm)  # every position uniform too
    assert np.abs(first - 1 / 40).max() < 0.01


@pytest.mark.parametrize("stream", ["fast", "esda"])
@pytest.mark.parametrize("case", range(4))
def test_gi_star_counts_equal_a_plain_reference(case, stream):
    # counts with many ties (a neighbourhood with the same total is a tie, both sides);
    # binary weights, then some links weighted 2 (rows of unequal weights), early stops
    rng = np.random.default_rng(100 + case)
    side = int(rng.integers(5, 9))
    y = rng.poisson([0.3, 1.0, 3.0, 0.1][case], side * side).astype(float)
    y[0] += 1  # never all zero
    P = 499
    for unequal, decide in ((0.0, None), (0.3, None), (0.0, 0.1), (0.3, 0.1)):
        a = _random_weights(rng, side, unequal)
        got = gi_star(y, a, permutations=P, seed=case, stream=stream, decide_alpha=decide)
        perm = permuted_ids(side * side, int(np.diff(a.indptr).max()), P, case, stream)
        ge, le, used = _plain_counts(y, a, perm, swap=stream == "fast",
                                     stop_at=stop_count(decide, P))
        np.testing.assert_array_equal(got.used, used)
        np.testing.assert_array_equal(got.p_folded, (np.minimum(ge, le) + 1) / (used + 1))
        directed = np.where(used - ge < ge, used - ge, ge)
        np.testing.assert_array_equal(got.p_sim, (directed + 1) / (used + 1))


@pytest.mark.parametrize("case", range(4))
def test_sorted_counts_equal_the_compiled_kernel(case, monkeypatch):
    # the NumPy counts of the "fast" stream (binary weights) against the numba kernel on
    # the same table: hex grids (islands, edges), counts and continuous values, early
    # stops, and the units cut into pieces (_CELLS) as on a large grid
    from geo_sigap.analytics import _gi_sorted, _kernels
    from geo_sigap.analytics.gistar import star_weights

    rng = np.random.default_rng(300 + case)
    units = S.lattice_units()
    grid = hex_grid(units.loc[units["level"] == "kelurahan"], [150, 250, 400, 250][case])
    n = len(grid.q)
    y = rng.poisson([0.2, 1.5, 6.0, 1.0][case], n).astype(float)
    if case == 3:
        y = rng.gamma(0.5, 2.0, n) * (rng.random(n) < 0.5)  # zeros and continuous values
    sw = star_weights(grid.adjacency())
    if case == 1:
        monkeypatch.setattr(_gi_sorted, "_CELLS", 64)
    for P, stop in ((999, 0), (2999, 150), (1000, 1), (257, 13)):
        perm = permuted_ids(n, sw.max_card, P, case, "fast")
        todo = ~sw.island
        want = _kernels.gi_star_counts(y, sw.indptr, sw.indices, sw.data, perm, stop, True,
                                       todo)
        got = _gi_sorted.counts(y, sw.indptr, sw.indices, perm, stop, todo & sw.equal)
        for g, w_ in zip(got, want):
            np.testing.assert_array_equal(g, w_)


def test_star_weights_equal_the_plain_construction():
    # the vectorised preparation against the lil-matrix one it replaced, bit for bit:
    # stored zeros, duplicates, empty rows, unequal and negative weights, self weights
    from geo_sigap.analytics.gistar import star_weights

    def plain(a):
        a = sp.csr_matrix(a, dtype=np.float64, copy=True)
        a.sum_duplicates()
        if (a.diagonal() == 0).all():
            rowmax = np.asarray(a.max(axis=1).todense()).ravel()
            a = a.tolil()
            a.setdiag(rowmax)
            a = a.tocsr()
            a.eliminate_zeros()
            a.sort_indices()
        rs = np.asarray(a.sum(axis=1)).ravel()
        data = a.data / np.repeat(np.where(rs > 0, rs, 1.0), np.diff(a.indptr))
        wm = sp.csr_matrix((data, a.indices, a.indptr), shape=a.shape)
        off = wm.tolil()
        off.setdiag(0)
        off = off.tocsr()
        off.eliminate_zeros()
        off.sort_indices()
        return wm, off, wm.diagonal()

    rng = np.random.default_rng(8)
    for case in range(12):
        n = int(rng.integers(3, 40))
        m = int(rng.integers(0, 4 * n))
        r, c = rng.integers(0, n, m), rng.integers(0, n, m)
        v = rng.choice([0.0, 1.0, 1.0, 2.0, 0.5, -1.0] if case % 3 else [1.0], m)
        if case % 4 != 1:  # no self weights (the usual case)
            v = np.where(r == c, 0.0, v)
        a = sp.csr_matrix((v, (r, c)), shape=(n, n))
        a.has_canonical_format = False
        wm, off, diag = plain(a)
        sw = star_weights(a)
        np.testing.assert_array_equal(sw.wm.toarray(), wm.toarray())
        np.testing.assert_array_equal(sw.indptr, off.indptr)
        np.testing.assert_array_equal(sw.indices, off.indices)
        np.testing.assert_array_equal(sw.data, off.data)
        np.testing.assert_array_equal(sw.self_w, diag)
        np.testing.assert_array_equal(sw.card, np.asarray(wm.sum(axis=1)).ravel())


_THREADS_CHILD = """
import sys
import numpy as np
from geo_sigap.analytics import _synthetic as S
from tests.analytics import esda_reference as R
from geo_sigap.analytics.gistar import gi_star
from geo_sigap.analytics.weights import hex_grid
units = S.lattice_units()
a = hex_grid(units.loc[units["level"] == "kelurahan"], 200).adjacency().tolil()
a[0, 1] = a[1, 0] = 2.0  # one unit with unequal weights: the compiled kernel
y = np.random.default_rng(5).poisson(1.5, a.shape[0]).astype(float)
out = [gi_star(y, a.tocsr(), permutations=999, seed=3, stream=s, decide_alpha=d).p_folded
       for s in ("fast", "esda") for d in (None, 0.05)]
import numba
print(numba.get_num_threads(), file=sys.stderr)
np.save(sys.argv[1], np.stack(out))
"""


def test_same_p_values_on_one_and_two_threads(tmp_path):
    import os
    import subprocess
    import sys

    got = {}
    for threads in ("1", "2"):
        out = tmp_path / f"p{threads}.npy"
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        res = subprocess.run([sys.executable, "-c", _THREADS_CHILD, str(out)], env=env,
                             capture_output=True, text=True, check=True)
        assert res.stderr.split()[-1] == threads
        got[threads] = np.load(out)
    np.testing.assert_array_equal(got["1"], got["2"])
    assert np.isfinite(got["1"]).all()


def test_binary_weights_need_no_compiled_code():
    # the first call on a grid (binary weights, the default stream) loads no numba
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from geo_sigap.analytics.weights import HexGrid\n"
            "from geo_sigap.analytics.gistar import gi_star\n"
            "q, r = np.meshgrid(np.arange(30), np.arange(30))\n"
            "g = HexGrid(250.0, q.ravel(), r.ravel())\n"
            "y = np.random.default_rng(1).poisson(1.0, 900).astype(float)\n"
            "gi_star(y, g.adjacency(), permutations=999, decide_alpha=0.05).classes()\n"
            "print('numba' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert res.stdout.split()[-1] == "False"


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
    got = local_moran(R.moran_values(), R.lattice(), stream="esda", **R.MORAN_RUN)
    np.testing.assert_allclose(got.Is, ESDA["moran_Is"], rtol=1e-12)
    np.testing.assert_allclose(got.p_sim, ESDA["moran_p_sim"], atol=1e-7)


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


def test_hex_codes_name_every_cell_by_its_axial_coordinates():
    from geo_sigap.analytics.weights import HexGrid

    rng = np.random.default_rng(6)
    q, r = rng.integers(-300, 300, 2000), rng.integers(-300, 300, 2000)
    codes = HexGrid(250.0, q, r).codes()
    assert codes.tolist() == [f"HEX{a:+d}{b:+d}" for a, b in zip(q, r)]
    assert HexGrid(250.0, q[:0], r[:0]).codes().tolist() == []


def _libpysal_queen(units):
    from libpysal.weights import Queen

    w = Queen.from_dataframe(units.reset_index(drop=True), use_index=False,
                             silence_warnings=True)
    return sp.csr_matrix(w.sparse, dtype=float)


def test_queen_weights_equal_libpysals():
    # lattice levels, a square grid, Voronoi cells (irregular, 3+ at a vertex), a
    # donut around a polygon sharing one vertex of its hole, a multipolygon, an island
    import geopandas as gpd
    import shapely

    from geo_sigap.analytics.weights import queen_weights

    cases = [S.lattice_units().query(f"level == '{lv}'") for lv in ("rt", "rw", "kelurahan")]
    cases.append(S.square_grid(12))
    rng = np.random.default_rng(9)
    pts = shapely.multipoints(rng.uniform(0, 100, (300, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=shapely.box(0, 0, 100, 100)))
    cells = shapely.intersection(cells, shapely.box(0, 0, 100, 100))
    cases.append(gpd.GeoDataFrame(geometry=cells[rng.permutation(len(cells))]))
    donut = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
                            [[(3, 3), (7, 3), (7, 7), (3, 7)]])
    cases.append(gpd.GeoDataFrame(geometry=[
        donut, shapely.Polygon([(3, 3), (5, 4), (4, 5)]),  # touches the hole's corner
        shapely.MultiPolygon([shapely.box(10, 0, 12, 2), shapely.box(20, 20, 21, 21)]),
        shapely.box(21, 21, 22, 22), shapely.box(50, 50, 51, 51)]))  # last: an island
    for units in cases:
        got = queen_weights(units)
        want = _libpysal_queen(units)
        assert got.shape == want.shape
        assert (got != want).nnz == 0
        assert set(got.data.tolist()) <= {1.0}


def _plain_moran_counts(y, a, perm):
    """Reference for Local Moran's default stream on binary weights: each unit's drawn
    neighbour sums (id i stands for unit n - 1) against its observed sum, the order
    turned for units below the mean, every permutation a tie at the mean."""
    dense = sp.csr_matrix(a).toarray()
    n = len(y)
    P = perm.shape[0]
    larger = np.full(n, -1)
    smaller = np.full(n, -1)
    for i in range(n):
        nb = np.nonzero(dense[i])[0]
        if not len(nb):
            continue
        others = np.arange(n - 1)
        others = np.where(others == i, n - 1, others)
        sims = y[others[perm[:, :len(nb)]]].sum(axis=1)
        obs = y[nb].sum()
        ge, le = int((sims >= obs).sum()), int((sims <= obs).sum())
        if y[i] > y.mean():
            larger[i], smaller[i] = ge, le
        elif y[i] < y.mean():
            larger[i], smaller[i] = le, ge
        else:
            larger[i] = smaller[i] = P
    return larger, smaller


@pytest.mark.parametrize("case", range(3))
def test_local_moran_default_stream_equals_a_plain_reference(case):
    rng = np.random.default_rng(400 + case)
    side = int(rng.integers(5, 10))
    w = _lattice(side)
    y = rng.poisson([0.5, 2.0, 6.0][case], side * side).astype(float)
    y[0] += 1
    P = 999
    got = local_moran(y, w, permutations=P, seed=case)
    perm = permuted_ids(side * side, int(np.diff(w.sparse.indptr).max()), P, case, "fast")
    larger, smaller = _plain_moran_counts(y, w.sparse, perm)
    np.testing.assert_array_equal(got.p_folded, (np.minimum(larger, smaller) + 1) / (P + 1))
    directed = np.where(P - larger < larger, P - larger, larger)
    np.testing.assert_array_equal(got.p_sim, (directed + 1) / (P + 1))


def test_local_moran_sorted_counts_equal_the_compiled_loop():
    # continuous values (no ties): the sums' order is the statistic's, unit for unit
    from geo_sigap.analytics import _kernels
    from geo_sigap.analytics.gistar import _split_self

    rng = np.random.default_rng(41)
    w = _lattice(12)
    y = rng.gamma(2.0, 1.5, 144)
    got = local_moran(y, w, permutations=999, seed=7)
    a = sp.csr_matrix(w.sparse, dtype=float)
    wm = sp.diags(1 / np.asarray(a.sum(axis=1)).ravel()) @ a
    indptr, indices, wdata, self_w = _split_self(sp.csr_matrix(wm))
    perm = permuted_ids(144, int(np.diff(indptr).max()), 999, 7, "fast")
    larger, smaller = _kernels.count_extremes(got.z, indptr, indices, wdata, self_w, perm,
                                              got.Is, float(143 / (got.z ** 2).sum()),
                                              _kernels.MORAN, True)
    np.testing.assert_array_equal(got.p_folded, (np.minimum(larger, smaller) + 1) / 1000)


def test_hex_cells_are_the_projected_hexagons():
    # the cells' polygons equal the metric hexagons reprojected by geopandas, vertex for vertex
    import geopandas as gpd
    import shapely

    units = S.lattice_units()
    grid = hex_grid(units.loc[units["level"] == "kelurahan"], 250)
    got = grid.to_geodataframe()
    cx, cy = grid.centres()
    ang = np.deg2rad(np.arange(7) % 6 * 60 + 30)
    metric = shapely.polygons(np.stack([cx[:, None] + grid.radius_m * np.cos(ang),
                                        cy[:, None] + grid.radius_m * np.sin(ang)], axis=-1))
    want = gpd.GeoSeries(metric, crs=grid.crs).to_crs("EPSG:4326")
    assert got.crs == want.crs and got["code"].tolist() == grid.codes().tolist()
    np.testing.assert_array_equal(shapely.get_coordinates(got.geometry.to_numpy()),
                                  shapely.get_coordinates(want.to_numpy()))
