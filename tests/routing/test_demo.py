"""The synthetic Paal Merah demo network (data/demo/roads.osm), when generated."""

import networkx as nx
import numpy as np
import pytest

from geo_sigap.routing.engine import RoutingEngine
from geo_sigap.routing.graph import load_or_build

from .conftest import DEMO, nx_graph

ROADS = DEMO / "roads.osm"


@pytest.fixture(scope="module")
def demo(config, tmp_path_factory):
    if not ROADS.exists():
        pytest.skip(f"demo road network not generated yet: {ROADS} "
                    "(python -m geo_sigap.demo.generate)")
    return RoutingEngine(load_or_build(ROADS, config, tmp_path_factory.mktemp("c")), config)


def test_gangs_are_for_motorcycles_only(demo):
    g = demo.graph
    motor, mobil = (g.edge_time[g.profile_index(p)] for p in ("motor", "mobil"))
    gang = np.char.startswith(g.edge_name.astype(str), "Gang")
    assert gang.any()
    assert np.isfinite(motor[gang]).all()
    assert np.isinf(mobil[gang]).any()


def test_one_way_streets_and_island(demo):
    g = demo.graph
    net = demo.network("motor")
    usable = np.isfinite(net.time)
    assert ((net.twin < 0) & usable).any()  # some one-way edge
    comps, sizes = np.unique(net.component, return_counts=True)
    assert len(comps) >= 2  # the deliberate island
    main, island = comps[np.argmax(sizes)], comps[np.argmin(sizes)]
    a = int(np.flatnonzero(net.component == main)[0])
    b = int(np.flatnonzero(net.component == island)[0])
    res = demo.eta_from_teams((g.node_lon[a], g.node_lat[a]),
                              [(g.node_lon[b], g.node_lat[b])], "motor")
    assert res.status[0] == "unreachable" and res.is_estimate[0]


@pytest.mark.parametrize("profile", ["motor", "mobil"])
def test_identical_to_networkx(demo, profile):
    g = demo.graph
    G = nx_graph(g, profile)
    rng = np.random.default_rng(8)
    nodes = np.array(sorted(G.nodes))
    teams = rng.choice(nodes, min(40, len(nodes)), replace=False)
    pts = np.column_stack([g.node_lon[teams], g.node_lat[teams]])
    for target in rng.choice(nodes, 4, replace=False):
        ref = nx.single_source_dijkstra_path_length(G.reverse(copy=False), int(target))
        res = demo.eta_from_teams((g.node_lon[target], g.node_lat[target]), pts, profile)
        want = np.array([ref.get(int(t), np.inf) for t in teams])
        ok = np.isfinite(want)
        np.testing.assert_allclose(res.eta_s[ok], want[ok], rtol=1e-9, atol=1e-9)
