"""Storage tests: a database on every backend (SQLite WKB and PostGIS), and fresh
PostGIS databases of their own for migration tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGIS_ADMIN_URL, backend_database, postgis_required


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request, tmp_path):
    """An empty, migrated database on each backend."""
    yield from backend_database(request, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def empty_url(request, tmp_path):
    """The URL of a new database with nothing in it (not migrated); PostGIS: created for
    the test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    import os

    name = f"geo_sigap_test_mig_{os.getpid()}"
    admin = sa.create_engine(POSTGIS_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        msg = f"PostGIS unreachable at {POSTGIS_ADMIN_URL}: {exc.__class__.__name__}"
        if postgis_required():
            pytest.fail(msg)
        pytest.skip(msg)
    url = sa.engine.make_url(POSTGIS_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}'"))
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
