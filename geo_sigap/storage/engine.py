"""Opening a database: SQLite file (embedded default) or PostgreSQL/PostGIS.

:func:`open_database` builds the engine, loads SpatiaLite where ``mod_spatialite`` is
present, and brings the schema to the newest alembic revision.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from geo_sigap.errors import ConfigError

log = logging.getLogger(__name__)

SPATIALITE_NAMES = ("mod_spatialite", "mod_spatialite.so", "libspatialite")


def _sqlite_module(spatialite: bool | None):
    """The DB-API module for SQLite.

    The standard library's ``sqlite3`` when it can load extensions (or SpatiaLite is not
    wanted); otherwise ``pysqlite3`` (the ``pysqlite3-binary`` wheel) if installed, so that
    ``mod_spatialite`` can be loaded; otherwise the standard module without SpatiaLite.
    """
    if spatialite is not False:
        _bind_geo_libraries()
    if spatialite is False or hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        import pysqlite3.dbapi2 as module  # type: ignore[import-not-found]
    except ImportError:
        return sqlite3
    return module


def _bind_geo_libraries() -> None:
    """Import the wheels that bundle their own GEOS/PROJ/GDAL before SpatiaLite loads.

    SQLite loads extensions with ``RTLD_GLOBAL``, so the system ``libgeos``/``libproj``
    that ``mod_spatialite`` pulls in would take precedence over the copies inside the
    shapely/pyproj/pyogrio wheels loaded *afterwards* (seen as corrupted WKB and
    ``free(): invalid pointer``). Loading those wheels first binds their own copies.
    """
    import pyproj
    import shapely  # noqa: F401

    _bind_gdal()
    pyproj.CRS.from_epsg(4326)  # opens PROJ's database with the wheel's own libproj


def _bind_gdal() -> None:
    """Load the GDAL bundled in the pyogrio wheel (``pyogrio.libs/libgdal-*.so``, all its
    symbols bound now) without importing pyogrio itself, whose import also brings in
    pandas and geopandas (~0.4 s of every service start before ``/health``; the warm-up
    imports them later). pyogrio's modules then find that library already loaded. Any
    other layout (no ``pyogrio.libs``, another platform): ``import pyogrio`` as before."""
    import ctypes
    import importlib.util
    import os

    spec = importlib.util.find_spec("pyogrio")
    libs = [Path(p).parent / "pyogrio.libs" for p in (spec.submodule_search_locations or [])
            ] if spec else []
    gdal = sorted(f for d in libs if d.is_dir() for f in d.glob("libgdal-*.so*"))
    if len(gdal) == 1 and hasattr(os, "RTLD_NOW"):
        try:
            ctypes.CDLL(str(gdal[0]), mode=os.RTLD_NOW | os.RTLD_LOCAL)
            return
        except OSError:
            pass
    import pyogrio  # noqa: F401


def _try_load_spatialite(dbapi_conn) -> bool:
    try:
        dbapi_conn.enable_load_extension(True)
    except Exception:  # noqa: BLE001 - AttributeError, or sqlite3.Error of either module
        return False
    try:
        for name in SPATIALITE_NAMES:
            try:
                dbapi_conn.load_extension(name)
                return True
            except Exception:  # noqa: BLE001 - sqlite3.Error of either module
                continue
        return False
    finally:
        try:
            dbapi_conn.enable_load_extension(False)
        except Exception:  # noqa: BLE001
            pass


@dataclass
class Database:
    """An engine plus a session factory, and what the backend can do."""

    engine: Engine
    sessions: sessionmaker[Session]
    spatial: str  # "postgis", "spatialite" or "wkb"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        s = self.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()


SYNCHRONOUS = ("full", "normal")


def make_engine(url: str, *, spatialite: bool | None = None,
                synchronous: str = "full") -> tuple[Engine, str]:
    """Create the engine; return it with the spatial mode it runs in.

    ``spatialite=None`` tries ``mod_spatialite`` and falls back to WKB blobs;
    ``False`` never loads it (used by tests to cover the plain-SQLite path).

    SQLite runs in WAL mode with ``synchronous=FULL`` by default: every commit is on
    disk (fsync of the WAL) before it returns, so an acknowledged report survives a
    power cut, not only a crash of the process (``normal``: a crash is survived, a
    power cut may lose the last commits; cheaper — see ``benchmarks.api``).
    """
    synchronous = synchronous.strip().lower()
    if synchronous not in SYNCHRONOUS:
        raise ConfigError(f"sqlite_synchronous harus full atau normal, bukan {synchronous!r}",
                          f"sqlite_synchronous must be full or normal, not {synchronous!r}")
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            u,
            module=_sqlite_module(spatialite),
            connect_args={"check_same_thread": False, "timeout": 30},
            # the connection used last is handed out next: its page cache is still good
            # after its own commit (any other connection's is dropped whole by SQLite when
            # the database has changed), which saved ~40 page reads per report
            pool_use_lifo=True,
            hide_parameters=True,  # never print reporters' names/phones in errors and logs
            future=True,
        )
        mode = {"value": "wkb"}

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised via engine
            if spatialite is not False and _try_load_spatialite(dbapi_conn):
                mode["value"] = "spatialite"
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        with engine.connect():
            pass
        engine.dialect.geo_sigap_spatialite = mode["value"] == "spatialite"
        return engine, mode["value"]
    if u.get_backend_name() == "postgresql":
        import geoalchemy2  # noqa: F401 - PostGIS types and DDL events (storage.geometry)

        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        engine = create_engine(u, pool_pre_ping=True, pool_size=10, max_overflow=10,
                               hide_parameters=True, future=True)
        try:
            with engine.begin() as conn:
                has = conn.execute(
                    text("SELECT 1 FROM pg_extension WHERE extname='postgis'")
                ).scalar()
                if not has:
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(
                f"PostgreSQL di {u.render_as_string(hide_password=True)} tidak dapat dipakai: "
                f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}. PostGIS harus terpasang "
                "(apt-get install postgresql-15-postgis-3).",
                f"Cannot use PostgreSQL at {u.render_as_string(hide_password=True)}: "
                f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}. PostGIS must be "
                "installed (apt-get install postgresql-15-postgis-3).",
            ) from exc
        return engine, "postgis"
    raise ConfigError(
        f"Basis data tidak didukung: {u.get_backend_name()} (pakai sqlite atau postgresql)",
        f"Unsupported database: {u.get_backend_name()} (use sqlite or postgresql)",
    )


def open_database(url: str, *, migrate: bool = True, spatialite: bool | None = None,
                  synchronous: str = "full") -> Database:
    """Open (and by default migrate) the database at ``url``."""
    engine, mode = make_engine(url, spatialite=spatialite, synchronous=synchronous)
    if migrate:
        from geo_sigap.storage.migrate import upgrade

        upgrade(engine)
    if engine.dialect.name == "sqlite":
        mode = _stored_spatial_mode(engine) or mode
        # A file created without SpatiaLite keeps WKB blobs even if SpatiaLite appears later.
        engine.dialect.geo_sigap_spatialite = mode == "spatialite"
    return Database(engine, sessionmaker(engine, expire_on_commit=False), mode)


def _stored_spatial_mode(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT value FROM geo_sigap_meta WHERE key='spatial'")
            ).scalar()
    except Exception:  # noqa: BLE001 - table absent before the first migration
        return None
