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
from typing import Any

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
    eta_at_least_s: float | None = None  # for not_ranked: the search stopped here
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
            "position_source": self.position_source,
            "eta_at_least_s": _round(self.eta_at_least_s), "recommended": self.recommended,
            "reason": self.reason, "reason_en": self.reason_en,
            "route": self.route.to_geojson() if self.route is not None else None,
        }


@dataclass(slots=True)
class RoleSuggestion:
    role: Role
    kind: str  # "lead" | "support"
    candidates: list[Candidate]
    recommended: Candidate | None
    not_ranked: list[str] = field(default_factory=list)  # farther than the k nearest
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
    top_k: int = 5,
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
    cands: dict[Role, list[Candidate]] = {r: [] for r in wanted}
    results: dict[str, tuple[EtaResult, dict[str, int]]] = {}
    for profile, members in by_profile.items():
        positions, stale, source = [], [], []
        for team in members:
            pos, is_stale = team.position_at(now, stale_after)
            fresh = team.last_position is not None and not is_stale and pos == team.last_position
            positions.append(pos)
            stale.append(is_stale)
            source.append("posisi_terakhir" if fresh else "pos")
        responsible = [_areas(team, units) for team in members]
        res: EtaResult = engine.eta_from_teams(
            incident_lonlat, positions, profile,
            groups=[role_index[t.role] for t in members], k=top_k,
            required=[bool(a) for a in responsible])
        results[profile] = (res, {t.code: i for i, t in enumerate(members)})
        for i, team in enumerate(members):
            eta = res.eta_s[i]
            cands[team.role].append(Candidate(
                team_code=team.code, team_name=team.name, role=team.role, profile=profile,
                eta_s=None if np.isnan(eta) else float(eta),
                distance_m=None if np.isnan(res.distance_m[i]) else float(res.distance_m[i]),
                status=str(res.status[i]), is_estimate=bool(res.is_estimate[i]),
                is_responsible=bool(responsible[i]), responsible_for=responsible[i],
                stale_position=stale[i], position=positions[i], position_source=source[i],
                eta_at_least_s=(res.lower_bound_s if res.status[i] == NOT_RANKED
                                and np.isfinite(res.lower_bound_s) else None)))
    out = []
    for r in wanted:
        kind = "lead" if category.lead == r and r == wanted[0] else "support"
        rs = _rank(r, kind, cands[r], within, top_k, stale_after)
        if with_routes and rs.recommended is not None:
            res, index = results[rs.recommended.profile]
            rs.recommended.route = res.route(index[rs.recommended.team_code])
        out.append(rs)
    return Suggestions(tuple(incident_lonlat), category.code, units, out,
                       (_time.perf_counter() - t0) * 1000.0, results)


def _areas(team: Team, units: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(a for a in team.area_codes
                 if any(u == a or u.startswith(a + ".") for u in units))


def _rank(role: Role, kind: str, cands: list[Candidate], within: float, k: int,
          stale_after: timedelta) -> RoleSuggestion:
    road = sorted((c for c in cands if c.status == ROAD), key=lambda c: (c.eta_s, c.team_code))
    guess = sorted((c for c in cands if c.is_estimate), key=lambda c: (c.eta_s, c.team_code))
    later = [c for c in cands if c.status == NOT_RANKED]
    if not road and not guess:
        return RoleSuggestion(role, kind, [], None, [c.team_code for c in later],
                              note=_t("Tidak ada tim {r} yang tersedia.",
                                      "No {r} team is available.", r=role.label)[0])
    pool = road or guess
    nearest = pool[0]
    resp = next((c for c in pool if c.is_responsible), None)
    pick = resp if resp is not None and resp.eta_s - nearest.eta_s <= within else nearest
    ordered = [pick] + [c for c in road + guess if c is not pick]
    for rank, c in enumerate(ordered, 1):
        c.rank = rank
        c.recommended = c is pick
        c.reason, c.reason_en = _reason(c, nearest, resp, pick, within, stale_after)
    bound = min((c.eta_at_least_s for c in later if c.eta_at_least_s is not None),
                default=None)
    for c in later:
        c.reason, c.reason_en = _t(
            "Tidak diurutkan: lebih jauh dari {k} tim terdekat (ETA > {m}).",
            "Not ranked: farther than the {k} nearest teams (ETA > {m}).", k=k,
            m=_minutes(c.eta_at_least_s))
    return RoleSuggestion(role, kind, ordered, pick, [c.team_code for c in later], bound)


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
