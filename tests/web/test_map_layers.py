"""Map layers for the coordinator: travel-time coverage GeoJSON and analytics periods.

Runs on the shared tiny area (``tests/conftest.py``: two kelurahan, one RW with two RT,
teams on the hand-made road network ``tests/data/routing/tiny.osm``).
"""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from tests.conftest import KEL_A, RT_A1, RT_A2, RW_A, Logins


@pytest.fixture
def api(services):
    """A client of the full app on the shared services (the root ``client`` fixture is
    shadowed in this folder by the base-map app of ``tests/web/conftest.py``)."""
    from geo_sigap.web.app import create_app

    with TestClient(create_app(services.settings, services)) as c:
        yield c


@pytest.fixture
def logins(api):
    return Logins(api)


def _props(fc):
    return {f["properties"]["code"]: f["properties"] for f in fc["features"]}


def test_coverage_is_geojson_of_units_with_minutes_per_role(api, logins, services):
    r = api.get("/api/map/coverage?level=rt&category=keributan", headers=logins["coordinator"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    meta = fc["meta"]
    assert meta["level"] == "rt" and meta["category"] == "keributan"
    assert meta["roles"] == ["bhabinkamtibmas", "babinsa", "linmas"]  # lead first
    assert meta["lead_role"] == "bhabinkamtibmas"
    assert meta["target_min"] == services.categories.get("keributan").target_response_min
    props = _props(fc)
    assert set(props) == {RT_A1, RT_A2}
    for f in fc["features"]:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    team_codes = {"BHB-1003", "BHB-1004", "BBS-1003", "LMS-1003", "SPP-01"}
    for p in props.values():
        assert p["kelurahan_code"] == KEL_A and p["kelurahan_name"] == "Eka Jaya"
        assert p["parent_code"] == RW_A
        for role in meta["roles"]:
            eta = p[f"{role}_eta_min"]
            assert eta is not None and 0 < eta < 15  # a few hundred metres of road
            assert p[f"{role}_post"] in team_codes
            assert p[f"{role}_beyond_target"] is False
        assert p["beyond_target"] is False
        assert "satpol_pp_eta_min" not in p  # not a keributan role


def test_coverage_minutes_are_the_routing_engines(api, logins, services):
    """The endpoint reshapes :func:`geo_sigap.routing.coverage.coverage`, it does not
    compute its own times."""
    import geopandas as gpd

    from geo_sigap.domain.admin import AdminLevel
    from geo_sigap.routing.coverage import coverage
    from geo_sigap.storage.teams import list_teams

    fc = api.get("/api/map/coverage?level=rt&category=pencurian",
                 headers=logins["planner"]).json()
    rts = [u for u in services.units if u.level == AdminLevel.RT]
    frame = gpd.GeoDataFrame({"code": [u.code for u in rts]},
                             geometry=[u.geometry for u in rts], crs="EPSG:4326")
    with services.db.session() as s:
        teams = list_teams(s)
    table = coverage(services.routing, frame, teams,
                     category=services.categories.get("pencurian")).set_index("code")
    for code, p in _props(fc).items():
        for role in ("bhabinkamtibmas", "linmas"):
            assert p[f"{role}_eta_min"] == pytest.approx(table.at[code, f"{role}_eta_min"],
                                                         abs=0.051)
            assert p[f"{role}_post"] == table.at[code, f"{role}_post"]


def test_rw_level_one_role_and_a_role_without_teams(api, logins):
    h = logins["dispatcher"]
    rw = api.get("/api/map/coverage?level=rw&category=bencana", headers=h).json()
    (p,) = rw["features"]
    p = p["properties"]
    assert p["code"] == RW_A and p["level"] == "rw"
    assert rw["meta"]["roles"] == ["babinsa", "linmas", "bpbd", "damkar"]
    # no BPBD or Damkar post in the area: unreachable, so the unit is beyond the target
    assert p["bpbd_eta_min"] is None and p["bpbd_post"] is None
    assert p["bpbd_beyond_target"] is True and p["beyond_target"] is True
    assert p["babinsa_beyond_target"] is False and math.isfinite(p["babinsa_eta_min"])

    one = api.get("/api/map/coverage?level=rw&category=bencana&role=linmas", headers=h).json()
    assert one["meta"]["roles"] == ["linmas"] and one["meta"]["lead_role"] == "linmas"
    q = one["features"][0]["properties"]
    assert q["linmas_eta_min"] == p["linmas_eta_min"]
    assert "babinsa_eta_min" not in q and q["beyond_target"] is False

    # no category: every role that has teams, and no target
    free = api.get("/api/map/coverage?level=rw", headers=h).json()
    assert free["meta"]["roles"] == ["bhabinkamtibmas", "babinsa", "linmas", "satpol_pp"]
    assert free["meta"]["target_min"] is None
    assert free["features"][0]["properties"]["beyond_target"] is None


def test_coverage_is_staff_only_and_checks_its_input(api, logins):
    anon = api.get("/api/map/coverage?level=rt")
    assert anon.status_code == 401
    assert anon.json()["error"]["message"]
    h = logins["coordinator"]
    assert api.get("/api/map/coverage?level=kelurahan", headers=h).status_code == 422
    bad = api.get("/api/map/coverage?category=sulap", headers=h)
    assert bad.status_code == 422 and "Kategori tidak dikenal" in bad.json()["error"]["message"]
    assert api.get("/api/map/coverage?role=pawang", headers=h).status_code == 422
    assert api.get("/api/map/periods").status_code == 401


@pytest.fixture
def fresh_coverage(services):
    """The services' coverage cache emptied (memory and files) for this test."""
    import shutil

    services.__dict__.pop("coverage", None)
    shutil.rmtree(services.settings.cache_dir / "coverage", ignore_errors=True)
    yield services
    services.__dict__.pop("coverage", None)


def test_coverage_is_computed_when_posts_move_not_per_request(fresh_coverage, api, logins):
    from geo_sigap.maps.coverage_cache import CoverageCache
    from geo_sigap.storage.teams import list_teams, upsert_teams

    services = fresh_coverage
    h = logins["coordinator"]
    # warm-up computes the layers the map opens with, in the background
    cache = services.coverage
    started = cache.refresh() or cache.last_refresh
    started.join()

    class Calls:  # answers computed by this process
        def __len__(self):
            return cache.computed

    calls = Calls()
    assert len(calls) == 2  # RT and RW, no category
    r = api.get("/api/map/coverage?level=rt", headers=h)
    assert r.headers["x-sigap-cache"] == "hit" and len(calls) == 2
    url = "/api/map/coverage?level=rt&category=pkl"
    first = api.get(url, headers=h)  # a filter never asked before: computed once
    assert first.headers["x-sigap-cache"] == "miss" and len(calls) == 3
    second = api.get(url, headers=h)
    assert second.headers["x-sigap-cache"] == "hit" and len(calls) == 3
    assert second.content == first.content
    assert api.get(url, headers={**h, "If-None-Match": first.headers["etag"]}).status_code == 304
    gz = api.get(url, headers={**h, "Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.json() == first.json()
    assert gz.num_bytes_downloaded < len(first.content) / 2  # compressed once, sent as is
    # another filter is another entry
    assert api.get(url + "&role=linmas", headers=h).headers["x-sigap-cache"] == "miss"
    assert len(calls) == 4

    # another worker (or a restart) reads what this one stored: nothing computed
    other = CoverageCache(services.settings.cache_dir / "coverage",
                          lambda *a: pytest.fail("computed again"), services.coverage._version)
    assert other.get("rt", "pkl").body == first.content

    # a GPS fix does not change any post: still cached
    r = api.post("/api/teams/SPP-01/position", json={"lon": 103.6010, "lat": -1.6195},
                 headers=logins["dispatcher"])
    assert r.status_code == 200, r.text
    assert api.get(url, headers=h).headers["x-sigap-cache"] == "hit" and len(calls) == 4

    # a post moves (to the node in the far corner): the request is answered at once with
    # the layer of the posts before, the new one is computed in the background
    with services.db.session() as s:
        teams = {t.code: t for t in list_teams(s)}
        from dataclasses import replace

        upsert_teams(s, [replace(teams["SPP-01"], post=(103.6000, -1.6209))])
        s.commit()
    stale = api.get(url, headers=h)
    assert stale.headers["x-sigap-cache"] == "stale" and stale.content == first.content
    services.coverage.last_refresh.join()
    assert len(calls) == 5
    third = api.get(url, headers=h)
    assert third.headers["x-sigap-cache"] == "hit" and len(calls) == 5
    assert third.json()["meta"]["version"] != first.json()["meta"]["version"]
    before = _props(first.json())[RT_A1]["satpol_pp_eta_min"]
    after = _props(third.json())[RT_A1]["satpol_pp_eta_min"]
    assert after is not None and before is not None and after != before


def test_no_road_network_is_503_with_a_clear_message(area_db, tmp_path, password_hashes):
    from geo_sigap.domain.categories import load_categories
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings
    from geo_sigap.web.app import create_app

    settings = Settings(database_url=str(area_db.engine.url.render_as_string(
        hide_password=False)), data_dir=tmp_path / "d", secret_key="test-secret-0123456789",
        road_network=None)
    services = Services(settings, area_db, load_categories())
    with TestClient(create_app(settings, services)) as c:
        r = c.get("/api/map/coverage?level=rt", headers=Logins(c)["coordinator"])
    assert r.status_code == 503
    assert "jaringan jalan" in r.json()["error"]["message"]
    assert "road network" in c.get("/api/map/coverage?level=rt&lang=en",
                                   headers=Logins(c)["coordinator"]).json()["error"]["message"]


def test_periods_default_to_the_last_complete_quarter_with_data(api, logins):
    import pandas as pd

    from geo_sigap.analytics.frames import Quarter

    h = logins["operator"]
    empty = api.get("/api/map/periods", headers=h).json()
    assert empty == {"quarters": [], "default": None}
    current = Quarter.of(pd.Timestamp.now(tz="UTC"))
    two_back = current.previous().previous()
    for i, q in enumerate([current, two_back]):
        when = (q.start + pd.Timedelta(hours=1)).isoformat()
        r = api.post("/api/incidents", headers={**h, "Idempotency-Key": f"p{i}"},
                     json={"category": "pkl", "description": "PKL di trotoar", "channel":
                           "hotline", "lon": 103.6003, "lat": -1.6198, "reported_at": when})
        assert r.status_code == 201, r.text
    got = api.get("/api/map/periods", headers=h).json()
    assert [q["code"] for q in got["quarters"]] == [str(current), str(two_back)]
    assert got["quarters"][1]["label"] == two_back.label
    # the current quarter is not complete and the previous one holds nothing
    assert got["default"] == str(two_back)


def test_the_live_map_offers_the_layers_in_both_languages(api):
    import json
    from pathlib import Path

    page = api.get("/peta").text
    for text in ("Analitik &amp; cakupan", "Triwulan (analitik)", "Heksagon 250 m",
                 "Tingkat cakupan", 'id="f-role"'):
        assert text in page, text
    assert "Analytics &amp; coverage" in api.get("/peta?lang=en").text
    loc = Path(__file__).resolve().parents[2] / "geo_sigap" / "web" / "locales"
    id_, en = (json.loads((loc / f"{n}.json").read_text("utf-8")) for n in ("id", "en"))
    keys = [k for k in id_ if k.startswith(("map.layers.", "map.gi.", "map.cov", "map.kde.",
                                           "map.level.", "map.quarter"))]
    assert {"map.layers.hotspots", "map.layers.kde", "map.layers.coverage"} <= set(keys)
    assert id_["map.layers.hotspots"] == "Titik panas (Gi*)"
    assert id_["map.layers.coverage"] == "Cakupan waktu tempuh"
    for k in keys:
        assert en.get(k) and en[k] != "", k


def test_import_teams_computes_the_coverage_for_every_worker(fresh_coverage, monkeypatch):
    """`geo-sigap import teams` (the CLI that moves posts) leaves the coverage of the new
    posts stored: a worker then answers it without computing."""
    from typer.testing import CliRunner

    from geo_sigap.cli.main import app
    from geo_sigap.maps.coverage_cache import CoverageCache
    from geo_sigap.storage.teams import list_teams

    services = fresh_coverage
    st = services.settings
    with services.db.session() as s:
        teams = list_teams(s)
    csv = st.data_dir / "teams.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    lines = ["code,name,role,phone,vehicle,post_lon,post_lat,area_codes,status"]
    for t in teams:
        lon, lat = (103.6000, -1.6209) if t.code == "SPP-01" else t.post  # one post moves
        lines.append(f"{t.code},{t.name},{t.role.value},,{t.vehicle.value},{lon},{lat},"
                     f"{';'.join(t.area_codes)},tersedia")
    csv.write_text("\n".join(lines) + "\n")
    for k, v in {"DATABASE_URL": services.db.engine.url.render_as_string(hide_password=False),
                 "DATA_DIR": str(st.data_dir), "SECRET_KEY": "test-secret-0123456789",
                 "ROAD_NETWORK": str(st.road_network)}.items():
        monkeypatch.setenv(f"GEO_SIGAP_{k}", v)
    r = CliRunner().invoke(app, ["import", "teams", str(csv)])
    assert r.exit_code == 0, r.output
    services.__dict__.pop("coverage", None)
    worker = CoverageCache(st.cache_dir / "coverage",
                           lambda *a: pytest.fail("computed by the worker"),
                           services.coverage._version)
    for level in ("rt", "rw"):
        got = worker.get(level)
        assert got.status == "hit" and got.version == services.coverage._version()
