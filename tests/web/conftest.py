"""An app with the pages and base-map routes, on a tiny synthetic area (SQLite)."""

from __future__ import annotations

# PROJ and GDAL first: pyproj's/pyogrio's bundled libraries and a SpatiaLite extension
# loaded before them corrupt the heap (crash at exit) in this environment.
import pyogrio  # noqa: F401
import pyproj
import pytest

pyproj.CRS.from_epsg(4326)
from fastapi.testclient import TestClient

from geo_sigap.services import Services
from geo_sigap.settings import Settings
from geo_sigap.storage.units import upsert_units
from geo_sigap.web.app import create_app
from tests.web.area import units, write_roads


def make_app(tmp_path, **overrides):
    overrides.setdefault("warm_up_on_start", False)  # engines built on first use (see make_settings)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", data_dir=tmp_path,
                        road_network=write_roads(tmp_path / "roads.geojson"),
                        secret_key="test-secret-for-web-pages", **overrides)
    services = Services.from_settings(settings)
    with services.db.session() as s:
        upsert_units(s, units())
        s.commit()
    return create_app(settings, services)  # with the pages (web.pages.install)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c
