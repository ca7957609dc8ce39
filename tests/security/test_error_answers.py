"""Answers to bad input found by fuzzing: 4xx in one language per locale, never a 500;
and words, not just a flag, for a staff report outside the service area."""

from __future__ import annotations

import pytest

from tests.conftest import IN_RT1

ENGLISH_WORDS = ("should", "String", "Input", "valid", "must be", "at most", "at least")


@pytest.mark.parametrize("path", [
    "/api/attachments/9223372036854775808", "/api/attachments/66756196036",
    "/api/attachments/2147483648", "/api/attachments/0", "/api/attachments/-5",
    "/api/events?after=0.5&follow=false", "/api/events?after=99999999999999999999",
])
def test_out_of_range_integers_are_422(client, auth, path):
    r = client.get(path, headers=auth["operator"])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_input"


def test_a_real_attachment_id_still_works_and_a_missing_one_is_404(client, auth):
    r = client.get("/api/attachments/2147483647", headers=auth["operator"])
    assert r.status_code == 404


def test_every_integer_path_parameter_is_bounded(client):
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for p in op.get("parameters", []):
                schema = p.get("schema", {})
                if p["in"] == "path" and schema.get("type") == "integer":
                    assert schema.get("maximum", 2**63) <= 2**31 - 1, (path, p["name"])
                    assert schema.get("minimum", -1) >= 0, (path, p["name"])


@pytest.mark.parametrize("path", [
    "/api/analytics/hotspots?kecamatan=zzz", "/api/analytics/hotspots?kecamatan=zzz&level=rt",
    "/api/analytics/heat?kecamatan=zzz", "/api/analytics/kpis?kecamatan=zzz",
    "/api/analytics/hotspots?kecamatan=15.71.11",  # a real area with no incidents
])
def test_empty_analytics_area_is_not_a_server_error(client, auth, path):
    r = client.get(path, headers=auth["planner"])
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["error"]["message"]


def test_validation_messages_are_all_indonesian_or_all_english(client, auth):
    body = {"category": "pkl", "description": "x" * 4001, "lon": "abc", "lat": IN_RT1[1],
            "priority": "lima"}
    r = client.post("/api/incidents", headers=auth["operator"], json=body)
    assert r.status_code == 422
    msg = r.json()["error"]["message"]
    assert "paling banyak 4.000 karakter" in msg or "terlalu panjang" in msg, msg
    assert not any(w in msg for w in ENGLISH_WORDS), msg
    r = client.post("/api/incidents?lang=en", headers=auth["operator"], json=body)
    assert "Nilai" not in r.json()["error"]["message"]
    r = client.get("/api/incidents?limit=0", headers=auth["operator"])
    msg = r.json()["error"]["message"]
    assert r.status_code == 422 and "harus paling kecil 1" in msg, msg


def test_sizes_are_in_one_unit(client, auth, services):
    """MB (10⁶ bytes) everywhere, Indonesian decimal comma."""
    big = b"x" * (services.settings.max_body_bytes + 10)
    r = client.post("/api/incidents", headers={**auth["operator"],
                                               "Content-Type": "application/json"},
                    content=big)
    assert r.status_code == 413
    msg = r.json()["error"]["message"]
    assert "1,0 MB" in msg and "MiB" not in msg, msg


@pytest.mark.parametrize("lon,lat,words", [
    (0, 0, "0, 0"),
    (106.8272, -6.1754, "km dari batasnya"),  # Jakarta: another city
])
def test_staff_report_outside_the_area_is_kept_with_a_warning_in_words(client, auth, lon,
                                                                        lat, words):
    r = client.post("/api/incidents", headers=auth["operator"], json={
        "category": "pkl", "description": "lapak", "lon": lon, "lat": lat})
    assert r.status_code == 201, r.text
    body = r.json()
    assert "outside_coverage" in body["placement"]["flags"] or body.get("flags")
    assert any(words in w for w in body["warnings"]), body["warnings"]
    assert any("periksa titik pada peta" in w.lower() for w in body["warnings"])
    r = client.post("/api/incidents?lang=en", headers=auth["operator"], json={
        "category": "pkl", "description": "lapak 2", "lon": lon, "lat": lat})
    assert any("check the point on the map" in w.lower() for w in r.json()["warnings"])


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-3", "1e9"])
def test_a_number_is_not_a_time(client, auth, value):
    """``since=0.5`` was read as 1970-01-01T00:00:00.5Z; a time in a query is ISO 8601."""
    r = client.get(f"/api/incidents?since={value}", headers=auth["operator"])
    assert r.status_code == 422, r.text
    msg = r.json()["error"]["message"]
    assert "waktu tidak sah" in msg and not any(w in msg for w in ENGLISH_WORDS), msg


def test_an_iso_time_is_still_a_time(client, auth):
    r = client.get("/api/incidents?since=2026-01-01T00:00:00%2B07:00", headers=auth["operator"])
    assert r.status_code == 200, r.text
