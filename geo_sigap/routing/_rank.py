"""The ranking of a suggestion in one compiled call: who is listed, picked, not ranked.

:func:`geo_sigap.routing.suggest.suggest` searched once per travel profile; the teams
of all runs, one after the other (run order, then each run's own order), come here as
flat arrays. Per role the teams with a time are ordered by ``(ETA is NaN, ETA, code
rank, place)`` — road times first, then straight-line estimates — and the listed ones
(the ``k`` nearest of each kind, every responsible team and the pick) chosen, exactly
as the team-by-team rules in ``suggest`` read: the responsible team is picked when its
ETA is at most ``within`` longer than the nearest's. Python then builds only the few
listed candidates and their reasons.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_ROAD, _NOT_RANKED = 0, 1  # the engine's status codes; 2 and 3 are estimates


@njit(cache=True, nogil=True)
def rank(code, eta, dist, estimate, group, row, resp_row, stale_row, fresh_row, rank_of,
         run_of, run_base, n_roles, k, within):
    """Per role (``g``) its listed teams, the others with a time, the not ranked.

    Parameters
    ----------
    code, eta, dist, estimate, group, row, run_of
        Per team of every run: the engine's status code (``< 0``: unknown, not shown),
        ETA (s), metres, straight-line estimate, the place of its role among the roles
        asked, its team-table row and its run; ``run_base``: where each run starts.
    resp_row, stale_row, fresh_row, rank_of
        Per team-table row: responsible for the incident's place; position stale; at a
        fresh last position; the dense rank of its code (equal codes share one).
    k, within
        Teams listed per kind (road, estimate); the responsible team's allowance (s).

    Returns
    -------
    listed
        Per role its listed teams (indices into the flat arrays), road ones first, each
        kind by the order above; role ``g``'s are ``listed[meta[g]:meta[g + 1]]``.
    info
        Per listed team ``[row, run, place in run, eta, metres, code, estimate, stale,
        fresh, responsible]`` (what its candidate shows; integers and flags as floats).
    rest
        Per role the teams not listed: first those with a time (not sharing a code with
        a listed one), then the not ranked (run by run, in each run's order); role
        ``g``'s are ``rest[meta[R + 1 + g]:meta[R + 2 + g]]`` (``R`` roles).
    meta
        ``[listed_ptr (R + 1), rest_ptr (R + 1), per role pick, nearest, responsible
        (flat indices, -1: none; 3 R), per role and run: not-ranked teams from that run
        (R × runs)]``.
    overflow_road_min
        Per role the least road ETA of the teams with a time not listed (inf: none).
    """
    n = code.shape[0]
    n_runs = run_base.shape[0] - 1
    cnt = np.zeros(n_roles + 1, np.int64)
    cnt_later = np.zeros(n_roles + 1, np.int64)
    for i in range(n):
        c = code[i]
        if c == _NOT_RANKED:
            cnt_later[group[i] + 1] += 1
        elif c >= 0:
            cnt[group[i] + 1] += 1
    for g in range(n_roles):
        cnt[g + 1] += cnt[g]
        cnt_later[g + 1] += cnt_later[g]
    # meta: listed_ptr, rest_ptr, picks (-1: none), not-ranked teams by role and run
    picks_at, runs_at = 2 * n_roles + 2, 5 * n_roles + 2
    meta = np.zeros(runs_at + n_roles * n_runs, np.int64)
    meta[picks_at:runs_at] = -1
    found = np.empty(cnt[n_roles], np.int64)
    later = np.empty(cnt_later[n_roles], np.int64)
    fill = cnt[:n_roles].copy()
    fill_later = cnt_later[:n_roles].copy()
    for i in range(n):  # by role, each in flat order (run by run)
        c, g = code[i], group[i]
        if c == _NOT_RANKED:
            later[fill_later[g]] = i
            fill_later[g] += 1
            meta[runs_at + g * n_runs + run_of[i]] = 1
        elif c >= 0:
            found[fill[g]] = i
            fill[g] += 1
    listed = np.empty(found.shape[0], np.int64)
    rest = np.empty(found.shape[0] + later.shape[0], np.int64)
    overflow_road_min = np.full(n_roles, np.inf)
    shown = np.zeros(rank_of.shape[0] + 1, np.bool_)  # by code rank
    n_list = n_rest = 0
    for g in range(n_roles):
        meta[g], meta[n_roles + 1 + g] = n_list, n_rest
        part = _ordered(found[cnt[g]:cnt[g + 1]], code, eta, row, rank_of)
        m = part.shape[0]
        n_road = 0
        for j in range(m):
            if code[part[j]] == _ROAD:
                n_road += 1
        # part: road times first (the search settles them in order), then estimates
        lo, hi = (0, n_road) if n_road > 0 else (n_road, m)
        if hi > lo:
            near = part[lo]
            resp = -1
            for j in range(lo, hi):
                if resp_row[row[part[j]]]:
                    resp = part[j]
                    break
            pick = resp if resp >= 0 and eta[resp] - eta[near] <= within else near
            at = picks_at + 3 * g
            meta[at], meta[at + 1], meta[at + 2] = pick, near, resp
            start = n_list
            for j in range(m):
                e = part[j]
                nth = j if j < n_road else j - n_road
                if nth < k or resp_row[row[e]] or e == pick:
                    listed[n_list] = e
                    n_list += 1
                    shown[rank_of[row[e]]] = True
            for j in range(m):  # the others with a time (no code shared with a listed)
                e = part[j]
                if not shown[rank_of[row[e]]]:
                    rest[n_rest] = e
                    n_rest += 1
                    if code[e] == _ROAD and eta[e] < overflow_road_min[g]:
                        overflow_road_min[g] = eta[e]
            for j in range(start, n_list):  # clean for the next role
                shown[rank_of[row[listed[j]]]] = False
        for j in range(cnt_later[g], cnt_later[g + 1]):  # then the not ranked
            rest[n_rest] = later[j]
            n_rest += 1
    meta[n_roles], meta[2 * n_roles + 1] = n_list, n_rest
    info = np.empty((n_list, 10))
    for j in range(n_list):
        e = listed[j]
        r, q = row[e], run_of[e]
        info[j, 0], info[j, 1], info[j, 2] = r, q, e - run_base[q]
        info[j, 3], info[j, 4], info[j, 5] = eta[e], dist[e], code[e]
        info[j, 6], info[j, 7], info[j, 8] = estimate[e], stale_row[r], fresh_row[r]
        info[j, 9] = resp_row[r]
    return listed[:n_list].copy(), info, rest[:n_rest].copy(), meta, overflow_road_min


@njit(cache=True)
def _before(a, b, code, eta, row, rank_of):
    """Does flat entry ``a`` come before ``b``? Road before estimate, then ``(ETA is
    NaN, ETA, code rank, place)``."""
    ra, rb = code[a] != _ROAD, code[b] != _ROAD
    if ra != rb:
        return rb
    ta, tb = eta[a], eta[b]
    na, nb = ta != ta, tb != tb
    if na != nb:
        return nb
    if not na and ta != tb:
        return ta < tb
    ka, kb = rank_of[row[a]], rank_of[row[b]]
    if ka != kb:
        return ka < kb
    return a < b


@njit(cache=True)
def _ordered(part, code, eta, row, rank_of):
    """``part`` sorted by :func:`_before` (a merge sort: stable, n log n)."""
    m = part.shape[0]
    a = part.copy()
    if m < 2:
        return a
    b = np.empty(m, np.int64)
    width = 1
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            i, j, o = lo, mid, lo
            while i < mid and j < hi:
                if _before(a[j], a[i], code, eta, row, rank_of):
                    b[o] = a[j]
                    j += 1
                else:
                    b[o] = a[i]
                    i += 1
                o += 1
            while i < mid:
                b[o] = a[i]
                i += 1
                o += 1
            while j < hi:
                b[o] = a[j]
                j += 1
                o += 1
        a, b = b, a
        width *= 2
    return a


def warm_up() -> None:
    """Compile (or load the compiled) :func:`rank` with the dtypes of the real calls."""
    i8 = np.int64
    flags = [np.array([False, True, False, False]) for _ in range(3)]
    for f in flags:
        f.setflags(write=False)  # as the team table gives them
    times = np.array([1.0, np.nan, 3.0, np.nan])
    rank(np.array([0, 1, 2, 3], np.int8), times, times, np.zeros(4, np.bool_),
         np.zeros(4, i8), np.arange(4, dtype=i8), *flags, np.arange(4, dtype=i8),
         np.zeros(4, i8), np.array([0, 4], i8), 1, 1, 0.0)
