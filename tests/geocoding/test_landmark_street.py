"""A landmark named with a street is the one of that name nearest the street."""

from __future__ import annotations

from geo_sigap.geocoding.forward import search_with_street
from tests.geocoding.conftest import xy


def test_the_mosque_by_the_named_street_ranks_first(forward):
    found = search_with_street(forward, "depan Masjid Al-Ikhlas, Jl. Lingkar Selatan", limit=6)
    top, near = found[0]
    assert top.level == "landmark" and top.label.startswith("Masjid Al-Ikhlas")
    assert (round(top.lon, 4), round(top.lat, 4)) == tuple(round(v, 4) for v in xy(1.3, 0.3))
    assert near["street"] == "Jalan Lingkar Selatan" and near["near"] is True
    assert near["distance_m"] < 100
    other = [(c, n) for c, n in found if c.level == "landmark" and c is not top
             and c.label.startswith("Masjid Al-Ikhlas")]
    assert other, "the far mosque stays a candidate for the operator"
    far, far_near = other[0]
    assert far_near["near"] is False and far_near["distance_m"] > 1000
    assert far.confidence < top.confidence


def test_without_a_street_the_ranking_is_the_geocoders(forward):
    plain = forward.search("Masjid Al-Ikhlas", limit=5)
    found = search_with_street(forward, "Masjid Al-Ikhlas", limit=5)
    assert [c.label for c, _ in found] == [c.label for c in plain]
    assert all(n is None for _, n in found)
