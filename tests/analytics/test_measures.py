"""Heatmap, PAI/PEI, performance, temporal patterns and choropleths on known answers."""

import numpy as np
import pandas as pd
import pytest

from geo_sigap.analytics.choropleth import choropleth, empirical_bayes
from geo_sigap.analytics.evaluation import score_hotspots
from geo_sigap.analytics.frames import Quarter, filter_incidents, normalise_incidents
from geo_sigap.analytics.heatmap import _frame, default_bandwidth, kde_grid
from geo_sigap.analytics.performance import annotate, overdue_cases, summarise
from geo_sigap.analytics.temporal import day_hour_matrix, quarter_comparison
from geo_sigap.domain.categories import load_categories


def test_pai_pei_hand_computed():
    counts = [5, 3, 1, 1, 0, 0, 0, 0, 0, 10]
    hot = [True, True] + [False] * 8
    s = score_hotspots(hot, counts)
    # N = 20, n_H = 8: hit 0.4; area 2/10: PAI 2.0; best 2 cells catch 15: PEI 8/15
    assert s.hit_rate == pytest.approx(0.4)
    assert s.pai == pytest.approx(2.0)
    assert s.pei == pytest.approx(8 / 15)
    best = score_hotspots([True] + [False] * 8 + [True], counts)
    assert best.pei == pytest.approx(1.0)


def test_pai_with_unequal_areas():
    s = score_hotspots([True, False, False], [6, 2, 2], areas=[1.0, 2.0, 1.0])
    assert s.pai == pytest.approx((6 / 10) / (1 / 4))


def test_kde_conserves_mass_and_peaks_at_the_cluster():
    rng = np.random.default_rng(0)
    lon = np.r_[103.60 + rng.uniform(0, 0.05, 2000), 103.62 + rng.normal(0, 0.001, 500)]
    lat = np.r_[-1.64 + rng.uniform(0, 0.05, 2000), -1.62 + rng.normal(0, 0.001, 500)]
    for kernel in ("quartic", "gaussian"):
        g = kde_grid(lon, lat, kernel=kernel, bandwidth_m=300)
        mass = g.density.sum() * (g.cell_m / 1000) ** 2
        assert mass == pytest.approx(2500, rel=1e-6)
        r, c = np.unravel_index(np.argmax(g.density), g.shape)
        lons, lats = g.cell_centres()
        assert abs(lons[c] - 103.62) < 0.002 and abs(lats[r] + 1.62) < 0.002


def test_kde_matches_direct_kernel_sum():
    rng = np.random.default_rng(1)
    lon = 103.6 + rng.uniform(0, 0.02, 300)
    lat = -1.6 + rng.uniform(0, 0.02, 300)
    h = 400.0
    g = kde_grid(lon, lat, kernel="quartic", bandwidth_m=h, cell_m=20)
    lons, lats = g.cell_centres()
    lon0 = (g.bounds[0] + g.bounds[2]) / 2
    lat0 = (g.bounds[1] + g.bounds[3]) / 2
    px, py, _ = _frame(lon, lat, lon0, lat0)
    # direct O(points × cells) on a subsample of cells
    for r in range(0, g.shape[0], 17):
        for c in range(0, g.shape[1], 17):
            cx, cy, _ = _frame(np.array([lons[c]]), np.array([lats[r]]), lon0, lat0)
            d2 = (px - cx) ** 2 + (py - cy) ** 2
            direct = np.sum(np.where(d2 < h * h, (1 - d2 / h**2) ** 2, 0)) * 3 / (np.pi * h * h)
            assert g.density[r, c] == pytest.approx(direct * 1e6, rel=0.06, abs=2.0)


def _direct_quartic(px, py, cx, cy, h):
    d2 = (px - cx) ** 2 + (py - cy) ** 2
    return np.sum(np.where(d2 < h * h, (1 - d2 / h**2) ** 2, 0)) * 3 / (np.pi * h * h) * 1e6


def test_kde_of_many_points_matches_direct_kernel_sum_and_counts_only_its_own():
    """Above 131,072 points the frame's origin comes from a sample and the cells are
    computed in place: the surface is still the kernel sum, missing positions and (with
    ``bounds``) points outside are left out, and the mass is the points counted."""
    rng = np.random.default_rng(5)
    n = 200_000
    lon = np.r_[103.60 + rng.uniform(0, 0.04, n - 50_000), 103.62 + rng.normal(0, 0.001, 50_000)]
    lat = np.r_[-1.64 + rng.uniform(0, 0.04, n - 50_000), -1.62 + rng.normal(0, 0.001, 50_000)]
    lon[:1000] = np.nan
    h = 300.0
    g = kde_grid(lon, lat, bandwidth_m=h, cell_m=30)
    assert g.n_points == n - 1000
    assert g.density.sum() * (g.cell_m / 1000) ** 2 == pytest.approx(n - 1000, rel=1e-6)
    lons, lats = g.cell_centres()
    lon0, lat0 = (g.bounds[0] + g.bounds[2]) / 2, (g.bounds[1] + g.bounds[3]) / 2
    ok = np.isfinite(lon)
    px, py, _ = _frame(lon[ok], lat[ok], lon0, lat0)
    peak = g.density.max()
    for r, c in zip(*np.unravel_index(rng.integers(0, g.density.size, 60), g.shape),
                    strict=True):
        cx, cy, _ = _frame(np.array([lons[c]]), np.array([lats[r]]), lon0, lat0)
        assert abs(g.density[r, c] - _direct_quartic(px, py, cx, cy, h)) < 0.02 * peak
    # a given extent (the grid covers it in whole cells): points outside the grid are
    # not counted, nor wrapped into edge cells
    gb = kde_grid(lon, lat, bandwidth_m=h, cell_m=30, bounds=(103.61, -1.63, 103.63, -1.61))
    w, s, e, nth = gb.bounds
    inside = ok & (lon >= w) & (lon < e) & (lat >= s) & (lat < nth)
    assert abs(gb.n_points - int(inside.sum())) <= 3  # a point on an edge, by rounding
    assert gb.density.sum() * (gb.cell_m / 1000) ** 2 < gb.n_points  # mass spills outside
    assert 0 < gb.n_points < g.n_points


def test_kde_agrees_with_kdepy_fftkde():
    """KDEpy's FFTKDE (linear binning + FFT), biweight kernel — the quartic — with
    ``bw = h / √7`` (KDEpy's bandwidth is the kernel's standard deviation, its support
    √7 σ), evaluated at the same cell centres: the surfaces agree within the two
    binnings' difference (a few per cent of the peak, less than a cell's shift)."""
    fftkde = pytest.importorskip("KDEpy").FFTKDE
    rng = np.random.default_rng(6)
    n = 150_000
    lon = np.r_[103.60 + rng.uniform(0, 0.05, n - 40_000), 103.63 + rng.normal(0, 0.0015, 40_000)]
    lat = np.r_[-1.64 + rng.uniform(0, 0.05, n - 40_000), -1.61 + rng.normal(0, 0.0015, 40_000)]
    h = 400.0
    g = kde_grid(lon, lat, bandwidth_m=h)
    lons, lats = g.cell_centres()
    lon0, lat0 = (g.bounds[0] + g.bounds[2]) / 2, (g.bounds[1] + g.bounds[3]) / 2
    px, py, _ = _frame(lon, lat, lon0, lat0)
    gx, _, _ = _frame(lons, np.full_like(lons, lat0), lon0, lat0)
    _, gy, _ = _frame(np.full_like(lats, lon0), lats, lon0, lat0)
    grid = np.column_stack([np.repeat(gx, len(gy)), np.tile(gy, len(gx))])
    theirs = fftkde(kernel="biweight", bw=h / np.sqrt(7)).fit(
        np.column_stack([px, py])).evaluate(grid).reshape(len(gx), len(gy)).T * n * 1e6
    peak = theirs.max()
    assert g.density.max() == pytest.approx(peak, rel=0.03)
    assert np.abs(g.density - theirs).max() < 0.03 * peak
    assert np.abs(g.density - theirs).mean() < 0.01 * theirs.mean()


def test_default_bandwidth_is_clamped_and_adjustable():
    x = np.random.default_rng(2).normal(0, 5000, 100)
    assert default_bandwidth(x, x) == 1000.0
    assert default_bandwidth(x[:3] * 0.001, x[:3] * 0.001) == 100.0
    assert kde_grid([103.6, 103.61], [-1.6, -1.61], bandwidth_m=250).bandwidth_m == 250


def _inc(rows):
    df = pd.DataFrame(rows)
    return normalise_incidents(df)


def test_performance_steps_targets_and_overdue():
    t0 = pd.Timestamp("2026-07-01 08:00", tz="Asia/Jakarta")
    m = pd.Timedelta(minutes=1)
    df = _inc([
        # ODGJ (target 30 min, priority 2 → 30): on scene after 25 min — within target
        dict(ticket="A", category="odgj", lon=103.6, lat=-1.6, priority=2, status="selesai",
             reported_at=t0, verified_at=t0 + 5 * m, dispatched_at=t0 + 10 * m,
             en_route_at=t0 + 12 * m, on_scene_at=t0 + 25 * m, handled_at=t0 + 60 * m,
             resolved_at=t0 + 120 * m, lead_team="T1", lead_role="satpol_pp",
             kelurahan_code="15.71.11.1001"),
        # keributan (target 15): on scene after 40 min — late
        dict(ticket="B", category="keributan", lon=103.6, lat=-1.6, priority=1,
             status="selesai", reported_at=t0, verified_at=t0 + 10 * m,
             dispatched_at=t0 + 20 * m, en_route_at=t0 + 25 * m, on_scene_at=t0 + 40 * m,
             handled_at=t0 + 70 * m, resolved_at=t0 + 100 * m, lead_team="T2",
             lead_role="bhabinkamtibmas", kelurahan_code="15.71.11.1001"),
        # pkl (target 120), still waiting 5 h later — overdue, open
        dict(ticket="C", category="pkl", lon=103.6, lat=-1.6, priority=4,
             status="ditugaskan", reported_at=t0, verified_at=t0 + 5 * m,
             dispatched_at=t0 + 9 * m, lead_team="T1", lead_role="satpol_pp",
             kelurahan_code="15.71.11.1002"),
    ])
    ann = annotate(df, load_categories(), as_of=t0 + 300 * m)
    assert ann["min_respons"].tolist()[:2] == [25.0, 40.0]
    assert ann["within_target"].tolist()[:2] == [True, False]
    assert ann["overdue"].tolist() == [False, True, True]
    s = summarise(ann, "lead_team")
    assert s.loc["T1", "n"] == 2 and s.loc["T1", "overdue"] == 1
    assert s.loc["T1", "verifikasi_median"] == 5.0
    assert s.loc["T1", "share_within_target"] == 1.0
    assert s.loc["T2", "respons_p90"] == 40.0
    assert overdue_cases(ann)["ticket"].tolist() == ["C", "B"]


def _plain_summary(ann, by):
    """The group-by-group reference (the implementation summarise replaced)."""
    from geo_sigap.analytics.performance import SOP_STEPS

    rows = {}
    for key, g in ann.groupby(by, dropna=False, sort=True):
        row = {"n": len(g)}
        for step, *_ in SOP_STEPS:
            v = g[f"min_{step}"].dropna()
            row[f"{step}_median"] = float(v.median()) if len(v) else np.nan
            row[f"{step}_p90"] = float(v.quantile(0.9)) if len(v) else np.nan
        wt = g["within_target"].dropna()
        row["share_within_target"] = float(wt.astype(bool).mean()) if len(wt) else np.nan
        row["overdue"] = int(g["overdue"].sum())
        rows[key[0] if isinstance(key, tuple) else key] = row
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.mark.parametrize("seed", range(3))
def test_summarise_equals_the_group_by_group_reference(seed):
    from geo_sigap.analytics.performance import SOP_STEPS

    rng = np.random.default_rng(seed)
    n = 400
    t0 = pd.Timestamp("2026-07-01T08:00:00+07:00")
    df = pd.DataFrame({"ticket": [f"T{i}" for i in range(n)],
                       "category": rng.choice(["pkl", "pekat", "odgj"], n),
                       "priority": rng.integers(1, 5, n), "status": "selesai",
                       "lon": 103.6, "lat": -1.6,
                       "lead_team": rng.choice(["A", "B", "C", None], n)})
    df["reported_at"] = t0 + pd.to_timedelta(rng.integers(0, 90 * 1440, n), "min")
    prev = df["reported_at"]
    for _, _, a, b in SOP_STEPS[:6]:
        gap = pd.to_timedelta(rng.integers(1, 60, n), "min")
        df[b] = (prev + gap).where(rng.random(n) > 0.15)  # some steps missing
        prev = df[b].fillna(prev)
    df.loc[df["lead_team"] == "C", "on_scene_at"] = pd.NaT  # a team never on scene
    ann = annotate(df, load_categories())
    got = summarise(ann, "lead_team")
    want = _plain_summary(ann, "lead_team")
    assert list(got.index) == list(want.index) and list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_dtype=False, rtol=1e-12)
    assert np.isnan(got.loc["C", "respons_median"])  # no minutes: NaN, not 0


def test_day_hour_and_quarter_comparison():
    ts = ["2026-07-06T21:30:00+07:00", "2026-07-06T21:10:00+07:00",  # Monday 21 WIB
          "2026-04-02T14:00:00Z", "2026-08-01T01:00:00+07:00"]
    df = _inc({"category": ["pekat", "pekat", "pkl", "pkl"], "lon": [103.6] * 4,
               "lat": [-1.6] * 4, "reported_at": ts})
    m = day_hour_matrix(df)
    assert m.loc["Senin", 21] == 2 and m.loc["Kamis", 21] == 1  # 14:00 UTC = 21:00 WIB
    assert m.values.sum() == 4
    q = quarter_comparison(df, "2026Q3")
    assert q.loc["pekat", "curr"] == 2 and q.loc["pekat", "prev"] == 0
    assert q.loc["pkl", "curr"] == 1 and q.loc["pkl", "prev"] == 1
    night = filter_incidents(df, hours=(21, 2))
    assert len(night) == 4
    assert Quarter.parse("2026Q1").previous() == Quarter(2025, 4)
    assert str(Quarter.parse("2026q4").next()) == "2027Q1"


def test_empirical_bayes_shrinks_small_units():
    events = np.array([2, 50, 40, 45])
    pop = np.array([50, 10000, 9000, 9500])
    raw = events / pop
    eb = empirical_bayes(events, pop)
    overall = events.sum() / pop.sum()
    assert abs(eb[0] - overall) < abs(raw[0] - overall) / 2
    assert np.allclose(eb[1:], raw[1:], rtol=0.2)


def test_choropleth_columns(units, incidents):
    ch = choropleth(incidents, units, "kelurahan")
    assert len(ch) == 6 and ch["count"].sum() == incidents["kelurahan_code"].notna().sum()
    assert (ch["count_class"] >= 0).all() and ch["rate_eb_1000"].notna().all()


def test_hex_grid_binning_and_adjacency(units):
    from geo_sigap.analytics.weights import hex_grid

    grid = hex_grid(units.loc[units["level"] == "kelurahan"], 250)
    cx, cy = grid.centres()
    # every centre falls in its own cell; a point 100 m away stays in it; NaN goes nowhere
    assert (grid.cell_index(cx, cy) == np.arange(len(cx))).all()
    assert (grid.cell_index(cx + 100, cy) == np.arange(len(cx))).all()
    assert grid.cell_index(np.array([np.nan]), np.array([0.0]))[0] == -1
    a = grid.adjacency()
    deg = np.asarray(a.sum(axis=1)).ravel()
    assert deg.max() == 6 and (a != a.T).nnz == 0
    i, j = a.nonzero()
    assert np.allclose(np.hypot(cx[i] - cx[j], cy[i] - cy[j]), 250)
