"""Post placement (maximal coverage on road travel times): a hand-made case, every gain
recomputed independently by brute force, and the matrix from the routing engine."""

import itertools
from pathlib import Path

import numpy as np

from geo_sigap.analytics.placement import (best_moves, coverage, greedy_max_coverage,
                                           greedy_set_cover, travel_minutes)

INF = np.inf


def _covered_brute(T, sites, target, w):
    """Independent: per point, the fastest of the sites, one point at a time."""
    total = 0.0
    for i in range(T.shape[1]):
        best = min((T[s][i] for s in sites), default=INF)
        if best <= target:
            total += w[i]
    return total


def test_hand_made_case():
    # 3 sites × 6 RTs (minutes); the current post is site 0; target 15 minutes
    T = np.array([[5, 10, 20, 30, 40, INF],
                  [30, 14, 12, 15, 16, 50],
                  [9, 40, 40, 40, 14, 13]])
    assert coverage(T, [0], 15) == 2  # RT 0 and 1
    assert coverage(T, [1], 15) == 3  # RT 1, 2, 3
    assert coverage(T, [0, 2], 15) == 4  # + RT 4, 5
    moves = best_moves(T, [0], 15)
    # moving the post from site 0 to site 1 or 2 covers 3 RTs: the first found (site 1)
    assert [(m.post, m.to, m.before, m.after, m.gain) for m in moves] == [(0, 1, 2, 3, 1)]
    assert moves[0].newly_covered == (2, 3) and moves[0].lost == (0,)
    # weighted by incidents per RT: site 2 (RT 0, 4, 5) wins
    w = [4, 1, 1, 1, 3, 3]
    m = best_moves(T, [0], 15, weights=w)[0]
    assert (m.to, m.before, m.after) == (2, 5, 10)
    assert greedy_max_coverage(T, 2, 15) == [1, 2]  # 3 RTs, then RT 0, 4, 5: all 6
    assert greedy_set_cover(T, 15) == [1, 2]


def test_gains_recomputed_independently_and_best_move_is_optimal():
    rng = np.random.default_rng(5)
    T = rng.uniform(2, 40, (12, 60))
    T[rng.random(T.shape) < 0.05] = INF
    w = rng.integers(1, 6, 60).astype(float)
    current = [0, 3, 7]
    target = 15
    moves = best_moves(T, current, target, weights=w)
    assert moves
    for m in moves:
        after_sites = [s for s in current if s != m.post] + [m.to]
        assert m.before == _covered_brute(T, current, target, w)
        assert m.after == _covered_brute(T, after_sites, target, w)
        # no other destination for this post does better
        for y in set(range(12)) - set(current):
            other = [s for s in current if s != m.post] + [y]
            assert _covered_brute(T, other, target, w) <= m.after
    assert [m.gain for m in moves] == sorted((m.gain for m in moves), reverse=True)
    # greedy maximal coverage: within 1 − 1/e of the brute-force optimum
    p = 3
    g = greedy_max_coverage(T, p, target, weights=w)
    best = max(_covered_brute(T, s, target, w) for s in itertools.combinations(range(12), p))
    got = _covered_brute(T, g, target, w)
    assert got == coverage(T, g, target, w) and got >= (1 - 1 / np.e) * best
    # set cover reaches every point some site can reach
    sc = greedy_set_cover(T, target)
    reachable = (T <= target).any(axis=0)
    assert _covered_brute(T, sc, target, np.ones(60)) == reachable.sum()


def test_travel_minutes_are_the_routing_engines():
    from geo_sigap.routing.coverage import coverage as road_coverage
    from geo_sigap.routing.engine import RoutingEngine
    from geo_sigap.routing.graph import build_graph
    from geo_sigap.routing.profiles import load_routing_config
    from geo_sigap.domain.teams import Role, Team

    data = Path(__file__).resolve().parents[1] / "data" / "routing" / "tiny.osm"
    config = load_routing_config()
    engine = RoutingEngine(build_graph(data, config), config)
    sites = [(103.6000, -1.6200), (103.6018, -1.6191)]
    points = [(103.6009, -1.6200), (103.6018, -1.6200), (103.6000, -1.6191)]
    T = travel_minutes(engine, sites, points, "motor")
    assert T.shape == (2, 3) and np.isfinite(T).all()
    import geopandas as gpd
    from shapely.geometry import Point

    units = gpd.GeoDataFrame({"code": ["a", "b", "c"]},
                             geometry=[Point(p).buffer(1e-6) for p in points], crs=4326)
    for i, (lon, lat) in enumerate(sites):
        team = Team(code=f"P{i}", name=f"Pos {i}", role=Role.LINMAS, post=(lon, lat),
                    vehicle="motor")
        cov = road_coverage(engine, units, [team], roles=[Role.LINMAS])
        np.testing.assert_allclose(T[i], cov["linmas_eta_min"].to_numpy(), atol=0.01)


def test_the_pack_recommends_the_move_its_table_shows(units, incidents, tmp_path):
    import json

    import pandas as pd

    from geo_sigap.analytics import _synthetic as S
    from geo_sigap.analytics.report import build_report
    from geo_sigap.domain.categories import load_categories
    from geo_sigap.domain.teams import Role

    pl = pd.DataFrame([
        {"role": Role.LINMAS, "post_code": "LMS-1", "post_name": "Pos Linmas Eka Jaya",
         "to_code": "15.71.11.1002.RW005", "to_name": "RW 005, Kel. Payo Selincah",
         "before": 150.0, "after": 164.0, "gain": 14.0, "n_rt": 205},
        {"role": Role.SATPOL_PP, "post_code": None, "post_name": None, "to_code": None,
         "to_name": None, "before": 205.0, "after": 205.0, "gain": 0.0, "n_rt": 205}])
    paths = build_report(incidents, units, S.teams_frame(), load_categories(), "2026Q3",
                         out_dir=tmp_path, pdf=False, permutations=999, em_permutations=999,
                         placement=pl)
    data = json.loads(paths.html.with_suffix(".json").read_text("utf-8"))
    table = next(t for t in data["tables"] if t["key"] == "placement")
    assert table["rows"] == [["Linmas", "Pindahkan Pos Linmas Eka Jaya ke RW 005, Kel. Payo "
                              "Selincah", "150 dari 205", "164 dari 205", "+14"]]
    assert "Satpol PP sudah di tempat terbaik" in table["note"]
    rec = [r for r in data["recommendations"] if r.startswith("Memindahkan")]
    assert rec == ["Memindahkan Pos Linmas Eka Jaya ke RW 005, Kel. Payo Selincah menambah "
                   "14 RT yang terjangkau dalam 15 menit (150 → 164 dari 205 RT). "
                   f"(Tabel {table['number']})"]
