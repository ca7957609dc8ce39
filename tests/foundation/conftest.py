"""A database on every backend: plain SQLite (WKB), SQLite + SpatiaLite, PostGIS.

PostGIS is the session database of ``tests/conftest.py``, truncated before each test.
"""

from __future__ import annotations

import pytest

from tests.conftest import backend_database


@pytest.fixture(params=["sqlite", pytest.param("spatialite", marks=pytest.mark.spatialite),
                        pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request, tmp_path):
    """An empty, migrated database on each backend."""
    yield from backend_database(request, tmp_path)
