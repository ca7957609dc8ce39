"""Every fast path against a plain reference on random graphs and team sets.

- the search on a reused workspace (``_kernel.search_ws``) against scipy's Dijkstra,
  many queries in a row on one engine (a workspace left dirty would show);
- ``suggest`` (team table, array ranking) against the previous team-by-team
  implementation kept in ``_reference_suggest.py``, on the same engine, with and
  without ``teams_snapshot``; the table's kept positions and responsible teams against
  ``Team.position_at`` / ``Team.covers``.
"""

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.teams import Role, Team, TeamStatus, Vehicle
from geo_sigap.routing.engine import ROAD, RoutingEngine
from geo_sigap.routing._team_table import TeamTables
from geo_sigap.routing.graph import from_edges
from geo_sigap.routing.suggest import suggest

from . import _reference_suggest

NOW = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
ROLES = (Role.BHABINKAMTIBMAS, Role.SATPOL_PP, Role.BABINSA, Role.LINMAS)


def _grid(config, side: int, seed: int):
    """A perturbed grid with one-way streets, motorcycle-only paths, missing block sides
    and a separate island (a small grid far away)."""
    rng = np.random.default_rng(seed)
    deg = 80 / 111_195.0
    jj, ii = np.meshgrid(np.arange(side), np.arange(side))
    lon = list(103.6 + jj.ravel() * deg + rng.normal(0, deg * 0.15, side * side))
    lat = list(-1.62 + ii.ravel() * deg + rng.normal(0, deg * 0.15, side * side))
    edges = []
    for i in range(side):
        for j in range(side):
            a = i * side + j
            for b, ok in ((a + 1, j + 1 < side), (a + side, i + 1 < side)):
                if not ok:
                    continue
                line = i if b == a + 1 else j
                tags = {"highway": "secondary" if line % 6 == 0 else "residential"}
                r = rng.random()
                if tags["highway"] == "residential":
                    if r < 0.05:
                        continue
                    if r < 0.15:
                        tags = {"highway": "path", "motorcycle": "yes", "motorcar": "no"}
                    elif r < 0.3:
                        tags["oneway"] = "yes" if r < 0.22 else "-1"
                edges.append((a, b, tags, None))
    base = len(lon)  # the island: a 3×3 grid 2 km east
    for i in range(3):
        for j in range(3):
            lon.append(103.6 + (side + 25 + j) * deg)
            lat.append(-1.62 + i * deg)
    for i in range(3):
        for j in range(3):
            a = base + i * 3 + j
            if j < 2:
                edges.append((a, a + 1, {"highway": "residential"}, None))
            if i < 2:
                edges.append((a, a + 3, {"highway": "residential"}, None))
    return from_edges(lon, lat, edges, config)


@pytest.fixture(scope="module")
def engines(config):
    g = _grid(config, 24, 5)
    ch = RoutingEngine(g, config, hierarchy_min_nodes=0, buckets_in_background=False)
    ch.prepare()
    return (g, RoutingEngine(g, config, guide_max_teams=0, hierarchy_min_nodes=10**9),
            RoutingEngine(g, config, hierarchy_min_nodes=10**9, guide_min_nodes=0), ch)


def _reference_times(g, profile: str, target: int) -> np.ndarray:
    """Seconds from every node to ``target`` (scipy, cheapest parallel edge)."""
    p = g.profile_index(profile)
    ok = np.flatnonzero(np.isfinite(g.edge_time[p]))
    u, v, w = g.edge_u[ok], g.edge_v[ok], g.edge_time[p, ok]
    order = np.lexsort((w, v, u))
    keep = np.ones(len(order), bool)
    keep[1:] = (u[order][1:] != u[order][:-1]) | (v[order][1:] != v[order][:-1])
    o = order[keep]
    M = csr_matrix((w[o], (v[o], u[o])), shape=(g.n_nodes, g.n_nodes))  # reversed
    return dijkstra(M, indices=target)


@pytest.mark.parametrize("which", ["plain", "hierarchy"])
@pytest.mark.parametrize("profile", ["motor", "mobil"])
def test_workspace_search_equals_scipy(engines, profile, which):
    g, plain, _, ch = engines
    plain = plain if which == "plain" else ch
    assert (plain.network(profile).ready_hierarchy is not None) == (which == "hierarchy")
    rng = np.random.default_rng(17)
    for _ in range(25):  # one engine, many searches: the workspace is reused each time
        n = int(rng.integers(1, 60))
        nodes = rng.choice(g.n_nodes, n)
        pts = np.column_stack([g.node_lon[nodes], g.node_lat[nodes]])
        target = int(rng.integers(g.n_nodes))
        want = _reference_times(g, profile, target)[nodes]
        inc = (g.node_lon[target], g.node_lat[target])
        full = plain.eta_from_teams(inc, pts, profile)
        road = full.status == ROAD
        # a team off this profile's roads is snapped to another node: compare on-node
        on_node = full.access_m < 0.5
        assert np.all(road[on_node] == np.isfinite(want[on_node]))
        np.testing.assert_allclose(full.eta_s[road & on_node], want[road & on_node],
                                   rtol=1e-9, atol=1e-9)
        # k nearest per group and the required teams: exact, and truly the nearest
        groups = rng.integers(0, 3, n)
        required = rng.random(n) < 0.1
        k = int(rng.integers(1, 4))
        part = plain.eta_from_teams(inc, pts, profile, groups=groups, k=k, required=required)
        got = part.status == ROAD
        np.testing.assert_allclose(part.eta_s[got], full.eta_s[got], rtol=1e-12, atol=1e-9)
        assert np.all(got[required & road])
        for gi in range(3):
            mine = np.sort(part.eta_s[got & (groups == gi)])[:k]
            theirs = np.sort(full.eta_s[road & (groups == gi)])[:k]
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-9)
            # a team left out is not faster than the bound given
            out = road & ~got & (groups == gi)
            assert np.all(full.eta_s[out] >= part.lower_bound_s - 1e-9)
        # routes come from the same (compact) search record: length equals the answer
        for i in np.flatnonzero(got)[:3]:
            r = part.route(int(i))
            assert r.distance_m == pytest.approx(part.distance_m[i], rel=1e-9)
            assert not r.is_estimate


def _teams(g, rng, n: int, *, island_nodes) -> list[Team]:
    codes = [f"T{int(c):03d}" for c in rng.choice(200, n, replace=False)]
    kel = ["15.71.11.1001", "15.71.11.1002"]
    out = []
    for i, code in enumerate(codes):
        node = int(rng.choice(island_nodes)) if rng.random() < 0.05 else int(
            rng.integers(g.n_nodes))
        post = (float(g.node_lon[node]), float(g.node_lat[node]))
        if rng.random() < 0.05:
            post = (post[0] + 0.01, post[1])  # far off any road
        if rng.random() < 0.1 and out:
            post = out[int(rng.integers(len(out)))].post  # same place: ETA ties
        areas = ()
        r = rng.random()
        if r < 0.3:
            areas = (kel[int(rng.integers(2))],)
        elif r < 0.45:
            areas = (kel[0] + ".RW00" + str(int(rng.integers(1, 4))), "15.71.12")
        last, at = None, None
        s = rng.random()
        if s < 0.7:
            m = int(rng.integers(g.n_nodes))
            last = (float(g.node_lon[m]), float(g.node_lat[m]))
            if s < 0.65:
                at = NOW - timedelta(minutes=float(rng.choice([1.0, 15.0, 15.0001, 40.0])))
        out.append(Team(
            code=code, name=f"Tim {code}", role=ROLES[int(rng.integers(len(ROLES)))],
            post=post, vehicle=Vehicle.MOBIL if rng.random() < 0.35 else Vehicle.MOTOR,
            area_codes=areas,
            status=TeamStatus.TERSEDIA if rng.random() < 0.9 else TeamStatus.BERTUGAS,
            last_position=last, last_position_at=at))
    return out


@pytest.mark.parametrize("which", ["plain", "guided", "hierarchy"])
def test_suggest_equals_team_by_team_reference(engines, which):
    g, plain, guided, ch = engines
    engine = {"plain": plain, "guided": guided, "hierarchy": ch}[which]
    cats = load_categories()
    rng = np.random.default_rng({"plain": 23, "guided": 29, "hierarchy": 31}[which])
    island = np.arange(g.n_nodes - 9, g.n_nodes)
    for trial in range(30):
        teams = _teams(g, rng, int(rng.integers(0, 70)), island_nodes=island)
        node = int(rng.integers(g.n_nodes)) if trial % 10 else int(rng.choice(island))
        inc = (float(g.node_lon[node]) + rng.uniform(-2e-4, 2e-4),
               float(g.node_lat[node]) + rng.uniform(-2e-4, 2e-4))
        units = ["15.71.11.1001", "15.71.11.1001.RW002", "15.71.11.1001.RW002.RT001"][
            : int(rng.integers(0, 4))]
        cat = cats.get(["pekat", "pkl", "bencana"][trial % 3])
        kw = dict(top_k=int(rng.integers(1, 4)),
                  responsible_within=timedelta(seconds=float(rng.choice([0, 30, 300]))),
                  roles=None if trial % 4 else [Role.LINMAS, Role.SATPOL_PP])
        for snapshot in (False, True, True):  # later from the cached team table
            ours = suggest(engine, inc, cat, units, teams, NOW, teams_snapshot=snapshot, **kw)
            ref = _reference_suggest.suggest(engine, inc, cat, units, teams, NOW, **kw)
            a, b = ours.to_dict(), ref.to_dict()
            a.pop("computed_ms"), b.pop("computed_ms")
            assert a == b
    # a team changed in place is seen at once (the table is not reused)
    teams = _teams(g, np.random.default_rng(1), 40, island_nodes=island)
    cat = cats.get("pkl")
    first = suggest(engine, inc, cat, [], teams, NOW).role(Role.SATPOL_PP).recommended
    assert first is not None
    moved = next(t for t in teams if t.code == first.team_code)
    moved.status = TeamStatus.LEPAS
    again = suggest(engine, inc, cat, [], teams, NOW).role(Role.SATPOL_PP)
    assert first.team_code not in [c.team_code for c in again.candidates]
    # a snapshot is another list object when the teams changed: seen at once too
    snap = suggest(engine, inc, cat, [], teams, NOW, teams_snapshot=True).role(Role.SATPOL_PP)
    back = [dataclasses.replace(t, status=TeamStatus.TERSEDIA) if t is moved else t
            for t in teams]
    snap2 = suggest(engine, inc, cat, [], back, NOW, teams_snapshot=True).role(Role.SATPOL_PP)
    assert first.team_code not in [c.team_code for c in snap.candidates]
    assert snap2.recommended.team_code == first.team_code


def test_team_table_positions_and_responsible_follow_time_and_place(engines):
    """The table's kept positions (valid between two age deadlines) and responsible
    teams (per place) equal ``Team.position_at`` / ``Team.covers`` at every moment,
    going forwards and backwards in time."""
    g = engines[0]
    rng = np.random.default_rng(41)
    island = np.arange(g.n_nodes - 9, g.n_nodes)
    teams = _teams(g, rng, 60, island_nodes=island)
    tab = TeamTables().get(teams)
    age = timedelta(minutes=15)
    offsets = np.concatenate([rng.uniform(-5, 60, 40), [0, 15, 15.0001, 16, 30, 55, 0]])
    for minutes in offsets.tolist():
        now = NOW + timedelta(minutes=minutes)
        pos, stale, fresh = tab.positions(now, age)
        for t, p, s, f in zip(teams, pos.tolist(), stale.tolist(), fresh.tolist(),
                              strict=True):
            want, want_stale = t.position_at(now, age)
            assert tuple(p) == tuple(want) and s == want_stale
            assert f == (not want_stale and t.last_position is not None)
    places = [(), ("15.71.11.1001",), ("15.71.11.1001.RW002", "15.71.11.1001.RW002.RT001"),
              ("15.71.12.2001",), ("15.71.11",)]
    for _ in range(3):  # the second and third time from the kept answers
        for units in places:
            got = tab.responsible(units)
            assert got.tolist() == [t.covers(units) for t in teams]


def test_naive_times_still_compare(engines):
    """Naive datetimes (no zone) give the same answer; mixing raises as before."""
    g, plain, _, _ = engines
    cat = load_categories().get("pkl")
    naive_now = NOW.replace(tzinfo=None)
    p = (float(g.node_lon[5]), float(g.node_lat[5]))
    q = (float(g.node_lon[50]), float(g.node_lat[50]))
    t = Team(code="S", name="S", role=Role.SATPOL_PP, post=p, last_position=q,
             last_position_at=naive_now - timedelta(minutes=3))
    c = suggest(plain, p, cat, [], [t], naive_now).role(Role.SATPOL_PP).candidates[0]
    assert c.position == q and c.position_source == "posisi_terakhir"
    with pytest.raises(TypeError):
        suggest(plain, p, cat, [], [t], NOW)
