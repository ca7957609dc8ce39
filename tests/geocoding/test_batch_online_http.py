"""Batch CSV, the optional online geocoder (fake client, no network) and HTTP routes."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from geo_sigap.errors import ConfigError, GeoSigapError
from geo_sigap.geocoding import CombinedGeocoder, NominatimGeocoder, geocode_csv
from tests.geocoding.conftest import KEL, xy


def test_geocode_csv_with_coordinates_and_addresses(tmp_path, reverse, forward):
    src = tmp_path / "in.csv"
    rows = [
        {"id": 1, "lon": xy(0.25, 0.25)[0], "lat": xy(0.25, 0.25)[1], "alamat": ""},
        {"id": 2, "lon": xy(0.25, 0.25)[1], "lat": xy(0.25, 0.25)[0], "alamat": ""},  # swapped
        {"id": 3, "lon": "nan", "lat": "-1.6", "alamat": ""},
        {"id": 4, "lon": xy(9, 9)[0], "lat": xy(9, 9)[1], "alamat": ""},
        {"id": 5, "lon": "", "lat": "", "alamat": "RT 001 RW 002 Kel. Talang Bakung"},
        {"id": 6, "lon": "", "lat": "", "alamat": "qwzxv"},
        {"id": 7, "lon": "", "lat": "", "alamat": "Gg. Mawar"},
    ]
    with src.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    calls = []
    summary = geocode_csv(src, tmp_path / "out.csv", reverse, forward,
                          progress=lambda d, t: calls.append((d, t)))
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert len(out) == 7 and list(out["id"]) == [str(i) for i in range(1, 8)]
    assert out["rt_code"][0] == f"{KEL}.1001.RW001.RT001" and out["geocode_status"][0] == "ok"
    assert out["rt_code"][1] == f"{KEL}.1001.RW001.RT001"
    assert "swapped_latlon" in out["quality_flags"][1] and out["geocode_status"][1] == "flagged"
    assert out["geocode_status"][2] == "failed" and "invalid_coordinates" in out["geocode_reason"][2]
    assert "outside_coverage" in out["geocode_reason"][3]
    assert out["rt_code"][4] == f"{KEL}.1001.RW002.RT001" and out["geocode_source"][4] == "address"
    assert out["geocode_status"][5] == "failed" and "address_not_found" in out["geocode_reason"][5]
    assert out["geocode_reason"][6] == "address_ambiguous"
    assert summary["rows"] == 7 and summary["failed"] == 3
    assert summary["failures"] == {"invalid_coordinates": 1, "outside_coverage": 1,
                                   "address_not_found": 1}
    assert summary["by_source"] == {"coordinates": 2, "none": 3, "address": 2}
    assert calls and calls[-1] == (7, 7)


def test_geocode_csv_100k_points_in_seconds(tmp_path, reverse):
    rng = np.random.default_rng(5)
    n = 100_000
    lon0, lat0 = xy(-0.5, -0.5)
    lon1, lat1 = xy(2.5, 2.5)
    df = pd.DataFrame({"lon": rng.uniform(lon0, lon1, n).round(6),
                       "lat": rng.uniform(lat0, lat1, n).round(6)})
    df.to_csv(tmp_path / "big.csv", index=False)
    s = geocode_csv(tmp_path / "big.csv", tmp_path / "big_out.csv", reverse)
    assert s["rows"] == n and s["ok"] + s["flagged"] + s["failed"] == n
    assert s["failures"].get("outside_coverage", 0) > 0
    assert s["seconds"] < 30


def test_geocode_csv_needs_usable_columns(tmp_path, reverse):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(GeoSigapError):
        geocode_csv(tmp_path / "x.csv", tmp_path / "y.csv", reverse)


class _FakeNominatim:
    def __init__(self):
        self.queries = []

    def geocode(self, query, **kw):
        self.queries.append((query, kw))
        return [SimpleNamespace(latitude=xy(0.25, 0.25)[1], longitude=xy(0.25, 0.25)[0],
                                address="Somewhere, Jambi")]


def test_online_geocoder_is_off_by_default():
    with pytest.raises(ConfigError):
        NominatimGeocoder().search("Jambi")


def test_online_geocoder_with_fake_client(reverse, forward):
    fake = _FakeNominatim()
    online = NominatimGeocoder(enabled=True, client=fake, reverse=reverse,
                               viewbox=reverse.coverage_bbox)
    c = online.search("Jl. Somewhere")[0]
    assert c.source == "nominatim" and c.placement.rt_code == f"{KEL}.1001.RW001.RT001"
    assert fake.queries[0][1]["country_codes"] == "id"
    both = CombinedGeocoder(forward, online)
    assert both.search("Kelurahan Talang Bakung")[0].source == "offline"
    assert len(fake.queries) == 1  # offline was good enough
    assert both.search("qwzxv")[0].source == "nominatim"


@pytest.fixture()
def client(reverse, forward):
    from geo_sigap.errors import InvalidInput
    from geo_sigap.web.routes.geocoding import router

    app = FastAPI()
    app.state.services = SimpleNamespace(reverse_geocoder=reverse, forward_geocoder=forward)

    @app.exception_handler(InvalidInput)
    def _invalid(request, exc):  # the real table lives in geo_sigap.web.errors
        from fastapi.responses import JSONResponse

        return JSONResponse({"error": exc.to_dict()}, status_code=422)

    from geo_sigap.dispatch.actors import Actor
    from geo_sigap.domain.lifecycle import UserRole
    from geo_sigap.web.auth import staff_actor

    app.include_router(router)
    app.dependency_overrides[staff_actor] = lambda: Actor("operator", UserRole.OPERATOR)
    return TestClient(app)


def test_http_reverse_and_search(client):
    lon, lat = xy(0.25, 0.25)
    r = client.get("/api/geocode/reverse", params={"lon": lon, "lat": lat})
    assert r.status_code == 200
    body = r.json()
    assert body["units"]["rt"]["code"] == f"{KEL}.1001.RW001.RT001"
    assert body["deepest_level"] == "rt"
    r = client.get("/api/geocode/reverse", params={"lon": "nan", "lat": lat})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_coordinates"
    r = client.get("/api/geocode/search", params={"q": "Gg. Mawar", "limit": 3})
    assert r.status_code == 200 and r.json()["ambiguous"] is True
    assert r.json()["candidates"][0]["level"] == "gang"


def test_build_geocoders_from_files(tmp_path, units):
    from geo_sigap.geocoding import build_geocoders
    from tests.geocoding.conftest import write_gazetteer, write_osm

    write_osm(tmp_path / "roads.osm")
    write_gazetteer(tmp_path / "poi.csv")
    rev, fwd = build_geocoders(units, road_network=tmp_path / "roads.osm",
                               gazetteer_file=tmp_path / "poi.csv", gap_tolerance_m=10)
    assert rev.gap_tolerance_m == 10
    assert fwd.search("Lrg. Kenanga")[0].level == "gang"
    _, both = build_geocoders(units, online=True, online_client=_FakeNominatim())
    assert isinstance(both, CombinedGeocoder)
    assert both.search("qwzxv")[0].source == "nominatim"
