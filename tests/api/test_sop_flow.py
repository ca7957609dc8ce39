"""The whole SOP path through HTTP, on SQLite and PostGIS: a pasted WhatsApp message →
draft → report → verify → assign (WhatsApp message) → en route → on scene → field
report with a photo → handled → rework → handled → resolved, audited and timed."""

from __future__ import annotations

import io
from urllib.parse import unquote

from tests.conftest import IN_RT1, KEL_A, RT_A1

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _tx(client, headers, ticket, action, version, **extra):
    return client.post(f"/api/incidents/{ticket}/transitions", headers=headers,
                       json={"action": action, "version": version, **extra})


def test_whatsapp_to_resolved_case(client, auth):
    op, disp, coord = auth["operator"], auth["dispatcher"], auth["coordinator"]
    team = auth["tim_bhb"]
    paste = (f"[21.15, 4/3/2025] Budi RT 01: ada keributan pemuda mabuk, lokasi "
             f"{IN_RT1[1]}, {IN_RT1[0]}\nmohon segera dibantu")
    r = client.post("/api/intake/whatsapp", headers=op, json={"text": paste})
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["sender"] == "Budi RT 01"
    assert draft["reported_at"] == "2025-03-04T21:15:00+07:00"
    assert draft["category_guess"] in ("keributan", "pekat")
    assert draft["lon"] == IN_RT1[0] and draft["lat"] == IN_RT1[1]
    assert "mohon segera dibantu" in draft["description"]

    body = {"category": "keributan", "description": draft["description"],
            "channel": draft["channel"], "lon": draft["lon"], "lat": draft["lat"],
            "reporter_name": draft["sender"], "reporter_phone": "0812-9999-0000"}
    r = client.post("/api/incidents", headers={**op, "Idempotency-Key": "wa-1"}, json=body)
    assert r.status_code == 201, r.text
    inc = r.json()
    ticket = inc["ticket"]
    assert inc["status"] == "diterima" and inc["channel"] == "wa_group"
    assert inc["placement"]["kelurahan_code"] == KEL_A
    assert inc["placement"]["rt_code"] == RT_A1
    assert inc["priority"] == 1  # keributan's default
    assert inc["allowed_actions"] == ["verify", "reject"]

    r = _tx(client, op, ticket, "verify", inc["version"], priority=2)
    assert r.status_code == 200, r.text
    inc = r.json()
    assert inc["status"] == "terverifikasi" and inc["priority"] == 2

    r = client.get(f"/api/incidents/{ticket}/suggestions", headers=disp)
    assert r.status_code == 200, r.text
    roles = {x["role"]: x for x in r.json()["roles"]}
    assert roles["bhabinkamtibmas"]["recommended"] == "BHB-1003"  # responsible and near

    r = client.post(f"/api/incidents/{ticket}/assign", headers=disp, json={
        "version": inc["version"], "assignments": [
            {"team_code": "BHB-1003", "kind": "lead"},
            {"team_code": "LMS-1003", "kind": "support"}]})
    assert r.status_code == 200, r.text
    out = r.json()
    inc = out["incident"]
    assert inc["status"] == "ditugaskan"
    msg = {m["team_code"]: m for m in out["messages"]}
    text = msg["BHB-1003"]["text"]
    assert ticket in text and "RT 001" in text and "Eka Jaya" in text
    assert "PRIORITAS TINGGI" in text and "Linmas Eka Jaya (pendukung)" in text
    assert "maps.google.com/?q=-1.619800,103.600300" in text
    link = msg["BHB-1003"]["wa_link"]
    assert link.startswith("https://wa.me/6281211110001?text=")
    assert unquote(link.split("text=", 1)[1]) == text

    r = client.get("/api/me/assignments", headers=team)
    assert [x["ticket"] for x in r.json()["items"]] == [ticket]
    for action in ("depart", "arrive"):
        r = _tx(client, team, ticket, action, inc["version"])
        assert r.status_code == 200, r.text
        inc = r.json()
    assert inc["status"] == "di_lokasi" and inc["on_scene_at"]

    r = client.post(f"/api/incidents/{ticket}/reports", headers=team,
                    data={"text": "Massa sudah dibubarkan, 2 orang diberi pembinaan"},
                    files=[("photos", ("tkp.png", io.BytesIO(PNG), "image/png"))])
    assert r.status_code == 200, r.text
    rep = r.json()["reports"][0]
    att = rep["attachments"][0]
    assert att["content_type"] == "image/png" and att["size"] == len(PNG)
    r = client.get(att["url"], headers=coord)
    assert r.status_code == 200 and r.content == PNG
    assert client.get(att["url"]).status_code == 401  # anonymous
    assert client.get(att["url"], headers=auth["planner"]).status_code == 403

    inc = client.get(f"/api/incidents/{ticket}", headers=team).json()
    inc = _tx(client, team, ticket, "handle", inc["version"]).json()
    assert inc["status"] == "ditangani"
    r = _tx(client, coord, ticket, "rework", inc["version"])
    assert r.status_code == 422  # a reason is required
    inc = _tx(client, coord, ticket, "rework", inc["version"],
              reason="Foto belum menunjukkan lokasi").json()
    assert inc["status"] == "ditugaskan"
    inc = _tx(client, team, ticket, "arrive", inc["version"]).json()
    # step 6 again after the rework: the earlier report no longer counts
    r = _tx(client, team, ticket, "handle", inc["version"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "field_report_required"
    inc = _tx(client, team, ticket, "handle", inc["version"],
              reason="Foto ulang tidak bisa diambil: lokasi sudah dibersihkan").json()
    assert inc["status"] == "ditangani"
    r = _tx(client, coord, ticket, "resolve", inc["version"], note="Aman terkendali")
    assert r.status_code == 200, r.text
    inc = r.json()
    assert inc["status"] == "selesai" and inc["resolution_note"] == "Aman terkendali"
    assert ticket in inc["citizen_message"]
    assert inc["durations"]["report_to_resolved_s"] > 0
    assert inc["response_target_met"] is True

    r = client.get(f"/api/incidents/{ticket}/audit", headers=auth["planner"])
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert [e["action"] for e in entries] == [
        "report", "verify", "dispatch", "depart", "arrive", "report_field", "handle",
        "rework", "arrive", "handle", "resolve"]
    assert entries[1]["actor"] == "operator" and entries[2]["actor"] == "dispatcher"
    assert entries[3]["actor"] == "tim_bhb" and entries[-1]["actor_role"] == "coordinator"
    assert entries[7]["details"]["reason"] == "Foto belum menunjukkan lokasi"

    pub = client.get(f"/api/public/status/{ticket}").json()
    assert pub["status"] == "selesai" and pub["kelurahan"] == "Eka Jaya"
    assert "Budi" not in str(pub) and "0812" not in str(pub)
    teams = {t["code"]: t for t in client.get("/api/teams", headers=disp).json()["items"]}
    assert teams["BHB-1003"]["status"] == "tersedia"  # released on resolve
