"""One profile's routable network: CSR adjacency both ways, components, snapping.

Built from a :class:`~geo_sigap.routing.graph.RoadGraph` when the engine starts
(a few tens of milliseconds for 50,000 nodes). Times are seconds, lengths metres.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo_sigap.routing import _prepared
from geo_sigap.routing.graph import RoadGraph
from geo_sigap.routing.hierarchy import CH_PARAMS, Hierarchy
from geo_sigap.routing.snap import PIECE_M, SNAP_ARRAYS, LocalProjection, SnapIndex, Snaps

# A snapped point closer than this to a node counts as being on the node (metres), so
# a point at the end of a one-way street may still leave or reach that node.
NODE_TOLERANCE_M = 2.0
# Landmarks for goal-directed searches (ALT): spread round the edge of the network.
N_LANDMARKS = 8
_CSR_FIELDS = ("indptr", "nbr", "wt", "ln", "eid")
_NETWORK_ARRAYS = (tuple(f"{d}_{f}" for d in ("fwd", "rev") for f in _CSR_FIELDS)
                   + ("component",) + SNAP_ARRAYS)


@dataclass(frozen=True, slots=True)
class Csr:
    indptr: np.ndarray
    nbr: np.ndarray
    wt: np.ndarray
    ln: np.ndarray
    eid: np.ndarray


@dataclass(frozen=True, slots=True)
class Attachments:
    """How points meet the network.

    For each point ``i`` up to two rows in the ``node``/``time``/``length``/``owner``
    arrays: the nodes at the ends of its road with the time and length along the road
    (plus the access leg) — as *entries* (leaving the point) or *seeds* (arriving at it).
    """

    owner: np.ndarray
    node: np.ndarray
    time: np.ndarray
    length: np.ndarray
    side: np.ndarray  # 1: the canonical edge's v end, 0: its u end

    def take(self, rows: np.ndarray) -> Attachments:
        """The rows selected by ``rows`` (a mask or indices)."""
        return Attachments(self.owner[rows], self.node[rows], self.time[rows],
                           self.length[rows], self.side[rows])


class Workspace:
    """Node-sized arrays one search works in, kept clean between searches.

    :func:`geo_sigap.routing._kernel.search_ws` resets only what it touched, so a
    query costs what it searches, not the size of the city. One search at a time per
    workspace: :meth:`ProfileNetwork.workspace` lends them out (thread-safe).
    """

    __slots__ = ("node", "hk", "hv", "touched", "set_node", "set_via", "set_label")

    def __init__(self, n_nodes: int) -> None:
        from geo_sigap.routing._kernel import NODE_COLUMNS

        self.node = np.zeros((n_nodes, NODE_COLUMNS))
        self.node[:, 0] = np.inf  # dist
        self.node[:, 4] = -1.0  # place in the queue
        self.node[:, 5] = -1.0  # first team entry
        self.hk = np.empty(n_nodes + 1)  # the queue holds a node at most once
        self.hv = np.empty(n_nodes + 1, np.int64)
        self.touched = np.empty(n_nodes, np.int64)
        self.set_node = np.empty(n_nodes, np.int64)
        self.set_via = np.empty(n_nodes, np.int64)
        self.set_label = np.empty(n_nodes, np.int64)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.node, self.hk, self.hv, self.touched, self.set_node, self.set_via,
                self.set_label)


class ProfileNetwork:
    """Routable view of one profile (``motor`` or ``mobil``).

    With ``cache_dir`` what it derives from the graph is read from there when present
    and written there otherwise (:mod:`geo_sigap.routing._prepared`; ``graph_key``: the
    graph's :func:`~geo_sigap.routing._prepared.graph_digest` when already known).
    """

    def __init__(self, graph: RoadGraph, profile: str, projection: LocalProjection, *,
                 cache_dir: str | Path | None = None, graph_key: str | None = None) -> None:
        self.graph = graph
        self.profile = profile
        p = graph.profile_index(profile)
        self.time = np.ascontiguousarray(graph.edge_time[p])
        allowed = np.isfinite(self.time)
        twin = graph.edge_twin
        self.twin = np.where((twin >= 0) & allowed[np.maximum(twin, 0)], twin, -1)
        n = graph.n_nodes
        self._paths: dict[str, Path] = {}
        if cache_dir is not None:
            key = _prepared.profile_key(graph, profile, f"L{N_LANDMARKS}|P{PIECE_M}",
                                        graph_key)
            self._paths = {w: Path(cache_dir) / f"{profile}.{key}.{w}"
                           for w in ("network", "landmarks")}
            ch_key = _prepared.profile_key(graph, profile, CH_PARAMS, graph_key)
            self._paths["hierarchy"] = Path(cache_dir) / f"{profile}.{ch_key}.hierarchy"
        saved = _prepared.load(self._paths.get("network"), _NETWORK_ARRAYS)
        if saved is not None:
            self.forward = Csr(*(saved[f"fwd_{f}"] for f in _CSR_FIELDS))
            self.reverse = Csr(*(saved[f"rev_{f}"] for f in _CSR_FIELDS))
            self.component = saved["component"]
            self.snapper = SnapIndex.from_arrays(graph, projection, saved)
        else:
            edges = np.flatnonzero(allowed)
            self.forward = _csr(graph.edge_u[edges], graph.edge_v[edges], edges, self.time,
                                graph.edge_length, n)
            self.reverse = _csr(graph.edge_v[edges], graph.edge_u[edges], edges, self.time,
                                graph.edge_length, n)
            from scipy.sparse import csr_matrix  # here: a start from the cache needs none
            from scipy.sparse.csgraph import connected_components

            adj = csr_matrix((np.ones(len(edges)),
                              (graph.edge_u[edges], graph.edge_v[edges])), shape=(n, n))
            _, self.component = connected_components(adj, directed=True, connection="weak")
            self.snapper = SnapIndex(graph, profile, projection)
            if self._paths:
                arrays = {f"{d}_{f}": getattr(c, f) for d, c in (("fwd", self.forward),
                                                                 ("rev", self.reverse))
                          for f in _CSR_FIELDS}
                _prepared.save(self._paths["network"],
                               {**arrays, "component": self.component,
                                **self.snapper.arrays()})
        self.n_edges = int(self.forward.indptr[-1])
        # the reverse arcs one row each (neighbour, time, length, edge id) for the search
        r = self.reverse
        self.reverse_arcs = np.column_stack([r.nbr.astype(np.float64), r.wt, r.ln,
                                             r.eid.astype(np.float64)])
        self._projection = projection
        self._landmarks: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._free: list[Workspace] = []
        self._free_lock = threading.Lock()
        self._hierarchy: Hierarchy | None = None
        self._ch_lock = threading.Lock()

    @property
    def ready_hierarchy(self) -> Hierarchy | None:
        """The contraction hierarchy when loaded or built, else ``None`` (no waiting)."""
        return self._hierarchy

    def hierarchy(self, *, build: bool = True) -> Hierarchy | None:
        """The contraction hierarchy of this profile (:mod:`geo_sigap.routing.hierarchy`):
        read from the cache folder, else built when ``build`` (seconds to a minute for
        a city; saved there) — ``None`` when not on disk and not ``build``."""
        if self._hierarchy is not None:
            return self._hierarchy
        with self._ch_lock:
            if self._hierarchy is None:
                path = self._paths.get("hierarchy")
                ch = Hierarchy.load(path, self.graph.n_nodes)
                if ch is None and build:
                    f = self.forward
                    src = np.repeat(np.arange(self.graph.n_nodes), np.diff(f.indptr))
                    ch = Hierarchy.load_or_build(path, self.graph.n_nodes, src, f.nbr, f.wt,
                                                 f.ln, f.eid)
                self._hierarchy = ch
            return self._hierarchy

    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        """A clean :class:`Workspace` for one search (made on first need, then reused)."""
        with self._free_lock:
            ws = self._free.pop() if self._free else None
        if ws is None:
            ws = Workspace(self.graph.n_nodes)
        yield ws  # not given back after an error: it may not be clean
        with self._free_lock:
            self._free.append(ws)

    def landmarks(self) -> tuple[np.ndarray, np.ndarray]:
        """Landmark tables ``(lm_from, lm_to)``, each ``(n_nodes, L)`` seconds.

        ``lm_from[x, l]`` is the fastest time from landmark ``l`` to node ``x`` and
        ``lm_to[x, l]`` from ``x`` to the landmark (``inf`` without a path). The
        landmarks are the outermost nodes of the largest component in ``L`` compass
        directions. Built on first use (``L`` forward and ``L`` backward searches, about
        0.1 s for 50,000 nodes), then kept.
        """
        with self._lock:
            if self._landmarks is None:
                saved = _prepared.load(self._paths.get("landmarks"), ("lm_from", "lm_to"))
                if saved is not None:
                    self._landmarks = (saved["lm_from"], saved["lm_to"])
                else:
                    self._landmarks = self._build_landmarks()
                    _prepared.save(self._paths.get("landmarks"),
                                   dict(zip(("lm_from", "lm_to"), self._landmarks,
                                            strict=True)))
            return self._landmarks

    def _build_landmarks(self) -> tuple[np.ndarray, np.ndarray]:
        from geo_sigap.routing import _kernel

        g = self.graph
        n = g.n_nodes
        comps, sizes = np.unique(self.component, return_counts=True)
        nodes = np.flatnonzero(self.component == comps[np.argmax(sizes)])
        x, y = self._projection.forward(g.node_lon[nodes], g.node_lat[nodes])
        angles = np.arange(N_LANDMARKS) * (2 * np.pi / N_LANDMARKS)
        picks = np.unique([nodes[np.argmax(x * np.cos(a) + y * np.sin(a))] for a in angles])
        lm_from = np.empty((n, len(picks)))
        lm_to = np.empty((n, len(picks)))
        ei, ef = np.zeros(0, np.int64), np.zeros(0)
        for j, node in enumerate(picks.tolist()):
            for csr, table in ((self.forward, lm_from), (self.reverse, lm_to)):
                dist = _kernel.search(csr.indptr, csr.nbr, csr.wt, csr.ln, csr.eid, n,
                                      np.array([node], np.int64), np.zeros(1), np.zeros(1),
                                      ei, ei, ef, ef, ef, ef, ei, np.zeros(0, bool), ei,
                                      np.inf)[0]
                table[:, j] = dist
        return np.ascontiguousarray(lm_from), np.ascontiguousarray(lm_to)

    def snap(self, lon, lat) -> Snaps:
        return self.snapper.snap(lon, lat)

    def attach(self, snaps: Snaps, access_speed_ms: float, *, leaving: bool,
               keep: np.ndarray | None = None) -> Attachments:
        """Entries (``leaving=True``: from the point into the network) or seeds.

        Leaving a point on edge u→v at fraction f: to v costs ``(1-f)·T(e)``; to u
        needs the twin (``f·T(twin)``) unless the point is on u. Arriving mirrors it.
        """
        if keep is None and len(snaps.edge) == 1:
            return self._attach_one(snaps, access_speed_ms, leaving)
        idx = np.flatnonzero(keep if keep is not None else snaps.edge >= 0)
        e = snaps.edge[idx]
        f = snaps.frac[idx]
        g = self.graph
        glen = self.snapper.edge_geomlen[e]
        acc_t = snaps.access_m[idx] / access_speed_ms
        acc_m = snaps.access_m[idx]
        tw = self.twin[e]
        has_tw = tw >= 0
        tw_time = np.where(has_tw, self.time[np.maximum(tw, 0)], 0.0)
        # share of the road between the point and each end
        to_v, to_u = 1.0 - f, f
        if leaving:
            v_time = to_v * self.time[e]
            v_ok = np.ones(len(e), bool)
            u_time = np.where(has_tw, to_u * tw_time, 0.0)
            u_ok = has_tw | (to_u * glen <= NODE_TOLERANCE_M)
        else:
            u_time = to_u * self.time[e]
            u_ok = np.ones(len(e), bool)
            v_time = np.where(has_tw, to_v * tw_time, 0.0)
            v_ok = has_tw | (to_v * glen <= NODE_TOLERANCE_M)
        length = g.edge_length[e]
        owner = np.concatenate([idx[v_ok], idx[u_ok]])
        node = np.concatenate([g.edge_v[e][v_ok], g.edge_u[e][u_ok]]).astype(np.int64)
        time = np.concatenate([(acc_t + v_time)[v_ok], (acc_t + u_time)[u_ok]])
        dist = np.concatenate([(acc_m + to_v * length)[v_ok], (acc_m + to_u * length)[u_ok]])
        side = np.concatenate([np.ones(v_ok.sum(), np.int8), np.zeros(u_ok.sum(), np.int8)])
        return Attachments(owner, node, time, dist, side)

    def _attach_one(self, snaps: Snaps, access_speed_ms: float, leaving: bool) -> Attachments:
        """:meth:`attach` of one point in plain floats (the same arithmetic, in the same
        order: the same bits), for the incident of every query."""
        e = int(snaps.edge[0])
        if e < 0:
            return Attachments(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                               np.zeros(0), np.zeros(0, np.int8))
        f = float(snaps.frac[0])
        glen = float(self.snapper.edge_geomlen[e])
        acc_m = float(snaps.access_m[0])
        acc_t = acc_m / access_speed_ms
        tw = int(self.twin[e])
        tw_time = float(self.time[tw]) if tw >= 0 else 0.0
        to_v, to_u = 1.0 - f, f
        t_e = float(self.time[e])
        if leaving:
            v_time, v_ok = to_v * t_e, True
            u_time = to_u * tw_time if tw >= 0 else 0.0
            u_ok = tw >= 0 or to_u * glen <= NODE_TOLERANCE_M
        else:
            u_time, u_ok = to_u * t_e, True
            v_time = to_v * tw_time if tw >= 0 else 0.0
            v_ok = tw >= 0 or to_v * glen <= NODE_TOLERANCE_M
        length = float(self.graph.edge_length[e])
        rows = [(int(self.graph.edge_v[e]), acc_t + v_time, acc_m + to_v * length, 1)] * v_ok
        rows += [(int(self.graph.edge_u[e]), acc_t + u_time, acc_m + to_u * length, 0)] * u_ok
        node, time, dist, side = zip(*rows, strict=True) if rows else ((), (), (), ())
        return Attachments(np.zeros(len(rows), np.int64), np.array(node, np.int64),
                           np.array(time, np.float64), np.array(dist, np.float64),
                           np.array(side, np.int8))

    def along_same_road(self, team: Snaps, incident: Snaps, access_speed_ms: float,
                        idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Time/length for points on the incident's own road, driving along it only."""
        n = len(team.edge)
        t_out = np.full(n, np.inf)
        m_out = np.full(n, np.inf)
        e0, f0 = int(incident.edge[0]), float(incident.frac[0])
        same = idx[team.edge[idx] == e0]
        if len(same) == 0 or e0 < 0:
            return t_out, m_out
        s = team.frac[same]
        tw = self.twin[e0]
        fwd = s <= f0
        share = np.abs(f0 - s)
        back = share * self.time[tw] if tw >= 0 else np.full(len(same), np.inf)
        time = np.where(fwd, share * self.time[e0], back)
        access_t = (team.access_m[same] + incident.access_m[0]) / access_speed_ms
        t_out[same] = time + access_t
        m_out[same] = share * self.graph.edge_length[e0] + team.access_m[same] + \
            incident.access_m[0]
        return t_out, m_out


def _csr(src, dst, edges, time, length, n) -> Csr:
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    e = edges[order]
    return Csr(indptr, np.ascontiguousarray(dst[order].astype(np.int64)),
               np.ascontiguousarray(time[e]), np.ascontiguousarray(length[e]),
               np.ascontiguousarray(e.astype(np.int64)))
