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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

from geo_sigap.domain.categories import Category
from geo_sigap.domain.teams import Role, Team
from geo_sigap.routing.engine import (NOT_RANKED, OFF_NETWORK, ROAD, UNREACHABLE, EtaResult,
                                      Route)
from geo_sigap.routing.profiles import profile_for


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
    _results: dict[str, tuple[EtaResult, dict[str, int]]] = field(default_factory=dict,
                                                                   repr=False)

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
    by_profile: dict[str, list[Team]] = {}
    for team in teams:
        if team.available and team.role in role_index:
            by_profile.setdefault(profile_for(team.vehicle), []).append(team)
    entries: dict[Role, list[_Entry]] = {r: [] for r in wanted}
    results: dict[str, tuple[EtaResult, dict[str, int]]] = {}
    cap = np.inf  # once one profile gave k teams per role, slower ones cannot rank
    for profile, members in sorted(by_profile.items(), key=lambda kv: -len(kv[1])):
        positions, stale, fresh, areas = [], [], [], []
        for team in members:
            pos, is_stale = team.position_at(now, stale_after)
            positions.append(pos)
            stale.append(is_stale)
            fresh.append(not is_stale and team.last_position is not None
                         and pos == team.last_position)
            areas.append(_areas(team, units) if team.area_codes else ())
        res: EtaResult = engine.eta_from_teams(
            incident_lonlat, positions, profile,
            groups=[role_index[t.role] for t in members], k=top_k,
            required=[bool(a) for a in areas], max_time_s=cap)
        cap = min(cap, _kth_per_role(res, members, role_index, top_k))
        results[profile] = (res, {t.code: i for i, t in enumerate(members)})
        eta, status = res.eta_s.tolist(), res.status.tolist()
        for i, team in enumerate(members):
            entries[team.role].append(_Entry(team, profile, res, i, eta[i], status[i],
                                             positions[i], stale[i], fresh[i], areas[i]))
    out = []
    for r in wanted:
        kind = "lead" if category.lead == r and r == wanted[0] else "support"
        rs = _rank(r, kind, entries[r], within, top_k, stale_after)
        if with_routes and rs.recommended is not None:
            res, index = results[rs.recommended.profile]
            rs.recommended.route = res.route(index[rs.recommended.team_code])
        out.append(rs)
    return Suggestions(tuple(incident_lonlat), category.code, units, out,
                       (_time.perf_counter() - t0) * 1000.0, results)


def _kth_per_role(res: EtaResult, members: list[Team], role_index: dict[Role, int],
                 k: int) -> float:
    """The largest, over roles, of the k-th best road ETA (inf if a role has fewer)."""
    road = res.status == ROAD
    groups = np.array([role_index[t.role] for t in members])
    worst = 0.0
    for g in range(len(role_index)):
        times = np.sort(res.eta_s[road & (groups == g)])
        if len(times) < k:
            return np.inf
        worst = max(worst, float(times[k - 1]))
    return worst


class _Entry(NamedTuple):
    team: Team
    profile: str
    res: EtaResult
    i: int
    eta: float
    status: str
    position: tuple[float, float]
    stale: bool
    fresh: bool
    areas: tuple[str, ...]

    def candidate(self) -> Candidate:
        res, i = self.res, self.i
        dist = float(res.distance_m[i])
        return Candidate(
            team_code=self.team.code, team_name=self.team.name, role=self.team.role,
            profile=self.profile, eta_s=None if np.isnan(self.eta) else self.eta,
            distance_m=None if np.isnan(dist) else dist, status=self.status,
            is_estimate=bool(res.is_estimate[i]), is_responsible=bool(self.areas),
            responsible_for=self.areas, stale_position=self.stale, position=self.position,
            position_source="posisi_terakhir" if self.fresh else "pos")


def _areas(team: Team, units: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(a for a in team.area_codes
                 if any(u == a or u.startswith(a + ".") for u in units))


def _rank(role: Role, kind: str, entries: list[_Entry], within: float, k: int,
          stale_after: timedelta) -> RoleSuggestion:
    """Rank one role: the k nearest (road first, then estimates) plus the responsible."""
    road = sorted((e for e in entries if e.status == ROAD), key=lambda e: (e.eta, e.team.code))
    guess = sorted((e for e in entries if e.status in (UNREACHABLE, OFF_NETWORK)),
                   key=lambda e: (e.eta, e.team.code))
    later = [e for e in entries if e.status == NOT_RANKED]
    if not road and not guess:
        return RoleSuggestion(role, kind, [], None, [e.team.code for e in later],
                              note=_t("Tidak ada tim {r} yang tersedia.",
                                      "No {r} team is available.", r=role.label)[0],
                              note_en=_t("Tidak ada tim {r} yang tersedia.",
                                         "No {r} team is available.", r=role.label)[1])
    pool = road or guess
    nearest = pool[0]
    resp = next((e for e in pool if e.areas), None)
    pick = resp if resp is not None and resp.eta - nearest.eta <= within else nearest
    listed = [e for group in (road, guess) for j, e in enumerate(group)
              if j < k or e.areas or e is pick]
    shown = {e.team.code for e in listed}
    overflow = [e for e in road + guess if e.team.code not in shown]
    cands = {e.team.code: e.candidate() for e in listed}
    c_pick, c_near = cands[pick.team.code], cands[nearest.team.code]
    c_resp = cands[resp.team.code] if resp is not None else None
    ordered = [c_pick] + [cands[e.team.code] for e in listed if e is not pick]
    for rank, c in enumerate(ordered, 1):
        c.rank = rank
        c.recommended = c is c_pick
        c.reason, c.reason_en = _reason(c, c_near, c_resp, c_pick, within, stale_after)
    bounds = [e.res.lower_bound_s for e in later if np.isfinite(e.res.lower_bound_s)]
    bounds += [e.eta for e in overflow if e.status == ROAD]
    return RoleSuggestion(role, kind, ordered, c_pick,
                          [e.team.code for e in overflow + later], min(bounds, default=None),
                          note=_t("{n} tim lain lebih jauh dari {k} tim terdekat "
                                  "(tidak diurutkan).", "", n=len(overflow) + len(later),
                                  k=k)[0] if overflow or later else "",
                          note_en=(_t("", "{n} more team is farther than the {k} nearest "
                                      "(not ranked).", n=1, k=k)[1] if len(overflow) + len(later) == 1
                                   else _t("", "{n} more teams are farther than the {k} "
                                           "nearest (not ranked).", n=len(overflow) + len(later),
                                           k=k)[1]) if overflow or later else "")


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
        s = _t(" Posisi terakhir lebih tua dari {a}: dihitung dari pos.",
               " Last position older than {a}: computed from the post.",
               a=_minutes(stale_after.total_seconds()))
        ids, ens = ids + s[0], ens + s[1]
    elif c.position_source == "pos":
        s = _t(" Tanpa posisi terakhir: dihitung dari pos.",
               " No last position: computed from the post.")
        ids, ens = ids + s[0], ens + s[1]
    return ids, ens


def _t(text_id: str, text_en: str, **kw: Any) -> tuple[str, str]:
    """Format both languages; a ``(id, en)`` tuple value gives each its own text."""
    ids = {k: v[0] if isinstance(v, tuple) else v for k, v in kw.items()}
    ens = {k: v[1] if isinstance(v, tuple) else v for k, v in kw.items()}
    return text_id.format(**ids), text_en.format(**ens)


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
