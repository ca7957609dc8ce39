"""Hand-built network with known answers (tests/data/routing/tiny.osm)."""

import numpy as np
import pytest

from geo_sigap.errors import NoRoute
from geo_sigap.routing.engine import OFF_NETWORK, ROAD, UNREACHABLE

from .conftest import GANG, MOBIL_RES, MOTOR_RES, NODES, leg


def test_graph_keeps_roads_only(tiny_engine):
    g = tiny_engine.graph
    # A and C are merged away (degree 2), the footway's end node and the building vanish
    assert sorted(g.node_id.tolist()) == [2, 4, 5, 6, 7, 8]
    assert set(g.edge_class) == {"residential", "path"}


def test_one_way_street_is_respected(tiny_engine):
    # D→E→F is one-way: from D the motorcycle drives it directly ...
    res = tiny_engine.eta_from_teams(NODES["F"], [NODES["D"]], "motor")
    assert res.status[0] == ROAD
    assert res.eta_s[0] == pytest.approx((leg("D", "E") + leg("E", "F")) / MOTOR_RES, rel=1e-6)
    # ... but back from F it must go round by C, B and the gang (B→E is not allowed
    # to go on to D: E→D is against the one-way), so F→C→B→A→D.
    back = tiny_engine.eta_from_teams(NODES["D"], [NODES["F"]], "motor")
    expected = (leg("F", "C") + leg("C", "B") + leg("B", "A") + leg("A", "D")) / MOTOR_RES
    assert back.eta_s[0] == pytest.approx(expected, rel=1e-6)
    assert back.eta_s[0] > res.eta_s[0]


def test_gang_only_for_motorcycles(tiny_engine):
    # E to B: the motorcycle takes Gang Mawar; the car must follow the one-way to F
    # and come back along Jalan Bawah.
    motor = tiny_engine.eta_from_teams(NODES["B"], [NODES["E"]], "motor")
    mobil = tiny_engine.eta_from_teams(NODES["B"], [NODES["E"]], "mobil")
    assert motor.eta_s[0] == pytest.approx(leg("E", "B") / GANG, rel=1e-6)
    car = (leg("E", "F") + leg("F", "C") + leg("C", "B")) / MOBIL_RES
    assert mobil.eta_s[0] == pytest.approx(car, rel=1e-6)
    route = mobil.route(0)
    assert route.distance_m == pytest.approx(leg("E", "F") + leg("F", "C") + leg("C", "B"),
                                             rel=1e-6)
    lons = [x for x, _ in route.geometry.coords]
    assert max(lons) == pytest.approx(NODES["F"][0])  # it went round by F


def test_point_between_nodes_uses_partial_edges_and_access(tiny_engine, config):
    # an incident 30 m south of the middle of A–B, a team at D
    mid = ((NODES["A"][0] + NODES["B"][0]) / 2, NODES["A"][1] - 30 / 111195.0)
    res = tiny_engine.eta_from_teams(mid, [NODES["D"]], "motor")
    access = 30 / config.access_speed_ms
    expected = (leg("D", "A") + leg("A", "B") / 2) / MOTOR_RES + access
    assert res.eta_s[0] == pytest.approx(expected, rel=1e-3)
    assert res.incident_access_m == pytest.approx(30, abs=0.5)


def test_same_road_without_network_nodes(tiny_engine):
    a = (NODES["A"][0] + 0.0002, NODES["A"][1])
    b = (NODES["A"][0] + 0.0006, NODES["A"][1])
    res = tiny_engine.eta_from_teams(b, [a], "motor")
    assert res.eta_s[0] == pytest.approx(0.0004 * 111195 * np.cos(np.radians(1.62)) / MOTOR_RES,
                                         rel=1e-3)
    route = res.route(0)
    assert route.geometry.length == pytest.approx(0.0004, rel=1e-3)


def test_disconnected_team_is_flagged_with_straight_line(tiny_engine, config):
    res = tiny_engine.eta_from_teams(NODES["B"], [NODES["G"], NODES["A"]], "motor")
    assert list(res.status) == [UNREACHABLE, ROAD]
    assert res.is_estimate.tolist() == [True, False]
    straight = leg("G", "B")
    assert res.distance_m[0] == pytest.approx(straight * config.detour_factor, rel=1e-6)
    assert res.eta_s[0] == pytest.approx(
        straight * config.detour_factor / config.straight_speed_ms, rel=1e-6)
    r = res.route(0)
    assert r.is_estimate and len(r.geometry.coords) == 2
    with pytest.raises(NoRoute) as err:
        tiny_engine.route(NODES["G"], NODES["B"], "motor")
    assert "garis lurus" in err.value.message_id


def test_team_far_from_any_road_is_off_network(tiny_engine):
    far = (NODES["A"][0], NODES["A"][1] - 0.02)  # ~2 km south of every road
    res = tiny_engine.eta_from_teams(NODES["B"], [far], "motor")
    assert res.status[0] == OFF_NETWORK and res.is_estimate[0]


def test_k_nearest_stops_early_and_keeps_required(tiny_engine):
    teams = [NODES["B"], NODES["A"], NODES["F"], NODES["D"]]
    res = tiny_engine.eta_from_teams(NODES["B"], teams, "motor", k=1)
    assert res.status[0] == ROAD and res.eta_s[0] == pytest.approx(0.0)
    assert "not_ranked" in set(res.status[1:])
    req = tiny_engine.eta_from_teams(NODES["B"], teams, "motor", k=1,
                                     required=[False, False, False, True])
    full = tiny_engine.eta_from_teams(NODES["B"], teams, "motor")
    assert req.status[3] == ROAD
    assert req.eta_s[3] == pytest.approx(full.eta_s[3])


def test_route_geometry_runs_from_team_to_incident(tiny_engine):
    r = tiny_engine.route(NODES["D"], NODES["F"], "motor")
    coords = list(r.geometry.coords)
    assert coords[0] == pytest.approx(NODES["D"]) and coords[-1] == pytest.approx(NODES["F"])
    assert r.eta_s == pytest.approx((leg("D", "E") + leg("E", "F")) / MOTOR_RES, rel=1e-6)
    feature = r.to_geojson()
    assert feature["geometry"]["type"] == "LineString" and not feature["properties"]["is_estimate"]


def test_incident_far_from_roads_gives_flagged_estimates(tiny_engine):
    far = (NODES["B"][0], NODES["B"][1] - 0.02)
    res = tiny_engine.eta_from_teams(far, [NODES["A"], NODES["F"]], "motor")
    assert list(res.status) == [OFF_NETWORK, OFF_NETWORK]
    assert res.is_estimate.all() and np.isfinite(res.eta_s).all()


def test_no_teams(tiny_engine):
    res = tiny_engine.eta_from_teams(NODES["B"], [], "motor")
    assert res.eta_s.shape == (0,)


def test_background_build_thread_is_niced_alone():
    """The hierarchy build thread lowers its own priority (Linux: per thread), never the
    process's: requests keep theirs."""
    import os
    import threading

    from geo_sigap.routing.engine import _lower_thread_priority

    if not hasattr(os, "getpriority"):
        pytest.skip("no thread priorities here")
    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen = []

    def work():
        _lower_thread_priority(3)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [min(before + 3, 19)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
