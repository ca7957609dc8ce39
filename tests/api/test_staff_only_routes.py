"""Geocoding and analytics answer signed-in staff only; citizens get a clear 401."""

import pytest

from tests.conftest import IN_RT1


@pytest.mark.parametrize("path", [
    f"/api/geocode/reverse?lon={IN_RT1[0]}&lat={IN_RT1[1]}",
    "/api/geocode/search?q=Eka%20Jaya",
    "/api/analytics/kpis",
    "/api/analytics/heat",
])
def test_staff_only(client, auth, path):
    r = client.get(path)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    assert "login" in r.json()["error"]["message"].lower()
    r = client.get(path, headers=auth["operator"])
    assert r.status_code == 200, r.text
