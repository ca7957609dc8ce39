"""The compiled ranking (``routing._rank.rank``) against the plain rules, on random
flat inputs: ties in ETA, estimates with NaN ETAs, estimates only, unknown status codes, teams sharing
a code, several runs, no team at all for a role."""

import numpy as np
import pytest

from geo_sigap.routing._rank import rank

ROAD, NOT_RANKED = 0, 1


def _plain(code, eta, group, row, resp_row, rank_of, run_of, n_runs, n_roles, k, within):
    """The rules as ``suggest`` wrote them team by team before the kernel."""
    out = []
    for g in range(n_roles):
        found = [i for i in range(len(code)) if group[i] == g and code[i] >= 0
                 and code[i] != NOT_RANKED]
        found.sort(key=lambda i: (eta[i] != eta[i], 0.0 if eta[i] != eta[i] else eta[i],
                                  rank_of[row[i]], i))
        later = [i for i in range(len(code)) if group[i] == g and code[i] == NOT_RANKED]
        later_runs = [any(run_of[i] == q for i in later) for q in range(n_runs)]
        road = [i for i in found if code[i] == ROAD]
        guess = [i for i in found if code[i] != ROAD]
        if not road and not guess:
            out.append(([], [], later, (-1, -1, -1), later_runs, np.inf))
            continue
        pool = road or guess
        nearest = pool[0]
        resp = next((i for i in pool if resp_row[row[i]]), -1)
        pick = resp if resp >= 0 and eta[resp] - eta[nearest] <= within else nearest
        listed = [i for part in (road, guess) for n, i in enumerate(part)
                  if n < k or resp_row[row[i]] or i == pick]
        shown = {rank_of[row[i]] for i in listed}
        over = [i for i in road + guess if rank_of[row[i]] not in shown]
        road_over = [eta[i] for i in over if code[i] == ROAD]
        out.append((listed, over, later, (pick, nearest, resp), later_runs,
                    min(road_over, default=np.inf)))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_rank_equals_the_plain_rules(seed):
    rng = np.random.default_rng(seed)
    n_table = int(rng.integers(0, 40))
    n_runs = int(rng.integers(1, 4))
    n_roles = int(rng.integers(1, 4))
    rows = rng.permutation(n_table)[:int(rng.integers(0, n_table + 1))].astype(np.int64)
    n = len(rows)
    sizes = np.bincount(rng.integers(0, n_runs, n), minlength=n_runs) if n else \
        np.zeros(n_runs, np.int64)
    base = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    run_of = np.repeat(np.arange(n_runs), sizes).astype(np.int64)
    code = rng.choice(np.array([0, 0, 0, 1, 1, 2, 3, -1], np.int8), n).astype(np.int8)
    if seed % 5 == 0:  # estimates only
        code[code == 0] = 2
    eta = rng.choice([60.0, 120.0, 120.0, 300.0], n) + np.where(
        rng.random(n) < 0.5, 0.0, rng.uniform(0, 400, n))
    eta[code == NOT_RANKED] = np.nan  # no time yet
    eta[(code >= 2) & (rng.random(n) < 0.3)] = np.nan  # an estimate without one
    group = rng.integers(0, n_roles, n).astype(np.int64)
    resp_row = rng.random(n_table) < 0.2
    stale_row = rng.random(n_table) < 0.3
    fresh_row = ~stale_row & (rng.random(n_table) < 0.5)
    # codes shared by a few teams (a dense rank with repeats)
    rank_of = np.minimum(np.arange(n_table), rng.integers(0, max(n_table, 1), n_table)
                         ).astype(np.int64) if seed % 3 == 0 else \
        np.arange(n_table, dtype=np.int64)
    dist = eta * 9.0
    estimate = code >= 2
    k = int(rng.integers(0, 4))
    within = float(rng.choice([0.0, 30.0, 300.0]))
    flags = []
    for a in (resp_row, stale_row, fresh_row):
        a = a.copy()
        a.setflags(write=False)
        flags.append(a)
    got = rank(code, eta, dist, estimate, group, rows, flags[0], flags[1], flags[2],
               rank_of, run_of, base, n_roles, k, within)
    listed, info, rest, meta, omin = got
    want = _plain(code, eta, group, rows, resp_row, rank_of, run_of, n_runs, n_roles, k,
                  within)
    R = n_roles
    for g, (w_listed, w_over, w_later, w_picks, w_runs, w_min) in enumerate(want):
        assert listed[meta[g]:meta[g + 1]].tolist() == w_listed
        assert rest[meta[R + 1 + g]:meta[R + 2 + g]].tolist() == w_over + w_later
        assert tuple(meta[2 * R + 2 + 3 * g:2 * R + 5 + 3 * g].tolist()) == w_picks
        runs = meta[5 * R + 2 + g * n_runs:5 * R + 2 + (g + 1) * n_runs]
        assert [bool(x) for x in runs] == w_runs
        assert omin[g] == w_min
    assert meta.shape[0] == 5 * R + 2 + R * n_runs
    # what each listed team's candidate shows
    for j, e in enumerate(listed.tolist()):
        r, q = rows[e], run_of[e]
        want_info = [r, q, e - base[q], eta[e], dist[e], code[e], estimate[e], stale_row[r],
                     fresh_row[r], resp_row[r]]
        np.testing.assert_array_equal(info[j], np.array(want_info, float))


def test_rank_of_nothing():
    z8, zf, zb = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    ro = np.zeros(0, bool)
    ro.setflags(write=False)
    got = rank(np.zeros(0, np.int8), zf, zf, zb, z8, z8, ro, ro, ro, z8, z8,
               np.zeros(1, np.int64), 2, 3, 300.0)
    listed, info, rest, meta, omin = got
    assert listed.size == rest.size == info.shape[0] == 0
    assert meta.tolist() == [0, 0, 0, 0, 0, 0] + [-1] * 6
    assert np.isinf(omin).all()
