"""Synthetic landmarks (gazetteer) and teams of the demo area, placed on the road network.

All positions are EPSG:4326 (lon, lat) rounded to 6 decimals. Landmark and team names
are invented for the demo (only the kelurahan names are real).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo_sigap.demo.area import KECAMATAN, KEL_BY_NAME, KELURAHAN, KOTA, to_lonlat, to_xy
from geo_sigap.demo.boundaries import Boundaries
from geo_sigap.demo.roads import RoadNetwork
from geo_sigap.domain.teams import Role, Vehicle

POI_COLUMNS = ["name", "kind", "lon", "lat"]
TEAM_COLUMNS = ["code", "name", "role", "phone", "vehicle", "post_lon", "post_lat",
                "area_codes", "status"]
#: One Bhabinkamtibmas answers for two kelurahan (as often happens in reality).
SHARED_BHABIN = ("15.71.11.1001", "15.71.11.1006")


@dataclass(slots=True)
class NodeIndex:
    """Road nodes with their kelurahan / RW and whether a car can reach them."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    kel: np.ndarray  # kelurahan code or "" outside the kecamatan
    rw: np.ndarray  # RW code or ""
    car: np.ndarray  # bool
    names: dict[int, tuple[str, ...]]  # node id → names of the ways through it
    used: set

    def pick(self, rng: np.random.Generator, *, kel: str | None = None, rw: str | None = None,
             near: tuple[float, float] | None = None, road: str | None = None,
             car: bool = True, exclude_island: frozenset = frozenset()) -> int:
        """Index (into the arrays) of a free node matching the filters, nearest ``near``."""
        mask = np.ones(len(self.ids), bool)
        if kel:
            mask &= self.kel == kel
        if rw:
            mask &= self.rw == rw
        if car:
            mask &= self.car
        if road:
            mask &= np.array([road in self.names[i] for i in self.ids])
        mask &= np.array([i not in self.used and i not in exclude_island for i in self.ids])
        cand = np.flatnonzero(mask)
        if len(cand) == 0:
            raise ValueError(f"no free road node for kel={kel} rw={rw} road={road}")
        if near is None:
            j = int(cand[rng.integers(len(cand))])
        else:
            x, y = to_xy(self.lon[cand], self.lat[cand])
            nx_, ny_ = to_xy(*near)
            j = int(cand[np.argmin(np.hypot(x - nx_, y - ny_))])
        self.used.add(int(self.ids[j]))
        return j


def node_index(net: RoadNetwork, bnd: Boundaries) -> NodeIndex:
    """Locate every road node in the kelurahan and RW polygons."""
    ids = np.array(sorted(net.nodes))
    ll = np.array([net.nodes[i] for i in ids])
    pts = shapely.points(ll)
    kel, rw = np.full(len(ids), "", object), np.full(len(ids), "", object)
    for level, out in (("kelurahan", kel), ("rw", rw)):
        gdf = bnd[level]
        tree = shapely.STRtree(gdf.geometry.values)
        pi, gi = tree.query(pts, predicate="within")
        out[pi] = gdf["code"].values[gi]
    names: dict[int, set] = {int(i): set() for i in ids}
    car_nodes: set = set()
    for w in net.ways:
        for n in w.node_ids:
            names[n].add(w.tags.get("name", ""))
            if w.tags.get("motorcar") != "no" and w.tags["highway"] != "track":
                car_nodes.add(n)
    return NodeIndex(ids, ll[:, 0], ll[:, 1], kel, rw, np.array([int(i) in car_nodes for i in ids]),
                     {k: tuple(sorted(v)) for k, v in names.items()}, set())


def _offset(lon: float, lat: float, rng: np.random.Generator, poly, lo=8.0, hi=18.0):
    """A point 8–18 m from a road node, still inside ``poly`` (EPSG:4326, 6 decimals)."""
    x, y = to_xy(lon, lat)
    for _ in range(30):
        ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(lo, hi)
        qlon, qlat = to_lonlat(x + dist * np.cos(ang), y + dist * np.sin(ang))
        q = (round(float(qlon), 6), round(float(qlat), 6))
        if poly is None or poly.contains(shapely.Point(q)):
            return q
    return round(float(lon), 6), round(float(lat), 6)


# kind, name, kelurahan name, optional anchor / road / (lon, lat) hint
_POIS: tuple[tuple[str, str, str, object], ...] = (
    ("kantor_camat", "Kantor Camat Paal Merah", "", "@kantor_camat"),
    ("posko", "Posko SIGAP KETIMUN", "", "~kantor_camat"),
    ("pasar", "Pasar Talang Bakung", "Talang Bakung", "@pasar_parkir"),
    ("pasar", "Pasar Kaget Lingkar Selatan", "Lingkar Selatan", "Jalan Lingkar Selatan"),
    ("puskesmas", "Puskesmas Paal Merah I", "", "@puskesmas"),
    ("puskesmas", "Puskesmas Paal Merah II", "Eka Jaya", "Jalan Pangeran Hidayat"),
    ("puskesmas", "Puskesmas Pembantu Payo Selincah", "Payo Selincah", None),
    ("polsek", "Polsek Paal Merah", "Paal Merah", "Jalan Sultan Agung"),
    ("koramil", "Koramil 415-06 Paal Merah", "Talang Bakung", "Jalan Kolonel Abunjani"),
    ("spbu", "SPBU 24.361.07 Kolonel Abunjani", "", "@spbu_abunjani"),
    ("spbu", "SPBU 24.361.12 Lingkar Selatan", "Lingkar Selatan", "Jalan Lingkar Selatan"),
    ("terminal", "Terminal Angkot Paal Merah", "", "@terminal_angkot"),
    ("gudang", "Gudang Logistik Eka Jaya", "", "@gudang_eka_jaya"),
    ("simpang", "Simpang Lampu Merah Abunjani", "", "@simpang_abunjani_sultan_agung"),
    ("masjid", "Masjid Al-Ikhlas", "Eka Jaya", None),
    ("masjid", "Masjid Nurul Iman", "Talang Bakung", None),
    ("masjid", "Masjid Al-Muttaqin", "Paal Merah", None),
    ("masjid", "Masjid Nurul Huda", "Lingkar Selatan", None),
    ("masjid", "Masjid Al-Hidayah", "Bakung Jaya", None),
    ("masjid", "Masjid Baitul Makmur", "Payo Selincah", None),
    ("masjid", "Masjid Darussalam", "Eka Jaya", None),
    ("masjid", "Masjid An-Nur", "Paal Merah", None),
    ("masjid", "Masjid Al-Falah", "Talang Bakung", None),
    ("masjid", "Masjid Jami' Al-Amin", "Lingkar Selatan", None),
    ("masjid", "Masjid At-Taqwa", "Bakung Jaya", None),
    ("masjid", "Masjid Baiturrahman", "Payo Selincah", None),
    ("musala", "Musala Nurul Jannah", "Eka Jaya", None),
    ("musala", "Musala Al-Amanah", "Talang Bakung", None),
    ("musala", "Musala Ar-Rahman", "Paal Merah", None),
    ("musala", "Musala Al-Barokah", "Lingkar Selatan", None),
    ("musala", "Musala Baitul Rahim", "Bakung Jaya", None),
    ("musala", "Musala Miftahul Jannah", "Payo Selincah", None),
    ("musala", "Musala Al-Ikhlas", "Paal Merah", None),
    ("gereja", "Gereja HKBP Paal Merah", "Paal Merah", None),
    ("gereja", "Gereja Pantekosta Eka Jaya", "Eka Jaya", None),
    ("gereja", "Gereja Methodist Talang Bakung", "Talang Bakung", None),
    ("sekolah", "SD Negeri 101/IV", "Talang Bakung", None),
    ("sekolah", "SD Negeri 117/IV", "Talang Bakung", None),
    ("sekolah", "SD Negeri 132/IV", "Eka Jaya", None),
    ("sekolah", "SD Negeri 150/IV", "Eka Jaya", None),
    ("sekolah", "SD Negeri 168/IV", "Paal Merah", None),
    ("sekolah", "SD Negeri 182/IV", "Paal Merah", None),
    ("sekolah", "SD Negeri 196/IV", "Lingkar Selatan", None),
    ("sekolah", "SD Negeri 205/IV", "Lingkar Selatan", None),
    ("sekolah", "SD Negeri 213/IV", "Bakung Jaya", None),
    ("sekolah", "SD Negeri 224/IV", "Payo Selincah", None),
    ("sekolah", "SMP Negeri 14 Kota Jambi", "Paal Merah", None),
    ("sekolah", "SMP Negeri 21 Kota Jambi", "Eka Jaya", None),
    ("sekolah", "SMP Negeri 25 Kota Jambi", "Lingkar Selatan", None),
    ("sekolah", "SMA Negeri 9 Kota Jambi", "Talang Bakung", "Jalan Kolonel Abunjani"),
    ("sekolah", "SMA Negeri 11 Kota Jambi", "Bakung Jaya", None),
    ("sekolah", "SMK Negeri 5 Kota Jambi", "Paal Merah", "Jalan Sultan Agung"),
    ("sekolah", "MTs Nurul Iman", "Talang Bakung", None),
    ("sekolah", "TK Pertiwi Eka Jaya", "Eka Jaya", None),
    ("minimarket", "Indomaret Kolonel Abunjani", "Talang Bakung", "Jalan Kolonel Abunjani"),
    ("minimarket", "Alfamart Kolonel Abunjani", "Bakung Jaya", "Jalan Kolonel Abunjani"),
    ("minimarket", "Alfamart Sultan Agung", "Paal Merah", "Jalan Sultan Agung"),
    ("minimarket", "Indomaret Lingkar Selatan", "Lingkar Selatan", "Jalan Lingkar Selatan"),
    ("minimarket", "Alfamart Lingkar Selatan", "Paal Merah", "Jalan Lingkar Selatan"),
    ("minimarket", "Indomaret Pangeran Hidayat", "Eka Jaya", "Jalan Pangeran Hidayat"),
    ("minimarket", "Alfamart Pangeran Hidayat", "Bakung Jaya", "Jalan Pangeran Hidayat"),
    ("minimarket", "Indomaret Marsda Surya Darma", "Payo Selincah", "Jalan Marsda Surya Darma"),
    ("minimarket", "Alfamart Eka Jaya", "Eka Jaya", None),
    ("lapangan", "Lapangan Bola Eka Jaya", "Eka Jaya", None),
    ("lapangan", "Lapangan Voli Bakung Jaya", "Bakung Jaya", None),
    ("makam", "TPU Talang Bakung", "Talang Bakung", None),
    ("makam", "TPU Paal Merah", "Paal Merah", None),
    ("balai", "Balai Pertemuan Payo Selincah", "Payo Selincah", None),
    ("balai", "Gedung Serbaguna Lingkar Selatan", "Lingkar Selatan", None),
    ("kantor", "Kantor Pos Paal Merah", "Paal Merah", "Jalan Sultan Agung"),
    ("kantor", "Kantor KUA Paal Merah", "Talang Bakung", None),
    ("bank", "BRI Unit Paal Merah", "Paal Merah", "Jalan Sultan Agung"),
    ("klinik", "Klinik Pratama Bakung Jaya", "Bakung Jaya", None),
    ("apotek", "Apotek Eka Farma", "Eka Jaya", None),
    ("rumah_makan", "Rumah Makan Padang Sederhana", "Talang Bakung", "Jalan Kolonel Abunjani"),
    ("bengkel", "Bengkel Motor Jaya Abadi", "Lingkar Selatan", None),
    ("kolam", "Kolam Pemancingan Payo", "Payo Selincah", None),
    ("kandang", "Peternakan Sapi Bakung Jaya", "Bakung Jaya", "edge"),
    ("kandang", "Kandang Kambing Payo Selincah", "Payo Selincah", "edge"),
)


def build_pois(net: RoadNetwork, bnd: Boundaries, idx: NodeIndex,
               rng: np.random.Generator) -> pd.DataFrame:
    """The gazetteer: ``name,kind,lon,lat`` (EPSG:4326), sorted by kind and name."""
    kel_geom = dict(zip(bnd["kelurahan"]["code"], bnd["kelurahan"].geometry, strict=True))
    id_pos = {int(i): j for j, i in enumerate(idx.ids)}
    rows, placed = [], {}
    lurah = tuple(("kantor_lurah", f"Kantor Lurah {k.name}", k.name, k.point) for k in KELURAHAN)
    for kind, name, kel_name, hint in lurah + _POIS:
        kel = KEL_BY_NAME[kel_name].code if kel_name else None
        poly = kel_geom.get(kel)
        if isinstance(hint, str) and hint.startswith("@"):
            j = id_pos[net.anchors[hint[1:]]]
            idx.used.add(int(idx.ids[j]))
            lon, lat = float(idx.lon[j]), float(idx.lat[j])
            if kind != "simpang":
                lon, lat = _offset(lon, lat, rng, None, 3.0, 6.0)
        elif isinstance(hint, str) and hint.startswith("~"):
            base = placed[hint[1:]]
            lon, lat = _offset(*base, rng, None, 20.0, 30.0)
        else:
            if hint == "edge":
                near = _edge_point(poly)
            elif isinstance(hint, tuple):
                near = hint
            else:
                near = _random_point(poly, rng)
            road = hint if isinstance(hint, str) and hint.startswith("Jalan") else None
            j = idx.pick(rng, kel=kel, near=near, road=road, car=True,
                         exclude_island=net.island_node_ids)
            lon, lat = _offset(float(idx.lon[j]), float(idx.lat[j]), rng, poly)
        placed[hint[1:] if isinstance(hint, str) and hint.startswith("@") else name] = (lon, lat)
        rows.append((name, kind, round(lon, 6), round(lat, 6)))
    df = pd.DataFrame(rows, columns=POI_COLUMNS)
    return df.sort_values(["kind", "name"], ignore_index=True)


def _random_point(poly, rng: np.random.Generator) -> tuple[float, float]:
    minx, miny, maxx, maxy = poly.bounds
    while True:
        q = (rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(shapely.Point(q)):
            return q


def _edge_point(poly) -> tuple[float, float]:
    """A point on the east edge of the kelurahan's bounds (the rural fringe here)."""
    minx, miny, maxx, maxy = poly.bounds
    return maxx, (miny + maxy) / 2


def build_teams(net: RoadNetwork, bnd: Boundaries, idx: NodeIndex, pois: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    """Teams CSV rows (``TEAM_COLUMNS``); posts are road-node coordinates (EPSG:4326)."""
    poi = {r.name: (r.lon, r.lat) for r in pois.itertuples()}
    rows: list[dict] = []

    def add(code, name, role: Role, vehicle: Vehicle, j: int, areas, status="tersedia"):
        rows.append(dict(code=code, name=name, role=role.value, phone="", vehicle=vehicle.value,
                         post_lon=float(idx.lon[j]), post_lat=float(idx.lat[j]),
                         area_codes=";".join(areas), status=status))

    id_pos = {int(i): j for j, i in enumerate(idx.ids)}
    for kel in KELURAHAN:
        if kel.code == SHARED_BHABIN[1]:
            continue
        areas = SHARED_BHABIN if kel.code == SHARED_BHABIN[0] else (kel.code,)
        label = " & ".join(KELURAHAN[[k.code for k in KELURAHAN].index(a)].name for a in areas)
        near = poi[f"Kantor Lurah {kel.name}"]
        add(f"BHB-{kel.code[-4:]}", f"Bhabinkamtibmas {label}", Role.BHABINKAMTIBMAS, Vehicle.MOTOR,
            idx.pick(rng, kel=kel.code, near=near), areas)
    for kel in KELURAHAN:
        near = poi[f"Kantor Lurah {kel.name}"]
        add(f"BBS-{kel.code[-4:]}", f"Babinsa {kel.name}", Role.BABINSA, Vehicle.MOTOR,
            idx.pick(rng, kel=kel.code, near=near), (kel.code,))
    rw = bnd["rw"]
    off_duty = set(rng.choice(len(rw), size=2, replace=False).tolist())
    for i, r in enumerate(rw.itertuples()):
        c = r.geometry.representative_point()
        kel_name = next(k.name for k in KELURAHAN if k.code == r.parent_code)
        add(f"LMS-{r.parent_code[-4:]}-{r.code[-3:]}", f"Linmas {r.name} {kel_name}", Role.LINMAS,
            Vehicle.MOTOR, idx.pick(rng, rw=r.code, near=(c.x, c.y), car=False,
                                    exclude_island=net.island_node_ids),
            (r.code,), "lepas" if i in off_duty else "tersedia")
    camat = id_pos[net.anchors["kantor_camat"]]
    add("TRC-01", "TRC Satpol PP Paal Merah (mobil)", Role.SATPOL_PP, Vehicle.MOBIL, camat, (KECAMATAN[0],))
    add("TRC-02", "TRC Satpol PP Paal Merah (motor)", Role.SATPOL_PP, Vehicle.MOTOR, camat, (KECAMATAN[0],))
    add("PKM-01", "Ambulans Puskesmas Paal Merah I", Role.PUSKESMAS, Vehicle.MOBIL,
        id_pos[net.anchors["puskesmas"]], (KECAMATAN[0],))
    outside = idx.kel == ""
    agencies = (
        ("DSO-01", "TRC Dinas Sosial Kota Jambi", Role.DINAS_SOSIAL, (103.6230, -1.6300)),
        ("DMK-01", "Damkar Pos Lingkar Selatan", Role.DAMKAR, (103.6280, -1.6560)),
        ("BPB-01", "TRC BPBD Kota Jambi", Role.BPBD, (103.6790, -1.6240)),
        ("DPT-01", "Tim Dinas Peternakan Kota Jambi", Role.DINAS_PETERNAKAN, (103.6740, -1.6420)),
    )
    for code, name, role, near in agencies:
        cand = np.flatnonzero(outside & idx.car)
        x, y = to_xy(idx.lon[cand], idx.lat[cand])
        j = int(cand[np.argmin(np.hypot(x - to_xy(*near)[0], y - to_xy(*near)[1]))])
        add(code, name, role, Vehicle.MOBIL, j, (KOTA[0],))
    df = pd.DataFrame(rows, columns=TEAM_COLUMNS)
    df = df.sort_values("code", ignore_index=True)
    df["phone"] = [f"+62812000{n:05d}" for n in range(1, len(df) + 1)]
    return df
