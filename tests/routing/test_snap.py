"""Snapping finds the truly nearest usable road (checked against shapely, brute force)."""

import numpy as np
import pytest
import shapely

from geo_sigap.routing.engine import RoutingEngine
from geo_sigap.routing.graph import from_edges
from geo_sigap.routing.snap import LocalProjection, SnapCache, SnapIndex


def test_nearest_edge_matches_brute_force(config):
    rng = np.random.default_rng(5)
    n = 60
    lon = 103.60 + rng.uniform(0, 0.02, n)
    lat = -1.63 + rng.uniform(0, 0.02, n)
    edges = []
    for _ in range(90):
        a, b = rng.choice(n, 2, replace=False)
        mid = ((lon[a] + lon[b]) / 2 + rng.normal(0, 0.001), (lat[a] + lat[b]) / 2)
        tags = {"highway": "residential"} if rng.random() < 0.7 else \
            {"highway": "path", "motorcar": "no"}
        edges.append((a, b, tags, [(lon[a], lat[a]), mid, (lon[b], lat[b])]))
    g = from_edges(lon, lat, edges, config)
    proj = LocalProjection(103.61, -1.62)
    for profile in ("motor", "mobil"):
        index = SnapIndex(g, profile, proj)
        p = g.profile_index(profile)
        usable = np.flatnonzero(np.isfinite(g.edge_time[p]))
        lines = []
        for e in usable:
            x, y = proj.forward(g.geom_lon[g.geom_ptr[e]:g.geom_ptr[e + 1]],
                                g.geom_lat[g.geom_ptr[e]:g.geom_ptr[e + 1]])
            lines.append(shapely.linestrings(np.column_stack([x, y])))
        qlon = 103.60 + rng.uniform(-0.005, 0.025, 300)
        qlat = -1.63 + rng.uniform(-0.005, 0.025, 300)
        snaps = index.snap(qlon, qlat)
        qx, qy = proj.forward(qlon, qlat)
        pts = shapely.points(qx, qy)
        brute = np.min(shapely.distance(pts[:, None], np.array(lines)[None, :]), axis=1)
        np.testing.assert_allclose(snaps.access_m, brute, atol=1e-6)
        assert np.all(np.isfinite(g.edge_time[p, snaps.edge]))  # only usable roads
        # the snapped point lies on the snapped edge at the reported fraction
        sx, sy = proj.forward(snaps.lon, snaps.lat)
        np.testing.assert_allclose(np.hypot(sx - qx, sy - qy), snaps.access_m, atol=1e-6)
        assert np.all((snaps.frac >= 0) & (snaps.frac <= 1))


def _random_network(config, seed=5, n=60):
    rng = np.random.default_rng(seed)
    lon = 103.60 + rng.uniform(0, 0.02, n)
    lat = -1.63 + rng.uniform(0, 0.02, n)
    edges = [(a, b, {"highway": "residential"}, None)
             for a, b in (rng.choice(n, 2, replace=False) for _ in range(90))]
    return from_edges(lon, lat, edges, config), rng


def _assert_same_snaps(a, b):
    for name in ("edge", "frac", "access_m", "lon", "lat"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype
        assert x.tobytes() == y.tobytes(), name  # bit-identical, not just close


def test_snap_cache_is_bit_identical_and_bounded(config):
    g, rng = _random_network(config)
    index = SnapIndex(g, "motor", LocalProjection(103.61, -1.62))
    cache = SnapCache(index, capacity=50)
    pts = rng.uniform([103.60, -1.63], [103.62, -1.61], (40, 2))
    first = cache.snap(pts[:, 0], pts[:, 1])
    _assert_same_snaps(first, index.snap(pts[:, 0], pts[:, 1]))
    assert (cache.hits, cache.misses, len(cache)) == (0, 40, 40)
    # the same batch again: answered whole
    again = cache.snap(pts[:, 0], pts[:, 1])
    _assert_same_snaps(again, first)
    assert cache.hits == 40
    # a reordered subset mixed with new points (and a duplicate): per point
    new = rng.uniform([103.60, -1.63], [103.62, -1.61], (15, 2))
    mixed = np.vstack([pts[::-3], new, new[:1]])
    got = cache.snap(mixed[:, 0], mixed[:, 1])
    _assert_same_snaps(got, index.snap(mixed[:, 0], mixed[:, 1]))
    assert cache.hits == 40 + len(pts[::-3])
    assert len(cache) == 50  # capacity kept: the least recently used were dropped
    with pytest.raises(ValueError):
        got.frac[0] = 0.0  # shared answers are read-only
    # evicted points snap afresh and still identical
    again = cache.snap(pts[:, 0], pts[:, 1])
    _assert_same_snaps(again, index.snap(pts[:, 0], pts[:, 1]))
    assert len(cache) == 50


def test_snap_cache_off_and_oversized_batches(config):
    g, rng = _random_network(config, seed=9)
    index = SnapIndex(g, "motor", LocalProjection(103.61, -1.62))
    pts = rng.uniform([103.60, -1.63], [103.62, -1.61], (30, 2))
    for capacity in (0, 10):  # off, and a batch larger than the cache
        cache = SnapCache(index, capacity=capacity)
        _assert_same_snaps(cache.snap(pts[:, 0], pts[:, 1]), index.snap(pts[:, 0], pts[:, 1]))
        assert len(cache) == 0 and cache.misses == 30


def test_engine_reuses_team_snaps(tiny_engine):
    from .conftest import NODES

    teams = [NODES["D"], NODES["E"], NODES["G"]]
    fresh = RoutingEngine(tiny_engine.graph, tiny_engine.config, snap_cache_size=0)
    for _ in range(2):
        a = tiny_engine.eta_from_teams(NODES["B"], teams, "motor")
        b = fresh.eta_from_teams(NODES["B"], teams, "motor")
        assert a.eta_s.tobytes() == b.eta_s.tobytes()
        assert list(a.status) == list(b.status)
    assert tiny_engine.snap_caches["motor"].hits >= 3
    assert len(fresh.snap_caches["motor"]) == 0


def test_grid_snap_equals_the_kd_tree_alone_and_in_a_batch(config):
    """Snapping goes by the grid of pieces, one point (an incident) or many (the teams):
    bit for bit the KD-tree's answer, and a point's snap is the same alone as in a batch;
    points with a non-finite coordinate take the tree's path."""
    from .test_fast_paths import _grid

    g = _grid(config, 16, 3)
    engine = RoutingEngine(g, config)
    rng = np.random.default_rng(8)
    lon = rng.uniform(g.node_lon.min() - 0.002, g.node_lon.max() + 0.002, 300)
    lat = rng.uniform(g.node_lat.min() - 0.002, g.node_lat.max() + 0.002, 300)
    lon[:40] = g.node_lon[:40]  # on nodes: equally near pieces
    lat[:40] = g.node_lat[:40]
    for p in g.profiles:
        index = engine.network(p).snapper
        batch = index.snap(lon, lat)
        ref = index.snap_reference(lon, lat)
        for field in ("edge", "frac", "access_m", "lon", "lat"):
            assert np.array_equal(getattr(batch, field), getattr(ref, field)), (p, field)
        # a non-finite coordinate snaps nowhere, and leaves the others' snaps alone
        for snap in (index.snap, index.snap_reference):
            odd = snap(np.r_[lon[:3], np.nan, lon[4], np.inf], np.r_[lat[:5], lat[5]])
            assert np.array_equal(odd.edge[[0, 1, 2, 4]], batch.edge[[0, 1, 2, 4]])
            assert np.array_equal(odd.access_m[[0, 1, 2, 4]], batch.access_m[[0, 1, 2, 4]])
            assert list(odd.edge[[3, 5]]) == [-1, -1] and np.isinf(odd.access_m[[3, 5]]).all()
        for i in range(len(lon)):
            one = index.snap(lon[i], lat[i])
            for field in ("edge", "frac", "access_m", "lon", "lat"):
                assert getattr(one, field)[0] == getattr(batch, field)[i], (p, i, field)
