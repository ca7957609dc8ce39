"""Near-repeat (Knox) against a hand count and a brute-force implementation; PAI, PEI*
and RRI on a hand-made case."""

import itertools

import numpy as np
import pytest

from geo_sigap.analytics.forecast import score_forecast
from geo_sigap.analytics.nearrepeat import knox_test


def _brute_table(x, y, t, d_edges, t_edges):
    """Every pair, one at a time (independent of the kd-tree / band shortcut)."""
    m = np.zeros((len(d_edges), len(t_edges)), dtype=int)
    for i, j in itertools.combinations(range(len(t)), 2):
        d = ((x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2) ** 0.5
        dt = abs(t[i] - t[j])
        a = next((k for k in range(len(d_edges) - 1) if d_edges[k] <= d < d_edges[k + 1]),
                 len(d_edges) - 1)
        b = next((k for k in range(len(t_edges) - 1) if t_edges[k] <= dt < t_edges[k + 1]),
                 len(t_edges) - 1)
        m[a, b] += 1
    return m


def test_knox_tiny_case_counted_by_hand():
    # A(0,0,t0) B(50,0,t3) C(0,150,t10) D(1000,0,t2); bands 100 m ×2, 7 days ×2
    x = np.array([0.0, 50.0, 0.0, 1000.0])
    y = np.array([0.0, 0.0, 150.0, 0.0])
    t = np.array([0.0, 3.0, 10.0, 2.0])
    r = knox_test(x, y, t, distance_m=100, n_distance=2, time_days=7, n_time=2,
                  permutations=9)
    # pairs: AB 50 m/3 d → (0,0); AC 150/10 → (1,1); BC 158/7 → (1,1); AD 1000/2 → (2,0);
    # BD 950/1 → (2,0); CD 1000/8 → (2,1)
    want = np.array([[1, 0, 0], [0, 2, 0], [2, 1, 0]])
    np.testing.assert_array_equal(r.observed, want)
    assert r.observed.sum() == 6
    assert r.distance_labels()[0] == "0–100 m" and r.time_labels()[-1] == "> 14 hari"


def test_knox_matches_brute_force_on_a_seeded_dataset():
    rng = np.random.default_rng(3)
    n = 60
    x, y = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    t = rng.uniform(0, 90, n)
    # plant near repeats: 10 follow-ups within 40 m and 3 days
    src = rng.integers(0, n, 10)
    x = np.r_[x, x[src] + rng.uniform(-25, 25, 10)]
    y = np.r_[y, y[src] + rng.uniform(-25, 25, 10)]
    t = np.r_[t, t[src] + rng.uniform(0, 3, 10)]
    perms, seed = 49, 7
    r = knox_test(x, y, t, distance_m=100, n_distance=3, time_days=7, n_time=3,
                  permutations=perms, seed=seed)
    de, te = r.distance_edges, r.time_edges
    obs = _brute_table(x, y, t, de, te)
    np.testing.assert_array_equal(r.observed, obs)
    g = np.random.default_rng(seed)
    ge = np.zeros_like(obs)
    acc = np.zeros(obs.shape)
    for _ in range(perms):
        sim = _brute_table(x, y, t[g.permutation(len(t))], de, te)
        ge += sim >= obs
        acc += sim
    np.testing.assert_allclose(r.expected, acc / perms)
    np.testing.assert_allclose(r.p_value, (1 + ge) / (1 + perms))
    # the planted pattern is found: close in space and time, raised and significant
    assert r.ratio[0, 0] > 2 and r.p_value[0, 0] <= 0.02
    assert r.extent() is not None and r.extent()[0] >= 100


def test_forecast_scores_on_a_hand_made_case():
    # 10 equal cells; last quarter's hotspots: cells 0 and 1 (20 % of the area)
    hot = np.zeros(10, bool)
    hot[[0, 1]] = True
    prev = np.array([10, 10, 5, 5, 5, 5, 5, 5, 0, 0])  # 50 incidents, 20 in the hotspots
    cur = np.array([8, 4, 10, 2, 2, 2, 2, 2, 4, 4])  # 40 incidents, 12 in the hotspots
    s = score_forecast(hot, prev, cur)
    assert s.hit_rate == pytest.approx(12 / 40)
    assert s.area_share == pytest.approx(0.2)
    assert s.pai == pytest.approx((12 / 40) / 0.2)  # 1.5
    # best two cells this quarter: 10 + 8 = 18 → PEI* = 12 / 18
    assert s.pei_star == pytest.approx(12 / 18)
    # RRI = (12 / 20) / (40 / 50) = 0.75
    assert s.rri == pytest.approx(0.75)
    assert (s.n_hot, s.n_total, s.n_prev_hot, s.n_prev_total) == (12, 40, 20, 50)
