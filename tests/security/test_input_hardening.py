"""Bad input gets a clear 4xx in Bahasa Indonesia and nothing is lost or half-written:
NUL and control characters (PostgreSQL refuses NUL: a 500 before), oversize and deeply
nested bodies (streamed bodies included), NaN/inf/swapped coordinates everywhere."""

from __future__ import annotations

import pytest

from tests.conftest import IN_RT1
from tests.security._cases import assigned_case


def _count(client, auth) -> int:
    return client.get("/api/incidents", headers=auth["coordinator"]).json()["count"]


def _id_message(r) -> str:
    msg = r.json()["error"]["message"]
    assert "There was" not in msg and "error parsing" not in msg
    return msg


def test_control_characters_are_removed_from_stored_text(client, auth):
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pekat", "description": "Judi\x00 di pos\u202e ronda\x07\r\nRT 05",
        "lon": IN_RT1[0], "lat": IN_RT1[1], "reporter_name": "Bu\x00di\u202e",
        "address_text": "Gang\x1b[31m Mawar"})
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["description"] == "Judi di pos ronda\nRT 05"
    assert inc["reporter_name"] == "Budi"
    assert inc["address_text"] == "Gang[31m Mawar"
    t, v = inc["ticket"], inc["version"]
    r = client.post(f"/api/incidents/{t}/transitions", headers=auth["operator"],
                    json={"action": "reject", "version": v, "reason": "Hoaks\x00\x00"})
    assert r.status_code == 200, r.text
    assert r.json()["rejection_reason"] == "Hoaks"
    # a reason made only of control characters is no reason
    inc2 = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pkl", "description": "Lapak", "lon": IN_RT1[0], "lat": IN_RT1[1]}).json()
    r = client.post(f"/api/incidents/{inc2['ticket']}/transitions", headers=auth["operator"],
                    json={"action": "reject", "version": inc2["version"], "reason": "\x00"})
    assert r.status_code == 422 and "Alasan" in _id_message(r)


def test_nul_in_addresses_and_names_is_a_clear_4xx(client, auth):
    op = auth["operator"]
    for path in ("/api/incidents/SGP%00X", "/api/public/status/SGP%00X",
                 "/api/incidents/SGP-1/route?team=A%00", "/api/incidents?kelurahan=%00",
                 "/status/SGP%00X"):
        r = client.get(path, headers=op)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"]["code"] == "invalid_characters"
        assert "karakter kontrol" in r.json()["error"]["message"]
    r = client.post("/api/teams/BHB%00/position", headers=auth["dispatcher"],
                    json={"lon": IN_RT1[0], "lat": IN_RT1[1]})
    assert r.status_code == 400
    r = client.post("/api/auth/login", json={"username": "operator\x00", "password": "x"})
    assert r.status_code == 401
    # a line break in a search text is fine (pasted address)
    r = client.get("/api/geocode/search", params={"q": "Eka\nJaya"}, headers=op)
    assert r.status_code == 200


def test_nul_team_code_in_assignment_is_unknown_team(client, auth):
    op = auth["operator"]
    inc = client.post("/api/incidents", headers=op, json={
        "category": "pekat", "description": "x", "lon": IN_RT1[0], "lat": IN_RT1[1]}).json()
    v = client.post(f"/api/incidents/{inc['ticket']}/transitions", headers=op,
                    json={"action": "verify", "version": inc["version"]}).json()["version"]
    r = client.post(f"/api/incidents/{inc['ticket']}/assign", headers=auth["dispatcher"],
                    json={"version": v, "assignments": [{"team_code": "BHB-1003\x00"}]})
    assert r.status_code == 404, r.text
    assert "Tim tidak ditemukan" in _id_message(r)


def test_field_report_text_is_cleaned(client, auth):
    t, _ = assigned_case(client, auth)
    r = client.post(f"/api/incidents/{t}/reports", headers=auth["tim_bhb"],
                    data={"text": "Aman\x00 terkendali"})
    assert r.status_code == 200, r.text
    assert r.json()["reports"][0]["text"] == "Aman terkendali"


def test_whatsapp_paste_with_invisible_characters(client, auth):
    r = client.post("/api/intake/whatsapp", headers=auth["operator"], json={
        "text": "\ufeff\u200e[21.15, 4/3/2025] Bu\x00di\u202e RT 05: ada \x07keributan\r\n"
                "dekat masjid\u2069"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["sender"] == "Budi RT 05" and d["reporter_name"] == "Budi RT 05"
    assert d["description"] == "ada keributan\ndekat masjid"
    assert d["category_guess"] == "keributan"


def test_streamed_oversize_body_gets_413_not_400(client, auth):
    def chunks():
        for _ in range(300):  # 3 MB > 1 MB JSON limit, no Content-Length
            yield b" " * 10_000

    before = _count(client, auth)
    r = client.post("/api/incidents", content=chunks(),
                    headers={**auth["operator"], "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "payload_too_large"
    assert "terlalu besar" in r.json()["error"]["message"]
    r = client.post("/api/public/reports", content=chunks(),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert _count(client, auth) == before


def test_deeply_nested_json_is_a_clear_4xx(client, auth):
    depth = 100_000
    body = b'{"category":' + b"[" * depth + b"]" * depth + b"}"
    r = client.post("/api/incidents", content=body,
                    headers={**auth["operator"], "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    assert r.json()["error"]["code"] == "malformed_body"
    assert "tidak dapat dibaca" in _id_message(r)
    r = client.post("/api/incidents?lang=en", content=body,
                    headers={**auth["operator"], "Content-Type": "application/json"})
    assert "could not be read" in r.json()["error"]["message"]


def test_huge_free_text_is_refused_with_its_limit(client, auth):
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pekat", "description": "x" * 4001, "lon": IN_RT1[0], "lat": IN_RT1[1]})
    assert r.status_code == 422 and "description" in r.json()["error"]["message"]
    r = client.post("/api/intake/whatsapp", headers=auth["operator"],
                    json={"text": "a" * 20_001})
    assert r.status_code == 422


NAN_BODIES = [b'{"lon": NaN, "lat": -1.6198}', b'{"lon": 103.6003, "lat": Infinity}',
              b'{"lon": -Infinity, "lat": -1.6198}', b'{"lon": "nan", "lat": "-1.6198"}',
              b'{"lon": 1e400, "lat": -1.6198}']


@pytest.mark.parametrize("coords", NAN_BODIES)
def test_nan_and_inf_coordinates_everywhere(client, auth, coords):
    extra = coords[1:-1]
    staff = b'{"category": "pekat", "description": "Ada judi", ' + extra + b"}"
    before = _count(client, auth)
    for path, who, body in [("/api/incidents", auth["operator"], staff),
                            ("/api/public/reports", {}, staff),
                            ("/api/teams/BHB-1003/position", auth["tim_bhb"], coords)]:
        r = client.post(path, content=body,
                        headers={**who, "Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"]["code"] in ("invalid_coordinates", "invalid_input"), path
    assert _count(client, auth) == before
    teams = client.get("/api/teams", headers=auth["coordinator"]).json()["items"]
    assert next(t for t in teams if t["code"] == "BHB-1003")["last_position"] is None


@pytest.mark.parametrize("query", ["lon=nan&lat=-1.62", "lon=103.6&lat=inf",
                                   "lon=-inf&lat=-1.62", "lon=500&lat=-1.62"])
def test_nan_coordinates_in_geocoding(client, auth, query):
    r = client.get(f"/api/geocode/reverse?{query}", headers=auth["operator"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_coordinates"
    near = query.replace("lon=", "near_lon=").replace("lat=", "near_lat=")
    r = client.get(f"/api/geocode/search?q=masjid&{near}", headers=auth["operator"])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_coordinates"


def test_swapped_coordinates_are_corrected_with_a_warning(client, auth):
    lat, lon = IN_RT1[1], IN_RT1[0]
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pekat", "description": "x", "lon": lat, "lat": lon})
    assert r.status_code == 201 and r.json()["lon"] == pytest.approx(lon)
    assert r.json()["warnings"]
    r = client.post("/api/teams/BHB-1003/position", headers=auth["tim_bhb"],
                    json={"lon": lat, "lat": lon})
    assert r.status_code == 200 and r.json()["lon"] == pytest.approx(lon)
    assert r.json()["warnings"]
    r = client.get(f"/api/geocode/reverse?lon={lat}&lat={lon}", headers=auth["operator"])
    assert r.status_code == 200
