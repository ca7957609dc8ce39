"""The analytics routes on a small app with a fake services object."""

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from geo_sigap.analytics.incremental import LiveAnalytics, store_from_frame
from geo_sigap.domain.categories import load_categories


@pytest.fixture(scope="module")
def client(units, incidents):
    from geo_sigap.web.routes.analytics import router

    store = store_from_frame(incidents)
    live = LiveAnalytics(lambda: store, lambda: (units, "u1"), load_categories())
    app = FastAPI()
    app.state.services = SimpleNamespace(analytics=live)
    app.include_router(router)
    from geo_sigap.dispatch.actors import Actor
    from geo_sigap.domain.lifecycle import UserRole
    from geo_sigap.web.auth import staff_actor

    app.dependency_overrides[staff_actor] = lambda: Actor("perencana", UserRole.PLANNER)
    return TestClient(app)


def test_heat_grid(client):
    r = client.get("/api/analytics/heat", params={"quarter": "2026Q3", "category": "pkl"})
    assert r.status_code == 200
    j = r.json()
    ny, nx = j["shape"]
    assert len(j["values"]) == nx * ny and j["image"].startswith("data:image/png;base64,")
    assert j["n_points"] > 50


def test_hotspots_geojson_and_cache(client):
    live = client.app.state.services.analytics
    p = {"quarter": "2026Q3", "level": "rt", "permutations": 199}
    a = client.get("/api/analytics/hotspots", params=p).json()
    hits = live.hits
    b = client.get("/api/analytics/hotspots", params=p).json()
    assert live.hits == hits + 1 and a == b
    assert a["type"] == "FeatureCollection" and len(a["features"]) == 216
    props = a["features"][0]["properties"]
    assert {"gi_z", "gi_class", "gi_label", "moran_q"} <= set(props)


@pytest.mark.parametrize("level", ["hex", "rt"])
def test_the_maps_compact_answers_keep_what_it_draws_and_come_compressed_once(client, level):
    """compact=1 (what /peta asks): the classes, counts and places equal the full answer's,
    geometry within ~1 m, unused properties gone; gzip clients get the cached compressed
    bytes (the same JSON), others plain JSON."""
    import gzip
    import math

    live = client.app.state.services.analytics
    p = {"quarter": "2026Q3", "level": level, "permutations": 199}
    full = client.get("/api/analytics/hotspots", params=p).json()
    r = client.get("/api/analytics/hotspots", params={**p, "compact": 1},
                   headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    lean = r.json()
    assert len(r.content) < len(client.get("/api/analytics/hotspots", params=p).content)
    keep = {"code", "count", "gi_z", "gi_p", "gi_class"} | ({"name"} if level == "rt" else set())
    assert len(lean["features"]) == len(full["features"]) > 0
    for a, b in zip(full["features"], lean["features"], strict=True):
        assert set(b["properties"]) == keep  # no gi_label, moran_*: the map does not draw them
        for k in ("code", "count", "gi_class"):
            assert a["properties"][k] == b["properties"][k]
        if a["properties"]["gi_z"] is not None:
            assert math.isclose(a["properties"]["gi_z"], b["properties"]["gi_z"], abs_tol=0.0051)
        ring_a, ring_b = a["geometry"]["coordinates"][0], b["geometry"]["coordinates"][0]
        if a["geometry"]["type"] == "MultiPolygon":
            ring_a, ring_b = ring_a[0], ring_b[0]
        for (x, y), (u, v) in zip(ring_a, ring_b, strict=True):
            assert abs(x - u) <= 5e-6 and abs(y - v) <= 5e-6
            assert u == round(u, 5) and v == round(v, 5)
    hits = live.hits
    again = client.get("/api/analytics/hotspots", params={**p, "compact": 1},
                       headers={"Accept-Encoding": "gzip"})
    assert live.hits == hits + 1 and again.json() == lean  # the compressed bytes, cached
    plain = client.get("/api/analytics/hotspots", params={**p, "compact": 1},
                       headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == lean
    assert gzip.decompress(live.hotspots("", "2026Q3", None, None, level, 250.0, 199,
                                         encoded="gzip", compact=True)) == plain.content


def test_compact_heat_has_no_grid_values(client):
    q = {"quarter": "2026Q3", "category": "pkl"}
    full = client.get("/api/analytics/heat", params=q).json()
    lean = client.get("/api/analytics/heat", params={**q, "compact": 1}).json()
    assert "values" not in lean and {k: v for k, v in full.items() if k != "values"} == lean


def test_kpis(client):
    j = client.get("/api/analytics/kpis", params={"quarter": "2026Q3"}).json()
    assert j["incidents"] == sum(j["by_category"].values()) > 0
    assert 0 <= j["share_within_target"] <= 1
