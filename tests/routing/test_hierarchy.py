"""The contraction hierarchy against plain references.

- the kernels alone on random directed graphs (parallel arcs, one-way arcs, separate
  components, equal times) against scipy's Dijkstra, with the early stop;
- the engine on the hierarchy against the early-stop search (times, statuses,
  routes), the hierarchy saved and read back, and the plain search answering until a
  hierarchy is ready.
"""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_sigap.routing import _ch
from geo_sigap.routing.engine import ROAD, RoutingEngine
from geo_sigap.routing.hierarchy import Hierarchy

from .test_fast_paths import _grid


def _random_graph(rng, n: int):
    """Random arcs between nearby nodes (a ring of clusters, some one-way, a few
    parallel arcs, integer times so that equal times happen) plus a separate part."""
    src, dst = [], []
    for _ in range(3 * n):
        a = int(rng.integers(n - 10))
        b = int(min(n - 11, max(0, a + rng.integers(-6, 7))))
        if a == b:
            continue
        src.append(a)
        dst.append(b)
        if rng.random() < 0.7:  # two-way
            src.append(b)
            dst.append(a)
        if rng.random() < 0.05:  # a parallel arc
            src.append(a)
            dst.append(b)
    for a in range(n - 10, n - 1):  # the last 10 nodes: their own one-way chain
        src.append(a)
        dst.append(a + 1)
    wt = rng.integers(1, 6, len(src)).astype(float)
    return np.array(src), np.array(dst), wt


def _scipy_to(src, dst, wt, n, targets):
    """Seconds from every node to each target (rows), cheapest parallel arc."""
    order = np.lexsort((wt, dst, src))
    keep = np.ones(len(order), bool)
    keep[1:] = (src[order][1:] != src[order][:-1]) | (dst[order][1:] != dst[order][:-1])
    o = order[keep]
    m = csr_matrix((wt[o], (dst[o], src[o])), shape=(n, n))  # reversed
    return np.atleast_2d(dijkstra(m, indices=targets))


@pytest.mark.parametrize("seed", range(6))
def test_hierarchy_kernels_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 200))
    src, dst, wt = _random_graph(rng, n)
    ln = wt * 10.0
    ch = Hierarchy(_ch.build(n, src, dst, wt, ln, np.arange(len(src)),
                             settle_max=int(rng.choice([1, 5, 60]))))
    n_teams = int(rng.integers(1, 40))
    ent_team = np.concatenate([np.arange(n_teams), rng.integers(0, n_teams, 5)])
    ent_node = rng.integers(0, n, len(ent_team))
    ent_off = rng.integers(0, 3, len(ent_team)).astype(float)
    b = ch.buckets(ent_team, ent_node, ent_off, ent_off * 10.0, n_teams)
    for _ in range(10):
        seeds = rng.integers(0, n, int(rng.integers(1, 3)))
        seed_t = rng.integers(0, 3, len(seeds)).astype(float)
        full = _scipy_to(src, dst, wt, n, seeds)
        node_t = np.min(full + seed_t[:, None], axis=0)
        want = np.full(n_teams, np.inf)
        np.minimum.at(want, ent_team, node_t[ent_node] + ent_off)
        groups = rng.integers(0, 3, n_teams)
        required = rng.random(n_teams) < 0.1
        inf = np.full(n_teams, np.inf)
        # every team (no early stop): exact times, inf where there is no path
        best, best_len, _, final, stop, *_ = ch.query(
            b, seeds, seed_t, seed_t * 10.0, inf, inf, groups, np.zeros(n_teams, bool),
            np.full(3, n_teams), np.inf)  # never met: no early stop
        assert not np.isfinite(stop)
        np.testing.assert_allclose(best, want)
        np.testing.assert_allclose(best_len[np.isfinite(want)], 10 * want[np.isfinite(want)])
        assert np.array_equal(final, np.isfinite(want))
        # k nearest per group and the required teams, maybe a time limit
        k = int(rng.integers(1, 3))
        limit = float(rng.choice([np.inf, 4.0]))
        best, _, _, final, stop, *_ = ch.query(
            b, seeds, seed_t, seed_t * 10.0, inf, inf, groups, required,
            np.full(3, k), limit)
        np.testing.assert_allclose(best[final], want[final])
        assert np.all(final[required & np.isfinite(want)])
        assert np.all(want[~final] >= stop)  # a team left out is not faster
        for g in range(3):
            mine = np.sort(best[final & (groups == g)])[:k]
            theirs = np.sort(want[(groups == g) & np.isfinite(want)])[:k]
            if np.isfinite(limit):
                theirs = theirs[theirs <= limit]
                mine = mine[:len(theirs)]
            np.testing.assert_allclose(mine, theirs)


@pytest.fixture(scope="module")
def grid(config):
    return _grid(config, 20, 11)


def test_engine_on_hierarchy_equals_plain_search(grid, config):
    g = grid
    plain = RoutingEngine(g, config, guide_max_teams=0, hierarchy_min_nodes=10**9)
    ch = RoutingEngine(g, config, hierarchy_min_nodes=0, buckets_in_background=False)
    ch.prepare()
    rng = np.random.default_rng(3)
    for profile in ("motor", "mobil"):
        assert ch.network(profile).ready_hierarchy is not None
        for _ in range(15):
            n = int(rng.integers(1, 50))
            nodes = rng.choice(g.n_nodes, n)
            pts = np.column_stack([g.node_lon[nodes], g.node_lat[nodes]])
            pts += rng.normal(0, 1e-4, pts.shape)
            pts[::4] = pts[0]  # teams at one place: equal times
            node = int(rng.integers(g.n_nodes))
            inc = (g.node_lon[node] + 1e-4, g.node_lat[node])
            a = plain.eta_from_teams(inc, pts, profile)
            b = ch.eta_from_teams(inc, pts, profile)
            assert (a.method, b.method) == ("plain", "hierarchy")
            assert np.array_equal(a.status, b.status)
            np.testing.assert_allclose(b.eta_s, a.eta_s, rtol=1e-9)
            np.testing.assert_allclose(b.distance_m, a.distance_m, rtol=1e-9)
            for i in np.flatnonzero(a.status == ROAD)[:4]:
                ra, rb = a.route(int(i)), b.route(int(i))
                assert rb.distance_m == pytest.approx(ra.distance_m, rel=1e-9)
                # the same roads (a route of equal time may differ only on ties)
                assert rb.geometry.length == pytest.approx(ra.geometry.length, rel=1e-6)


def test_hierarchy_saved_and_read_back(grid, config, tmp_path):
    opts = dict(cache_dir=tmp_path, hierarchy_min_nodes=0, buckets_in_background=False)
    first = RoutingEngine(grid, config, **opts)
    assert first.network("motor").ready_hierarchy is None  # nothing on disk yet
    first.prepare()
    built = first.network("motor").ready_hierarchy
    again = RoutingEngine(grid, config, **opts)
    read = again.network("motor").ready_hierarchy  # read when the engine is made
    assert read is not None
    for name in _ch.CH_ARRAYS:
        assert np.array_equal(getattr(read, name), getattr(built, name))
    inc = (float(grid.node_lon[7]), float(grid.node_lat[7]))
    pts = np.column_stack([grid.node_lon[::9], grid.node_lat[::9]])
    a = first.eta_from_teams(inc, pts, "motor", k=2)
    b = again.eta_from_teams(inc, pts, "motor", k=2)
    np.testing.assert_array_equal(a.eta_s, b.eta_s)


def test_plain_search_answers_until_the_hierarchy_is_ready(grid, config, tmp_path):
    e = RoutingEngine(grid, config, cache_dir=tmp_path, hierarchy_min_nodes=0,
                      guide_min_nodes=0, buckets_in_background=False)
    inc = (float(grid.node_lon[30]), float(grid.node_lat[30]))
    pts = np.column_stack([grid.node_lon[::7], grid.node_lat[::7]])
    before = e.eta_from_teams(inc, pts, "mobil", k=3)
    assert e.network("mobil").ready_hierarchy is None and before.method == "guided"
    e.warm_up(wait=True)  # built in the background thread, waited for here
    assert e.network("mobil").ready_hierarchy is not None
    after = e.eta_from_teams(inc, pts, "mobil", k=3)
    assert after.method == "hierarchy"
    road = (before.status == ROAD) & (after.status == ROAD)
    assert road.sum() >= 3
    np.testing.assert_allclose(after.eta_s[road], before.eta_s[road], rtol=1e-9)


def test_buckets_made_in_the_background_then_per_moved_team(grid, config):
    e = RoutingEngine(grid, config, hierarchy_min_nodes=0, guide_max_teams=0)  # defaults
    e.prepare()
    pts = np.column_stack([grid.node_lon[::5], grid.node_lat[::5]])
    incs = [(float(grid.node_lon[i]), float(grid.node_lat[i])) for i in (3, 90, 200)]
    assert e.eta_from_teams(incs[0], pts, "motor", k=2).method == "plain"  # not waited
    e.wait_buckets()
    got = [e.eta_from_teams(inc, pts, "motor", k=2) for inc in incs]
    assert [r.method for r in got] == ["hierarchy"] * 3
    # later sets of positions: only the teams that moved are searched again
    plain = RoutingEngine(grid, config, hierarchy_min_nodes=10**9, guide_max_teams=0)
    rng = np.random.default_rng(8)
    for step in range(6):
        moved = pts.copy()
        which = rng.choice(len(pts), int(rng.integers(1, 4)), replace=False)
        moved[which] += rng.normal(0, 3e-4, (len(which), 2))
        if step == 3:
            moved = pts[::-1].copy()  # the same positions in another order: none moved
        inc = incs[step % 3]
        assert e.eta_from_teams(inc, moved, "motor").method == "plain"
        e.wait_buckets()
        got = e.eta_from_teams(inc, moved, "motor")
        assert got.method == "hierarchy"
        kept = e._last_buckets["motor"][1]
        assert kept.searched <= (len(which) if step != 3 else 0)
        want = plain.eta_from_teams(inc, moved, "motor")
        assert np.array_equal(got.status, want.status)
        np.testing.assert_allclose(got.eta_s, want.eta_s, rtol=1e-9)
        np.testing.assert_allclose(got.distance_m, want.distance_m, rtol=1e-9)
        for i in np.flatnonzero(got.status == ROAD)[:3]:
            assert got.route(int(i)).geometry.length == pytest.approx(
                want.route(int(i)).geometry.length, rel=1e-6)
        pts = moved


def test_small_graphs_keep_the_plain_search(tiny_engine):
    assert not tiny_engine.use_hierarchy
    assert all(n.ready_hierarchy is None for n in tiny_engine.networks.values())


def test_team_sets_asked_in_turn_keep_their_entries_and_buckets(grid, config, monkeypatch):
    # a service asks for one set of teams per set of roles (a category's lead and support
    # roles), in turn: each set's snaps, entries and buckets are made once, not again
    # every time another set was asked in between
    from geo_sigap.routing.snap import RECENT_BATCHES

    e = RoutingEngine(grid, config, hierarchy_min_nodes=0, guide_max_teams=0)  # defaults
    e.prepare()
    sets = []
    for s in range(4):
        p = np.column_stack([grid.node_lon[s::4], grid.node_lat[s::4]])
        p.setflags(write=False)  # as the team table hands them out
        sets.append(p)
    assert len(sets) <= RECENT_BATCHES
    incs = [(float(grid.node_lon[i]), float(grid.node_lat[i])) for i in (3, 90, 200)]
    plain = RoutingEngine(grid, config, hierarchy_min_nodes=10**9, guide_max_teams=0)
    for p in sets:
        e.eta_from_teams(incs[0], p, "motor", k=2)
        e.wait_buckets()
    made, attached = [], []
    monkeypatch.setattr(e, "_make_buckets", lambda *a: made.append(a))
    net = e.network("motor")
    real_attach = net.attach
    monkeypatch.setattr(net, "attach", lambda *a, **kw: attached.append(1) or real_attach(*a, **kw))
    misses = e.snap_caches["motor"].misses
    for inc in incs:
        for p in sets:
            got = e.eta_from_teams(inc, p, "motor")
            assert got.method == "hierarchy"
            want = plain.eta_from_teams(inc, p, "motor")
            assert np.array_equal(got.status, want.status)
            np.testing.assert_allclose(got.eta_s, want.eta_s, rtol=1e-9)
    assert made == [] and attached == []
    assert e.snap_caches["motor"].misses == misses
    # an equal copy of a set (not the same array) is known from its bytes
    got = e.eta_from_teams(incs[1], np.array(sets[2]), "motor", k=2)
    assert got.method == "hierarchy" and made == [] and attached == []


def test_a_town_size_graph_answers_in_one_call_by_default(grid, config):
    """From CH_MIN_NODES up (a town's main roads: Kota Jambi's 468 nodes, the demo's
    1,461) the engine builds a hierarchy and, with the buckets ready, answers in the one
    compiled call — the same answers as the plain search; a toy graph below keeps the
    plain path. (A threshold of 5,000 left every small town on the step-by-step path,
    about 3× a suggestion's CPU.)"""
    from geo_sigap.routing.hierarchy import CH_MIN_NODES

    assert CH_MIN_NODES <= min(468, grid.n_nodes)
    e = RoutingEngine(grid, config, buckets_in_background=False)  # the defaults
    plain = RoutingEngine(grid, config, hierarchy_min_nodes=10**9, guide_max_teams=0)
    assert e.use_hierarchy and not plain.use_hierarchy
    e.prepare()
    rng = np.random.default_rng(21)
    pts = np.column_stack([grid.node_lon[::7], grid.node_lat[::7]])
    groups = rng.integers(0, 3, len(pts))
    for i in rng.choice(grid.n_nodes, 12, replace=False).tolist():
        inc = (float(grid.node_lon[i]) + 1e-4, float(grid.node_lat[i]))
        for profile in ("motor", "mobil"):
            got = e.eta_from_teams(inc, pts, profile, groups=groups)
            want = plain.eta_from_teams(inc, pts, profile, groups=groups)
            assert got.method == "hierarchy"
            assert np.array_equal(got.status, want.status)
            assert (want.status == ROAD).sum() > len(pts) // 2
            np.testing.assert_allclose(got.eta_s, want.eta_s, rtol=1e-9)
            np.testing.assert_allclose(got.distance_m, want.distance_m, rtol=1e-9)
    toy = _grid(config, 12, 3)  # 153 nodes
    assert toy.n_nodes < CH_MIN_NODES
    assert not RoutingEngine(toy, config).use_hierarchy


def test_a_first_start_compiles_the_hierarchy_kernels_in_the_background(grid, config,
                                                                       tmp_path,
                                                                       monkeypatch):
    """No hierarchy saved: ``warm_up`` does not compile the hierarchy kernels itself
    (tens of seconds on an empty numba cache: the demo's first start waited for them);
    the background thread does, before any hierarchy is published (no query compiles
    one). With the hierarchies saved, a start loads the kernels before returning."""
    import threading

    from geo_sigap.routing import engine as engine_mod
    from geo_sigap.routing.network import ProfileNetwork

    calls = []
    real_kernels, real_hierarchy = engine_mod.warm_up_kernels, ProfileNetwork.hierarchy
    monkeypatch.setattr(engine_mod, "warm_up_kernels", lambda: calls.append(
        ("kernels", threading.current_thread().name)) or real_kernels())
    monkeypatch.setattr(ProfileNetwork, "hierarchy", lambda self, **kw: (  # builds only
        kw.get("build", True) and calls.append(("hierarchy", threading.current_thread().name)))
        or real_hierarchy(self, **kw))
    opts = dict(cache_dir=tmp_path, buckets_in_background=False)
    first = RoutingEngine(grid, config, **opts)
    first.warm_up(wait=True)
    assert calls[0] == ("kernels", "geo-sigap-hierarchy")
    assert [c for c in calls if c[0] == "kernels"] == [calls[0]]
    assert {c for c in calls[1:]} == {("hierarchy", "geo-sigap-hierarchy")}
    calls.clear()
    again = RoutingEngine(grid, config, **opts)  # the hierarchies read from tmp_path
    again.warm_up()
    assert calls == [("kernels", threading.current_thread().name)]
