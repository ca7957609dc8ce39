"""OGC API – Features, read with OWSLib (``owslib.ogcapi.features.Features``) from a live
uvicorn server, as QGIS would: landing page, conformance, collections, items with bbox,
datetime and paging, role-aware with a bearer token."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2, KEL_A, KEL_B, PASSWORDS

owslib_features = pytest.importorskip("owslib.ogcapi.features")

NAME, PHONE = "Marlina Rahasiani", "0813-7777-4242"
CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(std_services):
    """Five incidents (one pekat) reported by the operator, then the app on uvicorn."""
    import uvicorn

    from geo_sigap.dispatch.actors import Actor
    from geo_sigap.dispatch.intake import ReportInput, report_incident
    from geo_sigap.domain.lifecycle import UserRole
    from geo_sigap.web.app import create_app

    op = Actor("operator", UserRole.OPERATOR)
    now = datetime.now(UTC)
    tickets = []
    for i, (cat, point) in enumerate((("ternak", IN_RT1), ("pekat", IN_RT1), ("pkl", IN_RT2),
                                      ("keributan", IN_KEL_B), ("pkl", IN_KEL_B))):
        res = report_incident(std_services, op, ReportInput(
            category=cat, description=f"Uraian {cat} dari {NAME}", lon=point[0],
            lat=point[1], reporter_name=NAME, reporter_phone=PHONE,
            reported_at=now - timedelta(days=4 - i)), now=now)
        tickets.append(res.incident["ticket"])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(std_services.settings, std_services),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    base = f"http://127.0.0.1:{port}"
    yield {"url": f"{base}/ogcapi", "base": base, "tickets": tickets, "now": now}
    server.should_exit = True
    thread.join(15)


def token(live, user: str) -> str:
    r = requests.post(f"{live['base']}/api/auth/login",
                      json={"username": user, "password": PASSWORDS[user]}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def features(live, user: str | None = None):
    """An OWSLib client, signed in as ``user`` (OWSLib keeps request headers in one
    module-level dict, so the previous user's header is removed first)."""
    import owslib.ogcapi as o

    o.REQUEST_HEADERS.pop("Authorization", None)
    headers = {"Authorization": f"Bearer {token(live, user)}"} if user else None
    return owslib_features.Features(live["url"], headers=headers)


@pytest.fixture(autouse=True)
def _forget_owslib_headers():
    yield
    import owslib.ogcapi as o

    o.REQUEST_HEADERS.pop("Authorization", None)


def test_landing_conformance_and_openapi(live):
    api = features(live)
    assert {l["rel"] for l in api.links} >= {"self", "service-desc", "conformance", "data"}
    assert set(api.conformance()["conformsTo"]) == {CONF + "core", CONF + "geojson",
                                                   CONF + "oas30"}
    doc = api.api()
    assert doc["openapi"].startswith("3.0") and "/collections/{collectionId}/items" in doc["paths"]


def test_anonymous_sees_boundaries_and_aggregates_only(live):
    api = features(live)
    assert set(api.feature_collections()) == {
        "boundaries-kecamatan", "boundaries-kelurahan", "boundaries-rw", "boundaries-rt",
        "incidents-kelurahan"}
    kel = api.collection_items("boundaries-kelurahan")
    assert kel["numberMatched"] == 2 and {f["id"] for f in kel["features"]} == {KEL_A, KEL_B}
    agg = {f["id"]: f["properties"] for f in api.collection_items("incidents-kelurahan")[
        "features"]}
    assert agg[KEL_A]["count"] == 3 and agg[KEL_B]["count"] == 2
    assert agg[KEL_A]["n_pekat"] == 1 and agg[KEL_B]["n_pkl"] == 1
    with pytest.raises(RuntimeError):
        api.collection_items("incidents")
    r = requests.get(f"{live['url']}/collections/incidents/items", timeout=10)
    assert r.status_code == 401


def test_planner_reads_exact_points_with_bbox_datetime_and_paging(live):
    api = features(live, "planner")
    assert {"incidents", "team-posts", "hotspots"} <= set(api.feature_collections())
    meta = api.collection("incidents")
    assert meta["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    assert len(meta["extent"]["spatial"]["bbox"][0]) == 4
    page = api.collection_items("incidents", limit=2)
    assert page["numberMatched"] == 5 and page["numberReturned"] == 2
    seen = [f["id"] for f in page["features"]]
    while (nxt := next((l for l in page["links"] if l["rel"] == "next"), None)):
        page = requests.get(nxt["href"], headers=api.headers, timeout=10).json()
        seen += [f["id"] for f in page["features"]]
    assert seen == live["tickets"]  # oldest first, each once
    first = api.collection_item("incidents", live["tickets"][1])
    assert first["geometry"]["coordinates"] == [IN_RT1[0], IN_RT1[1]]  # exact, pekat too
    assert first["properties"]["category"] == "pekat"
    # bbox: kelurahan B only (east of lon 103.6009)
    east = api.collection_items("incidents", bbox=[103.6010, -1.625, 103.625, -1.615])
    assert {f["id"] for f in east["features"]} == set(live["tickets"][3:])
    # datetime: the last two days
    since = (live["now"] - timedelta(days=1, hours=12)).isoformat().replace("+00:00", "Z")
    recent = api.collection_items("incidents", datetime_=f"{since}/..")
    assert [f["id"] for f in recent["features"]] == live["tickets"][3:]
    posts = api.collection_items("team-posts")
    assert posts["numberMatched"] == 5 and "phone" not in posts["features"][0]["properties"]


def test_team_members_get_pseudonymous_points_without_sensitive_categories(live):
    api = features(live, "tim_bhb")
    page = api.collection_items("incidents")
    assert page["numberMatched"] == 4  # no pekat
    assert all(f["properties"]["category"] != "pekat" for f in page["features"])
    assert not {f["id"] for f in page["features"]} & set(live["tickets"])
    for f in page["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert (lon, lat) not in (IN_RT1, IN_RT2, IN_KEL_B)
        assert abs(lon - IN_RT1[0]) < 0.003 or abs(lon - IN_KEL_B[0]) < 0.003


def test_no_personal_data_in_any_answer_and_geojson_types(live):
    for user in (None, "tim_bhb", "planner", "admin"):
        api = features(live, user)
        headers = dict(api.headers)
        for cid in api.feature_collections():
            r = requests.get(f"{live['url']}/collections/{cid}/items", headers=headers,
                             timeout=30)
            assert r.status_code == 200, (user, cid, r.text[:200])
            assert r.headers["content-type"].startswith("application/geo+json")
            for secret in (NAME, PHONE, "Rahasiani", "7777-4242", "Uraian"):
                assert secret not in r.text, (user, cid, secret)
    r = requests.get(f"{live['url']}/collections", timeout=10)
    assert r.headers["content-type"].startswith("application/json")


def test_hotspots_collection(live):
    api = features(live, "planner")
    hot = api.collection_items("hotspots")
    assert hot["numberMatched"] == 2
    props = hot["features"][0]["properties"]
    assert {"code", "count", "gi_z", "gi_label"} <= set(props)


def test_bad_parameters_are_400(live):
    h = {"Authorization": f"Bearer {token(live, 'planner')}"}
    for q in ("bbox=1,2,3", "bbox=a,b,c,d", "limit=0", "limit=x", "offset=-1",
              "datetime=yesterday"):
        r = requests.get(f"{live['url']}/collections/incidents/items?{q}", headers=h,
                         timeout=10)
        assert r.status_code == 400, q
    assert requests.get(f"{live['url']}/collections/nope", timeout=10).status_code == 404


def test_pseudonymous_bbox_applies_to_the_moved_points(std_services):
    """The SQL translation of a bbox on grid-snapped points gives the same answer as
    snapping every point and filtering (random points and boxes, fixed seed)."""
    import random

    from sqlalchemy import insert

    from geo_sigap.dispatch.actors import Actor
    from geo_sigap.domain.lifecycle import UserRole
    from geo_sigap.standards import ogcapi
    from geo_sigap.storage.tables import IncidentRow

    rng = random.Random(16)
    now = datetime.now(UTC)
    rows = [{"ticket": f"T-{i:04d}", "category": "pkl", "description": "", "channel": "api",
             "lon": rng.uniform(103.596, 103.624), "lat": rng.uniform(-1.624, -1.616),
             "priority": 3, "status": "diterima", "placement": {},
             "reported_at": now - timedelta(minutes=i), "version": 1} for i in range(300)]
    with std_services.db.session() as s:
        s.execute(insert(IncidentRow), rows)
        s.commit()
    who = Actor("tim_bhb", UserRole.TEAM_MEMBER, "BHB-1003")
    everything, n = ogcapi.items(std_services, who, "incidents", ogcapi.Query(limit=1000))
    assert n == 300
    for _ in range(25):
        x0, x1 = sorted(rng.uniform(103.595, 103.625) for _ in range(2))
        y0, y1 = sorted(rng.uniform(-1.625, -1.615) for _ in range(2))
        got, matched = ogcapi.items(std_services, who, "incidents",
                                    ogcapi.Query(bbox=(x0, y0, x1, y1), limit=1000))
        want = {f["id"] for f in everything
                if x0 <= f["geometry"]["coordinates"][0] <= x1
                and y0 <= f["geometry"]["coordinates"][1] <= y1}
        assert {f["id"] for f in got} == want and matched == len(want)
