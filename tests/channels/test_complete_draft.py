"""The operator completes a chat draft (point, category) before verifying it."""

from __future__ import annotations

from geo_sigap.channels import whatsapp
from tests.channels.conftest import APP_SECRET, payload
from tests.conftest import IN_KEL_B, KEL_B


def _draft(client) -> str:
    body = payload("whatsapp_interactive.json")  # "Ada keributan", no location
    r = client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": whatsapp.signature(body, APP_SECRET)})
    return r.json()["received"][0]["ticket"]


def test_place_and_recategorise_then_verify(client, auth):
    ticket = _draft(client)
    op = auth["operator"]
    inc = client.get(f"/api/incidents/{ticket}", headers=op).json()
    assert inc["lon"] is None
    r = client.patch(f"/api/incidents/{ticket}/draft", headers=op, json={
        "version": inc["version"], "lon": IN_KEL_B[0], "lat": IN_KEL_B[1],
        "category": "pencurian", "address_text": "Depan Masjid Al-Ikhlas"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["lon"], done["lat"]) == IN_KEL_B
    assert done["placement"]["kelurahan_code"] == KEL_B
    assert "no_location" not in done["placement"]["flags"]
    assert done["category"] == "pencurian" and done["version"] == inc["version"] + 1
    assert done["address_text"] == "Depan Masjid Al-Ikhlas"
    # a stale version is refused, nothing changes
    stale = client.patch(f"/api/incidents/{ticket}/draft", headers=op,
                         json={"version": inc["version"], "category": "pkl"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "concurrent_edit"
    audit = client.get(f"/api/incidents/{ticket}/audit", headers=auth["coordinator"]).json()
    assert "complete_draft" in str(audit)
    v = client.post(f"/api/incidents/{ticket}/transitions", headers=op,
                    json={"action": "verify", "version": done["version"]})
    assert v.status_code == 200, v.text
    late = client.patch(f"/api/incidents/{ticket}/draft", headers=op,
                        json={"version": v.json()["version"], "category": "pkl"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "invalid_transition"


def test_who_may_complete_and_bad_input(client, auth):
    ticket = _draft(client)
    version = client.get(f"/api/incidents/{ticket}", headers=auth["operator"]).json()["version"]
    for who, status in (("planner", 403), ("tim_bhb", 403)):
        r = client.patch(f"/api/incidents/{ticket}/draft", headers=auth[who],
                         json={"version": version, "category": "pkl"})
        assert r.status_code == status, who
    assert client.patch(f"/api/incidents/{ticket}/draft",
                        json={"version": version}).status_code == 401
    r = client.patch(f"/api/incidents/{ticket}/draft", headers=auth["operator"],
                     json={"version": version, "lon": IN_KEL_B[0]})
    assert r.status_code == 422
    r = client.patch(f"/api/incidents/{ticket}/draft", headers=auth["operator"],
                     json={"version": version, "category": "nope"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_category"
