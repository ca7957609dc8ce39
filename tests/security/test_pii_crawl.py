"""No reporter name or phone leaves the operator side: every GET endpoint of the app
(found from the app's own routes, so new endpoints are crawled too), the SSE stream and
the pages are fetched as a team member, a planner and an anonymous citizen, and none of
the answers may contain a reporter's distinctive name or phone number."""

from __future__ import annotations

import io
import re

import pytest
from starlette.routing import Mount

from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2

NAME, PHONE = "Zulkarnaen Pelaporrahasia", "0813-9191-2727"
CITIZEN_NAME, CITIZEN_PHONE = "Wartini Wargarahasia", "0857-4646-3838"
SECRETS = (NAME, PHONE, "9191-2727", "91912727", CITIZEN_NAME, CITIZEN_PHONE, "4646-3838",
           "46463838", "Pelaporrahasia", "Wargarahasia")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe"
       b"\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
# query strings for GET routes with required parameters
EXTRA_QUERY = {
    "/api/incidents/{ticket}/route": "team=BHB-1003",
    "/api/geocode/reverse": f"lon={IN_RT1[0]}&lat={IN_RT1[1]}",
    "/api/geocode/search": "q=Eka%20Jaya",
    "/api/events": "after=0&follow=false",
}


def _ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def world(client, auth):
    """Cases in every state a role can meet, all reported with contact details: a
    dispatched case with a field report and photo, a resolved one, a rejected one, a
    duplicate, and a citizen's web report."""
    op, disp, coord = auth["operator"], auth["dispatcher"], auth["coordinator"]

    def report(point, category="pekat", **extra):
        return _ok(client.post("/api/incidents", headers=op, json={
            "category": category, "description": "Ada judi di pos ronda", "lon": point[0],
            "lat": point[1], "reporter_name": NAME, "reporter_phone": PHONE, **extra}), 201)

    def step(t, who, action, version, **extra):
        return _ok(client.post(f"/api/incidents/{t}/transitions", headers=who,
                               json={"action": action, "version": version, **extra}))

    def dispatch(inc, team="BHB-1003"):
        v = step(inc["ticket"], op, "verify", inc["version"])["version"]
        out = _ok(client.post(f"/api/incidents/{inc['ticket']}/assign", headers=disp, json={
            "version": v, "assignments": [{"team_code": team, "kind": "lead"}]}))
        return out["incident"]

    active = dispatch(report(IN_RT1))
    t = active["ticket"]
    v = step(t, auth["tim_bhb"], "depart", active["version"])["version"]
    v = step(t, auth["tim_bhb"], "arrive", v)["version"]
    r = client.post(f"/api/incidents/{t}/reports", headers=auth["tim_bhb"],
                    data={"text": "Sudah dibubarkan"},
                    files=[("photos", ("tkp.png", io.BytesIO(PNG), "image/png"))])
    active = _ok(r)
    attachment = active["reports"][0]["attachments"][0]["id"]
    report(IN_RT1)  # a duplicate of the active case
    done = dispatch(report(IN_RT2, "keributan"))
    v = done["version"]
    for action in ("depart", "arrive", "handle"):
        v = step(done["ticket"], auth["tim_bhb"], action, v,
                 **({"reason": "Massa bubar sebelum foto diambil"} if action == "handle"
                    else {}))["version"]
    step(done["ticket"], coord, "resolve", v, note="Selesai dimediasi")
    rejected = report(IN_KEL_B, "pkl")
    step(rejected["ticket"], op, "reject", rejected["version"], reason="Hoaks")
    citizen = _ok(client.post("/api/public/reports", json={
        "category": "ternak", "description": "Sapi lepas di jalan", "lon": IN_RT2[0],
        "lat": IN_RT2[1], "reporter_name": CITIZEN_NAME,
        "reporter_phone": CITIZEN_PHONE}), 201)
    _ok(client.post("/api/teams/BHB-1003/position", headers=auth["tim_bhb"],
                    json={"lon": IN_RT1[0], "lat": IN_RT1[1]}))
    # positive control: the operator side does see the contact details
    assert _ok(client.get(f"/api/incidents/{t}", headers=op))["reporter_phone"] == PHONE
    return {"tickets": [t, done["ticket"], rejected["ticket"], citizen["ticket"]],
            "attachment": attachment}


def _routes(routes, prefix: str = ""):
    """(path, route) of every route, inside included routers too (FastAPI ≥ 0.13x wraps
    them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            ctx = getattr(route, "include_context", None)
            yield from _routes(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""))
        elif not isinstance(route, Mount):
            yield prefix + route.path, route


def _get_paths(app, world) -> list[str]:
    """Every GET path of the app with its parameters filled in (one path per ticket)."""
    out = []
    for path, route in _routes(app.routes):
        if "GET" not in (getattr(route, "methods", None) or ()):
            continue
        params = set(re.findall(r"{(\w+)}", path))
        unknown = params - {"ticket", "attachment_id", "code", "collection_id", "feature_id",
                            "fmt"}
        assert not unknown, f"crawl does not know how to fill {unknown} in {path}"
        fills = [path]
        if "ticket" in params:
            fills = [p.replace("{ticket}", t) for p in fills for t in world["tickets"]]
        fills = [p.replace("{attachment_id}", str(world["attachment"]))
                 .replace("{code}", "BHB-1003").replace("{collection_id}", "incidents")
                 .replace("{feature_id}", world["tickets"][0])
                 .replace("{fmt}", "html") for p in fills]
        q = EXTRA_QUERY.get(path)
        out += [f"{p}?{q}" if q else p for p in fills]
    return out


@pytest.mark.parametrize("who", ["tim_bhb", "planner", "citizen"])
def test_no_reporter_contact_outside_the_operator_side(client, auth, world, who):
    headers = {} if who == "citizen" else auth[who]
    paths = _get_paths(client.app, world)
    assert any("/api/events" in p for p in paths) and any("/status/" in p for p in paths)
    answered = 0
    for path in paths:
        for lang in ("id", "en"):
            r = client.get(path, headers={**headers, "Accept-Language": lang})
            assert r.status_code < 500, (path, r.status_code, r.text[:300])
            body = r.text
            for secret in SECRETS:
                assert secret not in body, (who, path, secret)
            answered += r.status_code == 200
    # not vacuous: each role reads real data (cases, the event stream, public status …)
    assert answered >= 20, answered
    if who != "citizen":
        listed = client.get("/api/incidents", headers=headers).json()["items"]
        assert listed and all("reporter_phone" not in x for x in listed)
        sse = client.get("/api/events?after=0&follow=false", headers=headers).text
        assert "event: incident" in sse


def test_team_message_and_events_carry_no_reporter_contact(client, auth, world):
    """The WhatsApp message sent to a team (outside the operator side) and the live
    events never hold the reporter's name or phone, even for the coordinator."""
    inc = client.get(f"/api/incidents/{world['tickets'][0]}", headers=auth["coordinator"])
    messages = [a["message"] for a in inc.json()["assignments"]]
    assert messages and all(m and "Tiket:" in m for m in messages)
    for m in messages:
        assert not any(s in m for s in SECRETS)
    sse = client.get("/api/events?after=0&follow=false", headers=auth["coordinator"]).text
    assert "event: incident" in sse and not any(s in sse for s in SECRETS)


def test_invalid_phone_is_not_echoed(client, auth):
    """An error about a reporter's phone does not repeat the number (error bodies end up
    in logs, proxies and error trackers)."""
    bad = "0813-XX-" + "5" * 8
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pekat", "description": "x", "lon": IN_RT1[0], "lat": IN_RT1[1],
        "reporter_phone": bad})
    assert r.status_code == 422
    assert bad not in r.text and "55555555" not in r.text
    assert "telepon" in r.json()["error"]["message"].lower()
