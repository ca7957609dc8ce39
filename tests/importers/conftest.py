"""Boundary-import tests: a database on every backend (SQLite WKB and PostGIS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_sigap.storage import open_database
from tests.conftest import _reset_postgis

DATA = Path(__file__).resolve().parents[1] / "data" / "boundaries"


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request, tmp_path):
    """An empty, migrated database on each backend."""
    if request.param == "postgis":
        database = request.getfixturevalue("_postgis_db")
        _reset_postgis(database)
        yield database
        _reset_postgis(database)
        return
    database = open_database(f"sqlite:///{tmp_path / 'g.db'}", spatialite=False)
    yield database
    database.dispose()
