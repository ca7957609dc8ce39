"""Overlapping RW/RT polygons: the hierarchy first, then nested → smaller, partial
overlap → the polygon the point is deeper in; every rule checked against the plain
shapely reference (tests/geocoding/reference.py) on random points.

Layout (unit 0.01°, origin as conftest): kelurahan A [0,1]×[0,1] and B [1,2]×[0,1]
share the border x = 1; A.RW001 is drawn to x = 1.1 (over the border into B) and
B.RW001 from x = 0.9 (into A); B.RW002 is a small RW inside B.RW001 (nested);
kelurahan C [0,1]×[2,3] has RW001 [0,0.55] and RW002 [0.45,1] overlapping in a
strip. RTs: A.RW001.RT001 [0,0.6], A.RW001.RT002 [0.5,1.1] (into B), B.RW001.RT001
[0.95,2].
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo_sigap.geocoding import ReverseGeocoder
from tests.geocoding.conftest import KEL, sbox, xy
from tests.geocoding.reference import Reference, compare

A, B, C = f"{KEL}.1001", f"{KEL}.1002", f"{KEL}.1003"


def overlap_units() -> gpd.GeoDataFrame:
    rows = [
        ("15.71", "Kota Jambi", "kabupaten_kota", "15", None),
        (KEL, "Paal Merah", "kecamatan", "15.71", None),
        (A, "Talang Bakung", "kelurahan", KEL, sbox(0, 0, 1, 1)),
        (B, "Payo Selincah", "kelurahan", KEL, sbox(1, 0, 2, 1)),
        (C, "Eka Jaya", "kelurahan", KEL, sbox(0, 2, 1, 3)),
        (f"{A}.RW001", "RW 001", "rw", A, sbox(0, 0, 1.1, 1)),
        (f"{B}.RW001", "RW 001", "rw", B, sbox(0.9, 0, 2, 1)),
        (f"{B}.RW002", "RW 002", "rw", B, sbox(1.4, 0.4, 1.6, 0.6)),
        (f"{C}.RW001", "RW 001", "rw", C, sbox(0, 2, 0.55, 3)),
        (f"{C}.RW002", "RW 002", "rw", C, sbox(0.45, 2, 1, 3)),
        (f"{A}.RW001.RT001", "RT 001", "rt", f"{A}.RW001", sbox(0, 0, 0.6, 1)),
        (f"{A}.RW001.RT002", "RT 002", "rt", f"{A}.RW001", sbox(0.5, 0, 1.1, 1)),
        (f"{B}.RW001.RT001", "RT 001", "rt", f"{B}.RW001", sbox(0.95, 0, 2, 1)),
    ]
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows],
         "level": [r[2] for r in rows], "parent_code": [r[3] for r in rows]},
        geometry=[r[4] for r in rows], crs=4326)


@pytest.fixture(scope="module")
def geocoder():
    return ReverseGeocoder.from_units(overlap_units(), gap_tolerance_m=50)


@pytest.mark.parametrize("u,v,rw,rt", [
    (1.05, 0.5, f"{B}.RW001", f"{B}.RW001.RT001"),  # in B: B's RW, though A's has the smaller code
    (0.95, 0.5, f"{A}.RW001", f"{A}.RW001.RT002"),  # in A: A's RW and A's RT
    (0.97, 0.5, f"{A}.RW001", f"{A}.RW001.RT002"),
    (1.5, 0.5, f"{B}.RW002", None),  # the small RW inside B.RW001 (B.RW001's RT is not its)
    (0.47, 2.5, f"{C}.RW001", None),  # partial overlap: deeper inside RW001
    (0.53, 2.5, f"{C}.RW002", None),
    (0.52, 0.5, f"{A}.RW001", f"{A}.RW001.RT001"),  # RT overlap strip [0.5, 0.6]: deeper
    (0.58, 0.5, f"{A}.RW001", f"{A}.RW001.RT002"),
])
def test_overlapping_rw_and_rt_follow_the_hierarchy_then_area_then_depth(geocoder, u, v, rw, rt):
    for r in (geocoder.locate(*xy(u, v)), geocoder.locate_many(*map(np.array, zip(xy(u, v))))):
        if isinstance(r, gpd.pd.DataFrame):
            got_rw, got_rt = r["rw_code"][0], r["rt_code"][0]
            flags = str(r["quality_flags"][0]).split(";")
        else:
            got_rw, got_rt, flags = r.placement.rw_code, r.placement.rt_code, r.flags
            assert r.alternatives  # the other candidates are still shown
        assert got_rw == rw
        assert (got_rt if isinstance(got_rt, str) else None) == rt
        assert "overlap" in flags
        assert ("hierarchy_conflict" in flags) == (rw == f"{B}.RW002")


def test_the_rw_is_not_lost_where_rws_overlap_across_the_kelurahan_border(geocoder):
    r = geocoder.locate(*xy(1.05, 0.5))
    assert r.placement.kelurahan_code == B and r.placement.rw_code == f"{B}.RW001"
    assert "rw_missing" not in r.flags
    assert f"{A}.RW001" in {a["code"] for a in r.alternatives}


def test_random_points_match_the_reference(geocoder):
    units = overlap_units()
    ref = Reference(units, gap_tolerance_m=50)
    rng = np.random.default_rng(21)
    lon0, lat0 = xy(-0.1, -0.1)
    lon1, lat1 = xy(2.1, 3.1)
    xs = rng.uniform(lon0, lon1, 1500)
    ys = rng.uniform(lat0, lat1, 1500)
    # and points exactly on shared borders and corners
    xs = np.r_[xs, [xy(1, 0.3)[0], xy(0.5, 0.5)[0], xy(1.1, 0.2)[0], xy(0.55, 2.5)[0]]]
    ys = np.r_[ys, [xy(1, 0.3)[1], xy(0.5, 0.5)[1], xy(1.1, 0.2)[1], xy(0.55, 2.5)[1]]]
    assert compare(geocoder, ref, xs, ys) == []


def test_random_points_on_the_conftest_area_match_the_reference(units, reverse):
    """Borders, the B/D overlap, the 22 m gap, the RT drawn across a kelurahan border."""
    ref = Reference(units, gap_tolerance_m=50)
    rng = np.random.default_rng(5)
    lon0, lat0 = xy(-0.1, -0.1)
    lon1, lat1 = xy(2.6, 2.1)
    xs, ys = rng.uniform(lon0, lon1, 1500), rng.uniform(lat0, lat1, 1500)
    # and a band along the gap between A and C
    xs = np.r_[xs, rng.uniform(*xy(0, 0)[:1], xy(1, 0)[0], 300)]
    ys = np.r_[ys, rng.uniform(xy(0, 0.99)[1], xy(0, 1.03)[1], 300)]
    assert compare(reverse, ref, xs, ys) == []
