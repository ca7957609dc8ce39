"""Compiled Dijkstra (numba) that stops as soon as the answer cannot change.

One kernel serves both directions: on the reverse CSR from an incident (travel times
*to* the incident from every node it settles) and on the forward CSR from posts
(multi-source coverage). Times are seconds, lengths metres.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _push(keys, vals, size, key, val):
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        vals[parent], vals[i] = vals[i], vals[parent]
        i = parent
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys, vals, size):
    key, val = keys[0], vals[0]
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        vals[child], vals[i] = vals[i], vals[child]
        i = child
    return key, val, size


@njit(cache=True)
def search(indptr, nbr, wt, ln, eid, n_nodes,
           seed_node, seed_time, seed_len,
           ent_team, ent_node, ent_off, ent_len, team_init, team_init_len,
           team_group, team_required, group_need, max_time):
    """Multi-source Dijkstra with early stop on team targets.

    Parameters
    ----------
    indptr, nbr, wt, ln, eid
        CSR adjacency: node ``x``'s arcs go to ``nbr[indptr[x]:indptr[x+1]]`` with time
        ``wt`` (s), length ``ln`` (m) and original edge id ``eid``.
    seed_node, seed_time, seed_len
        Start nodes with their initial time/length (partial edges to the point).
    ent_team, ent_node, ent_off, ent_len
        Team entries: team ``ent_team[i]`` meets the network at ``ent_node[i]`` after
        ``ent_off[i]`` seconds and ``ent_len[i]`` metres.
    team_init, team_init_len
        A team's time/length without the network (same road as the incident), ``inf``
        when none; such a team's ``best_ent`` stays -1.
    team_group, team_required, group_need
        Stop once every group has its ``group_need[g]`` nearest teams final and every
        required team is final; groups with need 0 do not hold the search.
    max_time
        Stop at the first node beyond this time (``inf``: no limit) once every
        required team is final; the teams known by then to be at most that node's
        time are final (every later time is at least as long).

    Returns
    -------
    dist, dlen, via, label, best, best_len, best_ent, final, stop_time
        ``via[x]`` is the edge id used at ``x`` (-1 for seeds / unsettled) and
        ``label[x]`` the seed index the time comes from. ``best`` per team is final
        where ``final``; otherwise at least ``stop_time``.
    """
    n_teams = team_group.shape[0]
    n_groups = group_need.shape[0]
    dist = np.full(n_nodes, np.inf)
    dlen = np.zeros(n_nodes)
    via = np.full(n_nodes, -1, np.int64)
    label = np.full(n_nodes, -1, np.int64)
    done = np.zeros(n_nodes, np.bool_)
    head = np.full(n_nodes, -1, np.int64)
    nxt = np.full(ent_node.shape[0], -1, np.int64)
    for i in range(ent_node.shape[0]):
        nxt[i] = head[ent_node[i]]
        head[ent_node[i]] = i
    best = team_init.copy()
    best_len = team_init_len.copy()
    best_ent = np.full(n_teams, -1, np.int64)
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

    cap = indptr[n_nodes] + seed_node.shape[0] + 1
    hk = np.empty(cap)
    hv = np.empty(cap, np.int64)
    hs = 0
    tk = np.empty(ent_node.shape[0] + n_teams + 1)
    tv = np.empty(ent_node.shape[0] + n_teams + 1, np.int64)
    ts = 0
    for t in range(n_teams):
        if best[t] < np.inf:
            ts = _push(tk, tv, ts, best[t], t)
    for s in range(seed_node.shape[0]):
        x = seed_node[s]
        if seed_time[s] < dist[x]:
            dist[x] = seed_time[s]
            dlen[x] = seed_len[s]
            label[x] = s
            hs = _push(hk, hv, hs, seed_time[s], x)
    stop_time = np.inf
    stopped = False
    while hs > 0:
        d, x, hs = _pop(hk, hv, hs)
        if done[x] or d > dist[x]:
            continue
        done[x] = True
        i = head[x]
        while i >= 0:
            t = ent_team[i]
            cand = d + ent_off[i]
            if cand < best[t] and not final[t]:
                best[t] = cand
                best_len[t] = dlen[x] + ent_len[i]
                best_ent[t] = i
                ts = _push(tk, tv, ts, cand, t)
            i = nxt[i]
        # teams whose best cannot improve any more (every later time is >= d)
        while (watching or d > max_time) and ts > 0 and tk[0] <= d:
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
            stop_time = d
            stopped = True
            break
        for a in range(indptr[x], indptr[x + 1]):
            y = nbr[a]
            nd = d + wt[a]
            if nd < dist[y]:
                dist[y] = nd
                dlen[y] = dlen[x] + ln[a]
                via[y] = eid[a]
                label[y] = label[x]
                hs = _push(hk, hv, hs, nd, y)
    if not stopped:
        # the whole reachable network is settled: every tentative best is final
        for t in range(n_teams):
            if best[t] < np.inf:
                final[t] = True
    return dist, dlen, via, label, best, best_len, best_ent, final, stop_time




# columns of a workspace's node rows (one 64-byte row per node: one cache line)
_DIST, _DLEN, _VIA, _LABEL, _HPOS, _HEAD = 0, 1, 2, 3, 4, 5
NODE_COLUMNS = 8


@njit(cache=True, inline="always")
def _decrease(keys, vals, node, size, key, x):
    """Indexed 4-ary heap (place of node ``x`` in ``node[x, _HPOS]``, -1 when out):
    insert ``x`` with ``key`` or lower its key; returns the size."""
    i = int(node[x, _HPOS])
    if i < 0:
        i = size
        size += 1
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        node[vals[i], _HPOS] = i
        i = parent
    keys[i] = key
    vals[i] = x
    node[x, _HPOS] = i
    return size


@njit(cache=True, inline="always")
def _pop_min(keys, vals, node, size):
    """Remove the smallest of the indexed 4-ary heap: ``(key, x, size)``."""
    key, top = keys[0], vals[0]
    node[top, _HPOS] = -1.0
    size -= 1
    if size > 0:
        lk, lv = keys[size], vals[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            m = c
            mk = keys[c]
            end = c + 4 if c + 4 < size else size
            for j in range(c + 1, end):
                if keys[j] < mk:
                    m = j
                    mk = keys[j]
            if mk >= lk:
                break
            keys[i] = mk
            vals[i] = vals[m]
            node[vals[i], _HPOS] = i
            i = m
        keys[i] = lk
        vals[i] = lv
        node[lv, _HPOS] = i
    return key, top, size


@njit(cache=True)
def search_ws(indptr, arcs,
              seed_node, seed_time, seed_len,
              ent_team, ent_node, ent_off, ent_len, team_init, team_init_len,
              team_group, team_required, group_need, max_time,
              node, hk, hv, touched, set_node, set_via, set_label):
    """:func:`search` on a reusable workspace: no array of the network's size is made.

    Laid out for the memory cache: ``arcs`` holds each arc's ``(neighbour, time,
    length, edge id)`` in one row (CSR order, ``indptr`` as in :func:`search`) and
    ``node`` each node's ``dist, dlen, via, label`` (integers stored as floats, exact),
    its place in the queue and the head of its team entries in one 64-byte row, so a
    relaxed node costs one cache line instead of six. The queue is an indexed 4-ary
    heap (``hk``/``hv``): a node is in it at most once, its key lowered in place.

    The workspace (:class:`geo_sigap.routing.network.Workspace`) comes in clean
    (``dist`` inf, queue place and entry head -1) and is left clean: only the nodes
    this search reached are reset (``dlen``, ``via`` and ``label`` are written whenever
    ``dist`` is). Instead of arrays over every node it records the settled nodes in
    settling order (``set_node``, with the edge used there ``set_via`` and the seed
    index ``set_label``): enough to rebuild any team's route.

    Returns
    -------
    best, best_len, best_ent, final, stop_time, n_settled
        As :func:`search`; ``set_*[:n_settled]`` hold the settled nodes.
    """
    n_teams = team_group.shape[0]
    n_groups = group_need.shape[0]
    n_ent = ent_node.shape[0]
    nxt = np.empty(n_ent, np.int64)
    for i in range(n_ent):
        nxt[i] = int(node[ent_node[i], _HEAD])
        node[ent_node[i], _HEAD] = i
    best = team_init.copy()
    best_len = team_init_len.copy()
    best_ent = np.full(n_teams, -1, np.int64)
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
    hs = 0
    tk = np.empty(n_ent + n_teams + 1)
    tv = np.empty(n_ent + n_teams + 1, np.int64)
    ts = 0
    n_touched = 0
    n_settled = 0
    for t in range(n_teams):
        if best[t] < np.inf:
            ts = _push(tk, tv, ts, best[t], t)
    for s in range(seed_node.shape[0]):
        x = seed_node[s]
        if seed_time[s] < node[x, _DIST]:
            if node[x, _DIST] == np.inf:
                touched[n_touched] = x
                n_touched += 1
            node[x, _DIST] = seed_time[s]
            node[x, _DLEN] = seed_len[s]
            node[x, _VIA] = -1.0
            node[x, _LABEL] = s
            hs = _decrease(hk, hv, node, hs, seed_time[s], x)
    stop_time = np.inf
    stopped = False
    while hs > 0:
        d, x, hs = _pop_min(hk, hv, node, hs)
        dx = node[x, _DLEN]
        lx = node[x, _LABEL]
        set_node[n_settled] = x
        set_via[n_settled] = int(node[x, _VIA])
        set_label[n_settled] = int(lx)
        n_settled += 1
        i = int(node[x, _HEAD])
        while i >= 0:
            t = ent_team[i]
            cand = d + ent_off[i]
            if cand < best[t] and not final[t]:
                best[t] = cand
                best_len[t] = dx + ent_len[i]
                best_ent[t] = i
                ts = _push(tk, tv, ts, cand, t)
            i = nxt[i]
        # teams whose best cannot improve any more (every later time is >= d)
        while (watching or d > max_time) and ts > 0 and tk[0] <= d:
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
            stop_time = d
            stopped = True
            break
        for a in range(indptr[x], indptr[x + 1]):
            y = int(arcs[a, 0])
            nd = d + arcs[a, 1]
            if nd < node[y, _DIST]:
                if node[y, _DIST] == np.inf:
                    touched[n_touched] = y
                    n_touched += 1
                node[y, _DIST] = nd
                node[y, _DLEN] = dx + arcs[a, 2]
                node[y, _VIA] = arcs[a, 3]
                node[y, _LABEL] = lx
                hs = _decrease(hk, hv, node, hs, nd, y)
    if not stopped:
        # the whole reachable network is settled: every tentative best is final
        for t in range(n_teams):
            if best[t] < np.inf:
                final[t] = True
    # leave the workspace clean for the next search
    for j in range(n_touched):
        y = touched[j]
        node[y, _DIST] = np.inf
        node[y, _HPOS] = -1.0
    for i in range(n_ent):
        node[ent_node[i], _HEAD] = -1.0
    return best, best_len, best_ent, final, stop_time, n_settled


@njit(cache=True)
def nearest_piece(px, py, cand, ax, ay, bx, by):
    """Of the pieces ``cand``, the nearest to (px, py): ``(piece, distance, t)`` with the
    same arithmetic as :meth:`geo_sigap.routing.snap.SnapIndex._distance` (bit for bit);
    of equally near pieces the lowest."""
    best = np.inf
    bp = -1
    bt = 0.0
    for j in range(cand.shape[0]):
        best, bp, bt = closer_piece(px, py, cand[j], ax, ay, bx, by, best, bp, bt)
    return bp, best, bt


@njit(cache=True, inline="always")
def closer_piece(px, py, p, ax, ay, bx, by, best, bp, bt):
    """Piece ``p`` against the nearest so far ``(best, bp, bt)``: the nearer of the two,
    of equally near pieces the lowest (the one step of :func:`nearest_piece` and of the
    grid snap in :mod:`geo_sigap.routing._fused`)."""
    x0, y0 = ax[p], ay[p]
    dx, dy = bx[p] - x0, by[p] - y0
    ll = dx * dx + dy * dy
    t = ((px - x0) * dx + (py - y0) * dy) / ll if ll > 0 else 0.0
    t = min(max(t, 0.0), 1.0)
    d = np.hypot(x0 + t * dx - px, y0 + t * dy - py)
    if d < best or (d == best and p < bp):
        return d, p, t
    return best, bp, bt
