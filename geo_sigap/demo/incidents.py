"""Two years of synthetic incident history with planted, documented patterns.

Period 2024-10-01 … 2026-09-30 (WIB, +07:00), eight quarters numbered 0 (2024Q4) to
7 (2026Q3). Each :class:`_Pattern` draws a number of incidents per quarter (or per
month), places them at road nodes (EPSG:4326) with a few metres of offset, and picks
the hour and day from its own profile. SOP step timestamps follow the lifecycle:
verification, dispatch, en route, on scene (straight-line distance from the lead team's
post at about 20 km/h, motor), handled, resolved; about 5 % are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo_sigap.demo.area import KEL_BY_NAME, KEL_WITHOUT_RT, to_lonlat, to_xy
from geo_sigap.demo.boundaries import Boundaries
from geo_sigap.demo.places import NodeIndex
from geo_sigap.demo.roads import MARKET_LONLAT, SWAMP_LONLAT, RoadNetwork
from geo_sigap.demo.texts import (
    DESCRIPTIONS, DUPLICATE_REASON, REJECTION_REASONS, abbreviate_road,
)
from geo_sigap.domain.categories import CategoryTable
from geo_sigap.domain.teams import Role

WIB = timezone(timedelta(hours=7))
START = date(2024, 10, 1)
END = date(2026, 9, 30)
CUTOFF = datetime(2026, 9, 30, 23, 59, 59, tzinfo=WIB)
COLUMNS = ["ticket", "category", "description", "channel", "lon", "lat", "address_text",
           "priority", "status", "reported_at", "verified_at", "dispatched_at", "en_route_at",
           "on_scene_at", "handled_at", "resolved_at", "rejected_at", "rejection_reason",
           "lead_team", "support_teams"]
_TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_SPEED_MS = 20 / 3.6  # motor, km/h → m/s
_DETOUR = 1.3  # road distance ≈ 1.3 × straight line in a grid

# Hour-of-day weights (index 0..23)
_H_DAY = np.array([0, 0, 0, 0, 0, 1, 3, 6, 9, 10, 10, 9, 7, 7, 8, 9, 9, 7, 4, 2, 1, 0.5, 0, 0], float)
_H_ALL = np.array([2, 1, 1, 1, 1, 2, 4, 6, 7, 8, 8, 8, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4, 3], float)
_H_NIGHT = np.array([8, 6, 4, 2, 0.3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 2, 6, 8, 10, 10], float)
_H_EVENING = np.array([5, 3, 1, 0.5, 0, 0, 0, 0.5, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 6, 8, 9, 9, 8, 7], float)
_H_THEFT = np.array([6, 7, 7, 6, 4, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5], float)
# Day-of-week weights, Monday first
_D_FLAT = np.ones(7)
_D_WEEKDAY = np.array([1, 1, 1, 1, 0.9, 0.35, 0.25])
_D_WEEKEND = np.array([0.6, 0.6, 0.7, 0.8, 1.3, 1.8, 1.5])


@dataclass(slots=True)
class _Pattern:
    """How many incidents of one kind per quarter, where and when."""

    name: str
    category: str
    per_quarter: tuple[float, ...]  # expected counts for quarters 0..7
    where: str  # sampler name, see _Sampler
    hours: np.ndarray
    days: np.ndarray = field(default_factory=lambda: _D_FLAT)
    months: dict[int, float] | None = None  # month → weight multiplier
    subtype: str | None = None
    kwargs: dict = field(default_factory=dict)


@dataclass(slots=True)
class _Sampler:
    """Draws road-node positions with a spatial weighting (nodes inside the kecamatan)."""

    idx: NodeIndex
    cand: np.ndarray  # indices into idx arrays
    x: np.ndarray
    y: np.ndarray
    base_w: np.ndarray  # population-proportional background weight

    def weights(self, where: str, q: int, planted: dict) -> np.ndarray:
        kel = self.idx.kel[self.cand]
        rw = self.idx.rw[self.cand]
        if where == "population":
            return self.base_w
        if where.startswith("near:"):
            key, sigma = where[5:].split("@")
            cx, cy = planted[key]
            d2 = (self.x - cx) ** 2 + (self.y - cy) ** 2
            return np.exp(-d2 / (2 * float(sigma) ** 2))
        if where == "rw:pekat":
            return (rw == planted["pekat_rw"]) * 1.0
        if where == "edge:ternak":
            return ((planted["edge_dist"] < 350) & np.isin(kel, planted["ternak_kel"])) * 1.0
        if where == "shift:pencurian":
            share = q / 7.0
            a, b = planted["theft_kel"]
            return self.base_w * ((kel == a) * (1 - share) + (kel == b) * share)
        raise ValueError(where)

    def draw(self, w: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        p = w / w.sum()
        return self.cand[rng.choice(len(self.cand), size=n, p=p)]


def _quarter_days(q: int) -> list[date]:
    y, m = 2024 + (9 + 3 * q) // 12, (9 + 3 * q) % 12 + 1
    start = date(y, m, 1)
    end = date(y + (m + 2) // 12, (m + 2) % 12 + 1, 1)
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _patterns() -> list[_Pattern]:
    rainy = {11: 1.0, 12: 1.6, 1: 1.8, 2: 1.4, 3: 0.9}
    return [
        _Pattern("pkl_pasar", "pkl", (190,) * 8, "near:pasar@110", _H_DAY, _D_WEEKDAY),
        _Pattern("pkl_bg", "pkl", (110,) * 8, "population", _H_DAY, _D_WEEKDAY),
        _Pattern("gepeng_simpang", "gepeng", (80,) * 8, "near:simpang@70", _H_DAY),
        _Pattern("gepeng_bg", "gepeng", (60,) * 8, "population", _H_DAY),
        _Pattern("ternak_tepi", "ternak", (70,) * 8, "edge:ternak", _H_DAY),
        _Pattern("ternak_bg", "ternak", (25,) * 8, "population", _H_DAY),
        _Pattern("pekat_baru", "pekat", (0, 0, 0, 0, 0, 45, 85, 140), "rw:pekat", _H_NIGHT, _D_WEEKEND),
        _Pattern("pekat_bg", "pekat", (55,) * 8, "population", _H_NIGHT, _D_WEEKEND),
        _Pattern("odgj", "odgj", (65,) * 8, "population", _H_ALL),
        _Pattern("keributan_surut", "keributan", (150, 125, 100, 80, 60, 45, 30, 20),
                 "near:keributan@170", _H_EVENING, _D_WEEKEND),
        _Pattern("keributan_bg", "keributan", (110,) * 8, "population", _H_EVENING, _D_WEEKEND),
        _Pattern("pencurian_bg", "pencurian", (250,) * 8, "population", _H_THEFT),
        _Pattern("pencurian_geser", "pencurian", (80,) * 8, "shift:pencurian", _H_THEFT),
        _Pattern("banjir", "bencana", (45, 90, 8, 4, 45, 90, 8, 4), "near:rawa@380", _H_ALL,
                 months={m: rainy.get(m, 0.03) for m in range(1, 13)}, subtype="banjir"),
        _Pattern("kebakaran", "bencana", (18,) * 8, "population", _H_ALL, subtype="kebakaran"),
        _Pattern("pohon_tumbang", "bencana", (20,) * 8, "population", _H_ALL, subtype="pohon"),
        _Pattern("lainnya", "lainnya", (140,) * 8, "population", _H_ALL),
    ]


def build_incidents(net: RoadNetwork, bnd: Boundaries, idx: NodeIndex, pois: pd.DataFrame,
                    teams: pd.DataFrame, categories: CategoryTable,
                    rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Incident history rows (``COLUMNS``) and a description of the planted patterns."""
    kec = bnd["kecamatan"].geometry.iloc[0]
    cand = np.flatnonzero((idx.kel != "") & ~np.isin(idx.ids, list(net.island_node_ids)))
    x, y = to_xy(idx.lon[cand], idx.lat[cand])
    rw_pop = dict(zip(bnd["rw"]["code"], bnd["rw"]["population"].astype(float), strict=True))
    rw_nodes = pd.Series(idx.rw[cand]).value_counts().to_dict()
    base_w = np.array([rw_pop.get(r, 0.0) / rw_nodes.get(r, 1) for r in idx.rw[cand]])
    sampler = _Sampler(idx, cand, x, y, base_w)
    planted = _planted(net, bnd, idx, cand, kec)

    rows = []
    for pat in _patterns():
        for q in range(8):
            days = _quarter_days(q)
            months = pat.months or {}
            dw = np.array([pat.days[d.weekday()] * months.get(d.month, 1.0) for d in days])
            expected = pat.per_quarter[q]
            n = int(rng.poisson(expected)) if expected > 0 else 0
            if n == 0:
                continue
            w = sampler.weights(pat.where, q, planted)
            nodes = sampler.draw(w, n, rng)
            day_pick = rng.choice(len(days), size=n, p=dw / dw.sum())
            hours = rng.choice(24, size=n, p=pat.hours / pat.hours.sum())
            secs = rng.integers(0, 3600, size=n)
            for node, di, h, s in zip(nodes, day_pick, hours, secs, strict=True):
                d = days[di]
                at = datetime(d.year, d.month, d.day, tzinfo=WIB) + timedelta(hours=int(h), seconds=int(s))
                if at > CUTOFF:
                    continue
                rows.append((pat, int(node), at))
    rows.sort(key=lambda r: (r[2], r[1], r[0].name))
    out = _materialise(rows, net, bnd, idx, pois, teams, categories, kec, rng)
    planted_out = {k: v for k, v in planted.items() if isinstance(v, (str, list, tuple)) and k != "edge_dist"}
    return out, planted_out


def _planted(net: RoadNetwork, bnd: Boundaries, idx: NodeIndex, cand: np.ndarray, kec) -> dict:
    """Centres and units of the planted patterns (local metres / codes)."""
    id_pos = {int(i): j for j, i in enumerate(idx.ids)}

    def xy_of(node_id: int) -> tuple[float, float]:
        j = id_pos[node_id]
        a, b = to_xy(idx.lon[j], idx.lat[j])
        return float(a), float(b)

    eka = KEL_BY_NAME["Eka Jaya"].code
    rws = bnd["rw"][bnd["rw"]["parent_code"] == eka]
    # the Eka Jaya RW whose interior is nearest the kampung core with many alleys
    core = shapely.Point(103.6600, -1.6150)
    pekat_rw = rws.iloc[int(np.argmin([g.distance(core) for g in rws.geometry]))]["code"]
    outline = kec.exterior
    pts = shapely.points(np.column_stack([idx.lon[cand], idx.lat[cand]]))
    edge_dist = shapely.distance(pts, outline) * 110_800.0  # degrees → metres (near equator)
    return {
        "pasar": tuple(float(t) for t in to_xy(*MARKET_LONLAT)),
        "simpang": xy_of(net.anchors["simpang_abunjani_sultan_agung"]),
        "keributan": xy_of(net.anchors["terminal_angkot"]),
        "rawa": tuple(float(t) for t in to_xy(*SWAMP_LONLAT)),
        "pekat_rw": str(pekat_rw),
        "edge_dist": edge_dist,
        "ternak_kel": [KEL_BY_NAME["Bakung Jaya"].code, KEL_BY_NAME["Payo Selincah"].code],
        "theft_kel": (KEL_BY_NAME["Talang Bakung"].code, KEL_BY_NAME["Lingkar Selatan"].code),
    }


def _materialise(rows, net, bnd, idx, pois, teams, categories, kec, rng) -> pd.DataFrame:
    """Turn (pattern, node, reported_at) draws into full incident records."""
    points = [_jitter(idx, node, kec, rng) for _, node, _ in rows]
    geoms = shapely.points(np.array(points).reshape(-1, 2))
    rw_of = _within(geoms, bnd["rw"])
    rt_of = _within(geoms, bnd["rt"])
    rw_parent = dict(zip(bnd["rw"]["code"], bnd["rw"]["parent_code"], strict=True))
    poi_xy = np.column_stack(to_xy(pois["lon"].values, pois["lat"].values))
    pxy = np.column_stack(to_xy(*np.array(points).T))
    poi_d, poi_i = cKDTree(poi_xy).query(pxy)
    poi_names = pois["name"].tolist()
    team_by_role = _team_lookup(teams)
    posts = {r.code: (r.post_lon, r.post_lat, r.vehicle) for r in teams.itertuples()}
    kel_name = dict(zip(bnd["kelurahan"]["code"], bnd["kelurahan"]["name"], strict=True))
    tickets: set[str] = set()
    out = []
    last_by_cat: dict[str, str] = {}
    for k, (pat, node, reported) in enumerate(rows):
        lon, lat = points[k]
        rw, rt = rw_of[k], rt_of[k]
        kel = rw_parent[rw] if rw else idx.kel[node]
        poi = poi_names[int(poi_i[k])]
        road = _road_name(idx.names[int(idx.ids[node])], rng)
        cat = categories.get(pat.category)
        ticket = _ticket(reported, rng, tickets)
        templates = DESCRIPTIONS[pat.subtype or pat.category]
        desc = templates[int(rng.integers(len(templates)))].format(road=road, poi=poi)
        rec = dict(ticket=ticket, category=pat.category, description=desc,
                   channel=_channel(pat.category, rng), lon=lon, lat=lat,
                   address_text=_address(road, rt, rw, kel, kel_name, poi, float(poi_d[k]), rng),
                   priority=_priority(pat, int(cat.default_priority), rng))
        rec.update(_lifecycle(pat, rec, cat, kel, rw, team_by_role, posts, last_by_cat, rng, reported))
        if rec["status"] != "ditolak":
            last_by_cat[pat.category] = ticket
        out.append(rec)
    df = pd.DataFrame(out, columns=COLUMNS)
    df["priority"] = df["priority"].astype(int)
    return df


def _within(geoms: np.ndarray, layer) -> list[str | None]:
    """Code of the unit of ``layer`` containing each point (``None`` where none does)."""
    out: list[str | None] = [None] * len(geoms)
    tree = shapely.STRtree(layer.geometry.values)
    pi, gi = tree.query(geoms, predicate="within")
    codes = layer["code"].values
    for p, g in zip(pi, gi, strict=True):
        out[int(p)] = str(codes[g])
    return out


def _jitter(idx: NodeIndex, node: int, kec, rng) -> tuple[float, float]:
    x, y = to_xy(idx.lon[node], idx.lat[node])
    for _ in range(10):
        ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(2.0, 15.0)
        lon, lat = to_lonlat(x + dist * np.cos(ang), y + dist * np.sin(ang))
        lon, lat = round(float(lon), 6), round(float(lat), 6)
        if kec.contains(shapely.Point(lon, lat)):
            return lon, lat
    return round(float(idx.lon[node]), 6), round(float(idx.lat[node]), 6)


def _road_name(names: tuple[str, ...], rng) -> str:
    named = [n for n in names if n]
    alleys = [n for n in named if n.startswith(("Gang", "Lorong"))]
    pool = alleys if alleys and rng.random() < 0.8 else named
    return pool[int(rng.integers(len(pool)))] if pool else "jalan tanpa nama"


def _ticket(at: datetime, rng, taken: set) -> str:
    while True:
        code = "".join(_TICKET_ALPHABET[i] for i in rng.integers(len(_TICKET_ALPHABET), size=4))
        ticket = f"DEMO-{at:%y%m%d}-{code}"
        if ticket not in taken:
            taken.add(ticket)
            return ticket


def _channel(category: str, rng) -> str:
    channels = ["wa_group", "hotline", "langsung", "web", "officer"]
    w = {"pekat": [0.25, 0.45, 0.10, 0.15, 0.05], "pkl": [0.35, 0.10, 0.10, 0.05, 0.40],
         "gepeng": [0.35, 0.10, 0.10, 0.05, 0.40]}.get(category, [0.45, 0.20, 0.12, 0.08, 0.15])
    return channels[int(rng.choice(5, p=w))]


def _priority(pat: _Pattern, default: int, rng) -> int:
    r = rng.random()
    if pat.subtype == "kebakaran":
        return 1
    if pat.subtype in ("banjir", "pohon"):
        return 2 if r < 0.8 else 1
    if pat.category == "keributan":
        return 1 if r < 0.6 else 2
    if pat.category == "pencurian":
        return 2 if r < 0.7 else 3
    if pat.category == "lainnya":
        return 3 if r < 0.6 else 4
    return default if r < 0.85 else max(1, default - 1)


def _address(road, rt, rw, kel, kel_name, poi, poi_dist, rng) -> str:
    name = kel_name[kel]
    short = abbreviate_road(road, rng.random())
    r = rng.random()
    if poi_dist < 250 and r < 0.15:
        return f"dekat {poi}, {name}"
    if rt is None or kel == KEL_WITHOUT_RT:
        rw_no = int(rw[-3:]) if rw is not None else None
        return f"{short} RW {rw_no:02d} {name}" if rw_no and r < 0.7 else f"{short}, Kel. {name}"
    rt_no, rw_no = int(rt[-3:]), int(rw[-3:])
    if r < 0.55:
        return f"{short} RT {rt_no:02d} {name}"
    if r < 0.85:
        return f"{short} RT {rt_no:02d} RW {rw_no:02d}, Kel. {name}"
    return f"{short}, {name}"


def _team_lookup(teams: pd.DataFrame) -> dict:
    """(role, area code) → team code; areas split on ';'."""
    out: dict[tuple[str, str], str] = {}
    for r in teams.itertuples():
        for area in r.area_codes.split(";"):
            out.setdefault((r.role, area), r.code)
    return out


def _responsible(role: Role, kel: str, rw: str | None, lookup: dict, rng) -> str | None:
    if role == Role.LINMAS:
        return lookup.get(("linmas", rw))
    if role in (Role.BHABINKAMTIBMAS, Role.BABINSA):
        return lookup.get((role.value, kel))
    if role == Role.SATPOL_PP:
        return "TRC-02" if rng.random() < 0.7 else "TRC-01"
    for (r, _area), code in sorted(lookup.items()):
        if r == role.value:
            return code
    return None


def _support_roles(pat: _Pattern, cat, rng) -> list[Role]:
    if pat.subtype == "banjir":
        return [Role.LINMAS, Role.BPBD]
    if pat.subtype == "kebakaran":
        return [Role.DAMKAR, Role.LINMAS]
    if pat.subtype == "pohon":
        return [Role.LINMAS, Role.BPBD]
    return [r for r in cat.support if rng.random() < 0.6]


def _lognorm_min(rng, median: float, sigma: float, lo: float, hi: float) -> float:
    return float(np.clip(median * np.exp(sigma * rng.standard_normal()), lo, hi))


def _lifecycle(pat, rec, cat, kel, rw, lookup, posts, last_by_cat, rng, at: datetime) -> dict:
    """SOP timestamps (ISO 8601, +07:00), status, teams; steps after the cut-off are empty."""
    out = {k: "" for k in COLUMNS[9:]}
    out["reported_at"] = _iso(at)
    verify = at + timedelta(minutes=_lognorm_min(rng, 6, 0.7, 1, 30))
    if rng.random() < 0.05:
        if verify > CUTOFF:
            out["status"] = "diterima"
            return out
        dup = last_by_cat.get(pat.category)
        reason = (DUPLICATE_REASON.format(ticket=dup) if dup and rng.random() < 0.5
                  else REJECTION_REASONS[int(rng.integers(len(REJECTION_REASONS)))])
        out.update(status="ditolak", rejected_at=_iso(verify), rejection_reason=reason)
        return out
    lead_role = cat.lead
    if lead_role is None:  # "operator decides": the RW Linmas mostly, else Satpol PP
        lead_role = Role.LINMAS if rng.random() < 0.7 else Role.SATPOL_PP
    lead = _responsible(lead_role, kel, rw, lookup, rng)
    support = [t for r in _support_roles(pat, cat, rng)
               if (t := _responsible(r, kel, rw, lookup, rng)) and t != lead]
    prio1 = rec["priority"] == 1
    dispatch = verify + timedelta(minutes=_lognorm_min(rng, 3 if prio1 else 5, 0.7, 1, 20))
    en_route = dispatch + timedelta(minutes=float(rng.uniform(0.5, 6)))
    post_lon, post_lat, vehicle = posts[lead]
    px, py = to_xy(post_lon, post_lat)
    ix, iy = to_xy(rec["lon"], rec["lat"])
    speed = _SPEED_MS * (0.85 if vehicle == "mobil" else 1.0)
    travel = float(np.hypot(ix - px, iy - py)) * _DETOUR / speed * float(np.exp(0.3 * rng.standard_normal()))
    on_scene = en_route + timedelta(seconds=travel + 60)
    handled = on_scene + timedelta(minutes=_lognorm_min(rng, 35, 0.6, 10, 120))
    resolved = handled + timedelta(hours=_lognorm_min(rng, 6, 1.1, 0.5, 120))
    steps = [("terverifikasi", "verified_at", verify), ("ditugaskan", "dispatched_at", dispatch),
             ("menuju_lokasi", "en_route_at", en_route), ("di_lokasi", "on_scene_at", on_scene),
             ("ditangani", "handled_at", handled), ("selesai", "resolved_at", resolved)]
    out["status"] = "diterima"
    for status, column, when in steps:
        if when > CUTOFF:
            break
        out[column] = _iso(when)
        out["status"] = status
    if out["dispatched_at"]:
        out["lead_team"] = lead or ""
        out["support_teams"] = ";".join(sorted(support))
    return out


def _iso(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat()
