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

_ROAD, _NOT_RANKED, _UNREACHABLE, _OFF_NETWORK = 0, 1, 2, 3  # as in engine
_MARGIN_M = 1e-6  # a ring proves the nearest piece with this much to spare


class SnapGrid:
    """The pieces of a :class:`~geo_sigap.routing.snap.SnapIndex` by grid cell of their
    midpoints (CSR over cells ``cy * nx + cx``, pieces ascending in a cell)."""

    __slots__ = ("arrays", "cell", "half", "nx", "ny", "x0", "y0")

    def __init__(self, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                 half: float) -> None:
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
        order = np.argsort(cid, kind="stable")
        ptr = np.zeros(self.nx * self.ny + 1, np.int64)
        np.cumsum(np.bincount(cid, minlength=self.nx * self.ny), out=ptr[1:])
        self.arrays = (ptr, np.ascontiguousarray(order.astype(np.int64)),
                       np.array(ax, np.float64), np.array(ay, np.float64),
                       np.array(bx, np.float64), np.array(by, np.float64))

    def params(self) -> np.ndarray:
        return np.array([self.x0, self.y0, self.cell, self.half, self.nx, self.ny],
                        np.float64)


@njit(cache=True, inline="always")
def _scan(c, px, py, ptr, pieces, ax, ay, bx, by, best, bp, bt):
    """The pieces of cell ``c`` against the nearest so far (``nearest_piece``'s
    arithmetic, bit for bit; of equally near pieces the lowest)."""
    for q in range(ptr[c], ptr[c + 1]):
        p = pieces[q]
        x0, y0 = ax[p], ay[p]
        dx, dy = bx[p] - x0, by[p] - y0
        ll = dx * dx + dy * dy
        t = ((px - x0) * dx + (py - y0) * dy) / ll if ll > 0 else 0.0
        t = min(max(t, 0.0), 1.0)
        d = np.hypot(x0 + t * dx - px, y0 + t * dy - py)
        if d < best or (d == best and p < bp):
            best, bp, bt = d, p, t
    return best, bp, bt


@njit(cache=True, nogil=True)
def snap_grid(px, py, gp, ptr, pieces, ax, ay, bx, by):
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
                    best, bp, bt = _scan(gy * nx + gx, px, py, ptr, pieces, ax, ay, bx,
                                         by, best, bp, bt)
            else:  # its two side cells
                if lo_x >= 0:
                    best, bp, bt = _scan(gy * nx + lo_x, px, py, ptr, pieces, ax, ay, bx,
                                         by, best, bp, bt)
                if hi_x <= nx - 1:
                    best, bp, bt = _scan(gy * nx + hi_x, px, py, ptr, pieces, ax, ay, bx,
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
def answer(lon, lat, proj, gp, grid, snap, net, chx, bucket, teams, groups, required,
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
    snap
        ``(piece_edge, piece_start, piece_len, edge_geomlen)``.
    net
        ``(time, twin, edge_u, edge_v, edge_length, component, rank)`` of the profile.
    chx, bucket
        The hierarchy's arc rows and the buckets' arrays (see
        :func:`geo_sigap.routing._ch.query`).
    teams
        ``(edge, frac, access_m, on_net, ent_owner, ent_comp)``: the teams' snaps, on
        the network or not, their entries' owners and components.
    groups, required, k, max_time
        As :meth:`geo_sigap.routing.engine.RoutingEngine.eta_from_teams` (``k < 0``:
        none).
    ws
        A clean hierarchy workspace (left clean).

    Returns
    -------
    code, estimate, times, meet, record, scalars
        Per team its status code, whether it needs a straight-line estimate (``code
        >= 2``, left to the caller), ``times`` rows ETA and metres (NaN where not
        final), ``meet`` rows best entry and meeting node (rank); ``record`` rows
        settled node, arc, from-node and seed of the settled nodes; ``scalars``:
        ``[stop_time, n_estimates, edge, frac, access_m, x, y]`` (the incident's snap)
        and then the seeds' ``(node, time, length, side)``.
    """
    lon0, lat0, kx, ky = proj[0], proj[1], proj[2], proj[3]
    speed, max_snap, tol = proj[4], proj[5], proj[6]
    time, twin, edge_u, edge_v, edge_length, component, rank = net
    p_edge, p_start, p_len, geomlen = snap
    t_edge, t_frac, t_acc, on_net, ent_owner, ent_comp = teams
    n = t_edge.shape[0]
    code = np.empty(n, np.int8)
    n_on = 0
    for t in range(n):
        code[t] = _ROAD if on_net[t] else _OFF_NETWORK
        n_on += on_net[t]
    times = np.full((2, n), np.nan)
    eta, meters = times[0], times[1]
    estimate = np.zeros(n, np.bool_)
    inc = np.array([np.inf, 0.0, -1.0, np.nan, np.inf, np.nan, np.nan])
    # the incident's snap (SnapIndex.snap of one point)
    px = (lon - lon0) * kx
    py = (lat - lat0) * ky
    p, best_d, tp = snap_grid(px, py, gp, *grid)
    e = -1
    if p >= 0:
        e = p_edge[p]
        along = p_start[p] + tp * p_len[p]
        glen = geomlen[e]
        f = min(max(along / glen, 0.0), 1.0) if glen > 0 else 0.0
        ax, ay, bx, by = grid[2], grid[3], grid[4], grid[5]
        inc[2], inc[3], inc[4] = e, f, best_d
        inc[5] = ax[p] + tp * (bx[p] - ax[p])
        inc[6] = ay[p] + tp * (by[p] - ay[p])
    if e < 0 or not best_d <= max_snap or n_on == 0:
        for t in range(n):
            code[t] = _OFF_NETWORK
            estimate[t] = True
        inc[1] = n
        return (code, estimate, times, np.full((2, n), -1, np.int64),
                np.zeros((4, 0), np.int64), inc)
    # its seeds (ProfileNetwork._attach_one, arriving)
    acc_m = best_d
    acc_t = acc_m / speed
    tw = twin[e]
    tw_time = time[tw] if tw >= 0 else 0.0
    to_v, to_u = 1.0 - f, f
    u_time = to_u * time[e]
    v_time = to_v * tw_time if tw >= 0 else 0.0
    v_ok = tw >= 0 or to_v * geomlen[e] <= tol
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
    for j in range(ent_owner.shape[0]):
        if ent_comp[j] == comp:
            in_comp[ent_owner[j]] = True
    tw_e = twin[e]
    for t in range(n):
        if on_net[t] and t_edge[t] == e:
            s = t_frac[t]
            share = abs(f - s)
            if s <= f:
                tt = share * time[e]
            else:
                tt = share * time[tw_e] if tw_e >= 0 else np.inf
            direct_t[t] = tt + (t_acc[t] + acc_m) / speed
            direct_m[t] = share * length + t_acc[t] + acc_m
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
        if on_net[t]:
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
    return code, estimate, times, meet, record, scalars


def statics(net, ch, projection, access_speed_ms: float, max_snap_m: float,
            node_tolerance_m: float) -> tuple:
    """The arrays :func:`answer` reads of a profile and its hierarchy, made once
    (writable, contiguous, fixed dtypes: one compiled signature)."""
    sn = net.snapper
    grid = sn.grid
    g = net.graph
    i8, f8 = np.int64, np.float64
    proj = np.array([projection.lon0, projection.lat0, projection._kx, projection._ky,
                     access_speed_ms, max_snap_m, node_tolerance_m], f8)
    snap = (_own(sn._edge, i8), _own(sn._start, f8), _own(sn._len, f8),
            _own(sn.edge_geomlen, f8))
    nett = (_own(net.time, f8), _own(net.twin, i8), _own(g.edge_u, i8), _own(g.edge_v, i8),
            _own(g.edge_length, f8), _own(net.component, i8), _own(ch.rank, i8))
    chx = ch.arc
    return proj, grid.params(), grid.arrays, snap, nett, chx


def _own(a: np.ndarray, dtype) -> np.ndarray:
    """``a`` itself when writable, C-contiguous and of ``dtype``, else a copy so."""
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, dtype)


def team_arrays(snaps, on_net: np.ndarray, ents, ent_comp: np.ndarray) -> tuple:
    """The teams' part of :func:`answer`'s input (per team-position batch)."""
    return (np.array(snaps.edge, np.int64), np.array(snaps.frac, np.float64),
            np.array(snaps.access_m, np.float64), np.array(on_net, np.bool_),
            np.array(ents.owner, np.int64), np.array(ent_comp, np.int64))


def warm_up(ch, buckets) -> None:
    """Compile (or load the compiled) :func:`answer` on a one-road input with the
    dtypes and layouts of the real calls (``ch``/``buckets``: a tiny hierarchy's)."""
    i8, f8 = np.int64, np.float64
    grid = SnapGrid(np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1), 0.5)
    proj = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 100.0, 2.0])
    one_i, one_f = np.zeros(1, i8), np.ones(1, f8)
    snap = (one_i.copy(), np.zeros(1), one_f.copy(), one_f.copy())
    nett = (one_f.copy(), np.full(1, -1, i8), np.zeros(1, i8), np.ones(1, i8), one_f.copy(),
            np.zeros(ch.n_nodes, i8), np.array(ch.rank, i8))
    teams = (np.zeros(1, i8), np.zeros(1), np.zeros(1), np.ones(1, np.bool_),
             np.zeros(1, i8), np.zeros(1, i8))
    ws = ch.take_workspace()
    answer(0.5, 0.1, proj, grid.params(), grid.arrays, snap, nett, ch.arc, buckets.arrays,
           teams, np.zeros(1, i8), np.zeros(1, np.bool_), 1, np.inf, ws)
    ch.give_back(ws)
