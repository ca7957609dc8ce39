"""An acknowledged report must survive a power cut: SQLite commits with
``synchronous=FULL`` (WAL fsync'd at every commit) unless configured otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo_sigap.errors import ConfigError
from geo_sigap.storage import open_database


def _pragma(db) -> tuple[int, str]:
    with db.engine.connect() as c:
        return (c.execute(text("PRAGMA synchronous")).scalar(),
                c.execute(text("PRAGMA journal_mode")).scalar())


def test_sqlite_commits_are_durable_by_default(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}", spatialite=False)
    try:
        assert _pragma(db) == (2, "wal")  # 2 = FULL
    finally:
        db.dispose()


def test_services_use_the_setting(tmp_path):
    from geo_sigap.services import Services
    from tests.conftest import make_settings

    for value, expected in (("full", 2), ("normal", 1)):
        settings = make_settings(f"sqlite:///{tmp_path / (value + '.db')}", tmp_path,
                                 sqlite_synchronous=value, spatialite=False)
        services = Services.from_settings(settings)
        try:
            assert _pragma(services.db)[0] == expected
        finally:
            services.close()
    with pytest.raises(ConfigError):
        open_database(f"sqlite:///{tmp_path / 'b.db'}", spatialite=False, synchronous="off")
