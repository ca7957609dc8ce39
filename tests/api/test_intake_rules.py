"""Idempotency, duplicate linking, concurrent assignment and bad input — with nothing
half-written — on SQLite and PostGIS."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from geo_sigap.storage.tables import AuditRow, EventRow, IncidentRow
from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2, OUTSIDE


def _report(client, headers, lonlat=IN_RT1, category="ternak", key=None, **extra):
    h = dict(headers)
    if key:
        h["Idempotency-Key"] = key
    return client.post("/api/incidents", headers=h, json={
        "category": category, "description": "Sapi lepas di jalan", "channel": "hotline",
        "lon": lonlat[0], "lat": lonlat[1], **extra})


def _counts(services):
    with services.db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (IncidentRow, AuditRow, EventRow))


def test_idempotent_retry_creates_nothing_new(client, auth, services):
    r1 = _report(client, auth["operator"], key="k-123")
    before = _counts(services)
    r2 = _report(client, auth["operator"], key="k-123")
    assert r1.status_code == 201 and r2.status_code == 200
    assert r2.json()["ticket"] == r1.json()["ticket"] and r2.json()["created"] is False
    assert _counts(services) == before


def test_concurrent_retries_with_one_key_make_one_incident(client, auth, services):
    results = []

    def go():
        results.append(_report(client, auth["operator"], key="k-race").json()["ticket"])

    threads = [threading.Thread(target=go) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(set(results)) == 1
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(IncidentRow)) == 1


def test_reports_at_one_place_at_once_link_to_one_original(client, auth, services):
    """Reports sent at the same moment may share one transaction (group commit on
    SQLite): each is still its own incident with its own audit entry and event, and all
    but the first are linked to the first as duplicates."""
    answers = []

    def go(i):
        answers.append(_report(client, auth["operator"],
                               lonlat=(IN_RT1[0] + i * 0.00005, IN_RT1[1])).json())

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    tickets = {a["ticket"] for a in answers}
    assert len(tickets) == 8 and all(a["created"] for a in answers)
    originals = [a for a in answers if a["duplicate_of"] is None]
    assert len(originals) == 1, [a["duplicate_of"] for a in answers]
    assert all(a["duplicate_of"] == originals[0]["ticket"] for a in answers if a is not originals[0])
    assert _counts(services) == (8, 8, 8)


def test_duplicates_link_to_the_first_report(client, auth):
    first = _report(client, auth["operator"]).json()
    near = _report(client, auth["operator"], lonlat=(IN_RT1[0] + 0.0005, IN_RT1[1])).json()
    other_cat = _report(client, auth["operator"], category="pkl").json()
    far = _report(client, auth["operator"], lonlat=(103.6200, -1.6200)).json()  # ~2 km
    assert near["duplicate_of"] == first["ticket"]
    assert other_cat["duplicate_of"] is None and far["duplicate_of"] is None
    third = _report(client, auth["operator"], lonlat=(IN_RT1[0], IN_RT1[1] + 0.0004)).json()
    assert third["duplicate_of"] == first["ticket"]
    full = client.get(f"/api/incidents/{first['ticket']}", headers=auth["operator"]).json()
    assert full["duplicates"] == [near["ticket"], third["ticket"]]
    # the case list shows the same link (joined there, not one query per case)
    listed = {x["ticket"]: x for x in client.get("/api/incidents",
                                                headers=auth["operator"]).json()["items"]}
    assert listed[near["ticket"]]["duplicate_of"] == first["ticket"]
    assert listed[third["ticket"]]["duplicate_of"] == first["ticket"]
    assert listed[first["ticket"]]["duplicate_of"] is None
    assert listed[far["ticket"]]["teams"] == []


def test_concurrent_assignment_second_gets_409_with_current_state(client, auth):
    inc = _report(client, auth["operator"], category="keributan").json()
    t = inc["ticket"]
    inc = client.post(f"/api/incidents/{t}/transitions", headers=auth["operator"],
                      json={"action": "verify", "version": inc["version"]}).json()
    v = inc["version"]
    barrier = threading.Barrier(2)
    out = {}

    def go(who, team):
        barrier.wait()
        out[who] = client.post(f"/api/incidents/{t}/assign", headers=auth[who], json={
            "version": v, "assignments": [{"team_code": team, "kind": "lead"}]})

    auth["dispatcher"], auth["coordinator"]  # sign in before racing
    ts = [threading.Thread(target=go, args=("dispatcher", "BHB-1003")),
          threading.Thread(target=go, args=("coordinator", "BHB-1004"))]
    [x.start() for x in ts]
    [x.join() for x in ts]
    codes = sorted(r.status_code for r in out.values())
    assert codes == [200, 409], [r.text for r in out.values()]
    loser = next(r for r in out.values() if r.status_code == 409).json()["error"]
    assert loser["code"] == "concurrent_edit"
    assert loser["details"]["current"]["status"] == "ditugaskan"
    final = client.get(f"/api/incidents/{t}", headers=auth["dispatcher"]).json()
    assert len(final["assignments"]) == 1


@pytest.mark.parametrize("lon,lat,code", [
    ("abc", -1.62, "invalid_coordinates"), (float("nan"), -1.62, "invalid_coordinates"),
    (500, -1.62, "invalid_coordinates"), (103.6, -95, "invalid_coordinates")])
def test_bad_coordinates_refused(client, auth, services, lon, lat, code):
    before = _counts(services)
    r = client.post("/api/incidents", headers=auth["operator"],
                    content=('{"category":"pkl","description":"x","lon":%s,"lat":%s}'
                             % ('"abc"' if lon == "abc" else ("NaN" if lon != lon else lon),
                                lat)).encode(),
                    params={"lang": "en"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] in (code, "invalid_input")
    assert _counts(services) == before


def test_swapped_coordinates_corrected_with_warning(client, auth):
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pkl", "description": "lapak", "lon": IN_RT2[1], "lat": IN_RT2[0]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["lon"], body["lat"]) == IN_RT2 and body["warnings"]
    assert "swapped_latlon" in body["placement"]["flags"]


def test_unknown_category_malformed_json_and_messages(client, auth, services):
    before = _counts(services)
    r = _report(client, auth["operator"], category="alien")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_category"
    assert "Kategori tidak dikenal" in r.json()["error"]["message"]
    r = client.post("/api/incidents", headers={**auth["operator"], "Accept-Language": "en"},
                    json={"category": "alien", "lon": 103.6, "lat": -1.62})
    assert r.json()["error"]["message"].startswith("Unknown category")
    r = client.post("/api/incidents", headers={**auth["operator"],
                                               "Content-Type": "application/json"},
                    content=b'{"category": "pkl", "lon": ')
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_json"
    assert _counts(services) == before


def test_illegal_transition_names_allowed_actions(client, auth, services):
    inc = _report(client, auth["operator"]).json()
    before = _counts(services)
    r = client.post(f"/api/incidents/{inc['ticket']}/transitions", headers=auth["coordinator"],
                    json={"action": "resolve", "version": inc["version"]})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "invalid_transition" and err["details"]["allowed"] == [
        "verify", "reject"]
    assert "verify" in err["message"]
    r = client.post(f"/api/incidents/{inc['ticket']}/transitions", headers=auth["operator"],
                    json={"action": "verify", "version": inc["version"] + 5})
    assert r.status_code == 409 and r.json()["error"]["code"] == "concurrent_edit"
    assert _counts(services) == before


def test_photo_checks_leave_nothing_behind(client, auth, services):
    inc = _report(client, auth["operator"], category="keributan").json()
    t = inc["ticket"]
    v = client.post(f"/api/incidents/{t}/transitions", headers=auth["operator"],
                    json={"action": "verify", "version": inc["version"]}).json()["version"]
    client.post(f"/api/incidents/{t}/assign", headers=auth["dispatcher"], json={
        "version": v, "assignments": [{"team_code": "BHB-1003", "kind": "lead"}]})
    team = auth["tim_bhb"]
    before = _counts(services)
    r = client.post(f"/api/incidents/{t}/reports", headers=team, data={"text": "laporan"},
                    files=[("photos", ("foto.jpg", io.BytesIO(b"GIF89a fake"), "image/jpeg"))])
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    big = b"\xff\xd8\xff" + b"0" * (services.settings.max_upload_bytes + 10)
    r = client.post(f"/api/incidents/{t}/reports", headers=team, data={"text": "laporan"},
                    files=[("photos", ("besar.jpg", io.BytesIO(big), "image/jpeg"))])
    assert r.status_code == 413
    assert _counts(services) == before
    adir = services.settings.attachments_dir
    assert not adir.exists() or not any(p.is_file() for p in adir.rglob("*"))


def test_citizen_report_outside_area_refused(client, services):
    before = _counts(services)
    r = client.post("/api/public/reports", json={
        "category": "pkl", "description": "lapak di trotoar", "lon": OUTSIDE[0],
        "lat": OUTSIDE[1]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "outside_coverage"
    assert _counts(services) == before
    r = client.post("/api/public/reports", json={
        "category": "pkl", "description": "lapak di trotoar", "lon": IN_KEL_B[0],
        "lat": IN_KEL_B[1], "reporter_name": "Siti", "reporter_phone": "081234567890"})
    assert r.status_code == 201
    assert set(r.json()) == {"ticket", "status", "status_url", "warnings"}


def test_health_says_when_the_warm_up_has_ended(client, services):
    """``warm`` is false until the start-up warm-up has ended (benchmarks and load
    balancers wait for it), true after."""
    services.warm.clear()
    assert client.get("/health").json()["warm"] is False
    services.warm.set()
    assert client.get("/health").json()["warm"] is True
