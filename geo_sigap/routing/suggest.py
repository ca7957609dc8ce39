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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

from geo_sigap.domain.categories import Category
from geo_sigap.domain.teams import Role, Team
from geo_sigap.routing.engine import (NOT_RANKED, OFF_NETWORK, ROAD, UNREACHABLE, EtaResult,
                                      Route)
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value, "role_label": self.role.label, "kind": self.kind,
            "recommended": self.recommended.team_code if self.recommended else None,
            "candidates": [c.to_dict() for c in self.candidates],
            "not_ranked": self.not_ranked,
            "not_ranked_min_eta_s": _round(self.not_ranked_min_eta_s), "note": self.note,
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
    """
    t0 = _time.perf_counter()
    wanted = list(roles) if roles is not None else list(category.roles)
    role_index = {r: i for i, r in enumerate(wanted)}
    units = tuple(u for u in unit_codes if u)
    within = responsible_within.total_seconds()
    tab = _TABLES.get(teams)
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
    lut = np.array([role_index.get(r, -1) for r in tab.role_list] or [-1], np.int64)
    group = lut[tab.role_id] if tab.n else np.zeros(0, np.int64)
    chosen = np.flatnonzero(tab.available & (group >= 0))
    # profiles in order of first appearance, then the one with most teams first
    pid = tab.profile_id[chosen]
    by_profile = [(tab.profile_list[q], chosen[pid == q])
                  for q in pid[np.sort(np.unique(pid, return_index=True)[1])].tolist()]
    runs: list[_Run] = []
    results: dict[str, tuple[EtaResult, _CodeIndex]] = {}
    cap = np.inf  # once one profile gave k teams per role, slower ones cannot rank
    for profile, idx in sorted(by_profile, key=lambda kv: -len(kv[1])):
        res: EtaResult = engine.eta_from_teams(
            incident_lonlat, pos[idx], profile, groups=group[idx], k=top_k,
            required=resp[idx], max_time_s=cap)
        cap = min(cap, _kth_per_role(res, group[idx], len(wanted), top_k))
        results[profile] = (res, _CodeIndex(tab.codes, idx))
        runs.append(_Run(profile, res, idx, _status_codes(res)))
    # every ranked team, profile after profile: table row, run, row in the run
    if runs:
        row = np.concatenate([r.idx for r in runs])
        run = np.concatenate([np.full(len(r.idx), j) for j, r in enumerate(runs)])
        at = np.concatenate([np.arange(len(r.idx)) for r in runs])
        eta = np.concatenate([r.res.eta_s for r in runs])
        code = np.concatenate([r.codes for r in runs])
    else:
        row = run = at = code = np.zeros(0, np.int64)
        eta = np.zeros(0)
    ctx = _Context(tab, runs, row, run, at, eta, resp, stale, fresh, units, within, top_k,
                   stale_after, row.tolist(), eta.tolist(), resp.tolist(),
                   tab.code_rank_list, unit_prefixes(units), run.tolist(), at.tolist())
    out = []
    for g, r in enumerate(wanted):
        kind = "lead" if category.lead == r and r == wanted[0] else "support"
        rs = _rank(r, kind, ctx, np.flatnonzero(group[row] == g), code)
        if with_routes and rs.recommended is not None:
            res, index = results[rs.recommended.profile]
            rs.recommended.route = res.route(index[rs.recommended.team_code])
        out.append(rs)
    return Suggestions(tuple(incident_lonlat), category.code, units, out,
                       (_time.perf_counter() - t0) * 1000.0, results)


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


# the engine's status codes (road, not ranked, unreachable, off the network) → _S_*
_FROM_ENGINE = np.array([_S_ROAD, _S_NOT_RANKED, _S_ESTIMATE, _S_ESTIMATE], np.int64)


def _status_codes(res: EtaResult) -> np.ndarray:
    if res.status_code is not None:
        return _FROM_ENGINE[res.status_code]
    status = res.status
    code = np.full(len(status), -1, np.int64)
    code[status == ROAD] = _S_ROAD
    code[status == NOT_RANKED] = _S_NOT_RANKED
    code[(status == UNREACHABLE) | (status == OFF_NETWORK)] = _S_ESTIMATE
    return code


def _kth_per_role(res: EtaResult, groups: np.ndarray, n_roles: int, k: int) -> float:
    """The largest, over roles, of the k-th best road ETA (inf if a role has fewer)."""
    road = res.status_code == 0 if res.status_code is not None else res.status == ROAD
    sel = np.flatnonzero(road)
    gs = groups[sel]
    if k < 1 or n_roles < 1:
        return 0.0
    count = np.bincount(gs, minlength=n_roles)[:n_roles]
    if (count < k).any():
        return np.inf
    times = res.eta_s[sel]
    o = np.lexsort((times, gs))  # by role, then time
    start = np.concatenate([[0], np.cumsum(np.bincount(gs, minlength=n_roles))[:-1]])
    return float(times[o][start[:n_roles] + k - 1].max())


class _Run(NamedTuple):
    profile: str
    res: EtaResult
    idx: np.ndarray  # table rows of its teams
    codes: np.ndarray  # _S_* per team


class _Context(NamedTuple):
    tab: TeamTable
    runs: list[_Run]
    row: np.ndarray
    run: np.ndarray
    at: np.ndarray
    eta: np.ndarray
    resp: np.ndarray  # per table row: responsible for the incident's place
    stale: np.ndarray
    fresh: np.ndarray
    units: tuple[str, ...]
    within: float
    k: int
    stale_after: timedelta
    row_l: list[int]  # row, eta and resp as lists (the few ranked teams read one by one)
    eta_l: list[float]
    resp_l: list[bool]
    code_rank_l: list[int]
    hold: set[str]  # every area code that holds the incident (see unit_prefixes)
    run_l: list[int]
    at_l: list[int]

    def ordered(self, sel: np.ndarray) -> list[int]:
        """``sel`` by ``(eta, team code)``, ties in the order given."""
        rows = self.row[sel]
        return sel[np.lexsort((sel, self.tab.code_rank[rows], self.eta[sel]))].tolist()

    def areas(self, j: int) -> tuple[str, ...]:
        """The team's areas that hold the incident (``()`` for most teams)."""
        have = self.tab.rows[self.row_l[j]][5]
        if not have:
            return ()
        return tuple(a for a in have if a in self.hold)

    def candidate(self, j: int) -> Candidate:
        tab, r = self.tab, self.row_l[j]
        run = self.runs[self.run_l[j]]
        res, i = run.res, self.at_l[j]
        code, name, role = tab.rows[r][:3]
        eta = float(res.eta_s[i])
        dist = float(res.distance_m[i])
        areas = self.areas(j)
        fresh = bool(self.fresh[r])
        position = tab.rows[r][7] if fresh else tab.rows[r][3]
        return Candidate(
            team_code=code, team_name=name, role=role, profile=run.profile,
            eta_s=None if eta != eta else eta, distance_m=None if dist != dist else dist,
            status=str(res.status[i]), is_estimate=bool(res.is_estimate[i]),
            is_responsible=bool(areas), responsible_for=areas,
            stale_position=bool(self.stale[r]), position=tuple(position),
            position_source="posisi_terakhir" if fresh else "pos")


def _rank(role: Role, kind: str, ctx: _Context, js: np.ndarray,
          code: np.ndarray) -> RoleSuggestion:
    """Rank one role: the k nearest (road first, then estimates) plus the responsible.

    ``js`` are the role's teams in the order they were searched; road and estimate
    teams are ordered by ``(eta, team code)``, ties in that order.
    """
    k, within = ctx.k, ctx.within
    tab = ctx.tab
    codes_of = tab.codes
    row, eta, resp_row, rank_of = ctx.row_l, ctx.eta_l, ctx.resp_l, ctx.code_rank_l
    cj = code[js]
    road = ctx.ordered(js[cj == _S_ROAD])
    guess = ctx.ordered(js[cj == _S_ESTIMATE])
    later = js[cj == _S_NOT_RANKED]
    if not road and not guess:
        return RoleSuggestion(role, kind, [], None,
                              tab.code_array[ctx.row[later]].tolist(),
                              note=_t("Tidak ada tim {r} yang tersedia.",
                                      "No {r} team is available.", r=role.label)[0])
    pool = road or guess
    nearest = pool[0]
    resp = next((j for j in pool if resp_row[row[j]]), None)
    pick = resp if resp is not None and eta[resp] - eta[nearest] <= within else nearest
    listed = [j for group in (road, guess) for n, j in enumerate(group)
              if n < k or resp_row[row[j]] or j == pick]
    shown = {rank_of[row[j]] for j in listed}  # equal codes share a rank
    overflow = [j for j in road + guess if rank_of[row[j]] not in shown]
    cands = {codes_of[row[j]]: ctx.candidate(j) for j in listed}
    c_pick = cands[codes_of[row[pick]]]
    c_near = cands[codes_of[row[nearest]]]
    c_resp = cands[codes_of[row[resp]]] if resp is not None else None
    ordered_c = [c_pick] + [cands[codes_of[row[j]]] for j in listed if j != pick]
    for rank, c in enumerate(ordered_c, 1):
        c.rank = rank
        c.recommended = c is c_pick
        c.reason, c.reason_en = _reason(c, c_near, c_resp, c_pick, within, ctx.stale_after)
    # the bound of every run a not-ranked team comes from (one per run, not per team)
    later_runs = np.zeros(len(ctx.runs), bool)
    later_runs[ctx.run[later]] = True
    bounds = [b for b in (ctx.runs[q].res.lower_bound_s for q in np.flatnonzero(later_runs))
              if np.isfinite(b)]
    bounds += [eta[j] for j in overflow if code[j] == _S_ROAD]
    n_rest = len(overflow) + len(later)
    return RoleSuggestion(role, kind, ordered_c, c_pick,
                          [codes_of[row[j]] for j in overflow]
                          + tab.code_array[ctx.row[later]].tolist(),
                          min(bounds, default=None),
                          note=_t("{n} tim lain lebih jauh dari {k} tim terdekat "
                                  "(tidak diurutkan).", "", n=n_rest,
                                  k=k)[0] if n_rest else "")


def _reason(c: Candidate, nearest: Candidate, resp: Candidate | None, pick: Candidate,
            within: float, stale_after: timedelta) -> tuple[str, str]:
    area = ", ".join(c.responsible_for)
    if c.is_estimate:
        why = ("tidak terjangkau lewat jaringan jalan (ruas jalan terpisah)"
               if c.status == UNREACHABLE else
               "posisi atau lokasi kejadian terlalu jauh dari jalan yang dapat dilalui")
        why_en = ("not reachable on the road network (separate road component)"
                  if c.status == UNREACHABLE else
                  "the position or the incident is too far from a usable road")
        ids, ens = _t("Peringkat {n}: {w}; perkiraan garis lurus ±{m} — BUKAN rute jalan.",
                      "Rank {n}: {w}; straight-line estimate ±{m} — NOT a road route.",
                      n=c.rank, w=(why, why_en), m=_minutes(c.eta_s))
    elif c.recommended and c is nearest:
        extra = (_t(" dan penanggung jawab wilayah ({a})", " and responsible for the area ({a})",
                    a=area) if c.is_responsible else
                 _t("; tidak ada tim penanggung jawab wilayah yang tersedia",
                    "; no team responsible for the area is available") if resp is None else
                 _t("; penanggung jawab wilayah ({t}) {d} lebih lama, melebihi batas {b}",
                    "; the responsible team ({t}) is {d} slower, beyond the {b} limit",
                    t=resp.team_name, d=_minutes(resp.eta_s - c.eta_s), b=_minutes(within)))
        ids, ens = _t("Disarankan: tim terdekat lewat jalan (ETA {m}){x}.",
                      "Recommended: nearest team by road (ETA {m}){x}.",
                      m=_minutes(c.eta_s), x=extra)
    elif c.recommended:
        ids, ens = _t("Disarankan: penanggung jawab wilayah ({a}); ETA {m}, hanya {d} lebih "
                      "lama dari tim terdekat {t} (batas {b}).",
                      "Recommended: responsible for the area ({a}); ETA {m}, only {d} slower "
                      "than the nearest team {t} (limit {b}).",
                      a=area, m=_minutes(c.eta_s), d=_minutes(c.eta_s - nearest.eta_s),
                      t=nearest.team_name, b=_minutes(within))
    else:
        diff = c.eta_s - pick.eta_s
        note = (f"; penanggung jawab wilayah ({area})", f"; responsible for the area ({area})")
        if not c.is_responsible:
            note = ("", "")
            if c is nearest:
                note = _t("; terdekat, tetapi penanggung jawab wilayah didahulukan karena "
                          "selisihnya dalam batas {b}",
                          "; the nearest, but the responsible team goes first as the "
                          "difference is within {b}", b=_minutes(within))
        ids, ens = _t("Peringkat {n}: ETA {m} lewat jalan, {d} {cmp} dari tim yang disarankan{x}.",
                      "Rank {n}: ETA {m} by road, {d} {cmp} than the recommended team{x}.",
                      n=c.rank, m=_minutes(c.eta_s), d=_minutes(abs(diff)),
                      cmp=("lebih lama", "slower") if diff >= 0 else ("lebih cepat", "faster"),
                      x=note)
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


@lru_cache(maxsize=4096)
def _minutes(seconds: float | None) -> tuple[str, str]:
    """``("4,5 menit", "4.5 min")``."""
    if seconds is None:
        return "?", "?"
    m = seconds / 60.0
    if m < 1:
        return "< 1 menit", "< 1 min"
    text = f"{m:.1f}" if m < 10 else f"{m:.0f}"
    return text.replace(".", ",") + " menit", text + " min"


def _round(value: float | None, div: float = 1.0) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value) / div, 1 if div == 1.0 else 2)
