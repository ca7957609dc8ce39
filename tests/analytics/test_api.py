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


def test_kpis(client):
    j = client.get("/api/analytics/kpis", params={"quarter": "2026Q3"}).json()
    assert j["incidents"] == sum(j["by_category"].values()) > 0
    assert 0 <= j["share_within_target"] <= 1
