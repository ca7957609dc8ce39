"""Every route of the OpenAPI document × every role: allowed or refused as designed, and
no reporter name or phone in any answer to a role outside the operator side.

``MATRIX`` lists each operation with the roles allowed to use it; a route missing from
it fails the test (a new route must be placed in the matrix). "Allowed" means the
answer is neither 401 nor 403 (a 409 for a step the case's state does not allow, or a
404, is fine); "refused" means 401 for the anonymous citizen and 403 for signed-in
staff. Requests are valid (real tickets, bodies that pass validation), so a refusal
cannot hide behind a 422.
"""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import IN_RT1

NAME, PHONE = "Rahasia Pelapor", "0812-7777-6666"
ROLES = ("citizen", "operator", "dispatcher", "coordinator", "planner", "admin", "tim_bhb",
         "tim_bhb2")
ALL = frozenset(ROLES)
STAFF = ALL - {"citizen"}
NOBODY: frozenset[str] = frozenset()
OPERATOR_SIDE = frozenset({"operator", "dispatcher", "coordinator", "admin"})
DISPATCHERS = frozenset({"dispatcher", "coordinator", "admin"})
ASSIGNED_TEAM = frozenset({"tim_bhb"})
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"

# (method, path) -> roles allowed. tim_bhb is the team (BHB-1003) assigned to the case;
# tim_bhb2 a member of another team.
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): ALL,
    ("POST", "/api/auth/login"): ALL,
    ("POST", "/api/auth/logout"): ALL,
    ("GET", "/api/auth/me"): STAFF,
    ("POST", "/api/incidents"): OPERATOR_SIDE | {"tim_bhb", "tim_bhb2"},
    ("GET", "/api/incidents"): STAFF,
    ("GET", "/api/overdue"): STAFF,
    ("GET", "/api/incidents/{ticket}"): STAFF - {"tim_bhb2"},
    ("POST", "/api/incidents/{ticket}/transitions"): DISPATCHERS | ASSIGNED_TEAM,  # depart
    ("GET", "/api/incidents/{ticket}/suggestions"): DISPATCHERS,
    ("POST", "/api/incidents/{ticket}/assign"): DISPATCHERS,
    ("POST", "/api/incidents/{ticket}/unassign"): DISPATCHERS,
    ("GET", "/api/incidents/{ticket}/route"): STAFF - {"tim_bhb2"},
    ("POST", "/api/incidents/{ticket}/reports"): {"coordinator", "admin"} | ASSIGNED_TEAM,
    ("GET", "/api/attachments/{attachment_id}"): OPERATOR_SIDE | ASSIGNED_TEAM,
    ("GET", "/api/incidents/{ticket}/audit"): {"coordinator", "planner", "admin"},
    ("GET", "/api/me/assignments"): {"tim_bhb", "tim_bhb2"},
    ("GET", "/api/categories"): ALL,
    ("POST", "/api/intake/whatsapp"): OPERATOR_SIDE,
    ("GET", "/api/teams"): STAFF,
    ("POST", "/api/teams/{code}/position"): DISPATCHERS | ASSIGNED_TEAM,
    ("GET", "/api/events"): STAFF,
    ("POST", "/api/public/reports"): ALL,
    ("POST", "/api/public/photo-reports"): ALL,
    ("GET", "/api/public/nearby"): ALL,
    ("GET", "/api/public/places"): ALL,
    ("GET", "/api/public/status/{ticket}"): ALL,
    ("GET", "/api/geocode/reverse"): STAFF,
    ("GET", "/api/geocode/search"): STAFF,
    ("GET", "/api/analytics/heat"): STAFF,
    ("GET", "/api/analytics/hotspots"): STAFF,
    ("GET", "/api/analytics/kpis"): STAFF,
    ("GET", "/api/map/boundaries"): ALL,
    ("GET", "/api/map/roads"): ALL,
    ("GET", "/api/map/incidents"): STAFF,
    ("GET", "/api/map/coverage"): STAFF,
    ("GET", "/api/map/periods"): STAFF,
    ("PATCH", "/api/incidents/{ticket}/draft"): OPERATOR_SIDE,
    ("GET", "/api/exports/incidents"): frozenset({"planner", "coordinator", "admin"}),
    ("GET", "/api/exports/hotspots"): frozenset({"planner", "coordinator", "admin"}),
    ("GET", "/api/analysis/options"): frozenset({"planner", "coordinator", "admin"}),
    ("GET", "/api/analysis/pack"): frozenset({"planner", "coordinator", "admin"}),
    ("GET", "/api/analysis/pack.{fmt}"): frozenset({"planner", "coordinator", "admin"}),
    ("GET", "/api/analysis/table.csv"): frozenset({"planner", "coordinator", "admin"}),
    ("GET", "/api/analysis/table.gpkg"): frozenset({"planner", "coordinator", "admin"}),
}
# Families off unless configured (404 for every role here): the chat-channel webhooks
# (authenticated by signature, never by role), Open311 and OGC API – Features (their
# own tests cover them switched on).
OFF_PREFIXES = ("/webhooks/", "/open311/", "/ogcapi")
MUTATES = {("POST", "/api/incidents/{ticket}/transitions"),
           ("POST", "/api/incidents/{ticket}/assign"),
           ("POST", "/api/incidents/{ticket}/unassign")}


def _case(client, auth, *, assign: bool = True) -> tuple[str, int]:
    """A case reported with the reporter's contact, verified and (by default) assigned
    to BHB-1003 as lead: (ticket, version)."""
    op = auth["operator"]
    inc = client.post("/api/incidents", headers=op, json={
        "category": "pekat", "description": "Ada judi sabung ayam", "lon": IN_RT1[0],
        "lat": IN_RT1[1], "reporter_name": NAME, "reporter_phone": PHONE}).json()
    t = inc["ticket"]
    v = client.post(f"/api/incidents/{t}/transitions", headers=op,
                    json={"action": "verify", "version": inc["version"]}).json()["version"]
    if assign:
        r = client.post(f"/api/incidents/{t}/assign", headers=auth["dispatcher"], json={
            "version": v, "assignments": [{"team_code": "BHB-1003", "kind": "lead"}]})
        assert r.status_code == 200, r.text
        v = r.json()["incident"]["version"]
    return t, v


def _request(client, auth, world, method: str, path: str, headers: dict):
    t, v = world["ticket"], world["version"]
    if (method, path) in MUTATES:
        t, v = _case(client, auth)  # each request on a fresh case in the same state
    elif path.endswith("/draft"):  # a report still waiting for verification
        inc = client.post("/api/incidents", headers=auth["operator"], json={
            "category": "lainnya", "description": "draf", "lon": IN_RT1[0],
            "lat": IN_RT1[1]}).json()
        t, v = inc["ticket"], inc["version"]
    url = path.replace("{ticket}", t).replace("{code}", "BHB-1003" if "/teams/" in path
                                              else "pkl").replace(
        "{attachment_id}", str(world["attachment"]))
    kw: dict = {"headers": headers}
    if (method, path) == ("POST", "/api/auth/login"):
        kw["json"] = {"username": "planner", "password": "planner123"}
    elif (method, path) == ("POST", "/api/incidents"):
        kw["json"] = {"category": "pkl", "description": "lapak", "lon": IN_RT1[0],
                      "lat": IN_RT1[1]}
    elif path.endswith("/transitions"):
        kw["json"] = {"action": "depart", "version": v}
    elif path.endswith("/unassign"):
        kw["json"] = {"version": v, "team_code": "BHB-1003"}
    elif path.endswith("/assign"):
        kw["json"] = {"version": v, "assignments": [{"team_code": "LMS-1003",
                                                     "kind": "support"}]}
    elif path.endswith("/draft"):
        kw["json"] = {"version": v, "category": "pkl"}
    elif path.endswith("/route"):
        url += "?team=BHB-1003"
    elif path.endswith("/reports") and "{ticket}" in path:
        kw["data"] = {"text": "sudah ditangani"}
        kw["files"] = [("photos", ("a.jpg", io.BytesIO(JPEG), "image/jpeg"))]
    elif path == "/api/intake/whatsapp":
        kw["json"] = {"text": "[21.15, 4/3/2025] Pak RT: ada tawuran di Eka Jaya"}
    elif path.endswith("/position"):
        kw["json"] = {"lon": IN_RT1[0], "lat": IN_RT1[1]}
    elif path == "/api/events":
        url += "?after=0&follow=false"
    elif path == "/api/public/reports":
        kw["json"] = {"category": "pkl", "description": "Lapak di trotoar", "lon": IN_RT1[0],
                      "lat": IN_RT1[1]}
    elif path == "/api/public/photo-reports":
        kw["data"] = {"category": "lainnya", "description": "Lampu jalan mati",
                      "lon": str(IN_RT1[0]), "lat": str(IN_RT1[1])}
        kw["files"] = [("photos", ("a.jpg", io.BytesIO(JPEG), "image/jpeg"))]
    elif path == "/api/public/places":
        url += "?q=Eka%20Jaya"
    elif path == "/api/geocode/reverse":
        url += f"?lon={IN_RT1[0]}&lat={IN_RT1[1]}"
    elif path == "/api/geocode/search":
        url += "?q=Eka%20Jaya"
    elif path.startswith("/api/analysis/") and path != "/api/analysis/options":
        from geo_sigap.analytics.frames import Quarter

        url = url.replace("{fmt}", "html")  # the PDF print is tested with the page
        url += f"?quarter={Quarter.of(__import__('pandas').Timestamp.now(tz='UTC'))}&table=comp"
    elif path == "/webhooks/sms":
        kw["data"] = {"from": "0812", "text": "x"}
    elif method == "POST" and path.startswith("/webhooks/"):
        kw["json"] = {}
    r = client.request(method, url, **kw)
    client.cookies.clear()  # a login answer sets the session cookie: never reuse it
    return r


def _fresh_login(client, role: str) -> dict[str, str]:
    from tests.conftest import PASSWORDS

    r = client.post("/api/auth/login", json={"username": role, "password": PASSWORDS[role]})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def world(client, auth):
    t, v = _case(client, auth)
    r = client.post(f"/api/incidents/{t}/reports", headers=auth["tim_bhb"],
                    data={"text": "foto"},
                    files=[("photos", ("a.jpg", io.BytesIO(JPEG), "image/jpeg"))])
    assert r.status_code == 200, r.text
    att = r.json()["reports"][0]["attachments"][0]["id"]
    v = client.get(f"/api/incidents/{t}", headers=auth["operator"]).json()["version"]
    return {"ticket": t, "version": v, "attachment": att}


def test_every_openapi_route_is_in_the_matrix(client):
    spec = client.get("/openapi.json").json()
    listed = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
              if not p.startswith(OFF_PREFIXES)}
    assert listed - set(MATRIX) == set(), "routes missing from the role matrix"
    assert set(MATRIX) - listed == set(), "matrix lists routes the API no longer has"


def test_each_role_on_each_route(client, auth, world):
    wrong = []
    for role in ROLES:
        spec = client.get("/openapi.json").json()
        off = [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
               if p.startswith(OFF_PREFIXES)]
        for method, path in [*MATRIX, *off]:
            headers = {} if role == "citizen" else dict(auth[role])
            if path == "/api/auth/logout" and role != "citizen":
                headers = _fresh_login(client, role)  # revoked: not the shared token
            r = _request(client, auth, world, method, path, headers)
            if path.startswith(OFF_PREFIXES):
                ok = r.status_code == 404  # off here, whatever the role
            elif role in MATRIX[(method, path)]:
                ok = 200 <= r.status_code < 300  # valid request, case in the right state
            else:
                ok = r.status_code == (401 if role == "citizen" else 403)
            if not ok:
                wrong.append((role, method, path, r.status_code, r.text[:120]))
            if role not in OPERATOR_SIDE:
                # embedded images (the rakor pack's maps) are base64: only readable text is
                # checked. The phone is looked for in every way it can be written (0812-7777-
                # 6666, 081277776666, +62 812 7777 6666); a bare "7777" also turns up by
                # chance in timestamps' microseconds, so it is not a finding on its own.
                text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", r.text)
                digits = re.sub(r"[\s.\-()]", "", text)
                if NAME in text or PHONE in text or "77776666" in digits:
                    wrong.append((role, method, path, "reporter contact leaked"))
    assert wrong == []


def test_team_member_map_holds_only_its_own_cases(client, auth, world):
    """The live map of a team member: its team's open cases and nothing of others
    (tickets, coordinates, description snippets)."""
    theirs, _ = _case(client, auth, assign=False)
    mine = world["ticket"]
    for who, sees, hidden in (("tim_bhb", {mine}, {theirs}),
                              ("tim_bhb2", set(), {mine, theirs}),
                              ("dispatcher", {mine, theirs}, set())):
        body = client.get("/api/map/incidents", headers=auth[who]).json()
        tickets = {row[body["fields"].index("ticket")] for row in body["rows"]}
        assert sees <= tickets and not hidden & tickets, who
        if who == "tim_bhb2":
            assert body["rows"] == []


def test_the_map_feed_names_the_assigned_teams_for_the_incident_board(client, auth, world):
    """Staff see which teams hold each open case (the coordinator's incident board)."""
    theirs, _ = _case(client, auth, assign=False)
    body = client.get("/api/map/incidents", headers=auth["dispatcher"]).json()
    rows = {row[body["fields"].index("ticket")]: row for row in body["rows"]}
    teams = body["fields"].index("teams")
    assert "BHB-1003" in rows[world["ticket"]][teams]
    assert rows[theirs][teams] == []
