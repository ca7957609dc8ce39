"""Standards tests: Open311 and OGC API – Features switched on, on the fixture area."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings

API_KEY = "open311-key-for-tests"


@pytest.fixture
def std_services(area_db, db_url, tmp_path):
    from geo_sigap.domain.categories import load_categories
    from geo_sigap.services import Services

    settings = make_settings(db_url, tmp_path / "data", open311_enabled=True,
                             open311_api_keys=f"other-key, {API_KEY}",
                             open311_jurisdiction_id="kotajambi.go.id", ogcapi_enabled=True,
                             warm_up_on_start=False)
    return Services(settings, area_db, load_categories())


@pytest.fixture
def client(std_services):
    from fastapi.testclient import TestClient

    from geo_sigap.web.app import create_app

    with TestClient(create_app(std_services.settings, std_services)) as c:
        yield c
