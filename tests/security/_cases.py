"""A case assigned to the Eka Jaya Bhabinkamtibmas team (BHB-1003), through the API."""

from __future__ import annotations

from tests.conftest import IN_RT1


def assigned_case(client, auth, category: str = "pekat") -> tuple[str, int]:
    """Report (operator) → verify → assign BHB-1003 as lead (dispatcher); (ticket, version)."""
    op = auth["operator"]
    inc = client.post("/api/incidents", headers=op, json={
        "category": category, "description": "x", "lon": IN_RT1[0], "lat": IN_RT1[1]}).json()
    t = inc["ticket"]
    v = client.post(f"/api/incidents/{t}/transitions", headers=op,
                    json={"action": "verify", "version": inc["version"]}).json()["version"]
    r = client.post(f"/api/incidents/{t}/assign", headers=auth["dispatcher"], json={
        "version": v, "assignments": [{"team_code": "BHB-1003", "kind": "lead"}]})
    assert r.status_code == 200, r.text
    return t, r.json()["incident"]["version"]
