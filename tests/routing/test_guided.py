"""The goal-directed (landmark) search gives the same answers as the plain search."""

import networkx as nx
import numpy as np
import pytest

from geo_sigap.routing.engine import ROAD, RoutingEngine
from geo_sigap.routing.graph import from_edges

from .conftest import nx_graph


@pytest.fixture(scope="module")
def grid(config):
    """A 40×40 perturbed grid with one-way streets and motorcycle-only paths."""
    rng = np.random.default_rng(21)
    side, deg = 40, 80 / 111_195.0
    jj, ii = np.meshgrid(np.arange(side), np.arange(side))
    lon = 103.6 + jj.ravel() * deg + rng.normal(0, deg * 0.15, side * side)
    lat = -1.62 + ii.ravel() * deg + rng.normal(0, deg * 0.15, side * side)
    edges = []
    for i in range(side):
        for j in range(side):
            a = i * side + j
            for b, ok in ((a + 1, j + 1 < side), (a + side, i + 1 < side)):
                if not ok:
                    continue
                line = i if b == a + 1 else j
                tags = {"highway": "primary" if line % 10 == 0 else "residential"}
                r = rng.random()
                if tags["highway"] == "residential" and r < 0.25:
                    tags = ({"highway": "path", "motorcar": "no"} if r < 0.1
                            else {"highway": "residential", "oneway": "yes"})
                edges.append((a, b, tags, None))
    g = from_edges(lon, lat, edges, config)
    guided = RoutingEngine(g, config, guide_max_teams=10_000, guide_min_nodes=0)
    plain = RoutingEngine(g, config, guide_max_teams=0)
    return g, guided, plain


@pytest.mark.parametrize("profile", ["motor", "mobil"])
def test_k_nearest_per_group_equal_networkx(grid, profile):
    g, guided, _ = grid
    G = nx_graph(g, profile)
    rng = np.random.default_rng(3)
    nodes = np.array(sorted(G.nodes))
    for _ in range(6):
        teams = rng.choice(nodes, 30, replace=False)
        pts = np.column_stack([g.node_lon[teams], g.node_lat[teams]])
        groups = rng.integers(0, 3, len(teams))
        target = int(rng.choice(nodes))
        ref = nx.single_source_dijkstra_path_length(G.reverse(copy=False), target)
        want = np.array([ref.get(int(t), np.inf) for t in teams])
        required = np.zeros(len(teams), bool)
        required[int(rng.integers(len(teams)))] = True
        res = guided.eta_from_teams((g.node_lon[target], g.node_lat[target]), pts, profile,
                                    groups=groups, k=2, required=required)
        road = res.status == ROAD
        # every exact answer is exact, and the required team has one when reachable
        np.testing.assert_allclose(res.eta_s[road], want[road], rtol=1e-9, atol=1e-9)
        assert road[required].all() or not np.isfinite(want[required]).all()
        for grp in range(3):
            mine = np.sort(res.eta_s[road & (groups == grp)])[:2]
            theirs = np.sort(want[groups == grp])[:2]
            theirs = theirs[np.isfinite(theirs)]
            np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9)
        # teams left out are at least as far as the reported bound
        later = res.status == "not_ranked"
        assert np.all(want[later] >= res.lower_bound_s - 1e-9)


def test_same_answers_and_routes_as_plain_search(grid):
    g, guided, plain = grid
    rng = np.random.default_rng(9)
    for _ in range(8):
        teams = rng.choice(g.n_nodes, 12, replace=False)
        pts = np.column_stack([g.node_lon[teams], g.node_lat[teams]]) + \
            rng.normal(0, 0.0001, (12, 2))
        inc = (float(rng.uniform(103.6, 103.625)), float(rng.uniform(-1.62, -1.595)))
        groups = np.arange(12) % 4
        a = guided.eta_from_teams(inc, pts, "motor", groups=groups, k=1)
        b = plain.eta_from_teams(inc, pts, "motor", groups=groups, k=1)
        for grp in range(4):
            ia = np.flatnonzero((a.status == ROAD) & (groups == grp))
            ib = np.flatnonzero((b.status == ROAD) & (groups == grp))
            best_a = ia[np.argmin(a.eta_s[ia])]
            best_b = ib[np.argmin(b.eta_s[ib])]
            assert a.eta_s[best_a] == pytest.approx(b.eta_s[best_b], rel=1e-12)
            ra, rb = a.route(best_a), b.route(best_b)
            assert ra.distance_m == pytest.approx(rb.distance_m, rel=1e-9)
        # a single far team (no k): the goal-directed search gives the exact time
        one = guided.eta_from_teams(inc, pts[:1], "motor")
        ref = plain.eta_from_teams(inc, pts[:1], "motor")
        assert one.eta_s[0] == pytest.approx(ref.eta_s[0], rel=1e-12)


def test_small_graphs_search_plainly_and_compile_no_goal_directed_kernel(grid, config,
                                                                         monkeypatch):
    # below GUIDE_MIN_NODES the plain search is as fast (measured on the demo), and a
    # first start on such a graph (the demo) does not compile the goal-directed kernel
    from geo_sigap.routing import _alt
    from geo_sigap.routing.engine import GUIDE_MIN_NODES

    g = grid[0]
    assert g.n_nodes < GUIDE_MIN_NODES
    e = RoutingEngine(g, config)  # defaults
    assert not e.guided
    monkeypatch.setattr(_alt, "search_alt", lambda *a: pytest.fail("goal-directed search"))
    e.warm_up()
    pts = np.column_stack([g.node_lon[::50], g.node_lat[::50]])
    inc = (float(g.node_lon[7]), float(g.node_lat[7]))
    assert e.eta_from_teams(inc, pts[:5], "motor", k=1).method == "plain"
    monkeypatch.undo()
    big = RoutingEngine(g, config, guide_min_nodes=g.n_nodes)  # at the threshold: guided
    assert big.guided and big.eta_from_teams(inc, pts[:5], "motor", k=1).method == "guided"
