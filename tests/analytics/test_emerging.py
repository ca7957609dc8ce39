"""Emerging hot spot classes on constructed series (sfdep / Esri rules) and on planted data."""

import numpy as np
import pytest

from geo_sigap.analytics.emerging import (
    classify, emerging_hotspots, mann_kendall, mann_kendall_min_p)
from geo_sigap.analytics.hotspots import units_of_level
from geo_sigap.analytics.weights import queen_weights

N = 10
T = 0.05


def _cls(gs, sigs):
    _, tau, p = mann_kendall(gs)
    return classify(np.asarray(gs, float), np.asarray(sigs, bool), tau, p, T)


def _series():
    none = [False] * N
    up = np.arange(1, N + 1, dtype=float) + 2
    return {
        "new": (np.r_[np.zeros(N - 1), 3.0], none[:-1] + [True]),
        "consecutive": (np.r_[np.zeros(N - 3), 3.0, 3.5, 3.2], none[:-3] + [True] * 3),
        "intensifying": (up, [True] * N),
        "persistent": (np.tile([3.0, 4.0], N // 2), [True] * N),
        "diminishing": (up[::-1].copy(), [True] * N),
        "oscillating": (np.r_[-3.0, 0, 0, 3.0, 0, 0, -2.5, 0, 0, 3.0],
                        [True, False, False, True, False, False, True, False, False, True]),
        # hot for 90 % of the time, fading (a significant downward trend), now not hot:
        # with no trend it would stay "persistent" (that rule comes first in sfdep)
        "historical": (np.r_[np.arange(N - 1, 0, -1) + 2.0, -0.5], [True] * (N - 1) + [False]),
        "sporadic": (np.r_[0, 3.0, 0, 0, 2.8, 0, 0, 0, 0, 0.5],
                     [False, True, False, False, True] + [False] * 5),
    }


@pytest.mark.parametrize("name", list(_series()))
def test_each_hot_category_on_a_constructed_series(name):
    gs, sigs = _series()[name]
    assert _cls(gs, sigs) == f"{name} hotspot"


@pytest.mark.parametrize("name", list(_series()))
def test_each_cold_category_mirrors_the_hot_one(name):
    gs, sigs = _series()[name]
    assert _cls(-np.asarray(gs), sigs) == f"{name} coldspot"


def test_no_pattern():
    assert _cls(np.zeros(N), [False] * N) == "no pattern detected"


def test_mann_kendall_known_values():
    s, tau, p = mann_kendall([1, 2, 3, 4, 5])
    assert s == 10 and tau == pytest.approx(1.0)
    # S = 10, var = 5*4*15/18 = 16.667, z = (10 - 1)/4.082 = 2.205, p = 0.0275
    assert p == pytest.approx(0.02745, abs=1e-4)
    assert mann_kendall([3, 3, 3, 3])[2] == 1.0


def test_too_few_slices_are_reported():
    assert mann_kendall_min_p(4) > 0.05
    assert mann_kendall_min_p(8) < 0.01


def test_planted_series_are_classified(units, incidents):
    from tests.analytics.conftest import HOT_RW, NEW_RW

    from geo_sigap.analytics.frames import filter_incidents

    rt = units_of_level(units, "rt")
    w = queen_weights(rt)
    pkl = emerging_hotspots(filter_incidents(incidents, categories="pkl"), rt["code"], w, "rt",
                            freq="quarter", permutations=9999)  # as the pack
    t = pkl.table.set_index("code")
    planted = t.index.str.startswith(HOT_RW)
    assert (t.loc[planted, "classification"] == "persistent hotspot").all()
    assert not t.loc[~planted, "classification"].str.contains("persistent|intensif").any()
    assert pkl.note is None  # 8 quarters are enough for a trend
    pekat = emerging_hotspots(filter_incidents(incidents, categories="pekat"), rt["code"], w,
                              "rt", freq="quarter", permutations=9999)  # as the pack
    t = pekat.table.set_index("code")
    planted = t.index.str.startswith(NEW_RW)
    # hot only since 2026Q1 (3 of 8 quarters), never before
    assert t.loc[planted, "classification"].isin(["consecutive hotspot", "new hotspot"]).all()


def test_few_slices_note(units, incidents):
    from geo_sigap.analytics.frames import filter_incidents

    rt = units_of_level(units, "rt")
    sub = filter_incidents(incidents, start="2026-01-01", end="2026-10-01")
    res = emerging_hotspots(sub, rt["code"], queen_weights(rt), "rt", freq="quarter",
                            permutations=99)
    assert res.slices == ["2026Q1", "2026Q2", "2026Q3"]
    assert res.note and "Mann-Kendall" in res.note


def test_early_stopping_gives_the_classes_of_every_permutation(units, incidents):
    from geo_sigap.analytics.frames import filter_incidents

    rt = units_of_level(units, "rt")
    w = queen_weights(rt)
    for cat in ("pkl", "keributan"):
        sub = filter_incidents(incidents, categories=cat)
        fast = emerging_hotspots(sub, rt["code"], w, "rt", freq="quarter", permutations=999)
        full = emerging_hotspots(sub, rt["code"], w, "rt", freq="quarter", permutations=999,
                                 early_stop=False)
        assert fast.table["classification"].tolist() == full.table["classification"].tolist()
        sig = full.p <= 0.05
        np.testing.assert_array_equal(fast.p[sig], full.p[sig])  # drawn in full where it counts
        assert (fast.p[~sig] > 0.05).all()


def test_mann_kendall_rows_equal_the_one_series_test():
    from geo_sigap.analytics.emerging import mann_kendall_rows

    rng = np.random.default_rng(8)
    for n in (2, 3, 8, 12):
        X = rng.integers(0, 4, (60, n)).astype(float)  # many ties
        X[0] = 0.0  # constant: no trend
        X[1] = np.arange(n)
        S, tau, p = mann_kendall_rows(X)
        for i in range(len(X)):
            np.testing.assert_allclose((S[i], tau[i], p[i]), mann_kendall(X[i]), rtol=1e-12,
                                       atol=1e-15)


def test_subsets_at_once_equal_each_subset_alone(units, incidents):
    from geo_sigap.analytics.emerging import emerging_hotspots_by
    from geo_sigap.analytics.frames import filter_incidents

    rt = units_of_level(units, "rt")
    w = queen_weights(rt)
    groups = {"pkl": "pkl", "pekat": "pekat", "two": ["gepeng", "odgj"], None: None}
    slices = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    many = emerging_hotspots_by(incidents, groups, rt["code"], w, "rt", slices=slices,
                                permutations=999)
    for key, keep in groups.items():
        sub = incidents if keep is None else filter_incidents(incidents, categories=keep,
                                                              exclude_rejected=False)
        alone = emerging_hotspots(sub, rt["code"], w, "rt", slices=slices, permutations=999)
        np.testing.assert_array_equal(many[key].z, alone.z)
        np.testing.assert_array_equal(many[key].p, alone.p)
        assert many[key].table.equals(alone.table)
