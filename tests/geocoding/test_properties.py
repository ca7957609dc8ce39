"""Property tests: no string and no coordinate pair makes the geocoders crash."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.errors import InvalidCoordinates
from geo_sigap.geocoding.normalize import parse_address

_cfg = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

coords = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(min_value=-200, max_value=200),
                   st.floats(min_value=103.59, max_value=103.63),
                   st.floats(min_value=-1.67, max_value=-1.63),
                   st.integers(-10**6, 10**6), st.text(max_size=8), st.none())

address_words = st.sampled_from([
    "RT", "RW", "rt.", "/", "05", "002", "Jl.", "jln", "Gg.", "Lrg", "Kel.", "Kec.", "No.",
    "masjid", "Al-Ikhlas", "Talang", "Bakung", "Eka", "Jaya", "Mawar", "lingkar", "sltn",
    "dekat", "kantor", "lurah", ",", "Komp.", "Perum.", "sd", "47", "ñ", "😀", "\n", "",
])
addresses = st.one_of(st.text(max_size=200),
                      st.lists(address_words, max_size=15).map(" ".join))


@_cfg
@given(lon=coords, lat=coords)
def test_any_coordinate_pair_gives_a_result_or_invalid_coordinates(reverse, lon, lat):
    try:
        r = reverse.locate(lon, lat)
    except InvalidCoordinates:
        df = reverse.locate_many([lon if not isinstance(lon, str) else lon],
                                 [lat if not isinstance(lat, str) else lat])
        assert bool(df["invalid_coordinates"][0] or df["missing_coordinates"][0])
        return
    assert math.isfinite(r.lon) and math.isfinite(r.lat)
    assert r.outside_coverage == (r.deepest_level is None)


@_cfg
@given(lon=coords, lat=coords)
def test_batch_flags_agree_with_check_lonlat(reverse, lon, lat):
    df = reverse.locate_many([lon], [lat])
    try:
        cp = check_lonlat(lon, lat, coverage_bbox=reverse.coverage_bbox)
    except InvalidCoordinates:
        assert bool(df["invalid_coordinates"][0]) != bool(df["missing_coordinates"][0])
        return
    assert not df["invalid_coordinates"][0] and not df["missing_coordinates"][0]
    assert bool(df["swapped_latlon"][0]) == cp.swapped
    assert (df["lon"][0], df["lat"][0]) == (cp.lon, cp.lat)


@_cfg
@given(text=addresses, limit=st.integers(1, 10))
def test_any_text_gives_ranked_candidates(forward, text, limit):
    parse_address(text)
    found = forward.search(text, limit=limit)
    assert len(found) <= limit
    confs = [c.confidence for c in found]
    assert confs == sorted(confs, reverse=True)
    assert all(0 <= c <= 1 for c in confs)
    for c in found:
        assert c.level in {"rt", "rw", "kelurahan", "kecamatan", "street", "gang", "landmark"}
