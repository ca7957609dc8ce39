"""Anonymous endpoints are limited per client address; the limit answers 429 in Bahasa."""

from tests.conftest import IN_RT1


def _report(client, n):
    return client.post("/api/public/reports", json={
        "category": "ternak", "description": f"Sapi lepas ke-{n}", "lon": IN_RT1[0] + n * 1e-5,
        "lat": IN_RT1[1]})


def test_citizen_reports_are_limited_per_hour(client):
    client.app.state.settings.public_reports_per_hour = 3
    try:
        codes = [_report(client, n).status_code for n in range(4)]
        assert codes[:3] == [201, 201, 201]
        r = _report(client, 9)
        assert r.status_code == 429
        body = r.json()["error"]
        assert body["code"] == "too_many_requests" and "per jam" in body["message"]
        assert body["details"]["retry_after_s"] > 0
    finally:
        client.app.state.settings.public_reports_per_hour = 20


def test_status_lookups_are_limited(client):
    client.app.state.settings.public_status_per_hour = 2
    try:
        assert client.get("/api/public/status/SGP-000000-XXXX").status_code == 404
        assert client.get("/api/public/status/SGP-000000-YYYY").status_code == 404
        assert client.get("/api/public/status/SGP-000000-ZZZZ").status_code == 429
    finally:
        client.app.state.settings.public_status_per_hour = 300
