"""Boundary-import tests: a database on every backend (SQLite WKB and PostGIS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import backend_database

DATA = Path(__file__).resolve().parents[1] / "data" / "boundaries"


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request, tmp_path):
    """An empty, migrated database on each backend."""
    yield from backend_database(request, tmp_path)
