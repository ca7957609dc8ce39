"""Who should go? Per role the category needs: the responsible and the nearest teams.

For an incident (category, location, geocoded unit codes) and the teams, one search
per travel profile ranks the available teams of every needed role by road ETA, marks
the team(s) responsible for the place ("penanggung jawab wilayah") and recommends one
team per role: the responsible team when its ETA is within ``responsible_within`` of
the nearest team's, otherwise the nearest. Every candidate carries a reason in Bahasa
Indonesia (``reason``) and English (``reason_en``).
"""

from __future__ import annotations

import time as _time
from functools import lru_cache
from math import isfinite
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

from geo_sigap.domain.categories import Category
from geo_sigap.domain.teams import Role, Team
from geo_sigap.routing.engine import (NOT_RANKED, OFF_NETWORK, ROAD, UNREACHABLE, EtaResult,
                                      Route)
from geo_sigap.routing._rank import rank as _rank_kernel
from geo_sigap.routing._team_table import TeamTable, TeamTables, unit_prefixes


@dataclass(slots=True)
class Candidate:
    """One team's place in a role's ranking. Times in seconds, distances in metres."""

    team_code: str
    team_name: str
    role: Role
    profile: str
    eta_s: float | None
    distance_m: float | None
    status: str  # road | not_ranked | unreachable | off_network
    is_estimate: bool  # straight-line estimate, not a road route
    is_responsible: bool
    responsible_for: tuple[str, ...]
    stale_position: bool
    position: tuple[float, float]
    position_source: str  # "posisi_terakhir" | "pos"
    rank: int = 0
    recommended: bool = False
    reason: str = ""
    reason_en: str = ""
    route: Route | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "team_code": self.team_code, "team_name": self.team_name,
            "role": self.role.value, "profile": self.profile, "rank": self.rank,
            "eta_s": _round(self.eta_s), "eta_min": _round(self.eta_s, 60),
            "distance_m": _round(self.distance_m), "status": self.status,
            "is_estimate": self.is_estimate, "is_responsible": self.is_responsible,
            "responsible_for": list(self.responsible_for),
            "stale_position": self.stale_position, "position": list(self.position),
            "position_source": self.position_source, "recommended": self.recommended,
            "reason": self.reason, "reason_en": self.reason_en,
            "route": self.route.to_geojson() if self.route is not None else None,
        }


@dataclass(slots=True)
class RoleSuggestion:
    role: Role
    kind: str  # "lead" | "support"
    candidates: list[Candidate]
    recommended: Candidate | None
    not_ranked: list[str] = field(default_factory=list)  # beyond the k nearest
    not_ranked_min_eta_s: float | None = None
    note: str = ""
    note_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value, "role_label": self.role.label, "kind": self.kind,
            "recommended": self.recommended.team_code if self.recommended else None,
            "candidates": [c.to_dict() for c in self.candidates],
            "not_ranked": self.not_ranked,
            "not_ranked_min_eta_s": _round(self.not_ranked_min_eta_s), "note": self.note,
            "note_en": self.note_en,
        }


@dataclass(slots=True)
class Suggestions:
    incident: tuple[float, float]
    category: str
    unit_codes: tuple[str, ...]
    roles: list[RoleSuggestion]
    computed_ms: float
    _results: dict[str, tuple[EtaResult, Any]] = field(default_factory=dict, repr=False)

    def role(self, role: Role | str) -> RoleSuggestion:
        role = Role.parse(role)
        for r in self.roles:
            if r.role == role:
                return r
        raise KeyError(role)

    def route(self, team_code: str) -> Route:
        """Route of any team that took part (no new search)."""
        for result, index in self._results.values():
            if team_code in index:
                return result.route(index[team_code])
        raise KeyError(team_code)

    def to_dict(self) -> dict[str, Any]:
        return {"incident": list(self.incident), "category": self.category,
                "unit_codes": list(self.unit_codes), "computed_ms": round(self.computed_ms, 2),
                "roles": [r.to_dict() for r in self.roles]}


def suggest(
    engine: Any,
    incident_lonlat: tuple[float, float],
    category: Category,
    unit_codes: Sequence[str],
    teams: Sequence[Team],
    now: datetime,
    *,
    stale_after: timedelta = timedelta(minutes=15),
    responsible_within: timedelta = timedelta(minutes=5),
    top_k: int = 3,
    roles: Sequence[Role] | None = None,
    with_routes: bool = True,
    teams_snapshot: bool = False,
) -> Suggestions:
    """Rank the available teams of every role the category needs.

    Parameters
    ----------
    engine
        A :class:`~geo_sigap.routing.engine.RoutingEngine` (or the OSRM adapter).
    incident_lonlat
        (lon, lat) EPSG:4326.
    category
        Its ``roles`` (lead first, then support) are the roles suggested.
    unit_codes
        The incident's kelurahan / RW / RT codes (from reverse geocoding).
    teams
        All teams; only available ones of the needed roles are ranked.
    now
        Timezone-aware; positions older than ``stale_after`` are replaced by the post.
    responsible_within
        Prefer the responsible team when its ETA is at most this much longer than
        the nearest team's.
    top_k
        Exact ETAs for the ``top_k`` nearest teams per role (plus every responsible
        team); the others are listed as not ranked.
    roles
        Override the category's roles (e.g. when the category has no lead).
    teams_snapshot
        ``teams`` is not changed (nor its teams) while it is the same object, as the
        list :func:`geo_sigap.dispatch.ports.current_teams` gives: the team table made
        for it is reused without reading the teams again. ``False``: every field the
        suggestion reads is compared with the table's (a team changed in place is seen).
    """
    t0 = _time.perf_counter()
    wanted = tuple(roles) if roles is not None else tuple(category.roles)
    n_roles = len(wanted)
    units = tuple(u for u in unit_codes if u)
    within = responsible_within.total_seconds()
    tab = _TABLES.get(teams, snapshot=teams_snapshot)
    where = tab.positions(now, stale_after)
    if where is None:  # naive and aware times mixed: team by team (raises as before)
        got = [t.position_at(now, stale_after) for t in teams]
        pos = np.array([g[0] for g in got], np.float64).reshape(-1, 2)
        stale = np.array([g[1] for g in got], bool)
        fresh = np.array([not g[1] and t.last_position is not None and g[0] == t.last_position
                          for g, t in zip(got, teams, strict=True)], bool)
    else:
        pos, stale, fresh = where
    resp = tab.responsible(units)
    by_profile, flat = _selection(tab, wanted)
    runs: list[_Run] = []
    results: dict[str, tuple[EtaResult, _CodeIndex]] = {}
    cap = np.inf  # once one profile gave k teams per role, slower ones cannot rank
    last = len(by_profile) - 1
    for q, (profile, idx, grp, taken) in enumerate(by_profile):
        res: EtaResult = engine.eta_from_teams(
            incident_lonlat, _take(taken, pos, idx, True), profile, groups=grp, k=top_k,
            required=_take(taken, resp, idx), max_time_s=cap)
        if q < last:  # the cap of the runs after this one
            cap = min(cap, _kth_per_role(res, grp, n_roles, top_k))
        results[profile] = (res, _CodeIndex(tab.codes, idx))
        runs.append(_Run(profile, res, _status_codes(res)))
    if len(runs) == 1:
        res0 = runs[0].res
        code, eta, dist, est = runs[0].codes, res0.eta_s, res0.distance_m, res0.is_estimate
    elif not runs:
        code, eta, dist, est = (np.zeros(0, np.int8), np.zeros(0), np.zeros(0),
                                np.zeros(0, bool))
    else:
        code = np.concatenate([run.codes for run in runs])
        eta = np.concatenate([run.res.eta_s for run in runs])
        dist = np.concatenate([run.res.distance_m for run in runs])
        est = np.concatenate([run.res.is_estimate for run in runs])
    if code.dtype != np.int8:
        code = code.astype(np.int8)
    listed, info, rest, meta, over_min = _rank_kernel(
        code, eta, dist, est, flat.group, flat.row, resp, stale, fresh, tab.code_rank,
        flat.run, flat.base, n_roles, top_k, within)
    ranked = (listed.tolist(), info.tolist(), rest, meta.tolist(), over_min.tolist())
    ctx = _Context(tab, runs, within, top_k, stale_after, unit_prefixes(units), n_roles,
                   flat)
    out = []
    for g, r in enumerate(wanted):
        kind = "lead" if category.lead == r and r == wanted[0] else "support"
        rs = _rank(r, kind, ctx, g, ranked)
        if with_routes and rs.recommended is not None:
            res, index = results[rs.recommended.profile]
            rs.recommended.route = res.route(index[rs.recommended.team_code])
        out.append(rs)
    return Suggestions(tuple(incident_lonlat), category.code, units, out,
                       (_time.perf_counter() - t0) * 1000.0, results)


def _selection(tab: TeamTable, wanted: tuple[Role, ...]) -> tuple[list, _Flat]:
    """The available teams of the asked roles per profile ``(profile, rows, their
    roles' places in wanted, memo of _take)``, the profile with most teams first (ties:
    first seen first), and all of them one after the other (:class:`_Flat`). Kept with
    the table per ``wanted``."""
    hit = tab.cache.get(wanted)
    if hit is not None:
        return hit
    role_index = {r: i for i, r in enumerate(wanted)}
    lut = np.array([role_index.get(r, -1) for r in tab.role_list] or [-1], np.int64)
    group = lut[tab.role_id] if tab.n else np.zeros(0, np.int64)
    chosen = np.flatnonzero(tab.available & (group >= 0))
    # profiles in order of first appearance, then the one with most teams first
    pid = tab.profile_id[chosen]
    by_profile = [(tab.profile_list[q], chosen[pid == q])
                  for q in pid[np.sort(np.unique(pid, return_index=True)[1])].tolist()]
    by_profile.sort(key=lambda kv: -len(kv[1]))
    runs = [(p, idx, group[idx], {}) for p, idx in by_profile]
    hit = runs, _flat_of(tab, runs)
    tab.cache[wanted] = hit
    return hit


def _take(memo: dict, arr: np.ndarray, idx: np.ndarray, freeze: bool = False) -> np.ndarray:
    """``arr[idx]``, kept for a read-only ``arr`` (the team table's positions and
    responsible teams: the same arrays come back incident after incident); ``freeze``:
    the kept part read-only too (the engine then knows the same positions by the very
    object, without comparing them)."""
    if arr.flags.writeable:
        return arr[idx]
    got = memo.get(id(arr))
    if got is None or got[0] is not arr:
        if len(memo) >= 64:
            memo.clear()
        part = arr[idx]
        if freeze:
            part.setflags(write=False)
        got = memo[id(arr)] = (arr, part)
    return got[1]


class _CodeIndex:
    """Team code → row in one profile's result, made when first asked."""

    def __init__(self, codes: list[str], idx: np.ndarray) -> None:
        self._codes, self._idx, self._map = codes, idx, None

    def _get(self) -> dict[str, int]:
        if self._map is None:
            self._map = {self._codes[r]: i for i, r in enumerate(self._idx.tolist())}
        return self._map

    def __contains__(self, code: object) -> bool:
        return code in self._get()

    def __getitem__(self, code: str) -> int:
        return self._get()[code]


# the one team table kept (equal-content lists reuse it; see _team_table)
_TABLES = TeamTables()
_S_ROAD, _S_NOT_RANKED, _S_ESTIMATE = 0, 1, 2
_STATUS_TEXT = (ROAD, NOT_RANKED, UNREACHABLE, OFF_NETWORK)  # by the engine's code




def _status_codes(res: EtaResult) -> np.ndarray:
    """Per team ``_S_*`` — or the engine's own codes, whose 2 and 3 (unreachable, off
    the network) both read as ``_S_ESTIMATE`` (see :func:`geo_sigap.routing._rank.rank`)."""
    if res.status_code is not None:
        return res.status_code
    status = res.status
    code = np.full(len(status), -1, np.int64)
    code[status == ROAD] = _S_ROAD
    code[status == NOT_RANKED] = _S_NOT_RANKED
    code[(status == UNREACHABLE) | (status == OFF_NETWORK)] = _S_ESTIMATE
    return code


def _kth_per_role(res: EtaResult, groups: np.ndarray, n_roles: int, k: int) -> float:
    """The largest, over roles, of the k-th best road ETA (inf if a role has fewer).

    The road teams are few (about k per role): read one by one."""
    if k < 1 or n_roles < 1:
        return 0.0
    if res.kth_by_group is not None and res.kth_by_group[0] == k:  # from the search
        kth = res.kth_by_group[1]
        return np.inf if len(kth) < n_roles else max(kth[:n_roles].tolist())
    road = np.flatnonzero(res.status_code == 0 if res.status_code is not None
                          else res.status == ROAD)
    per: list[list[float]] = [[] for _ in range(n_roles)]
    for g, t in zip(groups[road].tolist(), res.eta_s[road].tolist(), strict=True):
        per[g].append(t)
    if any(len(p) < k for p in per):
        return np.inf
    return float(max(sorted(p)[k - 1] for p in per))


class _Run(NamedTuple):
    profile: str
    res: EtaResult
    codes: np.ndarray  # per team the engine's status code (or _S_*, see _status_codes)


class _Flat(NamedTuple):
    """The teams of all runs one after the other (run order, then each run's order):
    per team its table row, role place, run and code; where each run starts."""

    row: np.ndarray
    group: np.ndarray
    run: np.ndarray
    codes: np.ndarray  # object: the team codes
    base: np.ndarray  # where each run starts (and the end)


def _flat_of(tab: TeamTable, runs: list) -> _Flat:
    """:class:`_Flat` of the runs :func:`_selection` chose."""
    rows = [idx for _p, idx, _g, _m in runs]
    sizes = [len(r) for r in rows]
    row = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
    group = (np.concatenate([grp for _p, _i, grp, _m in runs]).astype(np.int64)
             if rows else np.zeros(0, np.int64))
    run = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
    base = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return _Flat(row, group, run, tab.code_array[row], base)


class _Context(NamedTuple):
    tab: TeamTable
    runs: list[_Run]
    within: float
    k: int
    stale_after: timedelta
    hold: set[str]  # every area code that holds the incident (see unit_prefixes)
    n_roles: int
    flat: _Flat

    def areas(self, r: int) -> tuple[str, ...]:
        """The areas of table row ``r`` that hold the incident (``()`` for most teams)."""
        have = self.tab.rows[r][5]
        if not have:
            return ()
        hold = self.hold
        return tuple([a for a in have if a in hold])

    def candidate(self, info: list[float]) -> Candidate:
        """The candidate of a listed team (its ``info`` row of the ranking kernel)."""
        tab = self.tab
        r = int(info[0])
        run = self.runs[int(info[1])]
        row = tab.rows[r]
        eta, dist, fresh = info[3], info[4], info[8] != 0.0
        areas = self.areas(r) if info[9] != 0.0 else ()
        res = run.res
        status = (_STATUS_TEXT[int(info[5])] if res.status_code is not None
                  else str(res.status[int(info[2])]))  # codes of _status_codes: ask
        # positional (the fields' order): a keyword call of 13 costs twice as much
        return Candidate(row[0], row[1], row[2], run.profile, None if eta != eta else eta,
                         None if dist != dist else dist, status, info[6] != 0.0,
                         bool(areas), areas, info[7] != 0.0,
                         tuple(row[7] if fresh else row[3]),
                         "posisi_terakhir" if fresh else "pos")


def _rank(role: Role, kind: str, ctx: _Context, g: int, ranked: list) -> RoleSuggestion:
    """Rank one role (place ``g``) from :func:`geo_sigap.routing._rank.rank`'s lists: the
    k nearest (road first, then estimates) plus the responsible teams and the pick."""
    listed, info, rest, meta, over_min = ranked
    k, within = ctx.k, ctx.within
    codes = ctx.flat.codes
    n_roles, n_runs = ctx.n_roles, len(ctx.runs)
    a, b = meta[n_roles + 1 + g], meta[n_roles + 2 + g]
    rest_codes = codes[rest[a:b]].tolist()  # beyond the listed, then the not ranked
    lo, hi = meta[g], meta[g + 1]
    if lo == hi:
        return RoleSuggestion(role, kind, [], None, rest_codes,
                              note=f"Tidak ada tim {role.label} yang tersedia.",
                              note_en=f"No {role.label} team is available.")
    at = 2 * n_roles + 2 + 3 * g
    pick, nearest, resp = meta[at], meta[at + 1], meta[at + 2]
    mine = listed[lo:hi]
    cands = {codes[e]: ctx.candidate(info[j]) for j, e in enumerate(mine, lo)}
    c_pick = cands[codes[pick]]
    c_near = cands[codes[nearest]]
    c_resp = cands[codes[resp]] if resp >= 0 else None
    ordered_c = [c_pick] + [cands[codes[e]] for e in mine if e != pick]
    for rank, c in enumerate(ordered_c, 1):
        c.rank = rank
        c.recommended = c is c_pick
        c.reason, c.reason_en = _reason(c, c_near, c_resp, c_pick, within, ctx.stale_after)
    # the bound of every run a not-ranked team comes from (one per run, not per team)
    has = 5 * n_roles + 2 + g * n_runs
    bounds = [x for q, run in enumerate(ctx.runs) if meta[has + q]
              for x in (float(run.res.lower_bound_s),) if isfinite(x)]
    if over_min[g] != np.inf:
        bounds.append(over_min[g])
    n_rest = len(rest_codes)
    return RoleSuggestion(role, kind, ordered_c, c_pick, rest_codes,
                          min(bounds, default=None),
                          note=(f"{n_rest} tim lain lebih jauh dari {k} tim terdekat "
                                "(tidak diurutkan)." if n_rest else ""),
                          note_en=(f"{n_rest} more {'team is' if n_rest == 1 else 'teams are'} "
                                   f"farther than the {k} nearest (not ranked)."
                                   if n_rest else ""))


def _reason(c: Candidate, nearest: Candidate, resp: Candidate | None, pick: Candidate,
            within: float, stale_after: timedelta) -> tuple[str, str]:
    """``(reason, reason_en)`` of one shown candidate (f-strings: each pair side by side;
    a few µs per candidate, once per shown team)."""
    area = ", ".join(c.responsible_for)
    m = _minutes(c.eta_s)
    if c.is_estimate:
        if c.status == UNREACHABLE:
            why = ("tidak terjangkau lewat jaringan jalan (ruas jalan terpisah)",
                   "not reachable on the road network (separate road component)")
        else:
            why = ("posisi atau lokasi kejadian terlalu jauh dari jalan yang dapat dilalui",
                   "the position or the incident is too far from a usable road")
        ids = f"Peringkat {c.rank}: {why[0]}; perkiraan garis lurus ±{m[0]} — BUKAN rute jalan."
        ens = f"Rank {c.rank}: {why[1]}; straight-line estimate ±{m[1]} — NOT a road route."
    elif c.recommended and c is nearest:
        if c.is_responsible:
            x = (f" dan penanggung jawab wilayah ({area})",
                 f" and responsible for the area ({area})")
        elif resp is None:
            x = ("; tidak ada tim penanggung jawab wilayah yang tersedia",
                 "; no team responsible for the area is available")
        else:
            d, b, t = _minutes(resp.eta_s - c.eta_s), _minutes(within), resp.team_name
            x = (f"; penanggung jawab wilayah ({t}) {d[0]} lebih lama, melebihi batas {b[0]}",
                 f"; the responsible team ({t}) is {d[1]} slower, beyond the {b[1]} limit")
        ids = f"Disarankan: tim terdekat lewat jalan (ETA {m[0]}){x[0]}."
        ens = f"Recommended: nearest team by road (ETA {m[1]}){x[1]}."
    elif c.recommended:
        d, b, t = _minutes(c.eta_s - nearest.eta_s), _minutes(within), nearest.team_name
        ids = (f"Disarankan: penanggung jawab wilayah ({area}); ETA {m[0]}, hanya {d[0]} "
               f"lebih lama dari tim terdekat {t} (batas {b[0]}).")
        ens = (f"Recommended: responsible for the area ({area}); ETA {m[1]}, only {d[1]} "
               f"slower than the nearest team {t} (limit {b[1]}).")
    else:
        diff = c.eta_s - pick.eta_s
        if c.is_responsible:
            x = (f"; penanggung jawab wilayah ({area})", f"; responsible for the area ({area})")
        elif c is nearest:
            b = _minutes(within)
            x = ("; terdekat, tetapi penanggung jawab wilayah didahulukan karena selisihnya "
                 f"dalam batas {b[0]}",
                 f"; the nearest, but the responsible team goes first as the difference is "
                 f"within {b[1]}")
        else:
            x = ("", "")
        d = _minutes(abs(diff))
        cmp = ("lebih lama", "slower") if diff >= 0 else ("lebih cepat", "faster")
        ids = (f"Peringkat {c.rank}: ETA {m[0]} lewat jalan, {d[0]} {cmp[0]} dari tim yang "
               f"disarankan{x[0]}.")
        ens = (f"Rank {c.rank}: ETA {m[1]} by road, {d[1]} {cmp[1]} than the recommended "
               f"team{x[1]}.")
    if c.stale_position:
        s = _stale_note(stale_after.total_seconds())
        ids, ens = ids + s[0], ens + s[1]
    elif c.position_source == "pos":
        s = _POST_NOTE
        ids, ens = ids + s[0], ens + s[1]
    return ids, ens


@lru_cache(maxsize=64)
def _stale_note(seconds: float) -> tuple[str, str]:
    return _t(" Posisi terakhir lebih tua dari {a}: dihitung dari pos.",
              " Last position older than {a}: computed from the post.", a=_minutes(seconds))


_POST_NOTE = (" Tanpa posisi terakhir: dihitung dari pos.",
              " No last position: computed from the post.")


def _t(text_id: str, text_en: str, **kw: Any) -> tuple[str, str]:
    """Format both languages; a ``(id, en)`` tuple value gives each its own text."""
    ids = ens = kw
    for k, v in kw.items():
        if type(v) is tuple:
            if ids is kw:
                ids, ens = dict(kw), dict(kw)
            ids[k], ens[k] = v
    return text_id.format_map(ids), text_en.format_map(ens)


_MINUTES: dict[str, tuple[str, str]] = {}


def _minutes(seconds: float | None) -> tuple[str, str]:
    """``("4,5 menit", "4.5 min")``. The pairs are kept by their shown text, not by the
    time: every report's times are new floats (a cache keyed on them filled by a few
    entries per report), the shown texts are a few hundred."""
    if seconds is None:
        return "?", "?"
    m = seconds / 60.0
    if m < 1:
        return "< 1 menit", "< 1 min"
    text = f"{m:.1f}" if m < 10 else f"{m:.0f}"
    hit = _MINUTES.get(text)
    if hit is None:
        hit = (text.replace(".", ",") + " menit", text + " min")
        if len(_MINUTES) < 2048:
            _MINUTES[text] = hit
    return hit


def _round(value: float | None, div: float = 1.0) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value) / div, 1 if div == 1.0 else 2)
