"""The one-call hierarchy query (``_fused``) against the step-by-step path it replaces.

- the incident snapped on the grid of snapping pieces against the KD-tree snap, bit for
  bit (near roads, on nodes, far away, outside the network's box);
- the engine answering in one compiled call against the same engine step by step
  (``fused=False``: the KD-tree snap, ``attach``, ``along_same_road``, the hierarchy
  query), bit for bit — times, lengths, statuses, lower bounds, routes — on random
  team sets, groups, required teams, ``k`` and time limits, incidents off the network
  and on the separate island. (Against the plain search: ``test_hierarchy``.)
"""

import numpy as np
import pytest

from geo_sigap.routing import _fused
from geo_sigap.routing.engine import RoutingEngine

from .test_fast_paths import _grid


@pytest.fixture(scope="module")
def graph(config):
    return _grid(config, 18, 4)


@pytest.fixture(scope="module")
def pair(graph, config):
    opts = dict(hierarchy_min_nodes=0, buckets_in_background=False)
    step = RoutingEngine(graph, config, fused=False, **opts)
    fused = RoutingEngine(graph, config, **opts)
    step.prepare()
    fused.prepare()
    return step, fused


@pytest.mark.parametrize("profile", ["motor", "mobil"])
def test_grid_snap_equals_the_kd_tree(graph, pair, profile):
    net = pair[1].network(profile)
    sn = net.snapper
    grid = sn.grid
    proj = pair[1].projection
    rng = np.random.default_rng(11)
    nodes = rng.choice(graph.n_nodes, 300)
    lon = graph.node_lon[nodes] + rng.normal(0, 3e-4, 300)
    lat = graph.node_lat[nodes] + rng.normal(0, 3e-4, 300)
    lon[:40] = graph.node_lon[nodes[:40]]  # on nodes: equally near pieces
    lat[:40] = graph.node_lat[nodes[:40]]
    lon[40:60] += rng.choice([-1, 1], 20) * rng.uniform(0.005, 0.05, 20)  # far, outside
    ref = sn.snap_reference(lon, lat)  # the KD-tree
    got = sn.snap(lon, lat)  # the grid, every point in one call
    for field in ("edge", "frac", "access_m", "lon", "lat"):
        assert np.array_equal(getattr(got, field), getattr(ref, field)), field
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        want = sn.snap_reference(x, y)
        px, py = proj.forward(np.array([x]), np.array([y]))
        p, d, _t = _fused.snap_grid(float(px[0]), float(py[0]), grid.params(),
                                    *grid.arrays[:6])
        assert d == want.access_m[0]
        assert sn._edge[p] == want.edge[0]


def _same(a, b) -> None:
    assert (a.method, a.settled) == (b.method, b.settled)
    assert np.array_equal(a.status, b.status)
    assert np.array_equal(a.status_code, b.status_code)
    assert np.array_equal(a.is_estimate, b.is_estimate)
    np.testing.assert_array_equal(a.eta_s, b.eta_s)
    np.testing.assert_array_equal(a.distance_m, b.distance_m)
    assert a.lower_bound_s == b.lower_bound_s
    assert a.incident_access_m == b.incident_access_m
    for i in range(min(len(a.eta_s), 5)):
        ra, rb = a.route(i), b.route(i)
        assert ra.geometry.equals_exact(rb.geometry, 0.0)
        assert ra.is_estimate == rb.is_estimate
        np.testing.assert_array_equal([ra.eta_s, ra.distance_m], [rb.eta_s, rb.distance_m])


@pytest.mark.parametrize("seed", range(3))
def test_one_call_equals_step_by_step(graph, pair, seed):
    step, fused = pair
    rng = np.random.default_rng(seed)
    g = graph
    for it in range(60):
        profile = ("motor", "mobil")[it % 2]
        n = int(rng.integers(1, 60))
        nodes = rng.choice(g.n_nodes, n)
        pts = np.column_stack([g.node_lon[nodes], g.node_lat[nodes]])
        pts += rng.normal(0, 3e-4, pts.shape)
        pts[::7] = pts[0]  # teams at one place: equal times
        if it % 9 == 0:
            pts[-1] += 0.03  # a team far off the network
        node = int(rng.integers(g.n_nodes))
        inc = (float(g.node_lon[node] + rng.normal(0, 4e-4)),
               float(g.node_lat[node] + rng.normal(0, 4e-4)))
        if it % 13 == 0:
            inc = (inc[0] + 0.05, inc[1])  # the incident off the network
        if it % 11 == 0:
            inc = (float(g.node_lon[-5]), float(g.node_lat[-5]))  # on the island
        kw = dict(groups=rng.integers(0, 3, n), required=rng.random(n) < 0.1,
                  k=[None, 1, 3][it % 3], max_time_s=np.inf if it % 5 else 150.0)
        a = step.eta_from_teams(inc, pts, profile, **kw)
        b = fused.eta_from_teams(inc, pts, profile, **kw)
        assert b.method in ("hierarchy", "")
        _same(a, b)
        if kw["k"] is not None:  # per group the k-th best road time, as suggest reads it
            k, kth = b.kth_by_group
            assert k == kw["k"]
            for r in range(int(kw["groups"].max()) + 1):
                road = np.sort(b.eta_s[(b.status == "road") & (kw["groups"] == r)])
                assert kth[r] == (road[k - 1] if len(road) >= k else np.inf)


def test_arc_rows_kept_beside_the_saved_hierarchy(graph, config, tmp_path):
    opts = dict(cache_dir=tmp_path, hierarchy_min_nodes=0, buckets_in_background=False)
    first = RoutingEngine(graph, config, **opts)
    first.prepare()
    made = first.network("motor").ready_hierarchy.arc_layout()
    assert len(list(tmp_path.glob("motor.*.hierarchy.rows"))) == 1
    read = RoutingEngine(graph, config, **opts).network("motor").ready_hierarchy
    for a, b in zip(made, read.arc_layout(), strict=True):
        np.testing.assert_array_equal(a, b)
    for f in tmp_path.glob("motor.*.hierarchy.rows/*"):
        f.write_bytes(b"not a cache")  # unreadable: made again, never trusted
    again = RoutingEngine(graph, config, **opts)
    for a, b in zip(made, again.network("motor").ready_hierarchy.arc_layout(), strict=True):
        np.testing.assert_array_equal(a, b)
    pts = np.column_stack([graph.node_lon[::9], graph.node_lat[::9]])
    inc = (float(graph.node_lon[40]), float(graph.node_lat[40]))
    _same(first.eta_from_teams(inc, pts, "motor", k=2),
          again.eta_from_teams(inc, pts, "motor", k=2))
