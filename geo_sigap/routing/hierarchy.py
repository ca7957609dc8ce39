"""One profile's contraction hierarchy: its arrays, workspaces, buckets and routes.

Built by :func:`geo_sigap.routing._ch.build` (seconds to a minute for a city, in a
background thread at the service's warm-up) and kept with the profile's other
prepared data (:mod:`geo_sigap.routing._prepared`), so a restart loads it in well
under a second. Node numbers given to and taken from this class are the graph's;
the hierarchy works on ranks inside. Times are seconds, lengths metres.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from geo_sigap.routing import _ch, _fused, _prepared

# From this many nodes up a hierarchy is built. Not for its search, which on a small
# graph is no faster than the plain early-stop one, but for the one compiled call per
# profile it allows (routing/_fused.py): the step-by-step path around the plain search
# is a few dozen numpy calls, most of a suggestion's cost on a town-size graph (the
# 1,461-node demo: 0.75 → 0.21 ms per suggestion; Kota Jambi's 468 nodes: 0.41 → 0.22
# ms). Building one takes milliseconds there; below this size a test's toy graph keeps
# the plain path.
CH_MIN_NODES = 300
CH_PARAMS = f"CH1|W{_ch.WITNESS_SETTLE}"


class _Workspace:
    """A query's node rows (see :func:`_ch.query`; on 64-byte boundaries: one cache
    line a node), its heap, touched and settled nodes."""

    __slots__ = ("arrays",)

    def __init__(self, n: int, heap: int) -> None:
        node = _rows(n, _ch.NODE_COLUMNS, np.float64)
        node.fill(0.0)  # its pages mapped now, not a fault at a time in queries
        self.arrays = (np.full(n, np.inf), node,
                       np.empty(heap), np.empty(heap, np.int64), np.empty(n, np.int64),
                       np.empty(n, np.int64))


def _rows(n: int, cols: int, dtype) -> np.ndarray:
    return _fused.rows64(n, cols, dtype)


class Buckets:
    """The teams' upward searches of one team-position batch (see :func:`_ch.buckets`);
    ``per_team`` keeps each team's meetings by its entries (for the next batch)."""

    __slots__ = ("arrays", "n_teams", "per_team", "searched")

    def __init__(self, arrays: tuple[np.ndarray, ...], n_teams: int,
                 per_team: dict[bytes, tuple[np.ndarray, ...]], searched: int) -> None:
        self.arrays = arrays
        self.n_teams = n_teams
        self.per_team = per_team
        self.searched = searched  # teams searched for this batch (the others reused)


class Hierarchy:
    """The arrays of :data:`geo_sigap.routing._ch.CH_ARRAYS` for one profile."""

    def __init__(self, arrays: dict[str, np.ndarray], path: Path | None = None) -> None:
        for name in _ch.CH_ARRAYS:
            setattr(self, name, np.ascontiguousarray(arrays[name]))
        self.n_nodes = int(self.rank.shape[0])
        self._heap = int(self.ub_ptr[-1]) + 64
        self._arc: tuple[np.ndarray, ...] | None = None  # see arc_layout
        # where the arc rows are kept beside the saved hierarchy (None: in memory only)
        self._rows_path = path.with_name(path.name + ".rows") if path is not None else None
        self._free: list[tuple[np.ndarray, ...]] = []
        self._lock = threading.Lock()

    @property
    def arc(self) -> np.ndarray:
        return self.arc_layout()[0]

    def arc_layout(self) -> tuple[np.ndarray, ...]:
        """The arcs as the query reads them (:func:`_ch.arc_rows`) and per node where its
        block starts, where its downward arcs start and where it ends: read from beside
        the saved hierarchy (memory-mapped: pages read when a query touches them), else
        made (a few ms, the GIL released) and saved there."""
        got = self._arc
        if got is None:
            with self._lock:
                if self._arc is None:
                    self._arc = self._load_rows() or self._make_rows()
                got = self._arc
        return got

    def _load_rows(self) -> tuple[np.ndarray, ...] | None:
        saved = _prepared.load(self._rows_path, ("arc", "lo", "mid"))
        n_arcs = int(self.uf_ptr[-1] + self.ub_ptr[-1])
        if (saved is None or saved["arc"].shape != (n_arcs, 4)
                or saved["lo"].shape != (self.n_nodes + 1,)
                or saved["mid"].shape != (self.n_nodes,)
                or saved["arc"].ctypes.data % 32):
            return None
        lo = saved["lo"]
        return saved["arc"], lo[:-1], saved["mid"], lo[1:]

    def _make_rows(self) -> tuple[np.ndarray, ...]:
        arc = _rows(int(self.uf_ptr[-1] + self.ub_ptr[-1]), 4, np.float64)
        lo, mid = _ch.arc_rows(self.uf_ptr, self.uf_dst, self.uf_wt, self.ub_ptr,
                               self.ub_dst, self.ub_wt, self.ub_ln, self.ub_edge, arc)
        _prepared.save(self._rows_path, {"arc": arc, "lo": lo, "mid": mid})
        return arc, lo[:-1], mid, lo[1:]

    @classmethod
    def load_or_build(cls, path: Path | None, n_nodes: int, src, dst, wt, ln,
                      eid) -> Hierarchy:
        saved = _prepared.load(path, _ch.CH_ARRAYS)
        if saved is not None and saved["rank"].shape[0] == n_nodes:
            return cls(saved, path)
        arrays = _ch.build(n_nodes, src, dst, wt, ln, eid)
        _prepared.save(path, arrays)
        return cls(arrays, path)

    @classmethod
    def load(cls, path: Path | None, n_nodes: int) -> Hierarchy | None:
        saved = _prepared.load(path, _ch.CH_ARRAYS)
        if saved is None or saved["rank"].shape[0] != n_nodes:
            return None
        return cls(saved, path)

    def take_workspace(self) -> tuple[np.ndarray, ...]:
        """A clean workspace for one query; :meth:`give_back` it when done (not after
        an error: it may not be clean)."""
        with self._lock:
            ws = self._free.pop() if self._free else None
        return ws if ws is not None else _Workspace(self.n_nodes, self._heap).arrays

    def give_back(self, arrays: tuple[np.ndarray, ...]) -> None:
        with self._lock:
            self._free.append(arrays)

    @contextmanager
    def workspace(self) -> Iterator[tuple[np.ndarray, ...]]:
        """Clean node-sized arrays for one query (made on first need, then reused)."""
        ws = self.take_workspace()
        yield ws  # not given back after an error: it may not be clean
        self.give_back(ws)

    def buckets(self, ent_team: np.ndarray, ent_node: np.ndarray, ent_off: np.ndarray,
                ent_len: np.ndarray, n_teams: int, previous: Buckets | None = None) -> Buckets:
        """Buckets of team entries (graph nodes, seconds and metres to the node); a
        team whose entries are the same as in ``previous`` (the last batch) is not
        searched again, so a batch where a few teams moved costs those few."""
        ent_team = np.ascontiguousarray(ent_team, np.int64)
        node = np.asarray(ent_node, np.int64)
        off = np.asarray(ent_off, np.float64)
        length = np.asarray(ent_len, np.float64)
        order = np.argsort(ent_team, kind="stable")
        starts = np.searchsorted(ent_team[order], np.arange(n_teams + 1))
        st = starts.tolist()
        key = np.column_stack([node[order].astype(np.float64), off[order], length[order]])
        keys = [key[st[t]:st[t + 1]].tobytes() for t in range(n_teams)]
        known = previous.per_team if previous is not None else {}
        new = [t for t in range(n_teams) if st[t + 1] > st[t] and keys[t] not in known]
        per_team: dict[bytes, tuple[np.ndarray, ...]] = {}
        if new:
            rows = np.concatenate([order[st[t]:st[t + 1]] for t in new])
            o_node, o_team, o_t, o_l, o_e = _ch.team_searches(
                self.uf_ptr, self.uf_dst, self.uf_wt, self.uf_ln, self.ub_ptr, self.ub_dst,
                self.ub_wt, self.n_nodes, ent_team[rows],
                np.ascontiguousarray(self.rank[node[rows]]),
                np.ascontiguousarray(off[rows]), np.ascontiguousarray(length[rows]))
            place = np.empty(len(order), np.int64)
            place[order] = np.arange(len(order))
            local = place[rows[o_e]] - starts[o_team]  # the entry's place in its team
            cut = np.searchsorted(o_team, np.asarray(new + [n_teams])).tolist()
            for j, t in enumerate(new):
                a, b = cut[j], cut[j + 1]
                per_team[keys[t]] = (o_node[a:b], o_t[a:b], o_l[a:b], local[a:b])
        teams, parts = [], []
        for t in range(n_teams):
            if st[t + 1] > st[t]:
                got = per_team.get(keys[t])
                if got is None:
                    got = per_team[keys[t]] = known[keys[t]]
                teams.append(t)
                parts.append(got)
        if parts:
            sizes = [len(p[0]) for p in parts]
            o_team = np.repeat(np.array(teams, np.int64), sizes)
            o_e = order[starts[o_team] + np.concatenate([p[3] for p in parts])]
            arrays = _ch.make_buckets(self.n_nodes, np.concatenate([p[0] for p in parts]),
                                      o_team, np.concatenate([p[1] for p in parts]),
                                      np.concatenate([p[2] for p in parts]), o_e)
        else:
            z = np.zeros(0, np.int64)
            arrays = _ch.make_buckets(self.n_nodes, z, z, np.zeros(0), np.zeros(0), z)
        return Buckets(self._indexed(arrays), n_teams, per_team, len(new))

    def _indexed(self, arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """The query's input of a batch's buckets: per node one row with where its arcs
        and bucket are (see :func:`_ch.query`), the bucket rows."""
        b_ptr, b_tt, b_le = arrays
        index = _rows(self.n_nodes, _ch.INDEX_COLUMNS, np.int64)
        _arc, lo, mid, hi = self.arc_layout()
        index[:, _ch._ARC_LO], index[:, _ch._ARC_MID], index[:, _ch._ARC_HI] = lo, mid, hi
        index[:, _ch._B_LO], index[:, _ch._B_HI] = b_ptr[:-1], b_ptr[1:]
        return index, b_tt, b_le

    def query(self, buckets: Buckets, seed_node, seed_time, seed_len, team_init,
              team_init_len, team_group, team_required, group_need, max_time: float):
        """:func:`geo_sigap.routing._ch.query` on a pooled workspace: ``(best, best_len,
        best_ent, final, stop_time, n_settled, paths)``."""
        with self.workspace() as ws:
            out = _ch.query(self.arc, *buckets.arrays,
                            np.ascontiguousarray(self.rank[seed_node]), seed_time, seed_len,
                            team_init, team_init_len, team_group, team_required, group_need,
                            float(max_time), *ws)
            best, best_len, best_ent, best_meet, final, stop, n_set = out[:7]
            settled = ws[5][:n_set].copy()
        return (best, best_len, best_ent, final, stop, n_set,
                HierarchyPaths(self, best_ent, best_meet, settled, *out[7:]))

    def path_edges(self, start_node: int, meet: int, settled: np.ndarray,
                   rec_edge: np.ndarray, rec_from: np.ndarray,
                   rec_label: np.ndarray) -> tuple[list[int], int]:
        """Original edge ids from graph node ``start_node`` up to ``meet`` (a rank) and
        down to a seed, in travel order, and that seed's index."""
        up = _ch.up_path(self.uf_ptr, self.uf_dst, self.uf_wt, self.uf_edge, self.n_nodes,
                         int(self.rank[start_node]), int(meet))
        where = {int(x): j for j, x in enumerate(settled.tolist())}
        down = []
        j = where[int(meet)]
        while rec_edge[j] >= 0:
            down.append(int(rec_edge[j]))
            j = where[int(rec_from[j])]
        return (_ch.unpack(list(up.tolist()) + down, self.e_c1, self.e_c2, self.e_orig),
                int(rec_label[j]))


class HierarchyPaths:
    """A finished hierarchy query's routes, unpacked per team on demand."""

    def __init__(self, ch: Hierarchy, best_ent, best_meet, settled, rec_edge, rec_from,
                 rec_label) -> None:
        self.ch, self.best_ent, self.best_meet = ch, best_ent, best_meet
        self.record = (settled, rec_edge, rec_from, rec_label)

    def for_team(self, i: int, start_node: int, edge_u: np.ndarray, edge_v: np.ndarray):
        """``(via, label)`` as :class:`geo_sigap.routing.engine._Paths` gives them,
        holding team ``i``'s path only (edge used at each node, seed at the end)."""
        edges, seed = self.ch.path_edges(start_node, int(self.best_meet[i]), *self.record)
        via: defaultdict[int, int] = defaultdict(lambda: -1)
        label: defaultdict[int, int] = defaultdict(lambda: -1)
        for e in edges:
            via[int(edge_u[e])] = e
        label[int(edge_v[edges[-1]]) if edges else int(start_node)] = seed
        return via, label


def warm_up_kernels() -> None:
    """Compile (or load the compiled) hierarchy kernels on a 3-node graph (the fused
    query of :mod:`geo_sigap.routing._fused` too)."""
    src = np.array([0, 1, 1, 2], np.int64)
    dst = np.array([1, 0, 2, 1], np.int64)
    one = np.ones(4)
    ch = Hierarchy(_ch.build(3, src, dst, one, one, np.arange(4)))
    b = ch.buckets(np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1), np.zeros(1), 1)
    z = np.zeros(1)
    out = ch.query(b, np.array([2]), z, z, np.full(1, np.inf), np.full(1, np.inf),
                   np.zeros(1, np.int64), np.zeros(1, bool), np.ones(1, np.int64), np.inf)
    out[-1].ch.path_edges(0, int(out[-1].best_meet[0]), *out[-1].record)
    _fused.warm_up(ch, b)  # the one-call query on a hierarchy
