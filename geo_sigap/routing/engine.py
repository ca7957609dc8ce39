"""The routing engine the dispatch service asks: travel times from teams to an incident.

One compiled search per incident and profile, backwards from the incident over the
reverse graph, stopping as soon as the requested answer cannot change. On a city-sized
graph that search runs on the profile's contraction hierarchy
(:mod:`geo_sigap.routing.hierarchy`) once it is ready, against per-team buckets kept for
the current team positions; before that (and on small graphs) on the road graph itself.
Coordinates in and out are (lon, lat) EPSG:4326; times are seconds, distances metres.
"""

from __future__ import annotations

import os
import threading
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import LineString, mapping

from geo_sigap.errors import NoRoute
from geo_sigap.routing import _alt, _fused, _kernel, _prepared, _rank
from geo_sigap.routing.graph import RoadGraph, default_cache_dir, haversine_m, load_or_build
from geo_sigap.routing.hierarchy import CH_MIN_NODES, HierarchyPaths, warm_up_kernels
from geo_sigap.routing.network import NODE_TOLERANCE_M, Attachments, ProfileNetwork
from geo_sigap.routing.profiles import RoutingConfig, load_routing_config
from geo_sigap.routing.snap import SNAP_CACHE_SIZE, LocalProjection, Recent, SnapCache, Snaps

# status of one team's answer
ROAD = "road"  # exact road travel time
NOT_RANKED = "not_ranked"  # farther than the k nearest: only a lower bound is known
UNREACHABLE = "unreachable"  # no road path (another component / one-way trap)
OFF_NETWORK = "off_network"  # the team (or the incident) is too far from any usable road

# Goal-directed (landmark) searches pay a bound per reached node for every goal team:
# worth it when teams are few (the plain search then covers most of the city before it
# has the k nearest of every role); with many teams the plain search stops early.
GUIDE_MAX_TEAMS = 80
GUIDE_MAX_GOALS = 24  # teams wanted at the start (k per role + responsible teams)
# ... on graphs of at least this many nodes: below it the plain search is faster
# (the bundled demo, 1,461 nodes: p50 0.19–0.29 ms plain, 0.36–0.42 ms goal-directed for
# 10–65 teams), and a first start does not compile the goal-directed kernel (~7 s)
GUIDE_MIN_NODES = 5_000
ACTIVE_LANDMARKS = 8  # per goal, its strongest landmarks (8: all of them)
_ROAD, _NOT_RANKED, _UNREACHABLE, _OFF_NETWORK = range(4)  # codes of the statuses above
_STATUS_NAMES = np.array([ROAD, NOT_RANKED, UNREACHABLE, OFF_NETWORK])


@dataclass(frozen=True, slots=True)
class Route:
    """A route on the road network, with access legs to and from the roads.

    ``geometry`` is a lon/lat LineString (EPSG:4326) from the team to the incident;
    ``is_estimate`` marks a straight line (no road path), never a road route.
    """

    geometry: LineString
    distance_m: float
    eta_s: float
    profile: str
    is_estimate: bool = False

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "Feature", "geometry": mapping(self.geometry),
                "properties": {"distance_m": round(self.distance_m, 1),
                               "eta_s": round(self.eta_s, 1), "profile": self.profile,
                               "is_estimate": self.is_estimate}}


@dataclass(slots=True)
class EtaResult:
    """Travel times from team positions to one incident for one profile.

    Arrays have one entry per team point. ``eta_s``/``distance_m`` are road values where
    ``status == "road"``, straight-line estimates where ``is_estimate`` (unreachable or
    off the network) and NaN where ``status == "not_ranked"`` (at least
    ``lower_bound_s``).
    """

    profile: str
    eta_s: np.ndarray
    distance_m: np.ndarray
    status: np.ndarray
    is_estimate: np.ndarray
    access_m: np.ndarray
    lower_bound_s: float
    incident_access_m: float
    search_ms: float
    settled: int = 0  # nodes the search settled (its work)
    status_code: np.ndarray | None = None  # 0 road, 1 not ranked, 2 unreachable, 3 off
    method: str = ""  # the search that answered: hierarchy | guided | plain ("": none)
    # (k, per group the k-th best road time, inf: fewer) when the search gave it
    kth_by_group: tuple[int, np.ndarray] | None = None
    _route: Any = field(default=None, repr=False)

    def route(self, i: int) -> Route:
        """The route of team ``i`` (a flagged straight line when there is no road)."""
        if type(self._route) is tuple:  # the one-call query's: its builder on first use
            self._route = _fused_builder(self, *self._route).route
        return self._route(i)


class RoutingEngine:
    """Road routing for the service, built once from a graph (cache load ≤ 2 s).

    Parameters
    ----------
    graph
        The road graph (see :func:`geo_sigap.routing.graph.load_or_build`).
    config
        Profiles and access rules; the defaults when ``None``.
    snap_cache_size
        Team positions remembered per profile with their snap (exact lon/lat key,
        least recently used dropped first); ``0`` snaps every time.
    guide_max_teams
        Searches for at most this many teams (and at most :data:`GUIDE_MAX_GOALS`
        wanted at the start) are goal-directed with landmark bounds — same answers,
        far fewer nodes when teams are few; ``0`` always searches plainly.
    guide_min_nodes
        Goal-directed searches only on graphs of at least this many nodes (smaller
        ones search plainly: as fast there, and nothing more to compile).
    cache_dir
        Where the prepared data of each profile (adjacency, components, snapping
        pieces, landmark tables) are kept between starts (see
        :mod:`geo_sigap.routing._prepared`; keyed by the graph's content and the
        profile's speeds). ``None``: derived in memory at every start.
    hierarchy_min_nodes
        Graphs of at least this many nodes answer from a contraction hierarchy per
        profile once it is ready (loaded here from ``cache_dir`` when saved there,
        built by :meth:`prepare` or in the background by :meth:`warm_up`): same
        answers, a fraction of the work. Until then, and on smaller graphs, the
        early-stop search answers.
    buckets_in_background
        The hierarchy needs, per set of team positions, each team's upward search (its
        *buckets*; a team that did not move since the last set keeps its own). With
        ``True`` they are made in a thread and the early-stop search answers until they
        are ready (a query never waits for them); ``False``: made in the query.
    """

    def __init__(self, graph: RoadGraph, config: RoutingConfig | None = None, *,
                 snap_cache_size: int = SNAP_CACHE_SIZE,
                 guide_max_teams: int = GUIDE_MAX_TEAMS,
                 guide_min_nodes: int = GUIDE_MIN_NODES,
                 cache_dir: str | Path | None = None,
                 hierarchy_min_nodes: int = CH_MIN_NODES,
                 buckets_in_background: bool = True, fused: bool = True) -> None:
        self.graph = graph
        self.fused = bool(fused)
        self._statics: dict[str, tuple[Any, tuple]] = {}  # profile: (hierarchy, arrays)
        self.use_hierarchy = graph.n_nodes >= hierarchy_min_nodes
        self.buckets_in_background = bool(buckets_in_background)
        self._bucket_lock = threading.Lock()
        self._bucket_threads: dict[str, threading.Thread] = {}
        self.config = config or load_routing_config()
        self.guide_max_teams = int(guide_max_teams)
        self.guided = self.guide_max_teams > 0 and graph.n_nodes >= guide_min_nodes
        self.projection = LocalProjection(float(np.mean(graph.node_lon)),
                                          float(np.mean(graph.node_lat)))
        key = _prepared.graph_digest(graph) if cache_dir is not None else None
        self.networks = {p: ProfileNetwork(graph, p, self.projection, cache_dir=cache_dir,
                                           graph_key=key) for p in graph.profiles}
        self.snap_caches = {p: SnapCache(net.snapper, snap_cache_size)
                            for p, net in self.networks.items()}
        # per profile the entries of the last few team sets (by their snaps), each with
        # its hierarchy buckets: a service asks for one set per set of roles, in turn
        self._last_entries = {p: Recent() for p in self.networks}  # id(snaps) → entries
        self._last_buckets: dict[str, tuple[Any, Any]] = {}  # profile: (hierarchy, buckets)
        self._ch_thread: threading.Thread | None = None
        if self.use_hierarchy:
            for net in self.networks.values():
                net.hierarchy(build=False)  # from the cache folder when saved there
        self.bbox = (float(graph.node_lon.min()), float(graph.node_lat.min()),
                     float(graph.node_lon.max()), float(graph.node_lat.max()))

    @classmethod
    def from_file(cls, path: str | Path, *, speeds_file: str | Path | None = None,
                  cache_dir: str | Path | None = None, progress: Any = None) -> RoutingEngine:
        """Engine for a road file (OSM XML/PBF, GeoJSON, SHP); the graph and the engine's
        prepared data are cached in ``cache_dir`` after the first build."""
        config = load_routing_config(speeds_file)
        cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        return cls(load_or_build(path, config, cache_dir, progress=progress), config,
                   cache_dir=cache_dir)

    def network(self, profile: str) -> ProfileNetwork:
        try:
            return self.networks[profile]
        except KeyError:
            self.graph.profile_index(profile)  # raises ConfigError with the choices
            raise

    def prepare(self, *, hierarchy: bool = True) -> None:
        """Derive (or load from ``cache_dir``) what the goal-directed search needs and,
        with ``hierarchy``, the contraction hierarchies (built now when missing)."""
        if self.guide_max_teams > 0:
            for p in self.graph.profiles:
                self.network(p).landmarks()
        if hierarchy and self.use_hierarchy:
            for p in self.graph.profiles:
                self.network(p).hierarchy()

    def warm_up(self, *, wait: bool = False) -> None:
        """Compile (or load the compiled) search kernels and prepare the landmark tables
        before the first request; hierarchies not on disk are built in a background
        thread (``wait``: here, before returning) while the early-stop search answers."""
        self.prepare(hierarchy=False)
        _rank.warm_up()  # the suggestion's ranking
        node = (float(self.graph.node_lon[0]), float(self.graph.node_lat[0]))
        many = [node] * (GUIDE_MAX_TEAMS + 1)
        for p in self.graph.profiles:
            self.eta_from_teams(node, many, p, k=1, _plain=True)  # the plain kernel
            if self.guided:
                self.eta_from_teams(node, [node], p, k=1, _plain=True)  # goal-directed
        if not self.use_hierarchy:
            return
        missing = [p for p in self.graph.profiles if self.network(p).ready_hierarchy is None]
        saved = len(missing) < len(self.graph.profiles)
        if saved:  # saved hierarchies: their kernels (cached) before the first query
            warm_up_kernels()
            for p in self.graph.profiles:  # what the one-call query reads, before a batch
                ch = self.network(p).ready_hierarchy
                if ch is not None and self.fused:
                    ch.arc_layout()
                    self._fused_statics(p, self.network(p), ch)
        if missing and self._ch_thread is None:
            # The missing hierarchies are built in the background; with none saved (a
            # first start) their kernels are compiled there first (tens of seconds on an
            # empty numba cache), so that the start does not wait for them and no query
            # compiles one. The early-stop search answers meanwhile.
            def build() -> None:
                _lower_thread_priority()  # requests and the rest of the warm-up first
                if not saved:
                    warm_up_kernels()
                for p in missing:
                    self.network(p).hierarchy()

            self._ch_thread = threading.Thread(target=build, name="geo-sigap-hierarchy",
                                               daemon=True)
            self._ch_thread.start()
        if wait:
            self.wait_hierarchies()

    def wait_hierarchies(self, timeout: float | None = None) -> bool:
        """Wait for a background hierarchy build; ``True`` when none is running."""
        if self._ch_thread is not None:
            self._ch_thread.join(timeout)
            return not self._ch_thread.is_alive()
        return True

    # ------------------------------------------------------------------ ETAs
    def eta_from_teams(
        self,
        incident_lonlat: tuple[float, float],
        team_points: Sequence[tuple[float, float]] | np.ndarray,
        profile: str,
        *,
        groups: Sequence[int] | np.ndarray | None = None,
        k: int | None = None,
        required: Sequence[bool] | np.ndarray | None = None,
        max_time_s: float = np.inf,
        _plain: bool = False,
    ) -> EtaResult:
        """Travel times from every team point to the incident, one search.

        Parameters
        ----------
        incident_lonlat
            (lon, lat) of the incident, EPSG:4326.
        team_points
            (lon, lat) per team.
        profile
            ``motor`` or ``mobil``.
        groups, k
            With ``k``, the search stops once the ``k`` nearest teams of every group
            (e.g. role) are known; others get ``status="not_ranked"``. Without ``k``
            every reachable team gets its exact time.
        required
            Teams whose exact time is always wanted (the responsible teams).
        max_time_s
            Do not search beyond this time (required teams are still searched for);
            teams farther away get ``status="not_ranked"``.
        """
        t0 = _time.perf_counter()
        net = self.network(profile)
        cfg = self.config
        pts = team_points
        if not (type(pts) is np.ndarray and pts.dtype == np.float64 and pts.ndim == 2):
            pts = np.asarray(team_points, dtype=np.float64).reshape(-1, 2)
        n = pts.shape[0]
        if groups is None or type(groups) is not np.ndarray or groups.dtype != np.int64:
            groups = np.zeros(n, np.int64) if groups is None else np.asarray(groups, np.int64)
        if required is None or type(required) is not np.ndarray or required.dtype != bool:
            required = (np.zeros(n, bool) if required is None
                        else np.asarray(required, dtype=bool))
        teams = self.snap_caches[profile].snap_points(pts)
        tab = self._entries(profile, net, teams)
        ch = net.ready_hierarchy if self.fused and self.use_hierarchy and not _plain else None
        if ch is not None:
            kept = tab.cache.get("hierarchy")
            if (kept is None or kept[0] is not ch) and not self.buckets_in_background:
                kept = self._make_buckets(profile, ch, tab, n)
            if kept is not None and kept[0] is ch:
                return self._eta_fused(t0, profile, net, ch, kept[1], incident_lonlat, pts,
                                       teams, tab, groups, required, k, max_time_s)
        inc = net.snap(incident_lonlat[0], incident_lonlat[1])
        on_net = tab.on_net
        code = np.where(on_net, _ROAD, _OFF_NETWORK).astype(np.int8)
        inc_ok = inc.edge[0] >= 0 and inc.access_m[0] <= cfg.max_snap_m
        final = np.zeros(n, bool)
        best = best_len = np.full(n, np.nan)
        stop_time = np.inf
        if not inc_ok or not tab.on_idx.size:
            # no search at all when no team (or the incident) is on the network
            code[:] = _OFF_NETWORK
            seeds, ents, best_ent, paths = None, None, None, None
            n_set = 0
            method = ""
        else:
            seeds = net.attach(inc, cfg.access_speed_ms, leaving=False)
            ents, in_comp = tab.in_component(int(net.component[seeds.node[0]]), n)
            in_comp = in_comp.copy()
            direct_t, direct_m = net.along_same_road(teams, inc, cfg.access_speed_ms,
                                                     tab.on_idx)
            in_comp |= np.isfinite(direct_t)
            n_groups = int(groups.max()) + 1 if n else 0
            sizes = np.bincount(groups[in_comp], minlength=n_groups)
            need = (sizes if k is None else np.minimum(sizes, k)).astype(np.int64)
            req = required & in_comp
            rev = net.reverse
            ch = net.ready_hierarchy if self.use_hierarchy and not _plain else None
            args = (seeds.node, seeds.time, seeds.length,
                    ents.owner, ents.node, ents.time, ents.length, direct_t, direct_m,
                    groups, req, need, float(max_time_s))
            wanted = int(need.sum()) + int(req.sum())
            kept = tab.cache.get("hierarchy")
            if ch is not None and (kept is None or kept[0] is not ch):
                if self.buckets_in_background:  # the early-stop search answers meanwhile
                    self._buckets_later(profile, ch, tab, n)
                    ch = None
                else:
                    kept = self._make_buckets(profile, ch, tab, n)
            if ch is not None:
                ents = tab.ents  # a team of another component meets none of the seeds
                method = "hierarchy"
                best, best_len, best_ent, final, stop_time, n_set, paths = ch.query(
                    kept[1], seeds.node, seeds.time, seeds.length, direct_t, direct_m,
                    groups, req, need, float(max_time_s))
            elif (self.guided and 0 < wanted <= GUIDE_MAX_GOALS
                    and int(in_comp.sum()) <= self.guide_max_teams):
                lm_from, lm_to = net.landmarks()
                lb, order = _alt.team_bounds(lm_from, lm_to, seeds.node, seeds.time,
                                             ents.owner, ents.node, ents.time, direct_t,
                                             lm_from.shape[1])
                out = _alt.search_alt(rev.indptr, rev.nbr, rev.wt, rev.ln, rev.eid,
                                      self.graph.n_nodes, *args, lm_from, lm_to, lb, order,
                                      ACTIVE_LANDMARKS)
                _dist, _dlen, via, label, best, best_len, best_ent, final, stop_time = out
                paths = _Paths(via=via, label=label)
                n_set = int(np.count_nonzero(via >= 0))
                method = "guided"
            else:
                with net.workspace() as ws:
                    best, best_len, best_ent, final, stop_time, n_set = _kernel.search_ws(
                        rev.indptr, net.reverse_arcs, *args, *ws.arrays())
                    method = "plain"
                    paths = _Paths(nodes=ws.set_node[:n_set].copy(),
                                   edges=ws.set_via[:n_set].copy(),
                                   seeds=ws.set_label[:n_set].copy(),
                                   n_nodes=self.graph.n_nodes)
            code[on_net & ~final] = _NOT_RANKED
            unreachable = on_net & ~in_comp
            if not np.isfinite(stop_time):  # searched everything: the rest has no path
                unreachable |= on_net & ~final
            code[unreachable] = _UNREACHABLE
        eta = np.where(final, best, np.nan)
        meters = np.where(final, best_len, np.nan)
        estimate = self._estimates(code, eta, meters, pts, incident_lonlat)
        result = EtaResult(
            profile=profile, eta_s=eta, distance_m=meters, status=_STATUS_NAMES[code],
            is_estimate=estimate, access_m=teams.access_m,
            lower_bound_s=float(stop_time), incident_access_m=float(inc.access_m[0]),
            search_ms=(_time.perf_counter() - t0) * 1000.0, settled=int(n_set),
            status_code=code, method=method)
        builder = _RouteBuilder(self, net, incident_lonlat, inc, seeds, paths, pts, teams,
                                ents, best_ent, result)
        result._route = builder.route
        return result

    def _estimates(self, code, eta, meters, pts, incident_lonlat) -> np.ndarray:
        """Straight-line estimates (in place) where there is no road answer."""
        cfg = self.config
        estimate = code >= _UNREACHABLE
        if estimate.any():
            e = np.flatnonzero(estimate)
            straight = haversine_m(pts[e, 0], pts[e, 1], incident_lonlat[0],
                                   incident_lonlat[1]) * cfg.detour_factor
            eta[e] = straight / cfg.straight_speed_ms
            meters[e] = straight
        return estimate

    def _eta_fused(self, t0, profile, net, ch, buckets, incident_lonlat, pts, teams, tab,
                   groups, required, k, max_time_s) -> EtaResult:
        """:meth:`eta_from_teams` on the hierarchy in one compiled call."""
        stat = self._fused_statics(profile, net, ch)
        team = tab.cache.get("fused")
        if team is None:
            team = tab.cache["fused"] = _fused.team_arrays(teams, tab.on_net, tab.ents,
                                                           tab.ent_comp)
        if not (groups.flags.writeable and groups.flags.c_contiguous):
            groups = groups.copy()
        if not (required.flags.writeable and required.flags.c_contiguous):
            required = required.copy()
        ws = ch.take_workspace()
        code, estimate, times, meet, record, sc, kth = _fused.answer(
            float(incident_lonlat[0]), float(incident_lonlat[1]), *stat, buckets.arrays,
            *team, groups, required, -1 if k is None else int(k), float(max_time_s), ws)
        ch.give_back(ws)
        eta, meters = times[0], times[1]
        head = sc[:7].tolist()
        if head[1] > 0:  # straight-line estimates
            self._estimates(code, eta, meters, pts, incident_lonlat)
        # positional, in the fields' order (once per profile and incident)
        result = EtaResult(
            profile, eta, meters, _STATUS_NAMES.take(code), estimate, teams.access_m, head[0],
            head[4], (_time.perf_counter() - t0) * 1000.0, record.shape[1], code,
            "hierarchy" if sc.shape[0] > 7 else "", (k, kth) if k is not None else None,
            (self, net, ch, incident_lonlat, pts, teams, tab, meet, record, sc))
        return result

    def _fused_statics(self, profile: str, net: ProfileNetwork, ch: Any) -> tuple:
        got = self._statics.get(profile)
        if got is None or got[0] is not ch:
            cfg = self.config
            got = self._statics[profile] = (ch, _fused.statics(
                net, ch, self.projection, cfg.access_speed_ms, cfg.max_snap_m,
                NODE_TOLERANCE_M))
        return got[1]

    def _make_buckets(self, profile: str, ch: Any, tab: _TeamEntries, n: int) -> tuple:
        """The hierarchy buckets of a set of team positions, kept with it; the teams
        whose entries are as in the last set are not searched again."""
        last = self._last_buckets.get(profile)
        previous = last[1] if last is not None and last[0] is ch else None
        e = tab.ents
        kept = (ch, ch.buckets(e.owner, e.node, e.time, e.length, n, previous))
        if self.fused:
            self._fused_statics(profile, self.network(profile), ch)  # before it is used
        tab.cache["hierarchy"] = self._last_buckets[profile] = kept
        return kept

    def _buckets_later(self, profile: str, ch: Any, tab: _TeamEntries, n: int) -> None:
        """Start making the buckets in a thread (one per profile at a time; a set of
        positions already being made, or a busy profile, starts nothing)."""
        with self._bucket_lock:
            running = self._bucket_threads.get(profile)
            if tab.cache.get("building") or (running is not None and running.is_alive()):
                return
            tab.cache["building"] = True
            t = threading.Thread(target=self._make_buckets, args=(profile, ch, tab, n),
                                 name=f"geo-sigap-buckets-{profile}", daemon=True)
            self._bucket_threads[profile] = t
            t.start()

    def wait_buckets(self, timeout: float | None = None) -> None:
        """Wait for the bucket threads started so far (tests, benchmarks)."""
        for t in list(self._bucket_threads.values()):
            t.join(timeout)

    def _entries(self, profile: str, net: ProfileNetwork, teams: Snaps) -> _TeamEntries:
        """Where the team points enter the network; kept while the snap cache answers
        with the same batch (the same positions as the last query)."""
        recent = self._last_entries[profile]
        tab = recent.get(id(teams))
        if tab is not None and tab.snaps is teams:
            return tab
        on_net = teams.access_m <= self.config.max_snap_m
        ents = net.attach(teams, self.config.access_speed_ms, leaving=True, keep=on_net)
        tab = _TeamEntries(teams, on_net, np.flatnonzero(on_net), ents,
                           net.component[ents.node])
        recent.put(id(teams), tab)
        return tab

    def route(self, from_lonlat: tuple[float, float], to_lonlat: tuple[float, float],
              profile: str) -> Route:
        """Fastest route from one point to another (both lon/lat).

        Raises
        ------
        NoRoute
            When the road network does not connect the points (with the straight-line
            estimate in ``details``).
        """
        res = self.eta_from_teams(to_lonlat, [from_lonlat], profile)
        r = res.route(0)
        if r.is_estimate:
            raise NoRoute(
                "Tidak ada rute jalan antara kedua titik; perkiraan garis lurus "
                f"{r.distance_m / 1000:.1f} km (bukan rute jalan)",
                "No road route between the points; straight-line estimate "
                f"{r.distance_m / 1000:.1f} km (not a road route)",
                straight_line_m=round(r.distance_m, 1), eta_estimate_s=round(r.eta_s, 1),
                reason=str(res.status[0]),
            )
        return r


def _lower_thread_priority(step: int = 10) -> None:
    """Nice the calling thread by ``step`` (Linux: a thread is its own task), so a
    long background build (its kernels release the GIL) takes only the CPU that
    requests leave; elsewhere, or when not allowed, nothing changes."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + step)
    except (AttributeError, OSError):
        pass


@dataclass(frozen=True, slots=True)
class _TeamEntries:
    snaps: Snaps
    on_net: np.ndarray
    on_idx: np.ndarray
    ents: Attachments
    ent_comp: np.ndarray
    cache: dict = field(default_factory=dict)  # derived per batch (hierarchy buckets)

    def in_component(self, comp: int, n: int) -> tuple[Attachments, np.ndarray]:
        """The entries in component ``comp`` and per team whether it has one (kept)."""
        key = ("component", comp)
        got = self.cache.get(key)
        if got is None:
            same = self.ent_comp == comp
            ents = self.ents if same.all() else self.ents.take(same)
            mask = np.zeros(n, bool)
            mask[ents.owner] = True
            got = self.cache[key] = (ents, mask)
        return got


class _Paths:
    """What a finished search knows of its routes: per node the edge it was reached by
    (``via``, -1 at a seed) and its seed (``label``) — full arrays, or the settled nodes
    only (``nodes``/``edges``/``seeds``), spread out on first use."""

    def __init__(self, *, via=None, label=None, nodes=None, edges=None, seeds=None,
                 n_nodes: int = 0) -> None:
        self._via, self._label = via, label
        self._compact = (nodes, edges, seeds, n_nodes)

    def for_team(self, i: int, start_node: int, edge_u, edge_v):
        return self.arrays()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._via is None:
            nodes, edges, seeds, n = self._compact
            via = np.full(n, -1, np.int64)
            label = np.full(n, -1, np.int64)
            via[nodes] = edges
            label[nodes] = seeds
            self._via, self._label = via, label
        return self._via, self._label


def _fused_builder(result: EtaResult, engine: RoutingEngine, net: ProfileNetwork, ch: Any,
                   incident_lonlat, pts, teams: Snaps, tab: _TeamEntries, meet: np.ndarray,
                   record: np.ndarray, sc: np.ndarray) -> _RouteBuilder:
    """The route builder of a one-call query's result (made when a route is asked)."""
    searched = sc.shape[0] > 7
    paths = (HierarchyPaths(ch, meet[0], meet[1], record[0], record[1], record[2],
                            record[3]) if searched else None)
    builder = _RouteBuilder(engine, net, incident_lonlat, None, None, paths, pts, teams,
                            tab.ents if searched else None, meet[0], result)
    builder.snapped = (engine.projection, sc)
    return builder


def _fused_snaps(proj: LocalProjection, sc: np.ndarray) -> tuple[Snaps, Attachments | None]:
    """The incident's snap and seeds from :func:`_fused.answer`'s scalars."""
    lon, lat = proj.inverse(sc[5:6], sc[6:7])
    inc = Snaps(np.array([int(sc[2])], np.int64), sc[3:4].copy(), sc[4:5].copy(),
                np.asarray(lon), np.asarray(lat))
    if sc.shape[0] <= 7:
        return inc, None
    seeds = sc[7:].reshape(-1, 4)
    return inc, Attachments(np.zeros(len(seeds), np.int64), seeds[:, 0].astype(np.int64),
                            seeds[:, 1].copy(), seeds[:, 2].copy(),
                            seeds[:, 3].astype(np.int8))


class _RouteBuilder:
    """Rebuilds a team's route from a finished search (no new search)."""

    def __init__(self, engine, net, incident, inc, seeds, paths, pts, teams, ents,
                 best_ent, result) -> None:
        self.__dict__.update(locals())
        del self.__dict__["self"]

    snapped = None  # the fused path: (projection, scalars); inc and seeds on first need

    def route(self, i: int) -> Route:
        if self.inc is None and self.snapped is not None:
            self.inc, self.seeds = _fused_snaps(*self.snapped)
        res: EtaResult = self.result
        g = self.engine.graph
        profile = res.profile
        q = (float(self.pts[i, 0]), float(self.pts[i, 1]))
        if res.is_estimate[i] or res.status[i] != ROAD:
            return Route(LineString([q, self.incident]), float(res.distance_m[i]),
                         float(res.eta_s[i]), profile, is_estimate=res.is_estimate[i])
        coords = [q, (float(self.teams.lon[i]), float(self.teams.lat[i]))]
        f_team = float(self.teams.frac[i])
        f_inc = float(self.inc.frac[0])
        e_inc = int(self.inc.edge[0])
        ent = int(self.best_ent[i])
        if ent < 0:  # along the incident's own road only
            coords += self._part(e_inc, f_team, f_inc)
        else:
            e_team = int(self.teams.edge[i])
            node = int(self.ents.node[ent])
            coords += self._part(e_team, f_team, 1.0 if self.ents.side[ent] == 1 else 0.0)
            via, label = self.paths.for_team(i, node, g.edge_u, g.edge_v)
            while via[node] >= 0:
                e = int(via[node])
                coords += [tuple(c) for c in g.edge_coords(e).tolist()]
                node = int(g.edge_v[e])
            seed = int(label[node])
            start = 1.0 if self.seeds.side[seed] == 1 else 0.0
            coords += self._part(e_inc, start, f_inc)
        coords += [(float(self.inc.lon[0]), float(self.inc.lat[0])), self.incident]
        clean = [coords[0]] + [c for a, c in zip(coords, coords[1:]) if c != a]
        if len(clean) == 1:
            clean.append(clean[0])
        return Route(LineString(clean), float(res.distance_m[i]), float(res.eta_s[i]), profile)

    def _part(self, e: int, f0: float, f1: float) -> list[tuple[float, float]]:
        """Lon/lat vertices of edge ``e`` between fractions f0 and f1 (reversed if f0>f1)."""
        g = self.engine.graph
        pts = g.edge_coords(e)
        x, y = self.engine.projection.forward(pts[:, 0], pts[:, 1])
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        total = cum[-1] if cum[-1] > 0 else 1.0
        lo, hi = sorted((f0 * total, f1 * total))
        inner = [tuple(p) for p, c in zip(pts.tolist(), cum, strict=True) if lo < c < hi]
        ends = [tuple(np.interp(v, cum, pts[:, j]) for j in (0, 1)) for v in (lo, hi)]
        part = [ends[0], *inner, ends[1]]
        return part[::-1] if f0 > f1 else part
