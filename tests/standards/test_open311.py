"""Open311 GeoReport v2, checked with a client written here straight from the spec
(https://wiki.open311.org/GeoReport_v2: services, requests GET/POST, requests/{id}; XML
parsed with ElementTree) and against the shape of the spec's examples."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import IN_RT1, IN_RT2, OUTSIDE
from tests.standards.conftest import API_KEY

# Field names of the spec's example responses.
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"}
POST_FIELDS = {"service_request_id", "service_notice", "account_id"}
NAME, PHONE = "Sulastri Rahasiawati", "0813-5555-0101"


class GeoReportClient:
    """A GeoReport v2 client as the spec describes it: ``{endpoint}/services.{format}``,
    ``requests.{format}`` (GET with filters, POST form-encoded with ``api_key``),
    ``requests/{id}.{format}``; ``jurisdiction_id`` on every call."""

    def __init__(self, http, endpoint: str, jurisdiction: str, fmt: str = "xml") -> None:
        self.http, self.endpoint, self.jurisdiction, self.fmt = http, endpoint, jurisdiction, fmt

    def _parse(self, r, item: str) -> list[dict]:
        if self.fmt == "json":
            assert r.headers["content-type"].startswith("application/json")
            return r.json()
        assert r.headers["content-type"].startswith("text/xml")
        assert r.content.startswith(b"<?xml") and b"encoding" in r.content[:60]
        root = ET.fromstring(r.content)
        return [{child.tag: child.text for child in el} for el in root.findall(item)]

    def services(self) -> list[dict]:
        r = self.http.get(f"{self.endpoint}/services.{self.fmt}",
                          params={"jurisdiction_id": self.jurisdiction})
        assert r.status_code == 200, r.text
        return self._parse(r, "service")

    def post_request(self, api_key: str, **fields) -> tuple[int, list[dict]]:
        r = self.http.post(f"{self.endpoint}/requests.{self.fmt}", data={
            "api_key": api_key, "jurisdiction_id": self.jurisdiction, **fields})
        return r.status_code, self._parse(r, "request" if r.status_code < 400 else "error")

    def get_request(self, request_id: str) -> list[dict]:
        r = self.http.get(f"{self.endpoint}/requests/{request_id}.{self.fmt}",
                          params={"jurisdiction_id": self.jurisdiction})
        assert r.status_code == 200, r.text
        return self._parse(r, "request")

    def requests(self, **params) -> list[dict]:
        r = self.http.get(f"{self.endpoint}/requests.{self.fmt}",
                          params={"jurisdiction_id": self.jurisdiction, **params})
        assert r.status_code == 200, r.text
        return self._parse(r, "request")


@pytest.fixture(params=["xml", "json"])
def georeport(client, request):
    return GeoReportClient(client, "/open311/v2", "kotajambi.go.id", request.param)


def test_services_are_our_categories(georeport, std_services):
    services = georeport.services()
    assert [s["service_code"] for s in services] == [c.code for c in std_services.categories]
    assert all(set(s) == SERVICE_FIELDS for s in services)
    ternak = next(s for s in services if s["service_code"] == "ternak")
    assert ternak["service_name"] == "Hewan ternak lepas"
    assert str(ternak["metadata"]).lower() == "false" and ternak["type"] == "realtime"
    assert "sapi" in ternak["keywords"]


def test_post_then_read_the_status(georeport, client, auth):
    status, (created,) = georeport.post_request(
        API_KEY, service_code="ternak", lat=str(IN_RT1[1]), long=str(IN_RT1[0]),
        description="Sapi lepas di depan SD 47", address_string="Jl. Lingkar Selatan",
        first_name="Sulastri", last_name="Rahasiawati", phone=PHONE, email="s@example.org")
    assert status == 201
    assert set(created) == POST_FIELDS
    ticket = created["service_request_id"]
    (req,) = georeport.get_request(ticket)
    assert set(req) == REQUEST_FIELDS
    assert req["service_request_id"] == ticket and req["status"] == "open"
    assert req["service_code"] == "ternak" and req["status_notes"] == "Diterima"
    assert req["agency_responsible"] == "Satpol PP"
    # about 110 m, never the exact point; no description, address typed or contact
    assert float(req["lat"]) == round(IN_RT1[1], 3) and float(req["long"]) == round(IN_RT1[0], 3)
    assert req["description"] in (None, "") and req["address"] == "Kel. Eka Jaya, Kec. Paal Merah"
    # the operator sees the report with its contact details, as from the web form
    inc = client.get(f"/api/incidents/{ticket}", headers=auth["operator"]).json()
    assert inc["reporter_phone"] == PHONE and inc["reporter_name"] == NAME
    assert inc["description"] == "Sapi lepas di depan SD 47"
    # rejected → closed
    r = client.post(f"/api/incidents/{ticket}/transitions", headers=auth["operator"],
                    json={"action": "reject", "version": inc["version"], "reason": "Duplikat"})
    assert r.status_code == 200, r.text
    (req,) = georeport.get_request(ticket)
    assert req["status"] == "closed" and req["status_notes"] == "Ditolak"


def test_requests_list_filters_and_keeps_personal_data_out(georeport, client, auth):
    op = auth["operator"]
    for cat, point in (("pekat", IN_RT1), ("ternak", IN_RT2), ("pkl", IN_RT2)):
        r = client.post("/api/incidents", headers=op, json={
            "category": cat, "description": f"Laporan {cat} oleh {NAME}", "lon": point[0],
            "lat": point[1], "reporter_name": NAME, "reporter_phone": PHONE})
        assert r.status_code == 201, r.text
    everything = georeport.requests()
    assert len(everything) == 3 and all(set(r) == REQUEST_FIELDS for r in everything)
    pekat = next(r for r in everything if r["service_code"] == "pekat")
    assert pekat["lat"] in (None, "") and pekat["long"] in (None, "")  # sensitive: no point
    assert [r["service_code"] for r in georeport.requests(service_code="pkl,ternak")] \
        in (["pkl", "ternak"], ["ternak", "pkl"])
    assert georeport.requests(status="closed") == []
    assert len(georeport.requests(status="open")) == 3
    assert georeport.requests(start_date="2020-01-01T00:00:00Z",
                              end_date="2020-02-01T00:00:00+07:00") == []
    some = georeport.requests(service_request_id=",".join(r["service_request_id"]
                                                          for r in everything[:2]))
    assert len(some) == 2
    for fmt in ("json", "xml"):
        body = client.get(f"/open311/v2/requests.{fmt}").text
        for secret in (NAME, PHONE, "Rahasiawati", "Laporan pkl"):
            assert secret not in body


def test_post_needs_a_valid_api_key_and_a_valid_report(georeport, std_services):
    fields = dict(service_code="ternak", lat=str(IN_RT1[1]), long=str(IN_RT1[0]),
                  description="Sapi lepas")
    for key in ("", "wrong", API_KEY + "x"):
        status, (err,) = georeport.post_request(key, **fields)
        assert status == 403 and int(err["code"]) == 403 and "api_key" in err["description"]
    status, (err,) = georeport.post_request(API_KEY, **{**fields, "service_code": "nope"})
    assert status == 400 and "nope" in err["description"]
    status, _ = georeport.post_request(API_KEY, **{**fields, "lat": str(OUTSIDE[1]),
                                                   "long": str(OUTSIDE[0])})
    assert status == 400
    status, _ = georeport.post_request(API_KEY, service_code="ternak",
                                       address_string="Jl. Lingkar Selatan")
    assert status == 400
    from sqlalchemy import func, select

    from geo_sigap.storage.tables import IncidentRow

    with std_services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(IncidentRow)) == 0


def test_unknown_request_and_service_and_jurisdiction(client):
    r = client.get("/open311/v2/requests/SGP-000000-XXXX.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = client.get("/open311/v2/requests/SGP-000000-XXXX.xml")
    assert r.status_code == 404
    assert ET.fromstring(r.content).find("error/code").text == "404"
    assert client.get("/open311/v2/services/ternak.json").json() == {
        "service_code": "ternak", "attributes": []}
    root = ET.fromstring(client.get("/open311/v2/services/ternak.xml").content)
    assert root.tag == "service_definition" and root.find("service_code").text == "ternak"
    assert client.get("/open311/v2/services/nope.json").status_code == 400
    r = client.get("/open311/v2/services.json", params={"jurisdiction_id": "elsewhere.go.id"})
    assert r.status_code == 404


def test_english_names(client):
    r = client.get("/open311/v2/services.json", headers={"Accept-Language": "en"})
    assert next(s for s in r.json() if s["service_code"] == "ternak")["service_name"] \
        == "Stray livestock"


def test_off_unless_enabled(area_db, db_url, tmp_path):
    from fastapi.testclient import TestClient

    from geo_sigap.domain.categories import load_categories
    from geo_sigap.services import Services
    from geo_sigap.web.app import create_app
    from tests.conftest import make_settings

    services = Services(make_settings(db_url, tmp_path / "d", warm_up_on_start=False),
                        area_db, load_categories())
    with TestClient(create_app(services.settings, services)) as c:
        r = c.get("/open311/v2/services.json")
        assert r.status_code == 404 and json.loads(r.text)[0]["code"] == 404


def test_service_discovery(client):
    doc = client.get("/open311/v2/discovery.json").json()
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and "application/json" in endpoint["formats"]
    # the discovered endpoint answers
    path = endpoint["url"].split("testserver", 1)[1]
    assert client.get(f"{path}/services.json").status_code == 200


def _shape(xml: bytes) -> list:
    """Root tag, item tag and the item's child tags in order."""
    root = ET.fromstring(xml)
    item = root[0]
    return [root.tag, item.tag, [c.tag for c in item]]


def test_xml_has_the_shape_of_the_spec_examples(client):
    """Our XML answers next to the examples of the GeoReport v2 page (in
    tests/data/open311): same root, item and field elements in the same order."""
    from pathlib import Path

    spec = Path(__file__).resolve().parents[1] / "data" / "open311"
    ours = client.get("/open311/v2/services.xml").content
    assert _shape(ours) == _shape((spec / "spec_services.xml").read_bytes())
    r = client.post("/open311/v2/requests.xml", data={
        "api_key": API_KEY, "service_code": "pkl", "lat": str(IN_RT2[1]),
        "long": str(IN_RT2[0]), "description": "Lapak menutup trotoar"})
    assert r.status_code == 201, r.text
    assert _shape(r.content) == _shape((spec / "spec_post_response.xml").read_bytes())
    ticket = ET.fromstring(r.content).find("request/service_request_id").text
    one = client.get(f"/open311/v2/requests/{ticket}.xml").content
    assert _shape(one) == _shape((spec / "spec_requests.xml").read_bytes())
    # the spec's own example parses with the test client's reader into the same keys
    example = ET.fromstring((spec / "spec_requests.xml").read_bytes())
    assert {c.tag for c in example[0]} == REQUEST_FIELDS
