"""A database on every backend: plain SQLite (WKB), SQLite + SpatiaLite, PostGIS."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from geo_sigap.storage import open_database

POSTGIS_ADMIN_URL = os.environ.get(
    "GEO_SIGAP_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgis_url():
    """A fresh PostGIS database for this session (dropped at the end)."""
    name = f"geo_sigap_f_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGIS_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostGIS unreachable at {POSTGIS_ADMIN_URL}: {exc.__class__.__name__}")
    url = sa.engine.make_url(POSTGIS_ADMIN_URL).set(database=name)
    with sa.create_engine(url).begin() as c:
        c.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    yield url.render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}'"))
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(params=["sqlite", "spatialite", "postgis"])
def db(request, tmp_path):
    """An empty, migrated database on each backend."""
    if request.param == "postgis":
        url = request.getfixturevalue("postgis_url")
        database = open_database(url)
        yield database
        database.dispose()
        eng = sa.create_engine(url)
        with eng.begin() as c:
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public; "
                              "CREATE EXTENSION IF NOT EXISTS postgis"))
        eng.dispose()
        return
    database = open_database(f"sqlite:///{tmp_path / 'g.db'}",
                             spatialite=None if request.param == "spatialite" else False)
    if request.param == "spatialite" and database.spatial != "spatialite":
        pytest.skip("mod_spatialite cannot be loaded here (apt-get install "
                    "libsqlite3-mod-spatialite; pip install pysqlite3-binary)")
    yield database
    database.dispose()
