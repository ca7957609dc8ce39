"""SOP step 6 is kept: "Ditangani" needs the field report (a photo for categories that
require one) or a reason; field actions sent again with the same Idempotency-Key (a
phone's offline queue) happen once; queued positions keep their own times."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.incidents import FieldReport, check_handled_evidence
from geo_sigap.errors import FieldReportRequired
from tests.conftest import IN_RT1

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
T0 = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


def test_domain_rule_without_http():
    cats = load_categories()
    text_only = FieldReport("BHB-1003", "Sudah dimediasi", T0, "tim_bhb")
    with_photo = FieldReport("BHB-1003", "Sapi diamankan", T0, "tim_bhb", attachments=[object()])
    citizen = FieldReport("WARGA", "Foto dari pelapor", T0, "warga", attachments=[object()])
    with pytest.raises(FieldReportRequired) as e:
        check_handled_evidence(cats.get("keributan"), [])
    assert e.value.details["missing"] == "report"
    check_handled_evidence(cats.get("keributan"), [text_only])
    check_handled_evidence(cats.get("keributan"), [], reason="Kamera rusak, massa sudah bubar")
    assert cats.get("ternak").report_photo_required and not cats.get("keributan") \
        .report_photo_required
    with pytest.raises(FieldReportRequired) as e:
        check_handled_evidence(cats.get("ternak"), [text_only])
    assert e.value.details["missing"] == "photo"
    check_handled_evidence(cats.get("ternak"), [text_only, with_photo])
    with pytest.raises(FieldReportRequired):  # the citizen's photo is not the team's report
        check_handled_evidence(cats.get("ternak"), [citizen])
    with pytest.raises(FieldReportRequired):  # sent before the rework
        check_handled_evidence(cats.get("keributan"), [text_only], since=T0 + timedelta(1))


def test_photo_rule_is_read_from_the_categories_file(tmp_path):
    path = tmp_path / "kategori.toml"
    path.write_text('[category.x]\nname = "X"\nreport_photo_required = true\n'
                    '[category.y]\nname = "Y"\n', "utf-8")
    cats = load_categories(path)
    assert cats.get("x").report_photo_required and not cats.get("y").report_photo_required


def _case(client, auth, category="keributan"):
    op, disp, team = auth["operator"], auth["dispatcher"], auth["tim_bhb"]
    inc = client.post("/api/incidents", headers=op, json={
        "category": category, "description": "uji langkah 6", "lon": IN_RT1[0],
        "lat": IN_RT1[1]}).json()
    t = inc["ticket"]
    inc = client.post(f"/api/incidents/{t}/transitions", headers=op,
                      json={"action": "verify", "version": inc["version"]}).json()
    inc = client.post(f"/api/incidents/{t}/assign", headers=disp, json={
        "version": inc["version"], "assignments": [{"team_code": "BHB-1003"}]}).json()
    inc = inc["incident"]
    for action in ("depart", "arrive"):
        r = client.post(f"/api/incidents/{t}/transitions", headers=team,
                        json={"action": action, "version": inc["version"]})
        assert r.status_code == 200, r.text
        inc = r.json()
    return t, inc


def _handle(client, headers, t, version, **extra):
    return client.post(f"/api/incidents/{t}/transitions", headers=headers,
                       json={"action": "handle", "version": version, **extra})


def test_handled_is_refused_without_a_report(client, auth):
    team = auth["tim_bhb"]
    t, inc = _case(client, auth)
    for who in ("tim_bhb", "dispatcher", "coordinator"):  # every role, not only the page
        r = _handle(client, auth[who], t, inc["version"])
        assert r.status_code == 422, (who, r.text)
        err = r.json()["error"]
        assert err["code"] == "field_report_required" and "laporan lapangan" in err["message"]
    now = client.get(f"/api/incidents/{t}", headers=team).json()
    assert now["status"] == "di_lokasi" and now["version"] == inc["version"]
    r = client.post(f"/api/incidents/{t}/reports", headers=team,
                    data={"text": "Pemuda sudah dibubarkan dan diberi pembinaan"})
    assert r.status_code == 200, r.text
    r = _handle(client, team, t, r.json()["version"])
    assert r.status_code == 200 and r.json()["status"] == "ditangani"


def test_photo_required_by_category_or_a_reason(client, auth):
    team = auth["tim_bhb"]
    t, inc = _case(client, auth, "ternak")
    v = client.post(f"/api/incidents/{t}/reports", headers=team,
                    data={"text": "Sapi sudah dikembalikan ke pemiliknya"}).json()["version"]
    r = _handle(client, team, t, v)
    assert r.status_code == 422 and r.json()["error"]["details"]["missing"] == "photo"
    assert "foto" in r.json()["error"]["message"]
    r = _handle(client, team, t, v, reason="Baterai kamera habis")
    assert r.status_code == 200, r.text
    audit = client.get(f"/api/incidents/{t}/audit", headers=auth["coordinator"]).json()
    assert audit["entries"][-1]["details"]["reason"] == "Baterai kamera habis"

    t, inc = _case(client, auth, "ternak")
    v = client.post(f"/api/incidents/{t}/reports", headers=team,
                    data={"text": "Sapi diamankan"},
                    files=[("photos", ("sapi.png", io.BytesIO(PNG), "image/png"))]).json()
    assert _handle(client, team, t, v["version"]).status_code == 200


def test_offline_queue_replays_happen_once(client, auth):
    team, coord = auth["tim_bhb"], auth["coordinator"]
    t, inc = _case(client, auth)
    key = {**team, "Idempotency-Key": "hp-1-report"}
    first = client.post(f"/api/incidents/{t}/reports", headers=key, data={"text": "Aman"},
                        files=[("photos", ("a.png", io.BytesIO(PNG), "image/png"))])
    again = client.post(f"/api/incidents/{t}/reports", headers=key, data={"text": "Aman"},
                        files=[("photos", ("a.png", io.BytesIO(PNG), "image/png"))])
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True and len(again.json()["reports"]) == 1
    hkey = {**team, "Idempotency-Key": "hp-1-handle"}
    a = _handle(client, hkey, t, first.json()["version"])
    b = _handle(client, hkey, t, first.json()["version"])  # the answer was lost: sent again
    assert a.status_code == b.status_code == 200, b.text
    assert b.json()["replayed"] is True and b.json()["status"] == "ditangani"
    # another user's identical key is their own: refused by state, not replayed
    other = _handle(client, {**coord, "Idempotency-Key": "hp-1-handle"}, t,
                    b.json()["version"])
    assert other.status_code == 409
    actions = [e["action"] for e in client.get(f"/api/incidents/{t}/audit",
                                               headers=coord).json()["entries"]]
    assert actions.count("report_field") == 1 and actions.count("handle") == 1


def test_queued_positions_keep_their_times_once(client, auth, services):
    from sqlalchemy import func, select

    from geo_sigap.storage.tables import TeamPositionRow, TeamRow

    team = auth["tim_bhb"]
    now = datetime.now(UTC).replace(microsecond=123000)
    early, late = now - timedelta(minutes=7), now - timedelta(minutes=2)
    url = "/api/teams/BHB-1003/position"
    r = client.post(url, headers=team, json={"lon": IN_RT1[0], "lat": IN_RT1[1],
                                             "at": late.isoformat()})
    assert r.json()["moved"] is True
    # the older fix, queued offline, arrives later: kept in the track, does not move
    r = client.post(url, headers=team, json={"lon": 103.6004, "lat": -1.6192,
                                             "at": early.isoformat()})
    assert r.status_code == 200 and r.json()["moved"] is False
    r = client.post(url, headers=team, json={"lon": 103.6004, "lat": -1.6192,
                                             "at": early.isoformat()})
    assert r.json()["duplicate"] is True
    with services.db.session() as s:
        tid = s.scalar(select(TeamRow.id).where(TeamRow.code == "BHB-1003"))
        n = s.scalar(select(func.count()).select_from(TeamPositionRow)
                     .where(TeamPositionRow.team_id == tid))
        row = s.get(TeamRow, tid)
        assert n == 2
        assert abs((row.last_position_at - late).total_seconds()) < 0.01


def test_public_closing_note_on_the_status(client, auth):
    coord = auth["coordinator"]
    t, inc = _case(client, auth)
    v = client.post(f"/api/incidents/{t}/reports", headers=auth["tim_bhb"],
                    data={"text": "Dimediasi oleh Bhabinkamtibmas dengan Pak RT"}).json()
    inc = _handle(client, auth["tim_bhb"], t, v["version"]).json()
    assert client.get(f"/api/public/status/{t}").json()["public_note"] is None
    r = client.post(f"/api/incidents/{t}/transitions", headers=coord, json={
        "action": "resolve", "version": inc["version"], "note": "internal: Pak RT hadir",
        "public_note": "Keributan sudah dihentikan; situasi aman."})
    assert r.status_code == 200, r.text
    pub = client.get(f"/api/public/status/{t}").json()
    assert pub["public_note"] == "Keributan sudah dihentikan; situasi aman."
    assert "Pak RT" not in str(pub) and "Dimediasi" not in str(pub)
    r = client.post(f"/api/incidents/{t}/transitions", headers=coord, json={
        "action": "rework", "version": r.json()["version"], "reason": "x",
        "public_note": "no"})
    assert r.status_code == 422
