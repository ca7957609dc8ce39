"""Base-map endpoints: boundaries per level and roads, simplified, cached, with ETags."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape

from tests.web.area import KEL_A, KEL_B


def test_kelurahan_boundaries_are_simplified_geojson(client):
    r = client.get("/api/map/boundaries?level=kelurahan")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    gj = r.json()
    assert gj["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in gj["features"]} == {KEL_A, KEL_B}
    a = next(f for f in gj["features"] if f["properties"]["code"] == KEL_A)
    assert a["properties"]["name"] == "Talang Bakung"
    assert a["properties"]["parent_code"] == "15.71.11"
    geom = shape(a["geometry"])
    # the wavy 41-vertex top edge (±2e-6°) loses most vertices (Visvalingam-Whyatt, 4e-5°)
    assert shapely.get_num_coordinates(geom) <= 20 < 44
    assert geom.is_valid
    assert abs(geom.area - 0.010 * 0.020) / (0.010 * 0.020) < 0.01


def test_shared_border_stays_shared_after_simplification(client):
    gj = client.get("/api/map/boundaries?level=kelurahan").json()
    a, b = (shape(f["geometry"]) for f in gj["features"])
    assert a.intersection(b).area < 1e-12  # no overlap
    assert a.union(b).area == __import__("pytest").approx(0.02 * 0.02, rel=1e-3)  # no gap


def test_rw_and_rt_levels(client):
    rw = client.get("/api/map/boundaries?level=rw").json()
    assert len(rw["features"]) == 4
    assert all(f["properties"]["level"] == "rw" for f in rw["features"])
    rt = client.get("/api/map/boundaries?level=rt").json()
    assert [f["properties"]["code"] for f in rt["features"]] == [f"{KEL_A}.RW001.RT001"]


def test_unknown_level_is_422_in_bahasa_indonesia(client):
    r = client.get("/api/map/boundaries?level=dusun")
    assert r.status_code == 422
    assert "Tingkat wilayah tidak dikenal" in r.json()["error"]["message"]


def test_etag_gives_304(client):
    r = client.get("/api/map/boundaries?level=rw")
    etag = r.headers["etag"]
    again = client.get("/api/map/boundaries?level=rw", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/api/map/boundaries?level=kelurahan", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_roads_from_the_configured_file_cached_on_disk(client, app):
    r = client.get("/api/map/roads")
    assert r.status_code == 200
    gj = r.json()
    assert len(gj["features"]) == 6
    lines = [shape(f["geometry"]) for f in gj["features"]]
    horizontal = [g for g in lines if g.bounds[1] == g.bounds[3]]
    # the 21 collinear vertices of each horizontal street simplify to its two ends
    assert all(shapely.get_num_coordinates(g) == 2 for g in horizontal)
    assert {f["properties"]["highway"] for f in gj["features"]} == {"secondary", "residential"}
    cache_dir = app.state.services.settings.cache_dir
    cached = list(cache_dir.glob("map_roads.*.geojson"))
    assert len(cached) == 1
    assert cached[0].read_bytes() == r.content
    assert client.get("/api/map/roads", headers={"If-None-Match": r.headers["etag"]}
                      ).status_code == 304


def test_roads_from_osm_xml(tmp_path):
    from geo_sigap.maps.roads import roads_geojson

    osm = tmp_path / "mini.osm"
    osm.write_text("""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
 <node id="1" lat="-1.640" lon="103.620"/><node id="2" lat="-1.640" lon="103.625"/>
 <node id="3" lat="-1.640" lon="103.630"/><node id="4" lat="-1.645" lon="103.625"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/>
  <tag k="name" v="Jl. Lingkar Selatan"/></way>
 <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="residential"/>
  <tag k="oneway" v="yes"/></way>
</osm>""")
    import json

    gj = json.loads(roads_geojson(osm, tmp_path / "cache"))
    names = sorted(str(f["properties"]["name"]) for f in gj["features"])
    # two-way primary split at node 2 into two roads (reverse twins dropped) + the oneway
    assert names == ["Jl. Lingkar Selatan", "Jl. Lingkar Selatan", "None"]
    assert {f["properties"]["highway"] for f in gj["features"]} == {"primary", "residential"}


def test_no_road_network_gives_an_empty_collection(tmp_path):
    from fastapi.testclient import TestClient

    from tests.web.conftest import make_app

    app = make_app(tmp_path)
    app.state.services.settings.road_network = None
    with TestClient(app) as c:
        assert c.get("/api/map/roads").json() == {"type": "FeatureCollection", "features": []}


def test_gdal_formats_are_read_in_a_child_process(tmp_path):
    """A GeoPackage goes through pyogrio in a subprocess; same features as the GeoJSON."""
    import json

    import subprocess
    import sys

    from geo_sigap.maps.roads import roads_geojson
    from tests.web.area import write_roads

    src = write_roads(tmp_path / "r.geojson")
    gpkg = tmp_path / "r.gpkg"
    # GDAL must not run in this process once SpatiaLite is loaded (see geo_sigap.maps.roads)
    subprocess.run([sys.executable, "-c", "import sys, geopandas as g; "
                    "g.read_file(sys.argv[1]).to_file(sys.argv[2], engine='pyogrio')",
                    str(src), str(gpkg)], check=True)
    a = json.loads(roads_geojson(src, tmp_path / "c1"))
    b = json.loads(roads_geojson(gpkg, tmp_path / "c2"))
    assert [f["geometry"] for f in a["features"]] == [f["geometry"] for f in b["features"]]


def test_boundaries_for_a_view_and_a_zoom(client):
    """The RT layer is asked for the view (bbox) and simplified for the zoom."""
    rt = f"{KEL_A}.RW001.RT001"  # the box 103.620..103.625, -1.650..-1.645
    near = client.get("/api/map/boundaries",
                      params={"level": "rt", "bbox": "103.621,-1.649,103.622,-1.648",
                              "zoom": 17})
    assert near.status_code == 200 and near.headers["etag"]
    assert [f["properties"]["code"] for f in near.json()["features"]] == [rt]
    away = client.get("/api/map/boundaries",
                      params={"level": "rt", "bbox": "103.635,-1.635,103.639,-1.631",
                              "zoom": 17})
    assert away.json()["features"] == []
    # RW in the view: only kelurahan A's (west of 103.630)
    west = client.get("/api/map/boundaries",
                      params={"level": "rw", "bbox": "103.621,-1.649,103.628,-1.631"}).json()
    assert {f["properties"]["parent_code"] for f in west["features"]} == {KEL_A}
    # a coarse zoom simplifies the wavy kelurahan edges further than the level's default
    fine = client.get("/api/map/boundaries?level=kelurahan").json()
    coarse = client.get("/api/map/boundaries?level=kelurahan&zoom=11").json()

    def vertices(fc):
        return sum(len(shapely.get_coordinates(shape(f["geometry"]))) for f in fc["features"])

    assert vertices(coarse) < vertices(fine)
    bad = client.get("/api/map/boundaries", params={"level": "rt", "bbox": "1,2,3"})
    assert bad.status_code == 422


def test_zoom_tolerance_is_half_a_pixel_and_never_finer_than_the_level():
    from geo_sigap.domain.admin import AdminLevel
    from geo_sigap.web.routes.map import TOLERANCE_DEG, zoom_tolerance

    assert zoom_tolerance(AdminLevel.RT, None) == TOLERANCE_DEG[AdminLevel.RT]
    assert zoom_tolerance(AdminLevel.RT, 19) == TOLERANCE_DEG[AdminLevel.RT]
    assert zoom_tolerance(AdminLevel.RT, 12) == pytest.approx(0.5 * 360 / (256 * 2 ** 12))
