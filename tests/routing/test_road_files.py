"""Road files as real cities hold them: column names, one-way codes, GraphML, gaps, reports.

Fixtures: ``tests/data/routing/roads_*`` (written by ``make_road_fixtures.py``; each
imitates one real schema with its defect, see its docstring).
"""

import json
import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString
from typer.testing import CliRunner

from geo_sigap.cli.main import app
from geo_sigap.errors import ConfigError, ImportFailed
from geo_sigap.routing.graph import build_graph, from_lines
from geo_sigap.routing.lines import NOT_ROAD, RoadOptions, read_class, read_oneway
from geo_sigap.routing.summary import network_summary

from .conftest import DATA

runner = CliRunner()
SURABAYA = DATA / "roads_arcgis_surabaya.geojson"
ACEH = DATA / "roads_geofabrik_aceh" / "gis_osm_roads_free_1.shp"
JAYAPURA = DATA / "roads_rbi_jayapura.gpkg"
MAKASSAR = DATA / "roads_lokal_makassar.geojson"
UNREADABLE = DATA / "roads_unreadable.geojson"
GAPS = DATA / "roads_gaps_jambi.geojson"


def edges_named(g, name):
    return np.flatnonzero(g.edge_name == name)


def usable(g, profile):
    return np.isfinite(g.edge_time[g.profile_index(profile)])


@pytest.mark.parametrize(("value", "cls"), [
    ("Jalan Arteri", "primary"), ("JALAN KOLEKTOR", "secondary"), ("Jalan Lokal", "tertiary"),
    ("Jalan Lain", "residential"), ("Jalan Setapak", "path"), ("Jalan Tol", "motorway"),
    ("Jalan Arteri Primer", "primary"), ("jalan lingkungan", "residential"), ("Gang", "alley"),
    ("Primary_Link", "primary_link"), ("track_grade3", "track"), ("Living Street", "living_street"),
    ("['trunk' 'secondary']", "trunk"), (["tertiary", "trunk"], "tertiary"),
    ("Rel Kereta Api", NOT_ROAD), ("unknown", None), ("", None), (None, None), ("III", None),
])
def test_road_class_values(value, cls):
    assert read_class(value) == cls


@pytest.mark.parametrize(("value", "geofabrik", "way"), [
    ("yes", False, "yes"), ("no", False, "no"), ("1", False, "yes"), (1.0, False, "yes"),
    ("-1", False, "-1"), (-1, False, "-1"), ("0", False, "no"), (True, False, "yes"),
    ("false", False, "no"), ("FT", False, "yes"), ("TF", False, "-1"), ("B", True, "no"),
    ("-1.0", False, "-1"), ("1.0", False, "yes"), ("N", False, "no"), ("F", True, "yes"), ("T", True, "-1"), ("T", False, "yes"),
    ("F", False, "no"), (None, False, "no"), ("1 arah", False, "yes"), ("kadang", False, None),
])
def test_oneway_values(value, geofabrik, way):
    assert read_oneway(value, geofabrik) == way


def test_arcgis_type_name_oneway_columns(config):
    g = build_graph(SURABAYA, config)
    assert g.meta["source_columns"] == {"highway": "TYPE", "oneway": "ONEWAY", "name": "NAME",
                                        "maxspeed": "MAXSPEED", "toll": None}
    # TF: only against the drawing direction (drawn west→east, driven east→west)
    dipo = edges_named(g, "Jl. Diponegoro")
    assert len(dipo) == 2
    assert all(g.node_lon[g.edge_u[e]] > g.node_lon[g.edge_v[e]] for e in dipo)
    # FT: along it (drawn south→north)
    kutai = edges_named(g, "Jl. Kutai")
    assert len(kutai) == 1 and g.node_lat[g.edge_u[kutai[0]]] < g.node_lat[g.edge_v[kutai[0]]]
    assert len(edges_named(g, "Jl. Raya Darmo")) == 4  # N: both ways, split at the junction
    # the toll road: cars only
    tol = edges_named(g, "Tol Waru-Juanda")
    assert set(g.edge_class[tol]) == {"motorway"}
    assert not usable(g, "motor")[tol].any() and usable(g, "mobil")[tol].all()
    # MAXSPEED 30 caps both profiles on the tertiary street
    e = edges_named(g, "Jl. Dr. Soetomo")[0]
    for p in ("motor", "mobil"):
        assert g.edge_time[g.profile_index(p), e] == pytest.approx(g.edge_length[e] / (30 / 3.6))


def test_geofabrik_shapefile(config):
    g = build_graph(ACEH, config)
    assert g.meta["source_columns"]["highway"] == "fclass"
    assert g.meta["oneway_encoding"].startswith("F/T/B")
    fwd, back = edges_named(g, "Jalan Mesjid Raya"), edges_named(g, "Lorong Bahagia")
    assert len(fwd) == len(back) == 1
    assert g.node_lat[g.edge_u[fwd[0]]] < g.node_lat[g.edge_v[fwd[0]]]  # F: as drawn (north)
    assert g.node_lat[g.edge_u[back[0]]] > g.node_lat[g.edge_v[back[0]]]  # T: against it
    tol = edges_named(g, "Jalan Tol Sigli-Banda Aceh")
    assert not usable(g, "motor")[tol].any() and usable(g, "mobil")[tol].all()
    track = np.flatnonzero(g.edge_class == "track")
    assert usable(g, "motor")[track].all() and not usable(g, "mobil")[track].any()
    assert "footway" not in set(g.edge_class)  # no profile may drive it: dropped


def test_rbi_geopackage_remark_classes(config):
    # the GeoPackage's first layer is polygons: the road layer is found by its geometry
    g = build_graph(JAYAPURA, config)
    assert g.meta["source_columns"]["highway"] == "REMARK"
    assert g.meta["source_columns"]["name"] == "NAMRJL"
    assert g.meta["source_columns"]["oneway"] is None
    names = dict(zip(g.edge_name.tolist(), g.edge_class.tolist(), strict=True))
    assert names["Jalan Ahmad Yani"] == "primary" and names["Jalan Percetakan"] == "secondary"
    assert names["Jalan Irian"] == "tertiary"
    setapak = np.flatnonzero(g.edge_class == "path")
    assert len(setapak) == 2 and not usable(g, "mobil")[setapak].any()
    assert (g.edge_twin >= 0).all()  # no one-way column: every road both ways


def test_local_jenis_kelas_arah(config):
    g = build_graph(MAKASSAR, config)
    # JENIS reads as road classes; KELAS (load class I/II/III) does not
    assert g.meta["source_columns"]["highway"] == "JENIS"
    assert g.meta["source_columns"]["oneway"] == "ARAH"
    assert len(edges_named(g, "Jl. Sungai Saddang")) == 1  # "1 arah"
    assert set(g.edge_class[edges_named(g, "Gang Mawar")]) == {"alley"}
    tol = edges_named(g, "Tol Reformasi")
    assert set(g.edge_class[tol]) == {"motorway"} and not usable(g, "motor")[tol].any()


def test_refuses_a_file_without_road_classes(config):
    with pytest.raises(ImportFailed) as err:
        build_graph(UNREADABLE, config)
    msg = err.value.message("id")
    assert "Kelas jalan tidak dapat dibaca" in msg
    assert "OBJECTID, KETERANGAN, PANJANG" in msg and "--map highway=" in msg


def _lines(**cols):
    geoms = [LineString([(103.60 + i * 0.001, -1.62), (103.601 + i * 0.001, -1.62)])
             for i in range(len(next(iter(cols.values()))))]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs="EPSG:4326")


def test_unknown_class_values_are_refused_then_mapped(config):
    gdf = _lines(TYPE=["A", "B", "A", "C"])
    with pytest.raises(ImportFailed) as err:
        from_lines(gdf, config)
    msg = err.value.message("id")
    assert "'a' (2)" in msg and "'b' (1)" in msg and "TYPE" in msg
    opts = RoadOptions.parse(["highway:A=primary", "highway:B=residential",
                              "highway:C=motorway"])
    g = from_lines(gdf, config, opts)
    assert sorted(set(g.edge_class)) == ["motorway", "primary", "residential"]


def test_explicit_column_mapping(config):
    gdf = _lines(KLS=["Jalan Arteri", "Jalan Lokal"], ARH=["TF", "FT"], NM=["Jl. A", "Jl. B"])
    opts = RoadOptions.parse(["highway=kls", "oneway=ARH", "name=NM"])
    g = from_lines(gdf, config, opts)
    assert g.meta["source_columns"]["highway"] == "KLS"
    assert g.n_edges == 2 and sorted(g.edge_name.tolist()) == ["Jl. A", "Jl. B"]
    a = edges_named(g, "Jl. A")[0]
    assert g.node_lon[g.edge_u[a]] > g.node_lon[g.edge_v[a]]  # TF
    with pytest.raises(ImportFailed) as err:
        from_lines(gdf, config, RoadOptions.parse(["highway=KELAS"]))
    assert "KLS, ARH, NM" in err.value.message("id")
    with pytest.raises(ConfigError):
        RoadOptions.parse(["warna=TYPE"])


def test_unreadable_oneway_values_are_refused(config):
    gdf = _lines(highway=["primary"] * 3, oneway=["kadang", "kadang", "yes"])
    with pytest.raises(ImportFailed) as err:
        from_lines(gdf, config)
    assert "'kadang' (2)" in err.value.message("id")


def _metric(g):
    """Metres east/north of the fixture's origin, as make_road_fixtures.py draws them."""
    kx = 111_320.0 * math.cos(math.radians(-1.63))
    return (g.node_lon - 103.63) * kx, (g.node_lat + 1.63) * 111_320.0


def test_digitising_gaps_are_joined(config):
    g = build_graph(GAPS, config)
    s = network_summary(g, config)
    assert s["components"] == 1 and s["largest_component_share"] == 1.0
    assert s["joined_ends"] == 9 and s["joined"] == {"end_to_end": 4, "end_to_line": 5}
    x, y = _metric(g)
    # the flyover crosses H1 and H2 without a junction, and G1 stays a dead end beside it
    for cx, cy in ((225, 0), (225, 200), (225, 100)):
        assert np.hypot(x - cx, y - cy).min() > 0.5
    g1 = np.argmin(np.hypot(x - 226, y - 100))
    assert np.hypot(x[g1] - 226, y[g1] - 100) < 0.5
    assert ((g.edge_u == g1) | (g.edge_v == g1)).sum() == 2  # one road, both ways
    # without joining, the same file falls apart
    raw = network_summary(build_graph(GAPS, config, RoadOptions(snap_tolerance_m=0)), config)
    assert raw["joined_ends"] == 0 and raw["components"] >= 4


def test_gap_beyond_tolerance_is_kept(config):
    opts = RoadOptions(snap_tolerance_m=0.5)
    s = network_summary(build_graph(GAPS, config, opts), config)
    assert s["joined_ends"] == 0 and s["components"] > 1


def test_routing_build_report(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    out = tmp_path / "roads.json"
    r = runner.invoke(app, ["routing", "build", str(SURABAYA), "--report", str(out)])
    assert r.exit_code == 0, r.output
    assert "7 simpul, 11 ruas berarah (3 satu arah)" in r.output
    assert "UTM zona 49S" in r.output
    rep = json.loads(out.read_text("utf-8"))
    assert rep["nodes"] == 7 and rep["edges"] == 11 and rep["oneway_edges"] == 3
    assert rep["classes"] == {"primary": 4, "motorway": 2, "secondary": 2, "tertiary": 2,
                              "residential": 1}
    assert rep["components"] == 1 and rep["largest_component_share"] == 1.0
    assert rep["joined_ends"] == 0
    assert rep["source_columns"]["highway"] == "TYPE"
    assert rep["source_columns"]["oneway"] == "ONEWAY"
    assert rep["profiles"]["motor"]["usable_share"] == round(9 / 11, 4)  # not on the toll road
    assert rep["profiles"]["mobil"]["usable_share"] == 1.0
    assert rep["metric_crs"] == "EPSG:32749"


def test_routing_build_map_and_snap_options(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    r = runner.invoke(app, ["routing", "build", str(UNREADABLE)])
    assert r.exit_code == 2 and "KETERANGAN" in r.output
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["routing", "build", str(UNREADABLE), "--map", "highway=KETERANGAN",
                            "--map", "highway:ruas 0=primary", "--map", "highway:ruas 1=primary",
                            "--map", "highway:ruas 2=residential",
                            "--map", "highway:ruas 3=residential", "--report", str(out)])
    assert r.exit_code == 0, r.output
    assert "GEO_SIGAP_ROAD_COLUMNS" in r.output
    rep = json.loads(out.read_text("utf-8"))
    assert rep["classes"] == {"primary": 4, "residential": 4}
    r = runner.invoke(app, ["routing", "build", str(GAPS), "--snap-tolerance", "0",
                            "--report", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text("utf-8"))["joined_ends"] == 0
    monkeypatch.setenv("GEO_SIGAP_ROAD_SNAP_TOLERANCE_M", "0")
    r = runner.invoke(app, ["routing", "build", str(GAPS), "--report", str(out)])
    assert json.loads(out.read_text("utf-8"))["joined_ends"] == 0
    r = runner.invoke(app, ["routing", "build", str(GAPS), "--snap-tolerance", "3",
                            "--report", str(out)])
    assert json.loads(out.read_text("utf-8"))["joined_ends"] == 9


def _graphml_from_osm(osm, out):
    import osmnx as ox

    G = ox.graph_from_xml(osm, retain_all=True)
    ox.save_graphml(G, out)
    return out


def test_graphml_tiny(config, tmp_path):
    gml = _graphml_from_osm(DATA / "tiny.osm", tmp_path / "tiny.graphml")
    g = build_graph(gml, config)
    ref = build_graph(DATA / "tiny.osm", config)
    assert g.meta["format"] == "graphml"
    # osmnx keeps the junction with the footway (dropped here): one node more, same roads
    assert set(ref.node_id.tolist()) <= set(g.node_id.tolist())
    for p in ("motor", "mobil"):
        ok, rok = usable(g, p), usable(ref, p)
        assert g.edge_length[ok].sum() == pytest.approx(ref.edge_length[rok].sum(), rel=1e-9)
        assert g.edge_time[g.profile_index(p), ok].sum() == pytest.approx(
            ref.edge_time[ref.profile_index(p), rok].sum(), rel=1e-9)
    one, rone = g.edge_twin < 0, ref.edge_twin < 0
    assert set(g.edge_name[one]) == set(ref.edge_name[rone]) == {"Jalan Atas"}
    assert g.edge_length[one].sum() == pytest.approx(ref.edge_length[rone].sum(), rel=1e-9)


def test_graphml_keeps_maxspeed_and_projected_graphs(config, tmp_path):
    import osmnx as ox

    G = ox.graph_from_xml(DATA / "tiny.osm", retain_all=True)
    for _, _, d in G.edges(data=True):
        if d.get("name") == "Jalan Bawah":
            d["maxspeed"] = "10"
    ox.save_graphml(ox.project_graph(G), tmp_path / "utm.graphml")
    ox.save_graphml(G, tmp_path / "wgs.graphml")
    g = build_graph(tmp_path / "utm.graphml", config)
    ref = build_graph(tmp_path / "wgs.graphml", config)
    assert g.n_edges == ref.n_edges
    np.testing.assert_allclose(g.node_lon, ref.node_lon, atol=1e-7)
    np.testing.assert_allclose(g.node_lat, ref.node_lat, atol=1e-7)
    np.testing.assert_allclose(g.edge_length, ref.edge_length, rtol=1e-6)
    bawah = edges_named(g, "Jalan Bawah")
    for e in bawah:
        assert g.edge_time[g.profile_index("motor"), e] == pytest.approx(
            g.edge_length[e] / (10 / 3.6))


def test_graphml_as_the_service_road_network(tmp_path, monkeypatch):
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings

    gml = _graphml_from_osm(DATA / "tiny.osm", tmp_path / "city.graphml")
    s = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", data_dir=tmp_path,
                 road_network=gml)
    engine = Services.from_settings(s).routing
    assert engine.graph.meta["format"] == "graphml"
    assert engine.graph.n_edges == build_graph(gml, engine.config).n_edges
    res = engine.eta_from_teams((103.6018, -1.6200), [(103.6000, -1.6191)], "mobil")
    assert res.status[0] == "road" and np.isfinite(res.eta_s[0])


@pytest.mark.realdata
def test_graphml_of_jambi_matches_the_osm_file(config, tmp_path):
    from .conftest import SHARED

    osm = SHARED / "jambi" / "roads_main_kota_jambi.osm"
    if not osm.exists():
        pytest.skip(f"../shared/data tidak ada: {osm} (real-data test)")
    gml = _graphml_from_osm(osm, tmp_path / "jambi.graphml")
    out = tmp_path / "jambi.json"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    try:
        r = runner.invoke(app, ["routing", "build", str(gml), "--report", str(out)])
    finally:
        monkeypatch.undo()
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text("utf-8"))
    g, ref = build_graph(gml, config), build_graph(osm, config)
    assert rep["nodes"] == ref.n_nodes == 468 and rep["edges"] == ref.n_edges == 997
    assert set(g.node_id.tolist()) == set(ref.node_id.tolist())
    assert sorted(zip(g.node_id[g.edge_u].tolist(), g.node_id[g.edge_v].tolist())) == \
        sorted(zip(ref.node_id[ref.edge_u].tolist(), ref.node_id[ref.edge_v].tolist()))
    assert rep["oneway_edges"] == int((ref.edge_twin < 0).sum())
    assert g.edge_length.sum() == pytest.approx(ref.edge_length.sum(), rel=1e-9)
    assert rep["classes"]["trunk"] == int((ref.edge_class == "trunk").sum())
    assert rep["metric_crs"] == "EPSG:32748"


@pytest.mark.realdata
def test_osmnx_geojson_export_of_jambi(config):
    from .conftest import SHARED

    gj = SHARED / "jambi" / "roads_main_kota_jambi.geojson"
    osm = SHARED / "jambi" / "roads_main_kota_jambi.osm"
    if not gj.exists():
        pytest.skip(f"../shared/data tidak ada: {gj} (real-data test)")
    g, ref = build_graph(gj, config), build_graph(osm, config)
    # one row per direction, u/v node ids kept: the export's 490 nodes and 1,038 edges
    assert (g.n_nodes, g.n_edges) == (490, 1038)
    assert g.meta["source_columns"]["direction"].startswith("u,v")
    assert set(ref.node_id.tolist()) <= set(g.node_id.tolist())
    assert g.edge_length.sum() == pytest.approx(ref.edge_length.sum(), rel=2e-3)
    one = g.edge_length[g.edge_twin < 0].sum()
    assert one == pytest.approx(ref.edge_length[ref.edge_twin < 0].sum(), rel=0.05)
    s = network_summary(g, config)
    assert s["components"] == 1 and not math.isnan(s["largest_component_share"])


def _services(tmp_path, road, **kw):
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings

    return Services.from_settings(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}",
                                           data_dir=tmp_path, road_network=road, **kw))


def test_service_builds_a_shapefile_in_a_child_process(tmp_path):
    engine = _services(tmp_path, ACEH).routing
    assert engine.graph.n_edges == 10 and engine.graph.meta["source_columns"]["highway"] == \
        "fclass"
    assert list(tmp_path.rglob("gis_osm_roads_free_1.*.roads.npz"))  # cached by the child
    bad = tmp_path / "bad.shp"
    gpd.read_file(UNREADABLE).to_file(bad)
    with pytest.raises(ImportFailed) as err:
        _ = _services(tmp_path, bad).routing
    assert "KETERANGAN" in err.value.message("id")
    # the same file with its columns named in the settings
    engine = _services(tmp_path, bad, road_columns="highway=KETERANGAN,highway:ruas 0=primary,"
                       "highway:ruas 1=primary,highway:ruas 2=primary,highway:ruas 3=primary"
                       ).routing
    assert set(engine.graph.edge_class) == {"primary"}


def test_street_names_and_base_map_from_any_road_file(tmp_path):
    from geo_sigap.geocoding.sources import streets_from_file
    from geo_sigap.maps.roads import build_roads_geojson

    streets = streets_from_file(JAYAPURA)  # names in NAMRJL
    assert "Jalan Ahmad Yani" in set(streets["name"])
    assert set(streets_from_file(MAKASSAR)["name"]) >= {"Gang Mawar", "Tol Reformasi"}
    gml = _graphml_from_osm(DATA / "tiny.osm", tmp_path / "city.graphml")
    names = streets_from_file(gml)
    assert {"Jalan Atas", "Jalan Bawah"} <= set(names["name"])
    feats = json.loads(build_roads_geojson(gml))["features"]
    assert {f["properties"]["name"] for f in feats} >= {"Jalan Atas", "Jalan Bawah"}
    assert "motorway" in {f["properties"]["highway"] for f in
                          json.loads(build_roads_geojson(SURABAYA))["features"]}


def test_toll_roads_stay_closed_to_motorcycles(config):
    motor, mobil = config.profiles["motor"], config.profiles["mobil"]
    assert motor.speed_ms({"highway": "trunk", "toll": "yes"}) is None  # OSM trunk + toll
    assert motor.speed_ms({"highway": "trunk", "toll": "yes", "motorcycle": "yes"}) > 0
    assert motor.speed_ms({"highway": "motorway_link"}) is None
    assert mobil.speed_ms({"highway": "trunk", "toll": "yes"}) > 0
    gdf = _lines(JENIS=["Jalan Arteri", "Jalan Arteri"], TOL=["Ya", "Tidak"],
                 NAMA=["Tol Dalam Kota", "Jl. Gatot Subroto"])
    g = from_lines(gdf, config)
    assert g.meta["source_columns"]["toll"] == "TOL"
    tol, free = edges_named(g, "Tol Dalam Kota"), edges_named(g, "Jl. Gatot Subroto")
    assert not usable(g, "motor")[tol].any() and usable(g, "mobil")[tol].all()
    assert usable(g, "motor")[free].all()
    s = network_summary(g, config)
    assert s["profiles"]["motor"]["usable_share"] == 0.5


def test_projected_shapefile_reads_like_lon_lat(config, tmp_path):
    shp = tmp_path / "jalan_utm49s.shp"
    gpd.read_file(SURABAYA).to_crs(32749).to_file(shp)
    g, ref = build_graph(shp, config), build_graph(SURABAYA, config)
    assert (g.n_nodes, g.n_edges) == (ref.n_nodes, ref.n_edges)
    np.testing.assert_allclose(np.sort(g.edge_length), np.sort(ref.edge_length), rtol=1e-6)


def test_a_few_unreadable_lines_are_dropped_and_reported(config):
    classes = ["Jalan Lokal"] * 59 + ["Jalan Kebun"]
    g = from_lines(_lines(JENIS=classes, ARAH=["searah"] + ["dua arah"] * 59), config)
    s = network_summary(g, config)
    assert s["dropped_lines"] == {"unread_class": 1}
    assert s["unread_classes"] == {"jalan kebun": 1}
    assert s["oneway_edges"] == 1 and s["edges"] == 1 + 2 * 58


def test_oneway_values_mapped_by_hand(config):
    gdf = _lines(highway=["primary"] * 3, arah_lalin=["Utara", "Selatan", "Dua"])
    opts = RoadOptions.parse(["oneway=arah_lalin", "oneway:Utara=yes", "oneway:Selatan=-1",
                              "oneway:Dua=no"])
    s = network_summary(from_lines(gdf, config, opts), config)
    assert s["oneway_edges"] == 2 and s["edges"] == 4
    assert s["source_columns"]["oneway"] == "arah_lalin"
