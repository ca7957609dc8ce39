"""Goal-directed (A*) search with landmark lower bounds (ALT), compiled with numba.

Used when few teams are searched for: the plain early-stop Dijkstra of
:mod:`geo_sigap.routing._kernel` then settles most of the city before it has the k
nearest teams of every role. This search settles nodes by ``time + h`` where ``h`` is
a landmark lower bound of the time from the nearest *goal* team, so it heads for the
teams that can still be among the k nearest. Same inputs and outputs as
:func:`geo_sigap.routing._kernel.search` (times in seconds, lengths in metres), plus
the landmark tables. The times returned are exact: ``h`` is consistent (every node is
settled with its exact time) and every team is only declared final once no team
that still matters can be faster.
"""

# ruff: noqa: PLR1730, FURB136 -- explicit comparisons skip NaN (inf - inf) where min/max would not

from __future__ import annotations

import numpy as np
from numba import njit

from geo_sigap.routing._kernel import _pop, _push

# h and the team bounds are shrunk by this factor so rounding can never make a
# landmark bound exceed a true time (bounds stay consistent with a margin).
SHRINK = 1.0 - 1e-7


@njit(cache=True)
def team_bounds(lm_from, lm_to, seed_node, seed_time, ent_team, ent_node, ent_off,
                team_init, n_landmarks):
    """Per team a lower bound of its time to the incident (seeds), and per entry the
    landmark order that bounds it best (strongest first)."""
    n_teams = team_init.shape[0]
    lb = team_init.copy()
    n_ent = ent_node.shape[0]
    order = np.empty((n_ent, n_landmarks), np.int64)
    score = np.zeros(n_landmarks)
    for i in range(n_ent):
        a = ent_node[i]
        best = np.inf
        for l in range(n_landmarks):
            score[l] = 0.0
        for s in range(seed_node.shape[0]):
            b = seed_node[s]
            cand = 0.0
            for l in range(n_landmarks):
                f = lm_from[b, l] - lm_from[a, l]
                t = lm_to[a, l] - lm_to[b, l]
                v = f if f > t else t
                if v > cand:
                    cand = v
                if v > score[l]:
                    score[l] = v
            cand += seed_time[s]
            if cand < best:
                best = cand
        _strongest_first(score, order[i])
        v = (best + ent_off[i]) * SHRINK
        if v < lb[ent_team[i]]:
            lb[ent_team[i]] = v
    for t in range(n_teams):
        if lb[t] < 0.0:
            lb[t] = 0.0
    return lb, order


@njit(cache=True)
def _strongest_first(score, out):
    """``out`` = ``np.argsort(-score)`` for a few landmarks: an insertion sort (what
    numba's quicksort does below 16 items, so the same order, ties included) — without
    compiling the general sort at a first start (seconds)."""
    n = score.shape[0]
    for j in range(n):
        out[j] = j
    for j in range(1, n):
        v = out[j]
        q = j
        while q > 0 and -score[v] < -score[out[q - 1]]:
            out[q] = out[q - 1]
            q -= 1
        out[q] = v


@njit(cache=True, inline="always")
def _h(x, lm_from, lm_to, goal_node, goal_off, goal_sel, n_goal):
    """``SHRINK · min over goal entries (landmark bound from the entry to x + offset)``."""
    m = np.inf
    for j in range(n_goal):
        a = goal_node[j]
        best = 0.0
        for l in goal_sel[j]:
            f = lm_from[x, l] - lm_from[a, l]
            if f > best:
                best = f
            t = lm_to[a, l] - lm_to[x, l]
            if t > best:
                best = t
        v = best + goal_off[j]
        if v < m:
            m = v
    return m * SHRINK


@njit(cache=True)
def search_alt(indptr, nbr, wt, ln, eid, n_nodes,
               seed_node, seed_time, seed_len,
               ent_team, ent_node, ent_off, ent_len, team_init, team_init_len,
               team_group, team_required, group_need, max_time,
               lm_from, lm_to, team_lb, ent_order, n_active):
    """Like :func:`geo_sigap.routing._kernel.search`, goal-directed.

    Extra parameters
    ----------------
    lm_from, lm_to
        Landmark tables ``(n_nodes, L)`` (seconds, see :func:`team_bounds`).
    team_lb, ent_order
        From :func:`team_bounds`.
    n_active
        Landmarks used per goal entry (its strongest ones).

    One team at a time is the *goal*: among the teams that still matter (not final,
    in a group that still needs teams, or required) the one with the lowest known
    bound. The search heads for it (A*, ``h`` = its landmark bound) and the popped key
    bounds its time; the other teams keep their bounds. A team is final once its best
    time is at most every bound that matters. When the key passes another team's
    bound, the current goal's bound rises to the key and the goal changes (the open
    nodes are re-keyed; settled nodes keep their exact times, as ``h`` is consistent).
    ``stop_time`` bounds every team that is not final.
    """
    n_teams = team_group.shape[0]
    n_groups = group_need.shape[0]
    n_ent = ent_node.shape[0]
    dist = np.full(n_nodes, np.inf)
    dlen = np.zeros(n_nodes)
    via = np.full(n_nodes, -1, np.int64)
    label = np.full(n_nodes, -1, np.int64)
    done = np.zeros(n_nodes, np.bool_)
    head = np.full(n_nodes, -1, np.int64)
    nxt = np.full(n_ent, -1, np.int64)
    for i in range(n_ent):
        nxt[i] = head[ent_node[i]]
        head[ent_node[i]] = i
    best = team_init.copy()
    best_len = team_init_len.copy()
    best_ent = np.full(n_teams, -1, np.int64)
    final = np.zeros(n_teams, np.bool_)
    got = np.zeros(n_groups, np.int64)
    open_g = np.zeros(n_groups, np.bool_)
    open_groups = 0
    for g in range(n_groups):
        if group_need[g] > 0:
            open_g[g] = True
            open_groups += 1
    req_left = 0
    for t in range(n_teams):
        if team_required[t]:
            req_left += 1
    lb = team_lb.copy()
    # entries per team
    t_ptr = np.zeros(n_teams + 1, np.int64)
    for i in range(n_ent):
        t_ptr[ent_team[i] + 1] += 1
    for t in range(n_teams):
        t_ptr[t + 1] += t_ptr[t]
    t_ent = np.empty(n_ent, np.int64)
    fill = t_ptr[:-1].copy()
    for i in range(n_ent):
        t_ent[fill[ent_team[i]]] = i
        fill[ent_team[i]] += 1
    n_sel = min(n_active, lm_from.shape[1])
    goal_node = np.empty(max(n_ent, 1), np.int64)
    goal_off = np.empty(max(n_ent, 1))
    goal_sel = np.empty((max(n_ent, 1), n_sel), np.int64)
    hval = np.zeros(n_nodes)
    hver = np.full(n_nodes, -1, np.int64)
    ver = 0

    # the first goal and the bound of the others
    goal = -1
    theta = np.inf
    for t in range(n_teams):
        if final[t] or not (open_g[team_group[t]] or team_required[t]):
            continue
        if goal < 0 or lb[t] < lb[goal]:
            if goal >= 0 and lb[goal] < theta:
                theta = lb[goal]
            goal = t
        elif lb[t] < theta:
            theta = lb[t]
    n_goal = 0
    if goal >= 0:
        for q in range(t_ptr[goal], t_ptr[goal + 1]):
            i = t_ent[q]
            goal_node[n_goal] = ent_node[i]
            goal_off[n_goal] = ent_off[i]
            goal_sel[n_goal] = ent_order[i, :n_sel]
            n_goal += 1

    cap = indptr[n_nodes] + seed_node.shape[0] + 1 + n_teams + 1
    hk = np.empty(cap)
    hv = np.empty(cap, np.int64)
    hs = 0
    tk = np.empty(n_ent + n_teams + 1)
    tv = np.empty(n_ent + n_teams + 1, np.int64)
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
            if hver[x] != ver:
                hval[x] = _h(x, lm_from, lm_to, goal_node, goal_off, goal_sel, n_goal)
                hver[x] = ver
            hs = _push(hk, hv, hs, seed_time[s] + hval[x], x)
    stop_time = np.inf
    closed_at = np.inf  # lowest bound at which a group was closed (bounds its others)
    stopped = False
    while hs > 0:
        key, x, hs = _pop(hk, hv, hs)
        if done[x] or key > dist[x] + hval[x]:
            continue
        # key bounds the goal (no goal: nothing), theta every other team that matters
        e = theta
        if goal >= 0 and key < e:
            e = key
        switch = key > theta
        while ts > 0 and tk[0] <= e:
            c, t, ts = _pop(tk, tv, ts)
            if final[t] or c > best[t]:
                continue
            g = team_group[t]
            if not (open_g[g] or team_required[t]):
                continue  # its group closed earlier: no bound on it any more
            final[t] = True
            if t == goal:
                switch = True
            got[g] += 1
            if open_g[g] and got[g] == group_need[g]:
                open_g[g] = False
                open_groups -= 1
                switch = True
                if e < closed_at:
                    closed_at = e
            if team_required[t]:
                req_left -= 1
        if (open_groups <= 0 and req_left <= 0) or (e > max_time and req_left <= 0):
            stop_time = e
            stopped = True
            break
        if switch:
            # the goal's bound rises to the key; the lowest-bound team becomes the goal
            if goal >= 0 and not final[goal] and key > lb[goal]:
                lb[goal] = key
            new = -1
            theta = np.inf
            for t in range(n_teams):
                if final[t] or not (open_g[team_group[t]] or team_required[t]):
                    continue
                if new < 0 or lb[t] < lb[new]:
                    if new >= 0 and lb[new] < theta:
                        theta = lb[new]
                    new = t
                elif lb[t] < theta:
                    theta = lb[t]
            if new != goal:
                goal = new
                n_goal = 0
                if goal >= 0:
                    for q in range(t_ptr[goal], t_ptr[goal + 1]):
                        i = t_ent[q]
                        goal_node[n_goal] = ent_node[i]
                        goal_off[n_goal] = ent_off[i]
                        goal_sel[n_goal] = ent_order[i, :n_sel]
                        n_goal += 1
                ver += 1
                # re-key the open nodes for the new goal (x goes back in too)
                hk[hs] = key
                hv[hs] = x
                hs += 1
                m = 0
                for r in range(hs):
                    y = hv[r]
                    if done[y]:
                        continue
                    if hver[y] != ver:
                        hval[y] = _h(y, lm_from, lm_to, goal_node, goal_off, goal_sel,
                                     n_goal)
                        hver[y] = ver
                    hk[m] = dist[y] + hval[y]
                    hv[m] = y
                    m += 1
                hs = 0
                for r in range(m):
                    hs = _push(hk, hv, hs, hk[r], hv[r])
                continue
            if key > theta:
                continue  # cannot happen: theta was recomputed with the goal unchanged
        done[x] = True
        gx = dist[x]
        i = head[x]
        while i >= 0:
            t = ent_team[i]
            cand = gx + ent_off[i]
            if cand < best[t] and not final[t]:
                best[t] = cand
                best_len[t] = dlen[x] + ent_len[i]
                best_ent[t] = i
                ts = _push(tk, tv, ts, cand, t)
            i = nxt[i]
        for a in range(indptr[x], indptr[x + 1]):
            y = nbr[a]
            nd = gx + wt[a]
            if nd < dist[y]:
                dist[y] = nd
                dlen[y] = dlen[x] + ln[a]
                via[y] = eid[a]
                label[y] = label[x]
                if hver[y] != ver:
                    hval[y] = _h(y, lm_from, lm_to, goal_node, goal_off, goal_sel, n_goal)
                    hver[y] = ver
                hs = _push(hk, hv, hs, nd + hval[y], y)
    if stopped:
        if closed_at < stop_time:
            stop_time = closed_at
    else:
        # the whole reachable network is settled: every tentative best is final
        for t in range(n_teams):
            if best[t] < np.inf:
                final[t] = True
    return dist, dlen, via, label, best, best_len, best_ent, final, stop_time
