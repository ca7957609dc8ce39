"""A synthetic, city-like road network for the demo area.

Built on a warped, jittered lattice (local metric frame of :mod:`geo_sigap.demo.area`,
150 m blocks): named arterials along chosen lattice lines, residential streets
(some dropped, some one-way, a one-way pair beside the market), motorcycle-only
alleys (``highway=path``, ``motorcycle=yes``, ``motorcar=no``) across dense kampung
blocks, a few service spurs, a swamp with no roads in Payo Selincah, and one small
disconnected track inside it (the deliberate unreachable island).

Every lattice edge carries its mid-point as an extra vertex, so the network has
curved roads and alleys can join streets half-way along a block.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import shapely

from geo_sigap.demo.area import KEL_BY_NAME, to_lonlat, to_xy

SPACING_M = 150.0
_THETA = np.radians(14.0)
_ROT = np.array([[np.cos(_THETA), -np.sin(_THETA)], [np.sin(_THETA), np.cos(_THETA)]])

#: Named places (lon, lat) the rest of the generator refers to.
MARKET_LONLAT = (103.6502, -1.6208)  # Pasar Talang Bakung (north of the Talang Bakung centre)
SWAMP_LONLAT = (103.6445, -1.5985)  # low-lying rawa in Payo Selincah
SWAMP_RADIUS_M = 330.0
DENSE_CENTRES = {  # kampung cores with many alleys (lon, lat), radius metres
    "pasar": ((103.6502, -1.6208), 650.0),
    "eka_jaya": ((103.6600, -1.6150), 600.0),
    "paal_merah": ((103.6440, -1.6440), 600.0),
    "lingkar_selatan": ((103.6330, -1.6500), 450.0),
}

# name, highway, anchor (lon, lat), direction ("row": constant v, "col": constant u)
ARTERIALS = (
    ("Jalan Kolonel Abunjani", "primary", (103.6490, -1.6285), "row"),
    ("Jalan Lingkar Selatan", "primary", KEL_BY_NAME["Lingkar Selatan"].point, "row"),
    ("Jalan Sultan Agung", "secondary", (103.6455, -1.6400), "col"),
    ("Jalan Pangeran Hidayat", "secondary", (103.6620, -1.6250), "col"),
    ("Jalan Marsda Surya Darma", "tertiary", KEL_BY_NAME["Payo Selincah"].point, "col"),
)
_STREET_NAMES = (
    "Kenari", "Cempaka", "Flamboyan", "Kasuari", "Merpati", "Rajawali", "Nusa Indah",
    "Cendana", "Teratai", "Anggrek", "Pattimura", "Sisingamangaraja", "Cokroaminoto",
    "Kemuning", "Beringin", "Durian", "Rambutan", "Manggis", "Kapten Tendean",
    "Slamet Riyadi", "Ki Hajar Dewantara", "Dr. Wahidin", "Sentot Alibasa", "Kutilang",
    "Cenderawasih", "Tekukur", "Pinang Masak", "Sakura", "Seroja", "Bougenville",
)
_ALLEY_NAMES = (
    "Gang Mawar", "Lorong Keluarga", "Gang Melati", "Gang Kenanga", "Lorong Amal",
    "Gang Damai", "Gang Sepakat", "Lorong Masjid", "Gang Swadaya", "Lorong Pinang",
    "Gang Rukun", "Lorong Bersama", "Gang Kelapa", "Gang Sawo", "Lorong Musala",
    "Gang Mangga", "Lorong Pelita", "Gang Harapan", "Lorong Sederhana", "Gang Bahagia",
)
_ROMAN = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")

Key = tuple  # doubled-lattice integer key (a, b), or ("svc", n) / ("isl", n)


@dataclass(slots=True)
class Way:
    """One OSM way: node keys in travel order and its tags."""

    keys: list
    tags: dict[str, str]
    id: int = 0
    node_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class RoadNetwork:
    """Nodes (id → (lon, lat), EPSG:4326, 6 decimals) and ways, plus named anchor nodes."""

    nodes: dict[int, tuple[float, float]]
    ways: list[Way]
    anchors: dict[str, int]
    island_node_ids: frozenset[int]

    def motor_digraph(self, *, car: bool = False) -> nx.DiGraph:
        """Directed graph over node ids (one-ways respected; ``car`` drops paths)."""
        g = nx.DiGraph()
        for w in self.ways:
            if car and w.tags.get("motorcar") == "no":
                continue
            ids = w.node_ids
            for u, v in zip(ids[:-1], ids[1:], strict=True):
                g.add_edge(u, v)
                if w.tags.get("oneway") != "yes":
                    g.add_edge(v, u)
        return g


class _Lattice:
    """Positions (local metres) of doubled-lattice keys: warp + per-node jitter."""

    def __init__(self, rng: np.random.Generator, a_range: range, b_range: range) -> None:
        self.a0, self.b0 = a_range.start, b_range.start
        shape = (len(a_range) + 2, len(b_range) + 2)
        self.jit = rng.uniform(-18.0, 18.0, shape + (2,))
        self.mid = rng.uniform(-7.0, 7.0, shape + (2,))
        self.phase = rng.uniform(0, 2 * np.pi, 4)

    def xy(self, a: int, b: int) -> np.ndarray:
        u, v = a / 2.0, b / 2.0
        p = _ROT @ np.array([u * SPACING_M, v * SPACING_M])
        ph = self.phase
        warp = np.array([40 * np.sin(0.33 * v + ph[0]) + 22 * np.sin(0.19 * u + ph[1]),
                         40 * np.sin(0.29 * u + ph[2]) + 22 * np.sin(0.17 * v + ph[3])])
        ia, ib = a - self.a0, b - self.b0
        corners = [(ia + da, ib + db) for da in ((0,) if a % 2 == 0 else (-1, 1))
                   for db in ((0,) if b % 2 == 0 else (-1, 1))]
        jit = np.mean([self.jit[i, j] for i, j in corners], axis=0)
        if a % 2 or b % 2:
            jit = jit + self.mid[ia, ib]
        return p + warp + jit


def lattice_uv(lon: float, lat: float) -> tuple[float, float]:
    """Approximate lattice coordinates (u, v) of a lon/lat point (warp ignored)."""
    x, y = to_xy(lon, lat)
    u, v = _ROT.T @ np.array([float(x), float(y)]) / SPACING_M
    return float(u), float(v)


def build_roads(kecamatan_lonlat: shapely.Geometry, rng: np.random.Generator) -> RoadNetwork:
    """Build the demo network around the kecamatan outline (EPSG:4326)."""
    outline = shapely.transform(kecamatan_lonlat, lambda c: np.column_stack(to_xy(c[:, 0], c[:, 1])))
    region = outline.buffer(220.0)
    swamp = shapely.Point(*[float(t) for t in to_xy(*SWAMP_LONLAT)]).buffer(SWAMP_RADIUS_M)
    corners = np.array(region.exterior.coords)
    uv = (_ROT.T @ corners.T).T / SPACING_M
    a_range = range(2 * int(np.floor(uv[:, 0].min())) - 2, 2 * int(np.ceil(uv[:, 0].max())) + 3)
    b_range = range(2 * int(np.floor(uv[:, 1].min())) - 2, 2 * int(np.ceil(uv[:, 1].max())) + 3)
    lat = _Lattice(rng, a_range, b_range)
    pos: dict[Key, np.ndarray] = {}

    def p(key: Key) -> np.ndarray:
        if key not in pos:
            pos[key] = lat.xy(*key)
        return pos[key]

    # 1. lattice nodes inside the region, outside the swamp
    nodes = [(a, b) for a in range(a_range.start, a_range.stop, 2)
             for b in range(b_range.start, b_range.stop, 2)]
    xy = np.array([p(k) for k in nodes])
    keep = shapely.contains_xy(region, xy[:, 0], xy[:, 1]) & ~shapely.contains_xy(
        swamp.buffer(60), xy[:, 0], xy[:, 1])
    kept = {k for k, ok in zip(nodes, keep, strict=True) if ok}

    # 2. lattice edges (key of the edge = its mid-point key)
    g = nx.Graph()
    for a, b in sorted(kept):
        for na, nb in ((a + 2, b), (a, b + 2)):
            if (na, nb) in kept:
                mid = ((a + na) // 2, (b + nb) // 2)
                line = shapely.LineString([p((a, b)), p(mid), p((na, nb))])
                if not line.intersects(swamp):
                    g.add_edge((a, b), (na, nb), mid=mid, kind="residential")
    g = g.subgraph(max(nx.connected_components(g), key=lambda c: (len(c), min(c)))).copy()

    # 3. arterials along chosen lattice lines
    arterial_lines: dict[tuple[str, int], tuple[str, str]] = {}
    for name, highway, anchor, direction in ARTERIALS:
        u, v = lattice_uv(*anchor)
        line_key = ("row", 2 * round(v)) if direction == "row" else ("col", 2 * round(u))
        arterial_lines[line_key] = (name, highway)
    for u_, v_, d in g.edges(data=True):
        lk = _line_of(u_, v_)
        if lk in arterial_lines:
            d["kind"] = "arterial"
            d["name"], d["highway"] = arterial_lines[lk]

    dense = [(np.array([float(t) for t in to_xy(*c)]), r) for c, r in DENSE_CENTRES.values()]

    def is_dense(key: Key) -> bool:
        q = p(key)
        return any(np.hypot(*(q - c)) < r for c, r in dense)

    # 4. drop some residential edges (never disconnecting), convert some to alleys;
    #    the two streets of the one-way pair beside the market stay whole
    mu, mv = lattice_uv(*MARKET_LONLAT)
    ma, mb = 2 * round(mu), 2 * round(mv)
    protected = {(k1, k2) for k1, k2 in g.edges if k1[1] == k2[1] and k1[1] in (mb - 2, mb + 2)
                 and abs(k1[0] - ma) <= 8 and abs(k2[0] - ma) <= 8}
    protected |= {(k2, k1) for k1, k2 in protected}
    edges = sorted((tuple(sorted((u_, v_))) for u_, v_, d in g.edges(data=True)
                    if d["kind"] == "residential" and (u_, v_) not in protected))
    order = rng.permutation(len(edges))
    car = g.copy()
    for i in order:
        u_, v_ = edges[i]
        mid = g.edges[u_, v_]["mid"]
        roll = rng.random()
        dense_here = is_dense(mid)
        if roll < (0.10 if not dense_here else 0.04):
            action = "drop"
        elif dense_here and roll < 0.30:
            action = "path"
        else:
            continue
        car.remove_edge(u_, v_)
        if nx.has_path(car, u_, v_) and car.degree(u_) > 0 and car.degree(v_) > 0:
            if action == "drop":
                g.remove_edge(u_, v_)
            else:
                g.edges[u_, v_]["kind"] = "path"
        else:
            car.add_edge(u_, v_)

    ways: list[Way] = []
    # 5. group lattice edges into ways along each line
    ways += _lattice_ways(g, rng)
    # 6. service spurs into blocks, then alleys across dense blocks (not the same blocks)
    mids = {d["mid"] for _, _, d in g.edges(data=True)}
    anchors_keys: dict[str, Key] = {}
    car_mids = {d["mid"] for _, _, d in g.edges(data=True) if d["kind"] != "path"}
    spurs = _service_spurs(car_mids, pos, p, anchors_keys)
    ways += _alleys(g, mids, {w.keys[0] for w in spurs}, is_dense, rng)
    # 7. one-way pair beside the market and a few scattered one-way streets
    anchors_keys["pasar"] = (ma, mb)
    _one_way_pair(ways, ma, mb)
    _scatter_one_ways(ways, rng)
    # 8. service spurs and the island
    ways += spurs
    ways.append(_island(pos))
    # simpang (junction of the two busiest arterials) for the gepeng hotspot
    ka = 2 * round(lattice_uv(*ARTERIALS[0][2])[1])
    sa = 2 * round(lattice_uv(*ARTERIALS[2][2])[0])
    anchors_keys["simpang_abunjani_sultan_agung"] = (sa, ka)
    return _finalise(ways, pos, p, anchors_keys)


def _line_of(k1: Key, k2: Key) -> tuple[str, int]:
    return ("row", k1[1]) if k1[1] == k2[1] else ("col", k1[0])


def _lattice_ways(g: nx.Graph, rng: np.random.Generator) -> list[Way]:
    """Consecutive edges of one lattice line with the same kind form one way."""
    by_line: dict[tuple[str, int], list] = defaultdict(list)
    for u_, v_, d in g.edges(data=True):
        a, b = sorted((u_, v_))
        by_line[_line_of(a, b)].append((a, b, d))
    ways, name_use = [], defaultdict(int)
    for line in sorted(by_line):
        segs = sorted(by_line[line], key=lambda s: s[0])
        run: list = []
        for seg in segs + [None]:
            if run and (seg is None or seg[0] != run[-1][1] or _tag_key(seg[2]) != _tag_key(run[-1][2])):
                ways.append(_run_to_way(run, rng, name_use))
                run = []
            if seg is not None:
                run.append(seg)
    return ways


def _tag_key(d: dict) -> tuple:
    return (d["kind"], d.get("name"))


def _run_to_way(run: list, rng: np.random.Generator, name_use: dict) -> Way:
    keys = [run[0][0]]
    for a, b, d in run:
        keys += [d["mid"], b]
    d = run[0][2]
    if d["kind"] == "arterial":
        tags = {"highway": d["highway"], "name": d["name"], "lanes": "2" if d["highway"] != "tertiary" else "1"}
    elif d["kind"] == "path":
        tags = _alley_tags(rng, name_use)
    else:
        base = _STREET_NAMES[int(rng.integers(len(_STREET_NAMES)))]
        n = name_use[base]
        name_use[base] += 1
        tags = {"highway": "residential", "name": f"Jalan {base}{_ROMAN[n % len(_ROMAN)]}"}
    return Way(keys, tags)


def _alley_tags(rng: np.random.Generator, name_use: dict) -> dict[str, str]:
    base = _ALLEY_NAMES[int(rng.integers(len(_ALLEY_NAMES)))]
    n = name_use[base]
    name_use[base] += 1
    name = base if n == 0 else f"{base} {n + 1}"
    return {"highway": "path", "motorcycle": "yes", "motorcar": "no", "width": "1.5", "name": name}


def _alleys(g: nx.Graph, mids: set, reserved: set, is_dense, rng: np.random.Generator) -> list[Way]:
    """Paths across blocks from one side's mid-point through the centre to the other."""
    ways, name_use = [], defaultdict(int)
    name_use["Gang Mawar"] = 0
    corners = sorted(k for k in g.nodes)
    node_set = set(g.nodes)
    for a, b in corners:
        block = [(a, b), (a + 2, b), (a, b + 2), (a + 2, b + 2)]
        if not all(k in node_set for k in block):
            continue
        centre = (a + 1, b + 1)
        if (a + 1, b) in reserved or not is_dense(centre) or rng.random() > 0.6:
            continue
        horizontal = ((a, b + 1), (a + 2, b + 1))  # mid-points of the left and right sides
        vertical = ((a + 1, b), (a + 1, b + 2))
        options = [o for o in (horizontal, vertical) if o[0] in mids and o[1] in mids]
        if not options:
            continue
        pick = options if (len(options) == 2 and rng.random() < 0.25) else [options[int(rng.integers(len(options)))]]
        for s, e in pick:
            ways.append(Way([s, centre, e], _alley_tags(rng, name_use)))
    return ways


def _one_way_pair(ways: list[Way], ma: int, mb: int) -> None:
    """Two parallel residential streets beside the market, one-way in opposite senses."""
    for b, forward in ((mb + 2, True), (mb - 2, False)):
        for w in list(ways):
            if w.tags["highway"] != "residential" or not all(len(k) == 2 and k[1] == b for k in w.keys):
                continue
            span = [k for k in w.keys if abs(k[0] - ma) <= 6]
            if len(span) < 3:
                continue
            i0, i1 = w.keys.index(span[0]), w.keys.index(span[-1])
            pre, mid_part, post = w.keys[: i0 + 1], w.keys[i0: i1 + 1], w.keys[i1:]
            name = "Jalan Pasar Lama I" if forward else "Jalan Pasar Lama II"
            w.keys = mid_part if forward else mid_part[::-1]
            w.tags = {"highway": "residential", "name": name, "oneway": "yes"}
            if len(pre) > 1:
                ways.append(Way(pre, {"highway": "residential", "name": name}))
            if len(post) > 1:
                ways.append(Way(post, {"highway": "residential", "name": name}))


def _scatter_one_ways(ways: list[Way], rng: np.random.Generator) -> None:
    """Mark a few short residential ways one-way (checked for strong connectivity later)."""
    cands = [w for w in ways if w.tags["highway"] == "residential" and "oneway" not in w.tags
             and 3 <= len(w.keys) <= 7]
    for i in rng.choice(len(cands), size=min(14, len(cands)), replace=False):
        w = cands[int(i)]
        w.tags["oneway"] = "yes"
        if rng.random() < 0.5:
            w.keys = w.keys[::-1]


def _service_spurs(mids: set, pos: dict, p, anchors: dict) -> list[Way]:
    """Short service roads into blocks (market yard, offices); anchors name their ends."""
    targets = {
        "pasar_parkir": MARKET_LONLAT,
        "kantor_camat": (103.6470, -1.6350),
        "puskesmas": (103.6420, -1.6370),
        "spbu_abunjani": (103.6560, -1.6290),
        "terminal_angkot": (103.6395, -1.6475),
        "gudang_eka_jaya": (103.6680, -1.6120),
    }
    ways = []
    taken: set = set()
    for n, (name, (lon, lat)) in enumerate(sorted(targets.items())):
        u, v = lattice_uv(lon, lat)
        best = None
        for da in range(-3, 4):
            for db in range(-3, 4):
                mid = (2 * int(np.floor(u)) + 2 * da + 1, 2 * round(v) + 2 * db)
                if mid in mids and mid not in taken:
                    d = abs(mid[0] / 2 - u) + abs(mid[1] / 2 - v)
                    if best is None or d < best[0]:
                        best = (d, mid)
        if best is None:
            continue
        mid = best[1]
        taken.add(mid)
        end = ("svc", n)
        pos[end] = 0.72 * p(mid) + 0.28 * p((mid[0], mid[1] + 2))
        ways.append(Way([mid, end], {"highway": "service", "name": _SERVICE_NAMES[name]}))
        anchors[name] = end
    return ways


_SERVICE_NAMES = {
    "pasar_parkir": "Jalan Masuk Pasar", "kantor_camat": "Jalan Masuk Kantor Camat",
    "puskesmas": "Jalan Masuk Puskesmas", "spbu_abunjani": "Jalan Masuk SPBU",
    "terminal_angkot": "Jalan Masuk Terminal", "gudang_eka_jaya": "Jalan Gudang",
}


def _island(pos: dict) -> Way:
    """A track across the swamp that touches no other road (the unreachable island)."""
    cx, cy = (float(t) for t in to_xy(*SWAMP_LONLAT))
    keys = []
    for i, t in enumerate(np.linspace(-1.0, 1.0, 6)):
        key = ("isl", i)
        pos[key] = np.array([cx + 170 * t, cy + 45 * np.sin(2.2 * t)])
        keys.append(key)
    return Way(keys, {"highway": "track", "name": "Jalan Setapak Rawa Payo", "motorcycle": "yes",
                      "surface": "dirt"})


def _finalise(ways: list[Way], pos: dict, p, anchors_keys: dict) -> RoadNetwork:
    """Number nodes and ways, round coordinates, repair strong connectivity."""
    ids: dict[Key, int] = {}
    coords: dict[int, tuple[float, float]] = {}
    for wid, w in enumerate(ways, start=1):
        w.id = wid
        w.node_ids = []
        for k in w.keys:
            if k not in ids:
                ids[k] = len(ids) + 1
                x, y = p(k) if k not in pos else pos[k]
                lon, lat = to_lonlat(x, y)
                coords[ids[k]] = (round(float(lon), 6), round(float(lat), 6))
            w.node_ids.append(ids[k])
    island = frozenset(ids[k] for k in ways[-1].keys)
    net = RoadNetwork(coords, ways, {n: ids[k] for n, k in anchors_keys.items() if k in ids}, island)
    # one-way streets that break strong connectivity become two-way again
    for _ in range(10):
        bad = []
        for car in (False, True):
            dg = net.motor_digraph(car=car)
            main = max(nx.strongly_connected_components(dg.subgraph(set(dg) - island)), key=len)
            bad += [w for w in ways if w.tags.get("oneway") == "yes" and "oneway" in w.tags
                    and not set(w.node_ids) <= main and (not car or w.tags.get("motorcar") != "no")]
        if not bad:
            break
        for w in bad:
            w.tags.pop("oneway", None)
    return net
