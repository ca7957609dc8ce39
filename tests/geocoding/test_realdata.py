"""Known answers on Kota Jambi (../shared/data/jambi, BIG schema)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from tests.paths import JAMBI

pytestmark = pytest.mark.realdata


def test_every_kelurahan_representative_point_geocodes_to_its_own_code(jambi, jambi_reverse):
    pts = jambi.geometry.representative_point()
    for code, pt in zip(jambi["code"], pts):
        r = jambi_reverse.locate(pt.x, pt.y)
        assert r.placement.kelurahan_code == code
        assert r.placement.kecamatan_code == code.rsplit(".", 1)[0]
    df = jambi_reverse.locate_many(pts.x.to_numpy(), pts.y.to_numpy())
    assert df["kelurahan_code"].astype(str).tolist() == jambi["code"].tolist()


def test_paal_merah_pois_fall_in_15_71_11_or_are_reported_outside(jambi_reverse):
    poi = gpd.read_file(JAMBI / "poi_kota_jambi.geojson")
    paal = jambi_reverse.locate_many(poi.geometry.x.to_numpy(), poi.geometry.y.to_numpy())
    assert not paal["invalid_coordinates"].any()
    in_paal = paal["kecamatan_code"].astype(object) == "15.71.11"
    assert in_paal.sum() > 0
    for i in np.flatnonzero(in_paal.to_numpy()):
        assert str(paal["kelurahan_code"][i]).startswith("15.71.11.")
    # every POI is either placed in a Kota Jambi kelurahan or flagged outside
    placed = paal["kelurahan_code"].notna()
    assert (placed | paal["outside_coverage"]).all()


def test_batch_is_identical_to_sjoin_on_kota_jambi(jambi, jambi_reverse):
    rng = np.random.default_rng(11)
    b = jambi.total_bounds
    xs = rng.uniform(b[0], b[2], 30_000)
    ys = rng.uniform(b[1], b[3], 30_000)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
    j = gpd.sjoin(pts, jambi[["code", "geometry"]], predicate="intersects", how="left")
    expected = j.groupby(level=0)["code"].min().reindex(range(len(xs))).astype(object)
    from geo_sigap.geocoding import ReverseGeocoder

    got = ReverseGeocoder.from_units(jambi, gap_tolerance_m=0).locate_many(xs, ys)
    assert (got["kelurahan_code"].astype(object).fillna("-").to_numpy()
            == expected.fillna("-").to_numpy()).all()


def test_jambi_forward_geocoding_finds_kelurahan_streets_and_pois(jambi, jambi_reverse):
    from geo_sigap.geocoding import ForwardGeocoder, load_gazetteer, streets_from_osm

    fg = ForwardGeocoder(jambi, streets_from_osm(JAMBI / "roads_main_kota_jambi.osm"),
                         load_gazetteer(JAMBI / "poi_kota_jambi.geojson"),
                         reverse=jambi_reverse)
    top = fg.search("Kelurahan Talang Bakung")[0]
    assert (top.level, top.code) == ("kelurahan", "15.71.11.1001")
    top = fg.search("kel. talang bakng")[0]  # typo
    assert top.code == "15.71.11.1001"
    streets = fg.search("jln lingkar sltn")
    assert streets and streets[0].level == "street"
    assert "Lingkar Selatan" in streets[0].label
    inside = fg.search("Jalan Lingkar Selatan, Kel. Paal Merah")[0]
    assert inside.level == "street" and inside.placement.kelurahan_code == "15.71.11.1005"
    assert inside.geometry["type"] in ("LineString", "MultiLineString")
    rs = fg.search("RSUD Raden Mattaher")[0]
    assert rs.level == "landmark" and "Mattaher" in rs.label
