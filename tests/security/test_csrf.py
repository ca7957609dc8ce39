"""Cross-site request forgery: a write that carries only the session cookie is refused
(403, in Bahasa Indonesia) when the browser says it comes from another site; the
service's own pages (same origin) and bearer-token API calls are not affected."""

from __future__ import annotations

import io

import pytest

from geo_sigap.web.auth import COOKIE
from tests.conftest import IN_RT1, PASSWORDS
from tests.security._cases import assigned_case

EVIL = {"Origin": "https://evil.example"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def _cookie(client, username: str) -> str:
    r = client.post("/api/auth/login", json={"username": username,
                                             "password": PASSWORDS[username]})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["token"]


def _with_cookie(token: str, **headers) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}", **headers}


def test_cross_site_field_report_with_the_cookie_is_refused(client, auth):
    t, _ = assigned_case(client, auth)
    token = _cookie(client, "tim_bhb")
    before = client.get(f"/api/incidents/{t}", headers=auth["operator"]).json()
    r = client.post(f"/api/incidents/{t}/reports", headers=_with_cookie(token, **EVIL),
                    data={"text": "palsu"},
                    files=[("photos", ("a.jpg", io.BytesIO(JPEG), "image/jpeg"))])
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "cross_site_request"
    assert "situs lain" in err["message"]
    after = client.get(f"/api/incidents/{t}", headers=auth["operator"]).json()
    assert after["version"] == before["version"] and after["reports"] == before["reports"]
    r = client.post(f"/api/incidents/{t}/reports?lang=en",
                    headers=_with_cookie(token, **{"Sec-Fetch-Site": "cross-site"}),
                    data={"text": "palsu"})
    assert r.status_code == 403 and "another site" in r.json()["error"]["message"]


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"}, {"Origin": "null"},
    {"Referer": "https://evil.example/form.html"},
    {"Origin": "http://testserver.evil.example"},
])
def test_every_cookie_write_route_checks_the_origin(client, headers):
    """Every POST/PUT/PATCH/DELETE of the OpenAPI document, sent with the cookie from
    another site, is refused before the route runs."""
    token = _cookie(client, "admin")
    spec = client.get("/openapi.json").json()
    unsafe = [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
              if m.upper() in ("POST", "PUT", "PATCH", "DELETE")]
    assert len(unsafe) > 10
    for method, path in unsafe:
        url = path.replace("{ticket}", "SGP-000000-XXXX").replace("{code}", "BHB-1003")
        r = client.request(method, url, headers=_with_cookie(token, **headers), json={})
        assert r.status_code == 403, (method, path, r.status_code)
        assert r.json()["error"]["code"] == "cross_site_request", path


def test_same_origin_pages_and_bearer_calls_keep_working(client, auth):
    token = _cookie(client, "operator")
    body = {"category": "pkl", "description": "lapak", "lon": IN_RT1[0], "lat": IN_RT1[1]}
    for headers in ({"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
                    {"Origin": "http://testserver"},  # a browser without Sec-Fetch-*
                    {"Referer": "http://testserver/operator"},
                    {"Sec-Fetch-Site": "none"},  # typed by the user, e.g. a bookmark
                    {}):  # no browser headers at all: a script with the cookie
        r = client.post("/api/incidents", headers=_with_cookie(token, **headers), json=body)
        assert r.status_code == 201, (headers, r.text)
    # a bearer token is never added by a browser on its own: not a CSRF vector
    r = client.post("/api/incidents", headers={**auth["operator"], **EVIL,
                                               "Sec-Fetch-Site": "cross-site"}, json=body)
    assert r.status_code == 201
    # reading is not affected
    r = client.get("/api/incidents", headers=_with_cookie(token, **EVIL))
    assert r.status_code == 200


def test_cross_site_sign_in_is_refused(client):
    """Login CSRF: another site must not sign a browser into an account of its choice."""
    r = client.post("/api/auth/login", headers=EVIL,
                    json={"username": "planner", "password": PASSWORDS["planner"]})
    assert r.status_code == 403 and COOKIE not in r.cookies
    r = client.post("/api/auth/login", headers={"Origin": "http://testserver"},
                    json={"username": "planner", "password": PASSWORDS["planner"]})
    assert r.status_code == 200
