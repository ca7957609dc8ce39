"""Role boundaries: each role is refused what it may not do; no public (or limited-role)
response contains a reporter's name or phone."""

from __future__ import annotations

import pytest

from tests.conftest import IN_RT1

NAME, PHONE = "Rahasia Pelapor", "0812-7777-6666"


@pytest.fixture
def case(client, auth):
    """A verified and dispatched case (lead BHB-1003), reported with contact details."""
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pekat", "description": "Ada judi sabung ayam", "lon": IN_RT1[0],
        "lat": IN_RT1[1], "reporter_name": NAME, "reporter_phone": PHONE})
    inc = r.json()
    t = inc["ticket"]
    inc = client.post(f"/api/incidents/{t}/transitions", headers=auth["operator"],
                      json={"action": "verify", "version": inc["version"]}).json()
    out = client.post(f"/api/incidents/{t}/assign", headers=auth["dispatcher"], json={
        "version": inc["version"], "assignments": [{"team_code": "BHB-1003", "kind": "lead"}]})
    assert out.status_code == 200, out.text
    return out.json()["incident"]


def _no_contact(payload) -> None:
    text = str(payload)
    assert NAME not in text and PHONE not in text and "7777" not in text


def test_anonymous_gets_401_on_staff_routes(client, case):
    t = case["ticket"]
    for method, path in [("get", "/api/incidents"), ("get", f"/api/incidents/{t}"),
                         ("get", "/api/teams"), ("get", "/api/overdue"),
                         ("post", "/api/intake/whatsapp"), ("get", "/api/events")]:
        r = getattr(client, method)(path)
        assert r.status_code == 401, (path, r.status_code)
        assert r.json()["error"]["code"] == "not_authenticated"
    r = client.get("/api/incidents", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_public_views_hold_no_personal_data(client, case):
    pub = client.get(f"/api/public/status/{case['ticket']}")
    assert pub.status_code == 200
    _no_contact(pub.json())
    assert "description" not in pub.json() and "lon" not in pub.json()
    assert client.get("/api/public/status/SGP-000000-XXXX").status_code == 404


def test_contact_only_for_operator_side(client, auth, case):
    t = case["ticket"]
    for who in ("operator", "dispatcher", "coordinator", "admin"):
        body = client.get(f"/api/incidents/{t}", headers=auth[who]).json()
        assert body["reporter_name"] == NAME and body["reporter_phone"] == PHONE
    for who in ("planner", "tim_bhb"):
        r = client.get(f"/api/incidents/{t}", headers=auth[who])
        assert r.status_code == 200
        _no_contact(r.json())
        _no_contact(client.get("/api/incidents", headers=auth[who]).json())
    _no_contact(client.get(f"/api/incidents/{t}/audit", headers=auth["planner"]).json())
    _no_contact(client.get("/api/events?after=0&follow=false",
                           headers=auth["coordinator"]).text)


def test_team_members_see_only_their_assignments(client, auth, case):
    t = case["ticket"]
    other = auth["tim_bhb2"]
    assert client.get(f"/api/incidents/{t}", headers=other).status_code == 403
    assert client.get("/api/incidents", headers=other).json()["count"] == 0
    r = client.post(f"/api/incidents/{t}/transitions", headers=other,
                    json={"action": "depart", "version": case["version"]})
    assert r.status_code == 403
    r = client.post(f"/api/incidents/{t}/reports", headers=other, data={"text": "x"})
    assert r.status_code == 403
    r = client.post("/api/teams/BHB-1003/position", headers=other,
                    json={"lon": 103.6, "lat": -1.62})
    assert r.status_code == 403
    assert client.get("/api/incidents", headers=auth["tim_bhb"]).json()["count"] == 1
    r = client.post("/api/teams/BHB-1003/position", headers=auth["tim_bhb"],
                    json={"lon": 103.6005, "lat": -1.6200, "accuracy_m": 8})
    assert r.status_code == 200 and r.json()["moved"] is True


@pytest.mark.parametrize("who,action,expected", [
    ("planner", "depart", 403), ("tim_bhb", "verify", 409), ("operator", "depart", 403),
    ("dispatcher", "handle", 409),  # dispatcher may do field steps, but not from ditugaskan
])
def test_transition_roles(client, auth, case, who, action, expected):
    r = client.post(f"/api/incidents/{case['ticket']}/transitions", headers=auth[who],
                    json={"action": action, "version": case["version"], "reason": "x"})
    assert r.status_code == expected, r.text


def test_only_coordinator_closes(client, auth, case):
    t, v = case["ticket"], case["version"]
    for action in ("arrive", "handle"):
        v = client.post(f"/api/incidents/{t}/transitions", headers=auth["tim_bhb"],
                        json={"action": action, "version": v,
                              "reason": "Tidak sempat menulis laporan"}).json()["version"]
    for who in ("tim_bhb", "dispatcher", "operator"):
        r = client.post(f"/api/incidents/{t}/transitions", headers=auth[who],
                        json={"action": "resolve", "version": v})
        assert r.status_code == 403, who
        assert r.json()["error"]["details"]["roles"] == ["admin", "coordinator"]


def test_role_refusals(client, auth, case):
    t = case["ticket"]
    for who in ("operator", "planner", "tim_bhb"):
        r = client.post(f"/api/incidents/{t}/assign", headers=auth[who], json={
            "version": case["version"], "assignments": [{"team_code": "LMS-1003",
                                                         "kind": "support"}]})
        assert r.status_code == 403, who
        assert client.get(f"/api/incidents/{t}/suggestions", headers=auth[who]).status_code \
            == 403
    for who in ("operator", "dispatcher", "tim_bhb"):
        assert client.get(f"/api/incidents/{t}/audit", headers=auth[who]).status_code == 403
    r = client.post("/api/incidents", headers=auth["planner"], json={
        "category": "pkl", "description": "x", "lon": IN_RT1[0], "lat": IN_RT1[1]})
    assert r.status_code == 403
    assert client.get("/api/me/assignments", headers=auth["operator"]).status_code == 403
    r = client.post("/api/intake/whatsapp", headers=auth["tim_bhb"],
                    json={"text": "[21.15, 4/3/2025] A: b"})
    assert r.status_code == 403


def test_login_logout_and_me(client):
    r = client.post("/api/auth/login", json={"username": "planner", "password": "salah"})
    assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "planner",
                                             "password": "planner123"})
    assert r.status_code == 200 and "sigap_session" in r.cookies
    token = r.json()["token"]
    assert client.get("/api/auth/me").json()["role"] == "planner"  # via the cookie
    client.cookies.clear()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=h).json()["username"] == "planner"
    client.post("/api/auth/logout", headers=h)
    assert client.get("/api/auth/me", headers=h).status_code == 401
