"""Reverse geocoding rules on the synthetic area (see conftest for the layout)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.errors import InvalidCoordinates
from geo_sigap.geocoding import ReverseGeocoder
from tests.geocoding.conftest import KEL, xy


def test_point_inside_rt_gives_every_level(reverse):
    r = reverse.locate(*xy(0.25, 0.25))
    p = r.placement
    assert (p.rt_code, p.rw_code, p.kelurahan_code) == (
        f"{KEL}.1001.RW001.RT001", f"{KEL}.1001.RW001", f"{KEL}.1001")
    assert (p.kecamatan_code, p.kecamatan_name) == (KEL, "Paal Merah")
    assert (p.kabkota_code, p.kabkota_name) == ("15.71", "Kota Jambi")
    assert r.deepest_level == "rt" and r.flags == ()
    assert p.describe() == "RT 001 / RW 001, Kel. Talang Bakung, Kec. Paal Merah"


def test_shared_border_goes_to_smallest_code_and_is_flagged(reverse):
    # x = 1 is the border of A (…1001) and B (…1002)
    r = reverse.locate(*xy(1.0, 0.25))
    assert r.placement.kelurahan_code == f"{KEL}.1001"
    assert "border" in r.flags and "overlap" not in r.flags
    assert any(a["code"] == f"{KEL}.1002" for a in r.alternatives)
    # a shared vertex of RT001 / RT002 / RW border: smallest code again
    r = reverse.locate(*xy(0.5, 0.5))
    assert r.placement.rt_code == f"{KEL}.1001.RW001.RT001"


def test_gap_takes_nearest_unit_within_tolerance_and_flags_it(reverse):
    r = reverse.locate(*xy(0.5, 1.015))  # ≈17 m from A, ≈6 m from C
    assert r.placement.kelurahan_code == f"{KEL}.1003"  # C is nearer (≈6 m vs ≈17 m)
    assert "gap_nearest" in r.flags
    assert 0 < r.gap_distance_m < 50


def test_gap_beyond_tolerance_is_outside(units):
    strict = ReverseGeocoder.from_units(units, gap_tolerance_m=5)
    r = strict.locate(*xy(0.5, 1.009))  # ≈10 m from A, ≈12 m from C
    assert r.outside_coverage and r.placement.kelurahan_code is None


def test_outside_coverage_is_a_result_not_an_error(reverse):
    r = reverse.locate(*xy(5, 5))
    assert r.outside_coverage
    assert r.deepest_level is None
    assert r.placement.describe() == "di luar wilayah"


def test_missing_rt_answers_at_deepest_level_available(reverse):
    r = reverse.locate(*xy(0.6, 0.6))  # A, RW002, no RT polygon here
    assert r.deepest_level == "rw"
    assert r.placement.rw_code == f"{KEL}.1001.RW002" and r.placement.rt_code is None
    assert "rt_missing" in r.flags
    r = reverse.locate(*xy(1.2, 0.2))  # B has no RW/RT at all
    assert r.deepest_level == "kelurahan"
    assert {"rt_missing", "rw_missing"} <= set(r.flags)


def test_overlap_chooses_smallest_code_and_flags_ambiguity(reverse):
    r = reverse.locate(*xy(1.75, 0.75))  # inside both B (…1002) and D (…1004)
    assert r.placement.kelurahan_code == f"{KEL}.1002"
    assert "overlap" in r.flags
    assert [a["code"] for a in r.alternatives] == [f"{KEL}.1004"]


def test_rt_drawn_across_a_kelurahan_border_is_dropped(reverse):
    r = reverse.locate(*xy(0.85, 0.85))  # RT009 of B drawn inside A
    assert r.placement.kelurahan_code == f"{KEL}.1001"
    assert r.placement.rt_code is None
    assert "hierarchy_conflict" in r.flags


@pytest.mark.parametrize("lon,lat", [(math.nan, -1.6), (103.6, math.inf), ("abc", 1),
                                     (500, 500), (None, -1.6)])
def test_invalid_coordinates_raise_for_one_point(reverse, lon, lat):
    with pytest.raises(InvalidCoordinates):
        reverse.locate(lon, lat)


def test_swapped_coordinates_are_corrected_with_a_warning(reverse):
    lon, lat = xy(0.25, 0.25)
    r = reverse.locate(lat, lon)
    assert "swapped_latlon" in r.flags and r.warnings
    assert r.placement.rt_code == f"{KEL}.1001.RW001.RT001"
    assert (r.lon, r.lat) == (lon, lat)


def test_swapped_coordinates_can_be_refused(units):
    strict = ReverseGeocoder.from_units(units, swap="refuse")
    lon, lat = xy(0.25, 0.25)
    with pytest.raises(InvalidCoordinates):
        strict.locate(lat, lon)
    df = strict.locate_many([lat], [lon])
    assert bool(df["invalid_coordinates"][0])


def test_batch_never_raises_and_matches_single_points(reverse):
    pts = [xy(0.25, 0.25), xy(1.0, 0.25), xy(0.5, 1.015), xy(5, 5), xy(0.6, 0.6),
           xy(1.75, 0.75), xy(0.85, 0.85), (math.nan, 1.0), (500.0, 500.0)]
    lon, lat = xy(0.25, 0.75)
    lons = [p[0] for p in pts] + [lat, "103,6025"]
    lats = [p[1] for p in pts] + [lon, "-1,6575"]
    df = reverse.locate_many(lons, lats)
    assert len(df) == len(lons)
    for i in range(len(lons)):
        try:
            one = reverse.locate(lons[i], lats[i])
        except InvalidCoordinates:
            flag = "missing_coordinates" if i == 7 else "invalid_coordinates"  # NaN: none given
            assert df[flag][i] and df["quality_flags"][i] == flag
            continue
        row = df.iloc[i]
        for key in ("kabkota", "kecamatan", "kelurahan", "rw", "rt"):
            got = row[f"{key}_code"]
            assert (None if isinstance(got, float) or got is None or got is np.nan
                    else got) == getattr(one.placement, f"{key}_code"), (i, key)
        assert tuple(x for x in row["quality_flags"].split(";") if x) == one.flags, i
        assert (row["deepest_level"] if isinstance(row["deepest_level"], str) else None) \
            == one.deepest_level


def test_units_as_domain_objects(units):
    objs = [AdminUnit(code=r.code, level=AdminLevel.parse(r.level), name=r.name,
                      parent_code=r.parent_code, geometry=r.geometry)
            for r in units.itertuples()]
    rg = ReverseGeocoder.from_units(objs)
    assert rg.place(*xy(0.25, 0.75)).rt_code == f"{KEL}.1001.RW001.RT002"
    assert rg.levels == ["kelurahan", "rw", "rt"]


def test_batch_equals_sjoin_outside_overlaps_and_the_reference_everywhere(units, reverse):
    """Shared borders go to the smallest code, as ``sjoin(...).groupby().min()``; in the
    B/D overlap the point goes to the polygon it is deeper in (reference rules)."""
    from tests.geocoding.reference import Reference

    kel = units[units["level"] == "kelurahan"].sort_values("code").reset_index(drop=True)
    rng = np.random.default_rng(7)
    lon0, lat0 = xy(-0.2, -0.2)
    lon1, lat1 = xy(2.7, 2.2)
    xs = np.r_[rng.uniform(lon0, lon1, 20_000), [c[0] for c in kel.geometry.exterior.map(
        lambda r: r.coords[0])]]
    ys = np.r_[rng.uniform(lat0, lat1, 20_000), [c[1] for c in kel.geometry.exterior.map(
        lambda r: r.coords[0])]]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
    j = gpd.sjoin(pts, kel[["code", "geometry"]], predicate="intersects", how="left")
    expected = j.groupby(level=0)["code"].min().reindex(range(len(xs))).astype(object).fillna("-")
    rg = ReverseGeocoder.from_units(kel, gap_tolerance_m=0)
    got = rg.locate_many(xs, ys)
    codes = got["kelurahan_code"].astype(object).fillna("-").to_numpy()
    assert expected.notna().sum() > 10_000  # the test covers both cases
    alone = ~got["overlap"].to_numpy()
    assert (codes[alone] == expected.to_numpy()[alone]).all()
    ref = Reference(kel, gap_tolerance_m=0)
    for i in np.flatnonzero(~alone):
        assert codes[i] == ref.locate(xs[i], ys[i])[0]["kelurahan"]
    assert (~alone).sum() > 100
