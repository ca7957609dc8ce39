"""A hierarchy query in one compiled call: snap, seeds, same-road times, search, statuses.

On the contraction hierarchy with the teams' buckets ready, the engine's per-incident
work is ~40 small numpy steps (each a few µs) and a KD-tree snap of the incident; with
the hierarchy query itself well under 0.1 ms, those steps were most of the time. Here
they run in one numba call per profile, with the same arithmetic in the same order as
:meth:`geo_sigap.routing.snap.SnapIndex.snap`,
:meth:`geo_sigap.routing.network.ProfileNetwork.attach` and
:meth:`~geo_sigap.routing.network.ProfileNetwork.along_same_road` (the same bits), so
the answers equal the step-by-step path's.

The incident is snapped on a uniform grid over the snapping pieces' midpoints instead
of the KD-tree: rings of cells around the point until no piece outside them can be as
near (a piece is at least its midpoint's distance minus the largest half-piece away);
the nearest piece, of equally near ones the lowest — the KD-tree's answer. Metres in
the network's local projection, seconds.
"""

# ruff: noqa: PLR0913 -- the kernel takes the arrays it reads

from __future__ import annotations

import math

import numpy as np
from numba import njit

from geo_sigap.routing._ch import query as _ch_query
from geo_sigap.routing._kernel import closer_piece

_ROAD, _NOT_RANKED, _UNREACHABLE, _OFF_NETWORK = 0, 1, 2, 3  # as in engine
_MARGIN_M = 1e-6  # a ring proves the nearest piece with this much to spare


class SnapGrid:
    """The pieces of a :class:`~geo_sigap.routing.snap.SnapIndex` by grid cell of their
    midpoints: ``ptr`` (CSR over cells ``cy * nx + cx``) and ``order`` (the pieces,
    ascending in a cell, int32); the pieces' own arrays are the index's (not copied)."""

    __slots__ = ("arrays", "cell", "half", "nx", "ny", "x0", "y0")

    def __init__(self, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                 half: float, edge: np.ndarray, start: np.ndarray,
                 length: np.ndarray) -> None:
        mx, my = (ax + bx) / 2, (ay + by) / 2
        self.x0, self.y0 = float(mx.min()), float(my.min())
        w = max(float(mx.max()) - self.x0, 1.0)
        h = max(float(my.max()) - self.y0, 1.0)
        # about 4 pieces a cell, never smaller than a piece (one ring then suffices
        # for a point on a road)
        self.cell = max(2.0 * half, 1.0, math.sqrt(w * h / max(len(mx), 1)) * 2.0)
        self.nx = int(w // self.cell) + 1
        self.ny = int(h // self.cell) + 1
        self.half = float(half)
        cx = np.minimum(((mx - self.x0) / self.cell).astype(np.int64), self.nx - 1)
        cy = np.minimum(((my - self.y0) / self.cell).astype(np.int64), self.ny - 1)
        cid = cy * self.nx + cx
        order = np.argsort(cid, kind="stable").astype(np.int32)
        ptr = np.zeros(self.nx * self.ny + 1, np.int64)
        np.cumsum(np.bincount(cid, minlength=self.nx * self.ny), out=ptr[1:])
        f8 = np.float64
        self.arrays = (ptr, order, _own(ax, f8), _own(ay, f8), _own(bx, f8), _own(by, f8),
                       _own(edge, np.int64), _own(start, f8), _own(length, f8))

    def params(self) -> np.ndarray:
        return np.array([self.x0, self.y0, self.cell, self.half, self.nx, self.ny],
                        np.float64)


def rows64(n: int, cols: int, dtype=np.float64) -> np.ndarray:
    """A zeroed ``(n, cols)`` array starting on a 64-byte boundary (rows of 32 or 64
    bytes then never straddle two cache lines)."""
    size = np.dtype(dtype).itemsize
    buf = np.zeros(n * cols + 64 // size, dtype)
    off = (-buf.ctypes.data % 64) // size
    return buf[off:off + n * cols].reshape(n, cols)


@njit(cache=True, inline="always")
def _scan(c, px, py, ptr, order, ax, ay, bx, by, best, bp, bt):
    """The pieces of cell ``c`` against the nearest so far (``nearest_piece``'s
    arithmetic, bit for bit; of equally near pieces the lowest)."""
    for q in range(ptr[c], ptr[c + 1]):
        best, bp, bt = closer_piece(px, py, order[q], ax, ay, bx, by, best, bp, bt)
    return best, bp, bt


@njit(cache=True, nogil=True)
def snap_grid(px, py, gp, ptr, order, ax, ay, bx, by):
    """Nearest piece to (px, py): ``(piece, distance, t)`` (-1 when there is none)."""
    x0, y0, cell, half = gp[0], gp[1], gp[2], gp[3]
    nx, ny = int(gp[4]), int(gp[5])
    cx = min(max(int(math.floor((px - x0) / cell)), 0), nx - 1)
    cy = min(max(int(math.floor((py - y0) / cell)), 0), ny - 1)
    best, bp, bt = np.inf, -1, 0.0
    r = 0
    while True:
        lo_x, hi_x, lo_y, hi_y = cx - r, cx + r, cy - r, cy + r
        for gy in range(max(lo_y, 0), min(hi_y, ny - 1) + 1):
            if gy == lo_y or gy == hi_y:  # a whole row of the ring
                for gx in range(max(lo_x, 0), min(hi_x, nx - 1) + 1):
                    best, bp, bt = _scan(gy * nx + gx, px, py, ptr, order, ax, ay, bx, by,
                                         best, bp, bt)
            else:  # its two side cells
                if lo_x >= 0:
                    best, bp, bt = _scan(gy * nx + lo_x, px, py, ptr, order, ax, ay, bx,
                                         by, best, bp, bt)
                if hi_x <= nx - 1:
                    best, bp, bt = _scan(gy * nx + hi_x, px, py, ptr, order, ax, ay, bx,
                                         by, best, bp, bt)
        # the nearest midpoint outside the block of rings 0..r is at least lb away
        lb = np.inf
        if lo_x > 0:
            lb = min(lb, px - (x0 + lo_x * cell))
        if hi_x < nx - 1:
            lb = min(lb, x0 + (hi_x + 1) * cell - px)
        if lo_y > 0:
            lb = min(lb, py - (y0 + lo_y * cell))
        if hi_y < ny - 1:
            lb = min(lb, y0 + (hi_y + 1) * cell - py)
        if lb == np.inf or best + _MARGIN_M < lb - half:
            return bp, best, bt
        r += 1


@njit(cache=True, nogil=True)
def snap_many(px, py, gp, ptr, order, ax, ay, bx, by):
    """:func:`snap_grid` of every point (finite coordinates): ``(piece, distance, t)``."""
    n = px.shape[0]
    piece = np.empty(n, np.int64)
    dist = np.empty(n, np.float64)
    frac = np.empty(n, np.float64)
    for i in range(n):
        piece[i], dist[i], frac[i] = snap_grid(px[i], py[i], gp, ptr, order, ax, ay, bx, by)
    return piece, dist, frac


@njit(cache=True, nogil=True)
def answer(lon, lat, proj, gp, grid, net, chx, bucket, teams, ents, groups, required,
           k, max_time, ws):
    """One query on the hierarchy (see the module docstring).

    Parameters
    ----------
    lon, lat
        The incident (degrees).
    proj
        ``[lon0, lat0, kx, ky, access_speed_ms, max_snap_m, node_tolerance_m]``.
    gp, grid
        :meth:`SnapGrid.params` and :attr:`SnapGrid.arrays`.
    net
        ``(time, twin, edge_u, edge_v, edge_length, polyline length, component,
        rank)`` of the profile (its times, twins and components).
    chx, bucket
        The hierarchy's arc rows and the buckets' arrays (see
        :func:`geo_sigap.routing._ch.query`).
    teams, ents
        Per team its snap ``edge, frac, access_m`` and whether it is on the network;
        per entry its team and component.
    groups, required, k, max_time
        As :meth:`geo_sigap.routing.engine.RoutingEngine.eta_from_teams` (``k < 0``:
        none).
    ws
        A clean hierarchy workspace (left clean).

    Returns
    -------
    code, estimate, times, meet, record, scalars, kth
        Per team its status code, whether it needs a straight-line estimate (``code
        >= 2``, left to the caller), ``times`` rows ETA and metres (NaN where not
        final), ``meet`` rows best entry and meeting node (rank); ``record`` rows
        settled node, arc, from-node and seed of the settled nodes; ``scalars``:
        ``[stop_time, n_estimates, edge, frac, access_m, x, y]`` (the incident's snap)
        and then the seeds' ``(node, time, length, side)``; ``kth``: per group the
        ``k``-th best road time (inf: fewer).
    """
    lon0, lat0, kx, ky = proj[0], proj[1], proj[2], proj[3]
    speed, max_snap, tol = proj[4], proj[5], proj[6]
    n = teams.shape[0]
    code = np.empty(n, np.int8)
    n_on = 0
    for t in range(n):
        on = teams[t, 3] > 0
        code[t] = _ROAD if on else _OFF_NETWORK
        n_on += on
    times = np.full((2, n), np.nan)
    eta, meters = times[0], times[1]
    estimate = np.zeros(n, np.bool_)
    inc = np.array([np.inf, 0.0, -1.0, np.nan, np.inf, np.nan, np.nan])
    # the incident's snap (SnapIndex.snap of one point)
    px = (lon - lon0) * kx
    py = (lat - lat0) * ky
    ptr, order, ax, ay, bx, by, p_edge, p_start, p_len = grid
    time, twin, edge_u, edge_v, edge_length, geomlen, component, rank = net
    p, best_d, tp = snap_grid(px, py, gp, ptr, order, ax, ay, bx, by)
    e = -1
    f = glen = 0.0
    if p >= 0:
        e = p_edge[p]
        along = p_start[p] + tp * p_len[p]
        glen = geomlen[e]
        f = min(max(along / glen, 0.0), 1.0) if glen > 0 else 0.0
        inc[2], inc[3], inc[4] = e, f, best_d
        inc[5] = ax[p] + tp * (bx[p] - ax[p])
        inc[6] = ay[p] + tp * (by[p] - ay[p])
    if e < 0 or not best_d <= max_snap or n_on == 0:
        for t in range(n):
            code[t] = _OFF_NETWORK
            estimate[t] = True
        inc[1] = n
        return (code, estimate, times, np.full((2, n), -1, np.int64),
                np.zeros((4, 0), np.int64), inc, _kth(code, eta, groups, k))
    # its seeds (ProfileNetwork._attach_one, arriving)
    acc_m = best_d
    acc_t = acc_m / speed
    tw = twin[e]
    tw_time = time[tw] if tw >= 0 else 0.0
    t_e = time[e]
    to_v, to_u = 1.0 - f, f
    u_time = to_u * t_e
    v_time = to_v * tw_time if tw >= 0 else 0.0
    v_ok = tw >= 0 or to_v * glen <= tol
    length = edge_length[e]
    scalars = np.empty(7 + 4 * (2 if v_ok else 1))
    scalars[:7] = inc
    seeds = scalars[7:].reshape(-1, 4)
    j = 0
    if v_ok:
        seeds[0, 0], seeds[0, 1] = edge_v[e], acc_t + v_time
        seeds[0, 2], seeds[0, 3] = acc_m + to_v * length, 1.0
        j = 1
    seeds[j, 0], seeds[j, 1] = edge_u[e], acc_t + u_time
    seeds[j, 2], seeds[j, 3] = acc_m + to_u * length, 0.0
    ns = seeds.shape[0]
    seed_rank = np.empty(ns, np.int64)
    seed_time = np.empty(ns)
    seed_len = np.empty(ns)
    for s in range(ns):
        seed_rank[s] = rank[int(seeds[s, 0])]
        seed_time[s] = seeds[s, 1]
        seed_len[s] = seeds[s, 2]
    comp = component[int(seeds[0, 0])]
    # teams on the incident's road (along_same_road) and in its component
    direct_t = np.full(n, np.inf)
    direct_m = np.full(n, np.inf)
    in_comp = np.zeros(n, np.bool_)
    for j in range(ents.shape[0]):
        if ents[j, 1] == comp:
            in_comp[ents[j, 0]] = True
    for t in range(n):
        if teams[t, 3] > 0 and teams[t, 0] == e:
            s = teams[t, 1]
            t_acc = teams[t, 2]
            share = abs(f - s)
            if s <= f:
                tt = share * t_e
            else:
                tt = share * tw_time if tw >= 0 else np.inf
            direct_t[t] = tt + (t_acc + acc_m) / speed
            direct_m[t] = share * length + t_acc + acc_m
            if direct_t[t] < np.inf:
                in_comp[t] = True
    n_groups = 0
    for t in range(n):
        if groups[t] + 1 > n_groups:
            n_groups = groups[t] + 1
    need = np.zeros(n_groups, np.int64)
    req = np.zeros(n, np.bool_)
    for t in range(n):
        if in_comp[t]:
            need[groups[t]] += 1
            req[t] = required[t]
    if k >= 0:
        for g in range(n_groups):
            need[g] = min(need[g], k)
    index, b_tt, b_le = bucket
    dist, node, hk, hv, touched, set_node = ws
    out = _ch_query(chx, index, b_tt, b_le, seed_rank, seed_time, seed_len, direct_t,
                    direct_m, groups, req, need, max_time, dist, node, hk, hv, touched,
                    set_node)
    best, best_len, best_ent, best_meet, final, stop_time, n_set = out[:7]
    everything = not stop_time < np.inf  # searched everything: the rest has no path
    n_est = 0
    for t in range(n):
        if final[t]:
            eta[t] = best[t]
            meters[t] = best_len[t]
        if teams[t, 3] > 0:
            if not in_comp[t] or (everything and not final[t]):
                code[t] = _UNREACHABLE
            elif not final[t]:
                code[t] = _NOT_RANKED
        if code[t] >= _UNREACHABLE:
            estimate[t] = True
            n_est += 1
    meet = np.empty((2, n), np.int64)
    meet[0] = best_ent
    meet[1] = best_meet
    record = np.empty((4, n_set), np.int64)
    record[0] = set_node[:n_set]
    record[1], record[2], record[3] = out[7], out[8], out[9]
    scalars[0], scalars[1] = stop_time, n_est
    return code, estimate, times, meet, record, scalars, _kth(code, eta, groups, k)


@njit(cache=True, inline="always")
def _kth(code, eta, groups, k):
    """Per group the k-th best road time (inf: fewer road teams; ``k < 1``: all inf)."""
    n_groups = 0
    for t in range(groups.shape[0]):
        if groups[t] + 1 > n_groups:
            n_groups = groups[t] + 1
    kk = max(k, 1)
    top = np.full((n_groups, kk), np.inf)
    if k >= 1:
        for t in range(code.shape[0]):
            if code[t] == _ROAD:
                g, v = groups[t], eta[t]
                if v < top[g, kk - 1]:
                    j = kk - 1
                    while j > 0 and top[g, j - 1] > v:
                        top[g, j] = top[g, j - 1]
                        j -= 1
                    top[g, j] = v
    return top[:, kk - 1].copy()


def statics(net, ch, projection, access_speed_ms: float, max_snap_m: float,
            node_tolerance_m: float) -> tuple:
    """The arrays :func:`answer` reads of a profile and its hierarchy (the network's own
    where their dtypes fit: one compiled signature)."""
    sn = net.snapper
    g = net.graph
    i4, i8, f8 = np.int32, np.int64, np.float64
    proj = np.array([projection.lon0, projection.lat0, projection._kx, projection._ky,
                     access_speed_ms, max_snap_m, node_tolerance_m], f8)
    nett = (_own(net.time, f8), _own(net.twin, i4), _own(g.edge_u, i4), _own(g.edge_v, i4),
            _own(g.edge_length, f8), _own(sn.edge_geomlen, f8), _own(net.component, i4),
            _own(ch.rank, i8))
    prefault(*sn.grid.arrays, *nett, ch.arc)
    return proj, sn.grid.params(), sn.grid.arrays, nett, ch.arc


def prefault(*arrays: np.ndarray) -> None:
    """Read one byte of every memory page of ``arrays`` now (a memory-mapped file's
    pages are otherwise mapped one fault at a time as queries first touch them: on a
    200k-node graph hundreds of faults a query for the first few thousand queries)."""
    for a in arrays:
        if a.size and a.flags.c_contiguous:
            int(a.reshape(-1).view(np.uint8)[::4096].sum())


def _own(a: np.ndarray, dtype) -> np.ndarray:
    """``a`` itself when writable, C-contiguous and of ``dtype``, else a copy so."""
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable:
        return np.asarray(a)  # a memory-mapped file's array as a plain one
    return np.array(a, dtype)


def team_arrays(snaps, on_net: np.ndarray, ents, ent_comp: np.ndarray) -> tuple:
    """The teams' part of :func:`answer`'s input (per team-position batch)."""
    teams = np.empty((len(snaps.edge), 4))
    teams[:, 0], teams[:, 1], teams[:, 2], teams[:, 3] = (snaps.edge, snaps.frac,
                                                          snaps.access_m, on_net)
    rows = np.empty((len(ents.owner), 2), np.int64)
    rows[:, 0], rows[:, 1] = ents.owner, ent_comp
    return teams, rows


def warm_up(ch, buckets) -> None:
    """Compile (or load the compiled) :func:`answer` on a one-road input with the
    dtypes and layouts of the real calls (``ch``/``buckets``: a tiny hierarchy's)."""
    i4 = np.int32
    grid = SnapGrid(np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1), 0.5,
                    np.zeros(1, np.int64), np.zeros(1), np.ones(1))
    proj = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 100.0, 2.0])
    nett = (np.ones(1), np.full(1, -1, i4), np.zeros(1, i4), np.ones(1, i4), np.ones(1),
            np.ones(1), np.zeros(ch.n_nodes, i4), np.array(ch.rank, np.int64))
    teams = np.array([[0.0, 0.0, 0.0, 1.0]])
    ws = ch.take_workspace()
    answer(0.5, 0.1, proj, grid.params(), grid.arrays, nett, ch.arc, buckets.arrays,
           teams, np.zeros((1, 2), np.int64), np.zeros(1, np.int64), np.zeros(1, np.bool_),
           1, np.inf, ws)
    ch.give_back(ws)
