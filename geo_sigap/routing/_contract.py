"""Contraction of a directed graph into a hierarchy (numba); see :mod:`._ch`.

Nodes are contracted in the order of a lazily updated priority (edge difference +
contracted neighbours + level); a shortcut ``u→w`` is added for ``u→v→w`` unless a
witness search (at most :data:`WITNESS_SETTLE` settled nodes) finds a path at most as
fast without ``v``. Times are seconds, lengths metres.
"""

# ruff: noqa: PLR1730 -- explicit comparisons in the kernels

from __future__ import annotations

import numpy as np
from numba import njit

from geo_sigap.routing._kernel import _pop, _push

CH_ARRAYS = ("rank", "uf_ptr", "uf_dst", "uf_wt", "uf_ln", "uf_edge",
             "ub_ptr", "ub_dst", "ub_wt", "ub_ln", "ub_edge", "e_c1", "e_c2", "e_orig")
WITNESS_SETTLE = 60  # nodes a witness search may settle (more: fewer shortcuts, slower)


# ---------------------------------------------------------------- build
@njit(cache=True, nogil=True)
def _witness(u, skip, limit, settle_max, out_head, out_next, e_dst, e_wt, contracted,
             wdist, touched, hk, hv, targets_left, is_target):
    """Dijkstra from ``u`` avoiding ``skip`` and contracted nodes, at most ``limit``
    seconds and ``settle_max`` settled nodes; ``wdist`` holds the times (reset by the
    caller through ``touched``). Returns the number of touched nodes."""
    nt = 0
    wdist[u] = 0.0
    touched[nt] = u
    nt += 1
    hs = _push(hk, hv, 0, 0.0, u)
    settled = 0
    cap = hk.shape[0] - 1
    while hs > 0:
        d, x, hs = _pop(hk, hv, hs)
        if d > wdist[x]:
            continue
        if d > limit:
            break
        if is_target[x]:
            targets_left -= 1
            if targets_left <= 0:
                break
        settled += 1
        if settled > settle_max:
            break
        e = out_head[x]
        while e >= 0:
            y = e_dst[e]
            if y != skip and not contracted[y]:
                nd = d + e_wt[e]
                if nd < wdist[y]:
                    if wdist[y] == np.inf:
                        touched[nt] = y
                        nt += 1
                    wdist[y] = nd
                    if hs < cap:
                        hs = _push(hk, hv, hs, nd, y)
            e = out_next[e]
    return nt


@njit(cache=True, nogil=True)
def _gather(v, head, nxt, other, e_wt, contracted, slot, nb, nb_e):
    """Alive neighbours of ``v`` along one list (``other``: the far end of an edge),
    the fastest edge per neighbour; dead edges are unlinked on the way. Returns the
    count (``nb``/``nb_e``: neighbour and edge)."""
    k = 0
    prev = -1
    e = head[v]
    while e >= 0:
        nx_ = nxt[e]
        y = other[e]
        if contracted[y] or y == v:
            if prev < 0:
                head[v] = nx_
            else:
                nxt[prev] = nx_
        else:
            j = slot[y]
            if j < 0:
                slot[y] = k
                nb[k] = y
                nb_e[k] = e
                k += 1
            elif e_wt[e] < e_wt[nb_e[j]]:
                nb_e[j] = e
            prev = e
        e = nx_
    for j in range(k):
        slot[nb[j]] = -1
    return k


@njit(cache=True, nogil=True)
def _contract_sim(v, out_head, out_next, in_head, in_next, e_src, e_dst, e_wt,
                  contracted, slot, in_nb, in_e, out_nb, out_e, wdist, touched, hk, hv,
                  is_target, sc_u, sc_w, sc_a, sc_b, settle_max):
    """Shortcuts contracting ``v`` needs: ``(count, n_in, n_out)``; the shortcuts in
    ``sc_*`` (from, to, in-edge, out-edge); count -1 when they do not fit."""
    n_in = _gather(v, in_head, in_next, e_src, e_wt, contracted, slot, in_nb, in_e)
    n_out = _gather(v, out_head, out_next, e_dst, e_wt, contracted, slot, out_nb, out_e)
    if n_in == 0 or n_out == 0:
        return 0, n_in, n_out
    max_out = 0.0
    for j in range(n_out):
        w = e_wt[out_e[j]]
        if w > max_out:
            max_out = w
    n_sc = 0
    for i in range(n_in):
        u = in_nb[i]
        wu = e_wt[in_e[i]]
        n_tg = 0
        for j in range(n_out):
            if out_nb[j] != u:
                is_target[out_nb[j]] = True
                n_tg += 1
        if n_tg == 0:
            continue
        nt = _witness(u, v, wu + max_out, settle_max, out_head, out_next, e_dst, e_wt,
                      contracted, wdist, touched, hk, hv, n_tg, is_target)
        for j in range(n_out):
            w = out_nb[j]
            if w == u:
                continue
            is_target[w] = False
            via = wu + e_wt[out_e[j]]
            if wdist[w] > via:
                if n_sc >= sc_u.shape[0]:
                    n_sc = -1
                    break
                sc_u[n_sc] = u
                sc_w[n_sc] = w
                sc_a[n_sc] = in_e[i]
                sc_b[n_sc] = out_e[j]
                n_sc += 1
        for t in range(nt):
            wdist[touched[t]] = np.inf
        if n_sc < 0:
            for j in range(n_out):
                is_target[out_nb[j]] = False
            return -1, n_in, n_out
    return n_sc, n_in, n_out


@njit(cache=True, nogil=True)
def _build(n, src, dst, wt, ln, eid, cap, settle_max):
    """Contract every node; returns ``(ok, rank, m, e_src, e_dst, e_wt, e_ln, e_c1,
    e_c2, e_orig)`` (``ok`` False when ``cap`` edges are not enough)."""
    e_src = np.empty(cap, np.int64)
    e_dst = np.empty(cap, np.int64)
    e_wt = np.empty(cap)
    e_ln = np.empty(cap)
    e_c1 = np.full(cap, -1, np.int64)
    e_c2 = np.full(cap, -1, np.int64)
    e_orig = np.full(cap, -1, np.int64)
    out_head = np.full(n, -1, np.int64)
    in_head = np.full(n, -1, np.int64)
    out_next = np.empty(cap, np.int64)
    in_next = np.empty(cap, np.int64)
    m = 0
    for i in range(src.shape[0]):
        a, b = src[i], dst[i]
        if a == b:
            continue
        e_src[m], e_dst[m], e_wt[m], e_ln[m], e_orig[m] = a, b, wt[i], ln[i], eid[i]
        out_next[m] = out_head[a]
        out_head[a] = m
        in_next[m] = in_head[b]
        in_head[b] = m
        m += 1
    contracted = np.zeros(n, np.bool_)
    cn = np.zeros(n, np.int64)
    level = np.zeros(n, np.int64)
    slot = np.full(n, -1, np.int64)
    wdist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    hk = np.empty(1 << 15)
    hv = np.empty(1 << 15, np.int64)
    is_target = np.zeros(n, np.bool_)
    big = 1 << 14
    in_nb = np.empty(big, np.int64)
    in_e = np.empty(big, np.int64)
    out_nb = np.empty(big, np.int64)
    out_e = np.empty(big, np.int64)
    sc_u = np.empty(big, np.int64)
    sc_w = np.empty(big, np.int64)
    sc_a = np.empty(big, np.int64)
    sc_b = np.empty(big, np.int64)
    rank = np.full(n, -1, np.int64)
    # initial priorities
    pk = np.empty(n + 1)
    pv = np.empty(n + 1, np.int64)
    ps = 0
    for v in range(n):
        c, ni, no = _contract_sim(v, out_head, out_next, in_head, in_next, e_src, e_dst,
                                  e_wt, contracted, slot, in_nb, in_e, out_nb, out_e,
                                  wdist, touched, hk, hv, is_target, sc_u, sc_w, sc_a,
                                  sc_b, settle_max)
        if c < 0:
            c = big
        ps = _push(pk, pv, ps, float(c - ni - no), v)
    order = 0
    while ps > 0:
        _, v, ps = _pop(pk, pv, ps)
        c, ni, no = _contract_sim(v, out_head, out_next, in_head, in_next, e_src, e_dst,
                                  e_wt, contracted, slot, in_nb, in_e, out_nb, out_e,
                                  wdist, touched, hk, hv, is_target, sc_u, sc_w, sc_a,
                                  sc_b, settle_max)
        if c < 0:
            return False, rank, m, e_src, e_dst, e_wt, e_ln, e_c1, e_c2, e_orig
        prio = float(c - ni - no) + cn[v] + level[v]
        if ps > 0 and prio > pk[0]:
            ps = _push(pk, pv, ps, prio, v)  # lazy update: not the smallest any more
            continue
        # contract v: add the shortcuts (or lower an existing arc u→w)
        for s in range(c):
            u, w, a, b = sc_u[s], sc_w[s], sc_a[s], sc_b[s]
            nw = e_wt[a] + e_wt[b]
            nl = e_ln[a] + e_ln[b]
            found = -1
            e = out_head[u]
            while e >= 0:
                if e_dst[e] == w and (found < 0 or e_wt[e] < e_wt[found]):
                    found = e
                e = out_next[e]
            if found >= 0:
                if e_wt[found] <= nw:
                    continue
                e_wt[found], e_ln[found] = nw, nl
                e_c1[found], e_c2[found], e_orig[found] = a, b, -1
                continue
            if m >= cap:
                return False, rank, m, e_src, e_dst, e_wt, e_ln, e_c1, e_c2, e_orig
            e_src[m], e_dst[m], e_wt[m], e_ln[m] = u, w, nw, nl
            e_c1[m], e_c2[m], e_orig[m] = a, b, -1
            out_next[m] = out_head[u]
            out_head[u] = m
            in_next[m] = in_head[w]
            in_head[w] = m
            m += 1
        contracted[v] = True
        rank[v] = order
        order += 1
        for j in range(ni):
            y = in_nb[j]
            cn[y] += 1
            if level[v] + 1 > level[y]:
                level[y] = level[v] + 1
        for j in range(no):
            y = out_nb[j]
            cn[y] += 1
            if level[v] + 1 > level[y]:
                level[y] = level[v] + 1
    return True, rank, m, e_src, e_dst, e_wt, e_ln, e_c1, e_c2, e_orig


def build(n_nodes: int, src: np.ndarray, dst: np.ndarray, wt: np.ndarray, ln: np.ndarray,
          eid: np.ndarray, settle_max: int = WITNESS_SETTLE) -> dict[str, np.ndarray]:
    """The hierarchy of a directed graph (arc ``i``: ``src[i] → dst[i]``, ``wt`` seconds,
    ``ln`` metres, original edge id ``eid``): the arrays of :data:`CH_ARRAYS`."""
    src, dst = (np.ascontiguousarray(a, np.int64) for a in (src, dst))
    wt, ln = (np.ascontiguousarray(a, np.float64) for a in (wt, ln))
    eid = np.ascontiguousarray(eid, np.int64)
    cap = 3 * len(src) + 1024
    while True:
        ok, rank, m, e_src, e_dst, e_wt, e_ln, e_c1, e_c2, e_orig = _build(
            int(n_nodes), src, dst, wt, ln, eid, cap, int(settle_max))
        if ok:
            break
        cap *= 2
    e_src, e_dst, e_wt, e_ln = e_src[:m], e_dst[:m], e_wt[:m], e_ln[:m]
    rs, rd = rank[e_src], rank[e_dst]
    up = rs < rd  # belongs to src, upward in the travel direction
    out = {"rank": rank, "e_c1": e_c1[:m].copy(), "e_c2": e_c2[:m].copy(),
           "e_orig": e_orig[:m].copy()}
    for name, sel, low, high in (("uf", up, rs, rd), ("ub", ~up, rd, rs)):
        idx = np.flatnonzero(sel)
        idx = idx[np.lexsort((e_wt[idx], low[idx]))]
        ptr = np.zeros(n_nodes + 1, np.int64)
        np.cumsum(np.bincount(low[idx], minlength=n_nodes), out=ptr[1:])
        out.update({f"{name}_ptr": ptr, f"{name}_dst": high[idx].astype(np.int64),
                    f"{name}_wt": e_wt[idx], f"{name}_ln": e_ln[idx],
                    f"{name}_edge": idx.astype(np.int64)})
    return out
