"""Fixtures: a small synthetic area with every awkward case, and Kota Jambi units.

Synthetic layout (unit = 0.01°, ≈ 1.1 km, origin 103.60E, 1.66S):

* kelurahan A ``15.71.11.1001`` [0,1]×[0,1]; B ``…1002`` [1,2]×[0,1] (shares A's east
  border); C ``…1003`` [0,1]×[1.02,2] (a ≈22 m gap above A); D ``…1004``
  [1.5,2.5]×[0.5,1.5] overlaps B.
* A has RW001 (west half) and RW002 (east half); RT001/RT002 in RW001 (south/north),
  RT001 in RW002 (south); A's north-east quarter has no RT, except a small RT drawn
  with B's code ``15.71.11.1002.RT009`` (a hierarchy conflict). B, C, D have no RW/RT.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from tests.paths import JAMBI

OX, OY, S = 103.60, -1.66, 0.01


def xy(u: float, v: float) -> tuple[float, float]:
    """Synthetic (u, v) units → (lon, lat)."""
    return OX + u * S, OY + v * S


def sbox(u0: float, v0: float, u1: float, v1: float):
    return box(*xy(u0, v0), *xy(u1, v1))


KEL = "15.71.11"


def synthetic_units() -> gpd.GeoDataFrame:
    rows = [
        ("15.71", "Kota Jambi", "kabupaten_kota", "15", None),
        (KEL, "Paal Merah", "kecamatan", "15.71", None),
        (f"{KEL}.1001", "Talang Bakung", "kelurahan", KEL, sbox(0, 0, 1, 1)),
        (f"{KEL}.1002", "Payo Selincah", "kelurahan", KEL, sbox(1, 0, 2, 1)),
        (f"{KEL}.1003", "Eka Jaya", "kelurahan", KEL, sbox(0, 1.02, 1, 2)),
        (f"{KEL}.1004", "Lingkar Selatan", "kelurahan", KEL, sbox(1.5, 0.5, 2.5, 1.5)),
        (f"{KEL}.1001.RW001", "RW 001", "rw", f"{KEL}.1001", sbox(0, 0, 0.5, 1)),
        (f"{KEL}.1001.RW002", "RW 002", "rw", f"{KEL}.1001", sbox(0.5, 0, 1, 1)),
        (f"{KEL}.1001.RW001.RT001", "RT 001", "rt", f"{KEL}.1001.RW001", sbox(0, 0, 0.5, 0.5)),
        (f"{KEL}.1001.RW001.RT002", "RT 002", "rt", f"{KEL}.1001.RW001", sbox(0, 0.5, 0.5, 1)),
        (f"{KEL}.1001.RW002.RT001", "RT 001", "rt", f"{KEL}.1001.RW002", sbox(0.5, 0, 1, 0.5)),
        (f"{KEL}.1002.RT009", "RT 009", "rt", f"{KEL}.1002", sbox(0.8, 0.8, 0.95, 0.95)),
    ]
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows],
         "level": [r[2] for r in rows], "parent_code": [r[3] for r in rows]},
        geometry=[r[4] for r in rows], crs=4326)


@pytest.fixture(scope="session")
def units() -> gpd.GeoDataFrame:
    return synthetic_units()


@pytest.fixture(scope="session")
def reverse(units):
    from geo_sigap.geocoding import ReverseGeocoder

    return ReverseGeocoder.from_units(units, gap_tolerance_m=50)


def jambi_units() -> gpd.GeoDataFrame:
    """Kota Jambi kelurahan (BIG schema) mapped to the normalised unit schema."""
    if not JAMBI.exists():
        pytest.skip(f"../shared/data is absent ({JAMBI}); real-data tests need it")
    g = gpd.read_file(JAMBI / "kelurahan_kota_jambi.geojson")
    return gpd.GeoDataFrame(
        {"code": g["KDEPUM"], "name": g["NAMOBJ"], "level": "kelurahan",
         "parent_code": g["KDEPUM"].str.rsplit(".", n=1).str[0]},
        geometry=g.geometry, crs=4326)


@pytest.fixture(scope="session")
def jambi():
    return jambi_units()


@pytest.fixture(scope="session")
def jambi_reverse(jambi):
    from geo_sigap.geocoding import ReverseGeocoder

    return ReverseGeocoder.from_units(jambi)


STREETS = {  # name → list of polylines in synthetic units
    "Jalan Lingkar Selatan": [[(-0.1, 0.25), (1.2, 0.25), (2.4, 0.25)]],
    "Gang Mawar": [[(0.1, 0.7), (0.4, 0.7)], [(0.2, 1.5), (0.4, 1.5)]],
    "Lorong Kenanga": [[(0.6, 1.6), (0.9, 1.6)]],
    "Gang Melati": [[(0.45, 1.3), (0.45, 1.45)]],
}

POIS = [
    ("Masjid Al-Ikhlas", "masjid", 0.5, 1.3),
    ("Masjid Al-Ikhlas", "masjid", 1.3, 0.3),
    ("Kantor Lurah Talang Bakung", "kantor_lurah", 0.3, 0.3),
    ("Kantor Lurah Eka Jaya", "kantor_lurah", 0.3, 1.8),
    ("SD Negeri 47", "sekolah", 0.7, 0.2),
    ("Pasar Talang Bakung", "pasar", 0.9, 0.9),
]


def write_osm(path) -> None:
    """A tiny OSM XML road file of :data:`STREETS` (read with osmnx)."""
    nodes, ways = [], []
    nid, wid = 1, 1
    for name, lines in STREETS.items():
        hw = "residential" if name.startswith("Jalan") else "service"
        for line in lines:
            refs = []
            for u, v in line:
                lon, lat = xy(u, v)
                nodes.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
                refs.append(nid)
                nid += 1
            nds = "".join(f'<nd ref="{r}"/>' for r in refs)
            ways.append(f'  <way id="{wid}" version="1">{nds}<tag k="highway" v="{hw}"/>'
                        f'<tag k="name" v="{name}"/></way>')
            wid += 1
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
                    + "\n".join(nodes + ways) + "\n</osm>\n", encoding="utf-8")


def write_gazetteer(path) -> None:
    rows = ["name,kind,lon,lat"]
    for name, kind, u, v in POIS:
        lon, lat = xy(u, v)
        rows.append(f"{name},{kind},{lon:.7f},{lat:.7f}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def forward(units, reverse, tmp_path_factory):
    from geo_sigap.geocoding import ForwardGeocoder, load_gazetteer, streets_from_osm

    d = tmp_path_factory.mktemp("fwd")
    write_osm(d / "roads.osm")
    write_gazetteer(d / "poi.csv")
    return ForwardGeocoder(units, streets_from_osm(d / "roads.osm"),
                           load_gazetteer(d / "poi.csv"), reverse=reverse)
