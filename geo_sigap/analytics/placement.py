"""Where to put posts: maximal coverage location-allocation on road travel times.

Inputs are a travel-time matrix ``T`` (minutes, candidate sites × demand points, e.g.
RT representative points; ``inf`` = no road path), a target (e.g. 15 minutes) and
demand weights (1 per RT, or incidents per RT). A point is *covered* by a set of sites
when one of them reaches it within the target.

- :func:`coverage` — covered weight of a set of sites;
- :func:`best_moves` — the current posts as the baseline, and for each post the move to
  the candidate site that gains most ("moving Pos X to Y puts N more RTs within the
  target"), every gain recomputed as ``coverage(after) − coverage(before)``;
- :func:`greedy_max_coverage` — p sites chosen one at a time by marginal gain (the
  classic greedy MCLP heuristic, within 1 − 1/e of the optimum);
- :func:`greedy_set_cover` — the fewest sites (greedy) that cover every reachable point
  (minimum-facilities set cover).

:func:`travel_minutes` builds ``T`` from the routing engine, one forward search per
candidate site.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np


def _covers(T, target: float) -> np.ndarray:
    T = np.asarray(T, dtype=float)
    return np.isfinite(T) & (T <= target)


def coverage(T, sites, target: float, weights=None) -> float:
    """Weight of the demand points within ``target`` of at least one of ``sites``."""
    c = _covers(T, target)
    w = np.ones(c.shape[1]) if weights is None else np.asarray(weights, float)
    sites = list(sites)
    if not sites:
        return 0.0
    return float(w[c[sites].any(axis=0)].sum())


@dataclass(frozen=True)
class Move:
    post: int  # row of T of the current post
    to: int  # row of T of the proposed site
    before: float  # covered weight with the current posts
    after: float  # covered weight after the move
    newly_covered: tuple[int, ...]  # demand points gained
    lost: tuple[int, ...]  # demand points no longer covered

    @property
    def gain(self) -> float:
        return self.after - self.before


def best_moves(T, current, target: float, weights=None, candidates=None) -> list[Move]:
    """For each current post, the single move (to a candidate site) with the largest
    gain in coverage, best first; posts whose every move loses coverage are left out."""
    c = _covers(T, target)
    w = np.ones(c.shape[1]) if weights is None else np.asarray(weights, float)
    current = list(current)
    cand = range(c.shape[0]) if candidates is None else list(candidates)
    base_mask = c[current].any(axis=0) if current else np.zeros(c.shape[1], bool)
    before = float(w[base_mask].sum())
    moves = []
    for k, post in enumerate(current):
        others = current[:k] + current[k + 1:]
        rest = c[others].any(axis=0) if others else np.zeros(c.shape[1], bool)
        best = None
        for y in cand:
            if y in current:
                continue
            mask = rest | c[y]
            after = float(w[mask].sum())
            if best is None or after > best[0]:
                best = (after, y, mask)
        if best is None or best[0] <= before:
            continue
        after, y, mask = best
        moves.append(Move(post, y, before, after,
                          tuple(np.nonzero(mask & ~base_mask)[0].tolist()),
                          tuple(np.nonzero(base_mask & ~mask)[0].tolist())))
    return sorted(moves, key=lambda m: -m.gain)


def greedy_max_coverage(T, p: int, target: float, weights=None, fixed=()) -> list[int]:
    """``p`` sites (after the ``fixed`` ones) chosen greedily by marginal covered weight."""
    c = _covers(T, target)
    w = np.ones(c.shape[1]) if weights is None else np.asarray(weights, float)
    chosen = list(fixed)
    covered = c[chosen].any(axis=0) if chosen else np.zeros(c.shape[1], bool)
    for _ in range(p):
        gains = ((c & ~covered) * w).sum(axis=1)
        gains[chosen] = -1
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        chosen.append(j)
        covered |= c[j]
    return chosen[len(fixed):]


def greedy_set_cover(T, target: float) -> list[int]:
    """Sites (greedy) until every point any site can reach within ``target`` is covered."""
    c = _covers(T, target)
    need = c.any(axis=0)
    chosen: list[int] = []
    covered = np.zeros(c.shape[1], bool)
    while (need & ~covered).any():
        j = int(np.argmax((c & ~covered).sum(axis=1)))
        chosen.append(j)
        covered |= c[j]
    return chosen


def travel_minutes(engine, sites_lonlat, points_lonlat, profile: str) -> np.ndarray:
    """Minutes by road from each site to each point (``inf``: no path), one forward
    search per site on the engine's ``profile`` network (same rules as the coverage
    layer: snapped to the nearest usable road with the access leg)."""
    from geo_sigap.routing.coverage import _from_posts

    pts = np.asarray(points_lonlat, float).reshape(-1, 2)
    out = np.full((len(sites_lonlat), len(pts)), np.inf)
    for i, (lon, lat) in enumerate(sites_lonlat):
        sec, _ = _from_posts(engine, [SimpleNamespace(post=(lon, lat))], profile,
                             pts[:, 0], pts[:, 1])
        out[i] = sec / 60.0
    return out


def post_proposals(engine, units, teams, target_min: float = 15.0, top: int = 3):
    """Per role with posts: the current coverage of the RTs within ``target_min`` by road
    and the best single moves of a post to an RW (its representative point).

    Returns a DataFrame with ``role, post_code, post_name, to_code, to_name, before, after,
    gain, n_rt`` (one row per proposed move, best first per role; a role whose posts
    cannot gain by one move gets a row with ``gain`` 0 and no ``to_code``).
    """
    import pandas as pd

    from geo_sigap.routing.profiles import profile_for

    u = units if units.crs is None or units.crs.equals("EPSG:4326") else units.to_crs(4326)
    rt = u.loc[u["level"] == "rt"]
    rw = u.loc[u["level"] == "rw"]
    if rt.empty or rw.empty:
        return pd.DataFrame(columns=["role", "post_code", "post_name", "to_code", "to_name",
                                     "before", "after", "gain", "n_rt"])
    names = dict(zip(u["code"], u["name"]))
    rt_pts = np.c_[rt.geometry.representative_point().x, rt.geometry.representative_point().y]
    rw_pts = rw.geometry.representative_point()
    rows = []
    for role in sorted({t.role for t in teams if t.post is not None}, key=lambda r: r.value):
        posts = [t for t in teams if t.role == role and t.post is not None]
        profiles = [profile_for(t.vehicle) for t in posts]
        profile = max(set(profiles), key=profiles.count)
        sites = [tuple(t.post) for t in posts] + list(zip(rw_pts.x, rw_pts.y))
        T = travel_minutes(engine, sites, rt_pts, profile)
        current = list(range(len(posts)))
        moves = best_moves(T, current, target_min, candidates=range(len(posts), len(sites)))
        before = coverage(T, current, target_min)
        if not moves:
            rows.append({"role": role, "post_code": None, "post_name": None, "to_code": None,
                         "to_name": None, "before": before, "after": before, "gain": 0.0,
                         "n_rt": len(rt)})
        for m in moves[:top]:
            code = rw["code"].iat[m.to - len(posts)]
            kel = code.rsplit(".", 1)[0]
            rows.append({"role": role, "post_code": posts[m.post].code,
                         "post_name": posts[m.post].name, "to_code": code,
                         "to_name": f"{names.get(code, code)}, Kel. {names.get(kel, kel)}",
                         "before": m.before, "after": m.after, "gain": m.gain,
                         "n_rt": len(rt)})
    return pd.DataFrame(rows)
