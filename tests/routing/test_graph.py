"""Profiles, speeds files, line files noded at shared vertices, the cache."""

import time

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from geo_sigap.errors import ConfigError
from geo_sigap.routing.engine import RoutingEngine
from geo_sigap.routing.graph import RoadGraph, from_lines, load_or_build
from geo_sigap.routing.profiles import load_routing_config, oneway_direction

from .conftest import DATA, NODES, leg


def test_access_rules(config):
    motor, mobil = config.profiles["motor"], config.profiles["mobil"]
    gang = {"highway": "path", "motorcycle": "yes", "motorcar": "no"}
    assert motor.speed_ms(gang) == pytest.approx(15 / 3.6)
    assert mobil.speed_ms(gang) is None
    assert motor.speed_ms({"highway": "footway"}) is None  # explicit only
    assert motor.speed_ms({"highway": "footway", "motorcycle": "yes"}) == pytest.approx(10 / 3.6)
    assert motor.speed_ms({"highway": "residential", "access": "private"}) is None
    assert mobil.speed_ms({"highway": "residential", "motorcar": "no"}) is None
    assert motor.speed_ms({"highway": "residential", "motorcar": "no"}) == pytest.approx(25 / 3.6)
    assert motor.speed_ms({"highway": "service", "service": "alley"}) == pytest.approx(15 / 3.6)
    assert mobil.speed_ms({"highway": "service", "service": "alley"}) == pytest.approx(12 / 3.6)
    assert mobil.speed_ms({"highway": "primary_link"}) == pytest.approx(40 / 3.6)
    assert mobil.speed_ms({"highway": "primary", "maxspeed": "30"}) == pytest.approx(30 / 3.6)
    assert motor.speed_ms({"highway": "motorway"}) is None  # no motorcycles on toll roads
    assert oneway_direction({"oneway": "-1"}) == -1
    assert oneway_direction({"junction": "roundabout"}) == 1
    assert oneway_direction({"oneway": "no"}) == 0


def test_speeds_file_overrides_one_key(tmp_path):
    f = tmp_path / "speeds.toml"
    f.write_text("[profile.motor.speeds]\nresidential = 10\n", encoding="utf-8")
    cfg = load_routing_config(f)
    assert cfg.profiles["motor"].speeds_kmh["residential"] == 10
    assert cfg.profiles["motor"].speeds_kmh["primary"] == 45  # default kept
    assert cfg.fingerprint() != load_routing_config().fingerprint()
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile.motor.speeds]\nresidential = 'cepat'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_routing_config(bad)
    assert "residential" in err.value.message_id


def test_lines_are_noded_at_shared_vertices(config):
    # one long east-west line and a north-south line that shares its middle vertex;
    # neither is split at the junction in the file
    ew = LineString([NODES["A"], NODES["B"], NODES["C"]])
    ns = LineString([NODES["E"], NODES["B"], (103.6009, -1.6209)])
    gdf = gpd.GeoDataFrame({"highway": ["residential", "residential"], "oneway": [None, "yes"]},
                           geometry=[ew, ns], crs="EPSG:4326")
    g = from_lines(gdf, config)
    assert g.n_nodes == 5  # A, B (junction), C, E, the south end
    eng = RoutingEngine(g, config)
    # from A to E: along the east-west line to B, then north — but the north-south
    # line is one-way E→B→south, so E is not reachable from A ...
    res = eng.eta_from_teams(NODES["E"], [NODES["A"]], "motor")
    assert res.status[0] == "unreachable"
    # ... while E to C goes through the junction B
    res = eng.eta_from_teams(NODES["C"], [NODES["E"]], "motor")
    assert res.eta_s[0] == pytest.approx((leg("E", "B") + leg("B", "C")) / (25 / 3.6), rel=1e-6)


def test_cache_round_trip_and_key(tmp_path, config):
    src = DATA / "tiny.osm"
    messages = []
    g1 = load_or_build(src, config, tmp_path, progress=messages.append)
    assert len(list(tmp_path.glob("*.npz"))) == 1 and messages
    t = time.perf_counter()
    g2 = load_or_build(src, config, tmp_path, progress=messages.append)
    assert time.perf_counter() - t < 2.0
    assert len(messages) == 2  # no rebuild the second time
    for name in ("node_lon", "edge_u", "edge_v", "edge_time", "edge_twin", "geom_lon"):
        np.testing.assert_array_equal(getattr(g1, name), getattr(g2, name))
    assert list(g2.edge_name) == list(g1.edge_name)
    other = tmp_path / "fast.toml"
    other.write_text("[profile.mobil.speeds]\nresidential = 40\n", encoding="utf-8")
    load_or_build(src, load_routing_config(other), tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2  # new speeds, new cache entry


def test_broken_cache_is_refused(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConfigError):
        RoadGraph.load(bad)
