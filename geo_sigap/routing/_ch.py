"""Contraction hierarchy (numba): built once per profile, then one-to-many queries.

Build (:func:`geo_sigap.routing._contract.build`): nodes are contracted one by one in
the order of a lazily updated priority (edge difference + contracted neighbours + level); a shortcut
``u→w`` is added for ``u→v→w`` unless a bounded witness search finds a path at most
as fast without ``v`` (a witness missed only adds a shortcut: answers stay exact).
Every arc (original or shortcut) then belongs to its lower-ranked end: the *upward*
arcs ``uf`` (from a node to higher ones, travel direction) and ``ub`` (from a node to
higher ones against the travel direction). Nodes are renumbered by rank, so arrays of
the hierarchy are indexed by rank (``rank[node]``).

Query (one-to-many, teams → incident): for every team the upward search from its
entries is done once per team-position batch and kept as *buckets* (per meeting node:
team, time, length, entry). An incident then costs one upward search against the
travel direction from its seeds, scanning the buckets of the nodes it settles; it
stops as soon as the k nearest teams of every group and the required teams are final
(every later meeting is at least the current key). Times are seconds, lengths metres.
"""

# ruff: noqa: PLR1730 -- explicit comparisons in the kernels

from __future__ import annotations

import numpy as np
from numba import njit

from geo_sigap.routing._contract import CH_ARRAYS, WITNESS_SETTLE, build
from geo_sigap.routing._kernel import _pop, _push

# buckets are read only up to the bound when every group needs at most this many
PRUNE_MAX_NEED = 8

__all__ = ["CH_ARRAYS", "WITNESS_SETTLE", "build", "buckets", "make_buckets", "query",
           "team_searches", "unpack", "up_path"]


# ---------------------------------------------------------------- buckets
@njit(cache=True)
def buckets(uf_ptr, uf_dst, uf_wt, uf_ln, ub_ptr, ub_dst, ub_wt, n_nodes,
            ent_team, ent_node, ent_off, ent_len):
    """Per team (its entries together, ``ent_node`` as ranks) the upward search in the
    travel direction, stalled nodes dropped. Returns the buckets as CSR over meeting
    nodes, each by time (see :func:`make_buckets`)."""
    o_node, o_team, o_t, o_l, o_e = team_searches(uf_ptr, uf_dst, uf_wt, uf_ln, ub_ptr,
                                                  ub_dst, ub_wt, n_nodes, ent_team,
                                                  ent_node, ent_off, ent_len)
    return make_buckets(n_nodes, o_node, o_team, o_t, o_l, o_e)


@njit(cache=True, nogil=True)
def team_searches(uf_ptr, uf_dst, uf_wt, uf_ln, ub_ptr, ub_dst, ub_wt, n_nodes,
                  ent_team, ent_node, ent_off, ent_len):
    """The searches of :func:`buckets`, team after team (teams ascending): every
    meeting ``(node, team, time, length, entry)``."""
    n_ent = ent_node.shape[0]
    order = np.argsort(ent_team, kind="mergesort")
    dist = np.full(n_nodes, np.inf)
    dlen = np.zeros(n_nodes)
    src = np.full(n_nodes, -1, np.int64)
    touched = np.empty(n_nodes, np.int64)
    cap = uf_ptr[n_nodes] + n_ent + 1
    hk = np.empty(cap)
    hv = np.empty(cap, np.int64)
    size = max(1024, n_ent * 64)
    o_node = np.empty(size, np.int64)
    o_team = np.empty(size, np.int64)
    o_t = np.empty(size)
    o_l = np.empty(size)
    o_e = np.empty(size, np.int64)
    n_out = 0
    i = 0
    while i < n_ent:
        team = ent_team[order[i]]
        j = i
        nt = 0
        hs = 0
        while j < n_ent and ent_team[order[j]] == team:
            r = order[j]
            x = ent_node[r]
            if ent_off[r] < dist[x]:
                if dist[x] == np.inf:
                    touched[nt] = x
                    nt += 1
                dist[x] = ent_off[r]
                dlen[x] = ent_len[r]
                src[x] = r
                hs = _push(hk, hv, hs, ent_off[r], x)
            j += 1
        i = j
        while hs > 0:
            d, x, hs = _pop(hk, hv, hs)
            if d > dist[x]:
                continue
            stalled = False
            for a in range(ub_ptr[x], ub_ptr[x + 1]):
                if dist[ub_dst[a]] + ub_wt[a] < d:
                    stalled = True
                    break
            if stalled:
                continue
            if n_out >= size:
                size *= 2
                o_node = _grow_i(o_node, size)
                o_team = _grow_i(o_team, size)
                o_t = _grow_f(o_t, size)
                o_l = _grow_f(o_l, size)
                o_e = _grow_i(o_e, size)
            o_node[n_out], o_team[n_out], o_t[n_out] = x, team, d
            o_l[n_out], o_e[n_out] = dlen[x], src[x]
            n_out += 1
            for a in range(uf_ptr[x], uf_ptr[x + 1]):
                y = uf_dst[a]
                nd = d + uf_wt[a]
                if nd < dist[y]:
                    if dist[y] == np.inf:
                        touched[nt] = y
                        nt += 1
                    dist[y] = nd
                    dlen[y] = dlen[x] + uf_ln[a]
                    src[y] = src[x]
                    hs = _push(hk, hv, hs, nd, y)
        for t in range(nt):
            dist[touched[t]] = np.inf
    return (o_node[:n_out].copy(), o_team[:n_out].copy(), o_t[:n_out].copy(),
            o_l[:n_out].copy(), o_e[:n_out].copy())


@njit(cache=True, nogil=True)
def make_buckets(n_nodes, o_node, o_team, o_t, o_l, o_e):
    """Meetings (see :func:`team_searches`) as buckets: CSR over nodes, each by time:
    ``(ptr, b_tt, b_le)`` (rows ``(team, time)`` and ``(length, entry)``)."""
    n_out = o_node.shape[0]
    # counting sort by meeting node
    ptr = np.zeros(n_nodes + 1, np.int64)
    for q in range(n_out):
        ptr[o_node[q] + 1] += 1
    for x in range(n_nodes):
        ptr[x + 1] += ptr[x]
    fill = ptr[:-1].copy()
    b_team = np.empty(n_out, np.int64)
    b_t = np.empty(n_out)
    b_l = np.empty(n_out)
    b_e = np.empty(n_out, np.int64)
    for q in range(n_out):
        p = fill[o_node[q]]
        fill[o_node[q]] += 1
        b_team[p], b_t[p], b_l[p], b_e[p] = o_team[q], o_t[q], o_l[q], o_e[q]
    # each bucket by time: a query stops reading one at the first time too long; rows
    # (team, time) and (length, entry), see query
    b_tt = np.empty((n_out, 2))
    b_le = np.empty((n_out, 2))
    for x in range(n_nodes):
        lo, hi = ptr[x], ptr[x + 1]
        if hi - lo == 1:
            b_tt[lo, 0], b_tt[lo, 1] = b_team[lo], b_t[lo]
            b_le[lo, 0], b_le[lo, 1] = b_l[lo], b_e[lo]
        elif hi - lo > 1:
            o = lo + np.argsort(b_t[lo:hi], kind="mergesort")
            for j in range(hi - lo):
                b_tt[lo + j, 0], b_tt[lo + j, 1] = b_team[o[j]], b_t[o[j]]
                b_le[lo + j, 0], b_le[lo + j, 1] = b_l[o[j]], b_e[o[j]]
    return ptr, b_tt, b_le


@njit(cache=True, inline="always")
def _grow_i(a, size):
    b = np.empty(size, np.int64)
    b[:a.shape[0]] = a
    return b


@njit(cache=True, inline="always")
def _grow_f(a, size):
    b = np.empty(size)
    b[:a.shape[0]] = a
    return b


# ---------------------------------------------------------------- query
# a query's node rows (dlen, seed, arc, from-node: 32 bytes, two a cache line) beside
# a dense dist array (the stall test reads the dist of many nodes)
_DLEN, _LABEL, _EDGE, _FROM = 0, 1, 2, 3
NODE_COLUMNS = 4
# per node where its arcs and bucket are (one 64-byte row; see Hierarchy.node_index)
_ARC_LO, _ARC_MID, _ARC_HI, _B_LO, _B_HI = 0, 1, 2, 3, 4
INDEX_COLUMNS = 8


@njit(cache=True, nogil=True)
def arc_rows(uf_ptr, uf_dst, uf_wt, ub_ptr, ub_dst, ub_wt, ub_ln, ub_edge, arc):
    """Fill ``arc`` (rows, see :func:`query`): per node its upward arcs ``(node, time,
    0, 0)`` then its downward ones ``(node, time, length, arc id)``. Returns ``(lo,
    mid)``: per node where its block starts (``lo[x + 1]``: where it ends) and where
    its downward arcs start."""
    n = uf_ptr.shape[0] - 1
    lo = np.zeros(n + 1, np.int64)
    mid = np.zeros(n, np.int64)
    r = 0
    for x in range(n):
        lo[x] = r
        for a in range(uf_ptr[x], uf_ptr[x + 1]):
            arc[r, 0], arc[r, 1], arc[r, 2], arc[r, 3] = uf_dst[a], uf_wt[a], 0.0, 0.0
            r += 1
        mid[x] = r
        for a in range(ub_ptr[x], ub_ptr[x + 1]):
            arc[r, 0], arc[r, 1], arc[r, 2], arc[r, 3] = ub_dst[a], ub_wt[a], ub_ln[a], ub_edge[a]
            r += 1
    lo[n] = r
    return lo, mid


@njit(cache=True, nogil=True)
def query(arc, index, b_tt, b_le,
          seed_node, seed_time, seed_len, team_init, team_init_len,
          team_group, team_required, group_need, max_time,
          dist, node, hk, hv, touched, set_node):
    """One-to-many times to the seeds (ranks) with the early stop of
    :func:`geo_sigap.routing._kernel.search` (same ``team_*``/``group_need``/
    ``max_time`` meaning).

    Laid out for the memory cache (a query reads a few hundred scattered places; cold,
    each is a trip to memory): ``index[x]`` is one row with where node ``x``'s arcs
    and bucket are; ``arc`` holds a node's upward arcs ``(node, time, -, -)`` (the
    stall test, ``index[x, 0]:index[x, 1]``) followed by its downward ones ``(node,
    time, length, arc id)`` (``index[x, 1]:index[x, 2]``); ``b_tt`` each bucket
    entry's ``(team, time)`` and ``b_le`` its ``(length, entry)``; ``dist`` is dense
    and ``node`` a node's ``dlen, seed, arc, from`` in one row (integers stored as
    floats, exact). Works in a clean workspace (``dist`` inf) and leaves it clean;
    records the settled nodes (``set_node``; their arc, from-node and seed are
    returned).

    With at most :data:`PRUNE_MAX_NEED` teams needed per group, a bucket is read only
    up to the *bound*: the largest of every group's ``need``-th best time and the
    required teams' best times (the search is over by then); a candidate beyond it
    is skipped, and a team is final only up to the shortest skipped time (the
    ``stop_time`` reported is never above it: teams left out are not faster).

    Returns
    -------
    best, best_len, best_ent, best_meet, final, stop_time, n_settled, rec_edge,
    rec_from, rec_label
        ``best_meet``: the meeting node (rank) of a team's time, -1 for none.
    """
    n_teams = team_group.shape[0]
    n_groups = group_need.shape[0]
    best = team_init.copy()
    best_len = team_init_len.copy()
    best_ent = np.full(n_teams, -1, np.int64)
    best_meet = np.full(n_teams, -1, np.int64)
    final = np.zeros(n_teams, np.bool_)
    got = np.zeros(n_groups, np.int64)
    open_groups = 0
    for g in range(n_groups):
        if group_need[g] > 0:
            open_groups += 1
    req_left = 0
    for t in range(n_teams):
        if team_required[t]:
            req_left += 1
    watching = n_teams > 0 and (open_groups > 0 or req_left > 0)
    # the bound: per group its need smallest times (distinct teams), the required
    max_need = 0
    for g in range(n_groups):
        if group_need[g] > max_need:
            max_need = group_need[g]
    prune = watching and max_need <= PRUNE_MAX_NEED
    top_v = np.full((n_groups, PRUNE_MAX_NEED), np.inf)
    top_t = np.full((n_groups, PRUNE_MAX_NEED), -1, np.int64)
    req_list = np.flatnonzero(team_required)
    bound = np.inf
    skip_min = np.inf
    if prune:
        for t in range(n_teams):
            if best[t] < np.inf:
                _top_update(top_v, top_t, team_group[t], group_need[team_group[t]], t,
                            best[t])
        bound = _bound(top_v, group_need, req_list, best)
    t_cap = 4 * n_teams + 64
    tk = np.empty(t_cap)
    tv = np.empty(t_cap, np.int64)
    ts = 0
    for t in range(n_teams):
        if best[t] < np.inf:
            ts = _push(tk, tv, ts, best[t], t)
    nt = 0
    hs = 0
    n_set = 0
    touch = 0
    cap = hk.shape[0] - 1
    for s in range(seed_node.shape[0]):
        x = seed_node[s]
        if seed_time[s] < dist[x]:
            if dist[x] == np.inf:
                touched[nt] = x
                nt += 1
            dist[x] = seed_time[s]
            node[x, _DLEN] = seed_len[s]
            node[x, _LABEL] = s
            node[x, _EDGE] = -1.0
            hs = _push(hk, hv, hs, seed_time[s], x)
    stop_time = np.inf
    stopped = False
    while hs > 0:
        d, x, hs = _pop(hk, hv, hs)
        if d > dist[x]:
            continue
        stalled = False
        a_lo, a_mid, a_hi = index[x, _ARC_LO], index[x, _ARC_MID], index[x, _ARC_HI]
        for a in range(a_lo, a_mid):
            if dist[int(arc[a, 0])] + arc[a, 1] < d:
                stalled = True
                break
        dx = node[x, _DLEN]
        if not stalled:
            set_node[n_set] = x
            n_set += 1
            for q in range(index[x, _B_LO], index[x, _B_HI]):
                t = int(b_tt[q, 0])
                cand = d + b_tt[q, 1]
                if cand > bound:  # this and the rest of the bucket: beyond the end
                    if cand < skip_min:
                        skip_min = cand
                    break
                if cand < best[t] and not final[t]:
                    best[t] = cand
                    best_len[t] = dx + b_le[q, 0]
                    best_ent[t] = int(b_le[q, 1])
                    best_meet[t] = x
                    if prune:
                        g = team_group[t]
                        if (group_need[g] > 0
                                and _top_update(top_v, top_t, g, group_need[g], t, cand)):
                            bound = _bound(top_v, group_need, req_list, best)
                        elif team_required[t]:
                            bound = _bound(top_v, group_need, req_list, best)
                    if ts >= t_cap - 1:  # full of outdated rows: rebuild from best
                        ts = 0
                        for u in range(n_teams):
                            if not final[u] and best[u] < np.inf:
                                ts = _push(tk, tv, ts, best[u], u)
                    else:
                        ts = _push(tk, tv, ts, cand, t)
        d_fin = d if d < skip_min else skip_min  # final: no skipped time is shorter
        while (watching or d > max_time) and ts > 0 and tk[0] <= d_fin:
            c, t, ts = _pop(tk, tv, ts)
            if final[t] or c > best[t]:
                continue
            final[t] = True
            g = team_group[t]
            got[g] += 1
            if got[g] == group_need[g]:
                open_groups -= 1
            if team_required[t]:
                req_left -= 1
        # done: the answer is complete, or beyond max_time (later times are >= d)
        if req_left <= 0 and ((watching and open_groups <= 0) or d > max_time):
            stop_time = d_fin
            stopped = True
            break
        if stalled:
            continue
        lx = node[x, _LABEL]
        for a in range(a_mid, a_hi):
            y = int(arc[a, 0])
            nd = d + arc[a, 1]
            if nd < dist[y]:
                if dist[y] == np.inf:
                    touched[nt] = y
                    nt += 1
                dist[y] = nd
                node[y, _DLEN] = dx + arc[a, 2]
                node[y, _LABEL] = lx
                node[y, _EDGE] = arc[a, 3]
                node[y, _FROM] = x
                # touch y's index row now (its loads overlap the rest of this loop):
                # when y is popped its arcs and bucket are known without a wait
                touch += index[y, _ARC_LO] + index[y, _B_HI]
                if hs < cap:
                    hs = _push(hk, hv, hs, nd, y)
    if not stopped:  # all searched: final unless a skipped time may be shorter
        for t in range(n_teams):
            if best[t] < np.inf and best[t] <= skip_min:
                final[t] = True
        stop_time = skip_min
    # the route record of the settled nodes, then the workspace clean again
    rec_edge = np.empty(n_set, np.int64)
    rec_from = np.empty(n_set, np.int64)
    rec_label = np.empty(n_set, np.int64)
    for j in range(n_set):
        x = set_node[j]
        e = int(node[x, _EDGE])
        rec_edge[j] = e
        rec_from[j] = int(node[x, _FROM]) if e >= 0 else -1
        rec_label[j] = int(node[x, _LABEL])
    for j in range(nt):
        dist[touched[j]] = np.inf
    if nt < touched.shape[0]:  # (keeps the touching reads: scratch past the touched)
        touched[nt] = touch
    return (best, best_len, best_ent, best_meet, final, stop_time, n_set,
            rec_edge, rec_from, rec_label)


@njit(cache=True, inline="always")
def _top_update(top_v, top_t, g, need, t, v):
    """Team ``t`` of group ``g`` now at ``v``: keep the group's ``need`` smallest
    (distinct teams, ascending); ``True`` when the ``need``-th changed."""
    old_last = top_v[g, need - 1]
    j = 0
    while j < need and top_t[g, j] != t:
        j += 1
    if j == need:  # not listed: in place of the last, when faster
        if v >= old_last:
            return False
        j = need - 1
    top_v[g, j] = v
    top_t[g, j] = t
    while j > 0 and top_v[g, j - 1] > top_v[g, j]:
        top_v[g, j - 1], top_v[g, j] = top_v[g, j], top_v[g, j - 1]
        top_t[g, j - 1], top_t[g, j] = top_t[g, j], top_t[g, j - 1]
        j -= 1
    return top_v[g, need - 1] != old_last


@njit(cache=True, inline="always")
def _bound(top_v, group_need, req_list, best):
    """The largest of every group's ``need``-th time and the required teams' times."""
    b = 0.0
    for g in range(group_need.shape[0]):
        if group_need[g] > 0 and top_v[g, group_need[g] - 1] > b:
            b = top_v[g, group_need[g] - 1]
    for j in range(req_list.shape[0]):
        if best[req_list[j]] > b:
            b = best[req_list[j]]
    return b


@njit(cache=True)
def up_path(uf_ptr, uf_dst, uf_wt, uf_edge, n_nodes, start, goal):
    """Hierarchy arcs of the fastest upward path ``start → goal`` (ranks), in order."""
    dist = np.full(n_nodes, np.inf)
    par = np.full(n_nodes, -1, np.int64)
    pe = np.full(n_nodes, -1, np.int64)
    hk = np.empty(uf_ptr[n_nodes] + 2)
    hv = np.empty(uf_ptr[n_nodes] + 2, np.int64)
    dist[start] = 0.0
    hs = _push(hk, hv, 0, 0.0, start)
    while hs > 0:
        d, x, hs = _pop(hk, hv, hs)
        if d > dist[x]:
            continue
        if x == goal:
            break
        for a in range(uf_ptr[x], uf_ptr[x + 1]):
            y = uf_dst[a]
            nd = d + uf_wt[a]
            if nd < dist[y]:
                dist[y] = nd
                par[y] = x
                pe[y] = uf_edge[a]
                hs = _push(hk, hv, hs, nd, y)
    k = 0
    x = goal
    while par[x] >= 0:
        k += 1
        x = par[x]
    out = np.empty(k, np.int64)
    x = goal
    while par[x] >= 0:
        k -= 1
        out[k] = pe[x]
        x = par[x]
    return out


def unpack(edges, e_c1: np.ndarray, e_c2: np.ndarray, e_orig: np.ndarray) -> list[int]:
    """Original edge ids of hierarchy arcs ``edges`` (in order), shortcuts expanded."""
    out: list[int] = []
    stack = list(reversed([int(e) for e in edges]))
    while stack:
        e = stack.pop()
        o = int(e_orig[e])
        if o >= 0:
            out.append(o)
        else:
            stack.append(int(e_c2[e]))
            stack.append(int(e_c1[e]))
    return out
