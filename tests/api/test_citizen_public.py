"""Citizens: a report with photos (the field photos' limits and checks), the public map
of recent reports (never the exact point of pekat/ODGJ, never text or tickets), place
search, and the public closing note."""

from __future__ import annotations

import io

from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"
NAME, PHONE = "Ibu Rahmawati", "0813-5555-7777"


def _photo_report(client, **extra):
    data = {"category": "ternak", "description": "Sapi lepas di jalan depan sekolah",
            "lon": str(IN_RT1[0]), "lat": str(IN_RT1[1]), "reporter_name": NAME,
            "reporter_phone": PHONE, **extra}
    return client.post("/api/public/photo-reports", data=data,
                       files=[("photos", ("sapi.jpg", io.BytesIO(JPEG), "image/jpeg"))])


def test_citizen_report_with_a_photo(client, auth):
    r = _photo_report(client)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"ticket", "status", "status_url", "photos", "warnings"}
    assert body["photos"] == 1
    t = body["ticket"]
    inc = client.get(f"/api/incidents/{t}", headers=auth["operator"]).json()
    (rep,) = inc["reports"]
    assert rep["team_code"] == "WARGA" and rep["attachments"][0]["content_type"] == "image/jpeg"
    assert client.get(rep["attachments"][0]["url"], headers=auth["operator"]).content == JPEG
    assert inc["reporter_name"] == NAME and inc["channel"] == "web"
    pub = client.get(f"/api/public/status/{t}").json()
    assert NAME not in str(pub) and "7777" not in str(pub) and "attachments" not in str(pub)
    # the same checks as field photos: content sniffed, count limited
    r = client.post("/api/public/photo-reports", data={
        "category": "lainnya", "description": "uji berkas", "lon": str(IN_RT1[0]),
        "lat": str(IN_RT1[1])}, files=[("photos", ("x.jpg", io.BytesIO(b"<html>"), "image/jpeg"))])
    assert r.status_code == 415
    r = client.post("/api/public/photo-reports", data={
        "category": "lainnya", "description": "uji berkas", "lon": str(IN_RT1[0]),
        "lat": str(IN_RT1[1])},
        files=[("photos", (f"{i}.jpg", io.BytesIO(JPEG), "image/jpeg")) for i in range(7)])
    assert r.status_code == 422
    # a citizen's photo is not the team's field report (step 6)
    op, disp, team = auth["operator"], auth["dispatcher"], auth["tim_bhb"]
    v = client.post(f"/api/incidents/{t}/transitions", headers=op,
                    json={"action": "verify", "version": inc["version"]}).json()["version"]
    v = client.post(f"/api/incidents/{t}/assign", headers=disp, json={
        "version": v, "assignments": [{"team_code": "BHB-1003"}]}).json()["incident"]["version"]
    v = client.post(f"/api/incidents/{t}/transitions", headers=team,
                    json={"action": "arrive", "version": v}).json()["version"]
    r = client.post(f"/api/incidents/{t}/transitions", headers=team,
                    json={"action": "handle", "version": v})
    assert r.status_code == 422 and r.json()["error"]["code"] == "field_report_required"


def test_public_map_of_recent_reports_hides_what_must_stay_hidden(client, auth):
    op = auth["operator"]
    for cat, point, text in (("pekat", IN_RT1, "Judi di rumah Pak Darto"),
                             ("keributan", IN_RT2, "Anak Bu Sri berkelahi"),
                             ("pkl", IN_KEL_B, "Lapak di trotoar")):
        r = client.post("/api/incidents", headers=op, json={
            "category": cat, "description": text, "lon": point[0], "lat": point[1],
            "reporter_name": NAME, "reporter_phone": PHONE})
        assert r.status_code == 201
    hoax = client.post("/api/incidents", headers=op, json={
        "category": "pencurian", "description": "hoaks", "lon": IN_RT1[0],
        "lat": IN_RT1[1]}).json()
    client.post(f"/api/incidents/{hoax['ticket']}/transitions", headers=op,
                json={"action": "reject", "version": hoax["version"], "reason": "Hoaks"})
    r = client.get("/api/public/nearby", params={"lon": IN_RT1[0], "lat": IN_RT1[1],
                                                 "radius_m": 3000})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    by_cat = {i["category"]: i for i in items}
    assert set(by_cat) == {"pekat", "keributan", "pkl"}  # the rejected one is left out
    text = str(items)
    for secret in ("Darto", "Sri", "Lapak", NAME, "7777", "SGP-", "ticket", "description"):
        assert secret not in text, secret
    pekat = by_cat["pekat"]
    assert pekat["approximate"] == "area" and (pekat["lon"], pekat["lat"]) != IN_RT1
    kel_centre = (pekat["lon"], pekat["lat"])
    assert abs(kel_centre[0] - IN_RT1[0]) > 1e-4 or abs(kel_centre[1] - IN_RT1[1]) > 1e-4
    kb = by_cat["keributan"]
    assert kb["approximate"] == "rounded" and kb["lon"] == round(IN_RT2[0], 3)
    assert kb["kelurahan"] and kb["status"] == "diterima" and kb["reported_on"]
    far = client.get("/api/public/nearby", params={"lon": 103.7, "lat": -1.7,
                                                   "radius_m": 500}).json()
    assert far["items"] == []


def test_place_search_for_citizens(client):
    r = client.get("/api/public/places", params={"q": "Eka Jaya"})
    assert r.status_code == 200, r.text
    c = r.json()["candidates"]
    assert c and set(c[0]) == {"label", "lon", "lat", "level", "place"}
    assert client.get("/api/public/places", params={"q": "x"}).status_code == 422
