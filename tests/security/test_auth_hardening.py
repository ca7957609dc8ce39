"""Sessions: sign-in throttling, logout, expired tokens, cookie flags, no token in the
query string, and no open redirect after sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from geo_sigap.web.ratelimit import LoginThrottle


def _login(client, username, password):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_repeated_failures_slow_down_that_account(client):
    client.app.state.login_throttle = LoginThrottle(base_delay_s=30)
    for _ in range(5):
        assert _login(client, "planner", "salah-terus").status_code == 401
    r = _login(client, "planner", "planner123")  # even the right password waits now
    assert r.status_code == 429
    body = r.json()["error"]
    assert body["code"] == "too_many_requests" and "percobaan masuk" in body["message"]
    assert "akun ini" in body["message"] and "30 detik" in body["message"]
    assert int(r.headers["Retry-After"]) >= 1
    assert body["details"]["retry_after_s"] >= 1
    # other accounts from the same address (one posko behind a NAT) are not locked out
    assert _login(client, "operator", "operator123").status_code == 200
    # case and spaces do not give an attacker a fresh counter
    assert _login(client, " PLANNER ", "planner123").status_code == 429


def test_another_address_gets_no_fresh_counter(client):
    """Per account, whatever the address: a rotating X-Forwarded-For (or a botnet)
    does not reset the delay; the forwarded header is not trusted anyway."""
    client.app.state.login_throttle = LoginThrottle(base_delay_s=30)
    for i in range(5):
        r = client.post("/api/auth/login", headers={"X-Forwarded-For": f"10.0.0.{i}"},
                        json={"username": "planner", "password": "salah"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", headers={"X-Forwarded-For": "10.9.9.9"},
                    json={"username": "planner", "password": "planner123"})
    assert r.status_code == 429


def test_unknown_usernames_are_throttled_the_same(client):
    client.app.state.login_throttle = LoginThrottle(base_delay_s=30)
    for _ in range(5):
        assert _login(client, "tidak-ada", "x").status_code == 401
    assert _login(client, "tidak-ada", "x").status_code == 429


def test_throttle_delay_grows_and_releases():
    th = LoginThrottle(free_failures=3, base_delay_s=2, max_delay_s=16, window_s=3600)
    for t in range(3):
        assert th.wait_s("budi", now=float(t)) is None
        th.failed("budi", now=float(t))
    assert th.wait_s("budi", now=2.5) == pytest.approx(1.5)  # 2 s after the 3rd failure
    assert th.wait_s("budi", now=4.0) is None
    delays = []
    now = 4.0
    for _ in range(5):  # each further failure doubles the wait, up to the cap
        th.failed("budi", now=now)
        delays.append(th.wait_s("budi", now=now))
        now += delays[-1]
    assert delays == pytest.approx([4, 8, 16, 16, 16])
    assert th.wait_s("Budi ", now=now - 1) is not None  # same account, any spelling
    assert th.wait_s("ani", now=now - 1) is None  # other accounts unaffected
    th.succeeded("budi")
    th.failed("budi", now=now)
    assert th.wait_s("budi", now=now) is None  # the counter was cleared
    th.failed("siti", now=0.0)
    for t in range(4):
        th.failed("siti", now=3000.0 + t)
    assert th.wait_s("siti", now=3650.0) is None  # the oldest failure left the window


def test_no_lock_on_a_whole_address():
    """50 failures of many usernames from one address (a NAT'ed posko): every account
    that did not fail itself signs in at once."""
    th = LoginThrottle()
    for i in range(50):
        th.failed(f"user{i % 10}", now=float(i))
    assert th.wait_s("operator", now=49.5) is None
    assert th.wait_s("user9", now=49.5) is not None  # 5 failures, the last at 49 s


def test_serve_trusts_forwarded_headers_only_from_listed_proxies(monkeypatch, tmp_path):
    """``geo-sigap serve`` hands uvicorn the proxies from the settings: none by default
    (uvicorn alone would trust 127.0.0.1)."""
    import uvicorn
    from typer.testing import CliRunner

    from geo_sigap.cli.main import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.setenv("GEO_SIGAP_SECRET_KEY", "serve-test-secret-0123456789")
    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("GEO_SIGAP_FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert calls[-1]["proxy_headers"] is False and calls[-1]["forwarded_allow_ips"] == ""
    monkeypatch.setenv("GEO_SIGAP_FORWARDED_ALLOW_IPS", "10.1.2.3, 10.1.2.4")
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert calls[-1]["proxy_headers"] is True
    assert calls[-1]["forwarded_allow_ips"] == "10.1.2.3,10.1.2.4"


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


def test_the_production_hasher_keeps_argon2s_full_cost(_light_password_hasher):
    """Tests sign in with a light hash (tests/conftest.py); the service's own hasher is
    argon2id at RFC 9106's low-memory profile, and a password hashed with it verifies."""
    from argon2 import Type, extract_parameters, profiles

    production = _light_password_hasher
    stored = production.hash("kata-sandi-panjang-1")
    params = extract_parameters(stored)
    full = profiles.RFC_9106_LOW_MEMORY
    assert params.type is Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        full.time_cost, full.memory_cost, full.parallelism)
    assert production.verify(stored, "kata-sandi-panjang-1")
