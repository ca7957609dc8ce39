"""A database on every backend: plain SQLite (WKB), SQLite + SpatiaLite, PostGIS.

PostGIS is the session database of ``tests/conftest.py``, truncated before each test.
"""

from __future__ import annotations

import pytest

from geo_sigap.storage import open_database
from tests.conftest import _reset_postgis


@pytest.fixture(params=["sqlite", pytest.param("spatialite", marks=pytest.mark.spatialite),
                        pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request, tmp_path):
    """An empty, migrated database on each backend."""
    if request.param == "postgis":
        database = request.getfixturevalue("_postgis_db")
        _reset_postgis(database)
        yield database
        _reset_postgis(database)
        return
    database = open_database(f"sqlite:///{tmp_path / 'g.db'}",
                             spatialite=None if request.param == "spatialite" else False)
    if request.param == "spatialite" and database.spatial != "spatialite":
        pytest.skip("mod_spatialite cannot be loaded here (apt-get install "
                    "libsqlite3-mod-spatialite; pip install pysqlite3-binary)")
    yield database
    database.dispose()
