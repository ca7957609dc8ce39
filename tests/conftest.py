"""Shared fixtures: a database on SQLite and on PostGIS, services on a tiny area, an API
client and signed-in users.

The area (``tiny_units``) is drawn around the hand-made road network
``tests/data/routing/tiny.osm`` (lon 103.600–103.621, lat −1.621…−1.619): kecamatan
Paal Merah (15.71.11) with two kelurahan split at lon 103.6009; kelurahan 1003 has one
RW with two RT (split at lat −1.6195). Teams sit on the network's nodes.

PostGIS: ``GEO_SIGAP_TEST_POSTGIS_URL`` (default ``postgresql+psycopg://postgres@
127.0.0.1:5432/test``) is used to create a database ``geo_sigap_test_<pid>`` for the
session (dropped at the end). When PostGIS is unreachable the postgis cases skip, or
fail when ``CI=true`` or ``GEO_SIGAP_REQUIRE_POSTGIS=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import box

TESTS = Path(__file__).resolve().parent
TINY_OSM = TESTS / "data" / "routing" / "tiny.osm"
POSTGIS_ADMIN_URL = os.environ.get(
    "GEO_SIGAP_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KEL_A, KEL_B = "15.71.11.1003", "15.71.11.1004"
RW_A = KEL_A + ".RW001"
RT_A1, RT_A2 = RW_A + ".RT001", RW_A + ".RT002"
# points (lon, lat) inside the area
IN_RT1 = (103.6003, -1.6198)  # kel 1003, RW 001, RT 001 (south of −1.6195)
IN_RT2 = (103.6004, -1.6192)  # kel 1003, RW 001, RT 002
IN_KEL_B = (103.6014, -1.6196)  # kel 1004
OUTSIDE = (103.7000, -1.7000)  # in Indonesia, outside the area
PASSWORDS = {"operator": "operator123", "dispatcher": "dispatcher123",
             "coordinator": "coordinator123", "planner": "planner123", "admin": "admin123",
             "tim_bhb": "tim_bhb123", "tim_lms": "tim_lms123", "tim_bhb2": "tim_bhb2123"}
USERS = {"operator": ("operator", None), "dispatcher": ("dispatcher", None),
         "coordinator": ("coordinator", None), "planner": ("planner", None),
         "admin": ("admin", None), "tim_bhb": ("team_member", "BHB-1003"),
         "tim_lms": ("team_member", "LMS-1003"), "tim_bhb2": ("team_member", "BHB-1004")}


def pytest_configure(config):
    """Each numba kernel is compiled once per run (:mod:`tests._jit`): a file lock shares
    the compilation between processes, and when the whole suite runs on xdist workers
    (``scripts/test``) a child process starts compiling the kernels it uses before the
    workers have imported and collected (not for a chosen part: it may need few)."""
    from tests._jit import share_compilation, start_precompiling

    share_compilation()
    workers = getattr(config.option, "numprocesses", None)
    whole = getattr(config, "args_source", None) == pytest.Config.ArgsSource.TESTPATHS or \
        [Path(a).resolve() for a in config.args] == [TESTS]
    if (not hasattr(config, "workerinput") and isinstance(workers, int) and workers > 1
            and whole):
        config._geo_sigap_precompile = start_precompiling()


def pytest_unconfigure(config):
    proc = getattr(config, "_geo_sigap_precompile", None)
    if proc is not None and proc.poll() is None:  # a short run ended before it did
        proc.terminate()
        proc.wait()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With pytest-xdist and ``--dist loadfile`` (``scripts/test`` runs ``-n 3 --dist
    loadfile``): modules stay whole on one worker, all of ``tests/browser`` is one unit,
    and units are sent longest first (:mod:`tests._schedule`). (xdist's own
    ``loadgroup`` marks do not group tests under pytest 9.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests._schedule import make_scheduler

    return make_scheduler(config, log)


def postgis_required() -> bool:
    return (os.environ.get("CI", "").lower() == "true"
            or os.environ.get("GEO_SIGAP_REQUIRE_POSTGIS") == "1")


def tiny_units():
    from geo_sigap.domain.admin import AdminLevel, AdminUnit

    west, east, south, north = 103.5950, 103.6250, -1.6250, -1.6150
    split, rt_split = 103.6009, -1.6195
    return [
        AdminUnit("15", AdminLevel.PROVINSI, "Jambi", None, box(west, south, east, north)),
        AdminUnit("15.71", AdminLevel.KABKOTA, "Kota Jambi", "15",
                  box(west, south, east, north)),
        AdminUnit("15.71.11", AdminLevel.KECAMATAN, "Paal Merah", "15.71",
                  box(west, south, east, north)),
        AdminUnit(KEL_A, AdminLevel.KELURAHAN, "Eka Jaya", "15.71.11",
                  box(west, south, split, north)),
        AdminUnit(KEL_B, AdminLevel.KELURAHAN, "Talang Bakung", "15.71.11",
                  box(split, south, east, north)),
        AdminUnit(RW_A, AdminLevel.RW, "RW 001", KEL_A, box(west, south, split, north)),
        AdminUnit(RT_A1, AdminLevel.RT, "RT 001", RW_A, box(west, south, split, rt_split)),
        AdminUnit(RT_A2, AdminLevel.RT, "RT 002", RW_A, box(west, rt_split, split, north)),
    ]


def tiny_teams():
    from geo_sigap.domain.teams import Role, Team, Vehicle

    return [
        Team("BHB-1003", "Bhabinkamtibmas Eka Jaya", Role.BHABINKAMTIBMAS, (103.6000, -1.6200),
             phone="0812-1111-0001", area_codes=(KEL_A,)),
        Team("BHB-1004", "Bhabinkamtibmas Talang Bakung", Role.BHABINKAMTIBMAS,
             (103.6018, -1.6200), phone="0812-1111-0002", area_codes=(KEL_B,)),
        Team("BBS-1003", "Babinsa Eka Jaya", Role.BABINSA, (103.6000, -1.6191),
             phone="+62 812 1111 0003", area_codes=(KEL_A,)),
        Team("LMS-1003", "Linmas Eka Jaya", Role.LINMAS, (103.6009, -1.6191),
             phone="081211110004", area_codes=(RW_A,)),
        Team("SPP-01", "Satpol PP TRC", Role.SATPOL_PP, (103.6018, -1.6191),
             vehicle=Vehicle.MOBIL, phone="081211110005", area_codes=("15.71.11",)),
    ]


# argon2id with the smallest cost that still lies above the demo accounts' light hash
# (tests/foundation/test_startup_warm.py compares the two): the production hasher (64 MiB,
# 3 passes, 4 lanes) costs ~0.2 s of CPU per sign-in, and the suite signs in thousands of
# times — most of its CPU time. tests/security/test_auth_hardening.py checks that the
# production hasher keeps its full parameters.
TEST_HASH_PARAMETERS = {"time_cost": 1, "memory_cost": 2048, "parallelism": 1}


@pytest.fixture(scope="session", autouse=True)
def _light_password_hasher():
    """Sign-ins, rehashes and unknown-user logins in this test process use a light argon2id
    hash (the same code paths, ~100× less CPU); the production hasher is restored after."""
    from argon2 import PasswordHasher

    from geo_sigap.dispatch import users

    production = users._hasher
    users._hasher = PasswordHasher(**TEST_HASH_PARAMETERS)
    users.dummy_password_hash.cache_clear()
    yield production
    users._hasher = production
    users.dummy_password_hash.cache_clear()


@pytest.fixture(scope="session")
def password_hashes():
    """argon2 hashes made once per session (hashing is deliberately slow)."""
    from geo_sigap.dispatch.users import _hasher

    return {u: _hasher.hash(p) for u, p in PASSWORDS.items()}


def load_fixture_area(db, hashes) -> None:
    from geo_sigap.storage.tables import UserRow
    from geo_sigap.storage.teams import upsert_teams
    from geo_sigap.storage.units import upsert_units

    with db.session() as s:
        upsert_units(s, tiny_units(), source="tests")
        upsert_teams(s, tiny_teams())
        for name, (role, team) in USERS.items():
            s.add(UserRow(username=name, password_hash=hashes[name], role=role,
                          team_code=team, active=True))


@pytest.fixture(scope="session")
def postgis_database():
    """A fresh PostGIS database for the test session; its URL."""
    name = f"geo_sigap_test_{os.getpid()}"
    admin = sa.create_engine(POSTGIS_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # a commit does not wait for its WAL to reach the disk: the same transactions
            # and locks, only no crash-durability, which no test here looks at
            c.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        msg = f"PostGIS unreachable at {POSTGIS_ADMIN_URL}: {exc.__class__.__name__}"
        if postgis_required():
            pytest.fail(msg + " (required: CI=true or GEO_SIGAP_REQUIRE_POSTGIS=1)")
        pytest.skip(msg)
    url = sa.engine.make_url(POSTGIS_ADMIN_URL).set(database=name)
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}'"))
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def _postgis_db(postgis_database):
    from geo_sigap.storage import open_database

    db = open_database(postgis_database)
    yield db
    db.dispose()


def _reset_postgis(db) -> None:
    """Empty every table. A background reader of an earlier test's app (event fan-out,
    analytics refresh) may still hold a share lock: TRUNCATE's exclusive locks can then
    deadlock with it, so a deadlock or lock time-out is retried."""
    import time

    from geo_sigap.storage.tables import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    for attempt in range(6):
        try:
            with db.engine.begin() as c:
                c.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                c.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except sa.exc.OperationalError as exc:
            code = getattr(getattr(exc, "orig", None), "sqlstate", None)
            if code not in ("40P01", "55P03") or attempt == 5:  # deadlock, lock not available
                raise
            time.sleep(0.2 * (attempt + 1))


def backend_database(request, tmp_path):
    """The body of the ``db`` fixtures of the test packages (a generator to ``yield
    from``): an empty, migrated database on ``request.param`` — ``sqlite`` (WKB),
    ``spatialite`` (skipped where mod_spatialite cannot be loaded) or ``postgis`` (the
    session database, truncated before and after the test)."""
    from geo_sigap.storage import open_database

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


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def backend(request):
    return request.param


@pytest.fixture
def db_url(backend, tmp_path, request):
    """The URL of an empty migrated database on the backend (SQLite file or PostGIS)."""
    if backend == "postgis":
        db = request.getfixturevalue("_postgis_db")
        _reset_postgis(db)
        return db.engine.url.render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'sigap.db'}"


@pytest.fixture(scope="session")
def _sqlite_area_template(tmp_path_factory, password_hashes) -> Path:
    """A migrated SQLite file holding the fixture area, teams and users, made once per
    session; each ``area_db`` on SQLite is a copy (migrating a new file costs ~50 ms of
    CPU per test)."""
    from geo_sigap.storage import open_database

    path = tmp_path_factory.mktemp("sqlite_template") / "area.db"
    db = open_database(f"sqlite:///{path}", spatialite=False)
    load_fixture_area(db, password_hashes)
    with db.engine.connect() as c:  # everything in the main file: a plain copy is whole
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def area_db(backend, db_url, request, password_hashes):
    """A database holding the fixture area, teams and users."""
    import shutil

    from geo_sigap.storage import open_database

    if backend == "postgis":
        db = request.getfixturevalue("_postgis_db")
        load_fixture_area(db, password_hashes)
        yield db
        return
    target = Path(sa.engine.make_url(db_url).database)
    shutil.copyfile(request.getfixturevalue("_sqlite_area_template"), target)
    db = open_database(db_url, spatialite=False)  # migrates: a no-op at head
    yield db
    db.dispose()


def make_settings(db_url: str, data_dir: Path, **overrides):
    """Settings for a test app. No background warm-up unless a test asks for it
    (``warm_up_on_start=True``): requests build the engines they need on first use,
    and the warm-up thread and its ``gc.freeze`` are not paid by every test client."""
    from geo_sigap.settings import Settings

    overrides.setdefault("warm_up_on_start", False)
    return Settings(database_url=db_url, data_dir=data_dir, secret_key="test-secret-0123456789",
                    road_network=TINY_OSM, **overrides)


@pytest.fixture
def services(area_db, db_url, tmp_path):
    """Services on the fixture area with the tiny road network (routing available)."""
    from geo_sigap.domain.categories import load_categories
    from geo_sigap.services import Services

    return Services(make_settings(db_url, tmp_path / "data"), area_db, load_categories())


@pytest.fixture
def client(services):
    """A FastAPI TestClient on the services (not signed in)."""
    from fastapi.testclient import TestClient

    from geo_sigap.web.app import create_app

    app = create_app(services.settings, services)
    with TestClient(app) as c:
        yield c


class Logins:
    """Bearer headers per fixture user, signing in on first use."""

    def __init__(self, client):
        self.client = client
        self._tokens: dict[str, str] = {}

    def __getitem__(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.client.post("/api/auth/login",
                                 json={"username": username, "password": PASSWORDS[username]})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["token"]
            self.client.cookies.clear()
        return {"Authorization": f"Bearer {self._tokens[username]}"}


@pytest.fixture
def auth(client):
    return Logins(client)


def pytest_collection_finish(session):
    """What exists once the tests are collected (pytest, the imported modules, numba's
    tables) lives until the end of the run: out of the garbage collector's view, so that
    its full collections do not go over it again and again (``gc.freeze``)."""
    import gc

    gc.collect()
    gc.freeze()
