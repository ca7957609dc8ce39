"""Sessions: sign-in throttling, logout, expired tokens, cookie flags, no token in the
query string, and no open redirect after sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from geo_sigap.web.ratelimit import LoginThrottle


def _login(client, username, password):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_repeated_failures_lock_the_username_from_that_address(client):
    for _ in range(5):
        assert _login(client, "planner", "salah-terus").status_code == 401
    r = _login(client, "planner", "planner123")  # even the right password waits now
    assert r.status_code == 429
    body = r.json()["error"]
    assert body["code"] == "too_many_requests" and "percobaan masuk" in body["message"]
    assert int(r.headers["Retry-After"]) >= 1
    assert body["details"]["retry_after_s"] >= 1
    # other accounts from the same address are not locked out
    assert _login(client, "operator", "operator123").status_code == 200
    # case and spaces do not give an attacker a fresh counter
    assert _login(client, " PLANNER ", "planner123").status_code == 429


def test_unknown_usernames_are_throttled_the_same(client):
    for _ in range(5):
        assert _login(client, "tidak-ada", "x").status_code == 401
    assert _login(client, "tidak-ada", "x").status_code == 429


def test_throttle_backs_off_and_releases():
    th = LoginThrottle(max_failures=3, base_lock_s=30, max_lock_s=120, window_s=900)
    for t in range(3):
        assert th.wait_s("budi", "1.2.3.4", now=float(t)) is None
        th.failed("budi", "1.2.3.4", now=float(t))
    assert th.wait_s("budi", "1.2.3.4", now=3.0) == pytest.approx(29.0)
    assert th.wait_s("budi", "5.6.7.8", now=3.0) is None  # another address
    th.failed("budi", "1.2.3.4", now=40.0)  # one more failure doubles the lock
    assert th.wait_s("budi", "1.2.3.4", now=40.0) == pytest.approx(60.0)
    assert th.wait_s("budi", "1.2.3.4", now=101.0) is None
    th.succeeded("budi", "1.2.3.4")
    th.failed("budi", "1.2.3.4", now=102.0)
    assert th.wait_s("budi", "1.2.3.4", now=102.0) is None  # counter was cleared


def test_one_address_spraying_many_usernames_is_locked():
    th = LoginThrottle(max_failures=5, max_client_failures=10)
    for i in range(10):
        th.failed(f"user{i}", "9.9.9.9", now=float(i))
    assert th.wait_s("someone-else", "9.9.9.9", now=11.0) is not None
    assert th.wait_s("someone-else", "8.8.8.8", now=11.0) is None


def test_session_cookie_flags(client):
    r = _login(client, "planner", "planner123")
    cookie = r.headers["set-cookie"]
    assert "sigap_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # plain http (tests); see the https case below
    client.cookies.clear()
    r = client.post("https://testserver/api/auth/login",
                    json={"username": "planner", "password": "planner123"})
    assert "Secure" in r.headers["set-cookie"]
    out = client.post("https://testserver/api/auth/logout",
                      headers={"Authorization": f"Bearer {r.json()['token']}"})
    gone = out.headers["set-cookie"]
    assert "sigap_session=" in gone and "Max-Age=0" in gone
    assert "HttpOnly" in gone and "Secure" in gone


def test_logout_revokes_token_and_cookie_session(client):
    r = _login(client, "coordinator", "coordinator123")
    token = r.json()["token"]
    assert client.get("/api/auth/me").status_code == 200  # cookie session
    client.post("/api/auth/logout")  # signs out the cookie's token
    client.cookies.clear()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=h).status_code == 401
    assert client.get("/api/incidents", headers=h).status_code == 401


def test_expired_token_is_refused(client, services):
    from sqlalchemy import update

    from geo_sigap.storage.tables import TokenRow, utcnow

    token = _login(client, "operator", "operator123").json()["token"]
    client.cookies.clear()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=h).status_code == 200
    with services.db.session() as s:
        s.execute(update(TokenRow).values(expires_at=utcnow() - timedelta(minutes=1)))
    r = client.get("/api/auth/me", headers=h)
    assert r.status_code == 401 and "kedaluwarsa" in r.json()["error"]["message"]


def test_token_in_query_string_is_not_accepted(client):
    token = _login(client, "operator", "operator123").json()["token"]
    client.cookies.clear()
    for q in ("token", "access_token", "authorization"):
        assert client.get(f"/api/incidents?{q}={token}").status_code == 401
        assert client.get(f"/api/events?follow=false&{q}={token}").status_code == 401


def _next_of(client, value: str) -> str:
    r = client.get("/masuk", params={"next": value})
    assert r.status_code == 200
    return re.search(r'"next": "([^"]*)"', r.text).group(1)


@pytest.mark.parametrize("value", [
    "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "https://evil.example/", "javascript:alert(1)", "\\\\evil.example", " /peta"])
def test_login_next_is_never_an_outside_address(client, value):
    assert _next_of(client, value) == ""


def test_login_next_keeps_local_paths(client):
    assert _next_of(client, "/dispatch/SGP-1?lang=en") == "/dispatch/SGP-1?lang=en"
    assert _next_of(client, "/peta") == "/peta"


def test_pages_send_a_strict_csp(client):
    for path in ("/masuk", "/peta", "/operator", "/lapangan", "/lapor", "/status",
                 "/status/SGP-1", "/dispatch/SGP-1"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "object-src 'none'" in csp and "unsafe-eval" not in csp, path
        assert r.headers["x-content-type-options"] == "nosniff"
