"""Start-up work stays correct: the warm-up (services layer) builds what a suggestion needs
first and runs once; the forward geocoder's streets are cached beside the graph cache and
read back identical; ``serve`` builds the services and starts their warm-up before it
builds the web app."""

from __future__ import annotations

import threading

import pytest
import shapely

from geo_sigap.services import Services
from geo_sigap.settings import Settings

SECRET = "test-startup-secret-0123456789abcdefghij"
OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
<node id="1" lat="-1.6000" lon="103.6000"/><node id="2" lat="-1.6000" lon="103.6010"/>
<node id="3" lat="-1.6010" lon="103.6010"/><node id="4" lat="-1.6010" lon="103.6000"/>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
<tag k="highway" v="residential"/><tag k="name" v="Jalan Merpati"/></way>
<way id="11"><nd ref="3"/><nd ref="4"/>
<tag k="highway" v="tertiary"/><tag k="name" v="Gang Mawar"/></way>
<way id="12"><nd ref="4"/><nd ref="1"/><tag k="highway" v="service"/></way>
</osm>
"""


@pytest.fixture
def services(tmp_path):
    roads = tmp_path / "roads.osm"
    roads.write_text(OSM)
    s = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'a.db'}",
                 road_network=str(roads), secret_key=SECRET, warm_up_on_start=False)
    svc = Services.from_settings(s)
    yield svc
    svc.close()


def test_streets_are_cached_and_read_back_identical(services, monkeypatch):
    from geo_sigap.geocoding import sources

    first = services._streets()
    cached = list((services.settings.cache_dir / "geocoding").glob("roads.*.streets.npz"))
    assert len(cached) == 1
    assert set(first["name"]) == {"Gang Mawar", "Jalan Merpati"}  # the unnamed way left out

    def never(*a, **k):
        raise AssertionError("the road file was parsed again despite the cache")

    monkeypatch.setattr(sources, "streets_from_file", never)
    again = services._streets()
    assert list(again["name"]) == list(first["name"])
    assert list(again["highway"]) == list(first["highway"])
    assert again.crs == first.crs
    assert all(shapely.equals_exact(again.geometry.values, first.geometry.values, 0))


def test_a_changed_road_file_is_parsed_again(services):
    services._streets()
    road = services.settings.road_network
    with open(road, "w") as f:
        f.write(OSM.replace("Jalan Merpati", "Jalan Kenari"))
    assert "Jalan Kenari" in set(services._streets()["name"])
    assert len(list((services.settings.cache_dir / "geocoding").glob("*.streets.npz"))) == 2


def test_an_unreadable_street_cache_is_rebuilt(services):
    services._streets()
    (target,) = (services.settings.cache_dir / "geocoding").glob("*.streets.npz")
    target.write_bytes(b"not a zip")
    assert set(services._streets()["name"]) == {"Gang Mawar", "Jalan Merpati"}


def _record(monkeypatch, order: list[str]) -> None:
    for name in ("routing", "reverse_geocoder", "forward_geocoder", "analytics_history"):
        monkeypatch.setattr(Services, name, property(
            lambda self, n=name: order.append(n) or _Stub()))
    import geo_sigap.analytics._kernels as kernels
    import geo_sigap.dispatch.ports as ports
    import geo_sigap.dispatch.users as users

    monkeypatch.setattr(kernels, "warm_up", lambda: order.append("gi_kernel"))
    monkeypatch.setattr(ports, "current_teams", lambda s: order.append("teams"))
    monkeypatch.setattr(users, "dummy_password_hash", lambda: order.append("hash"))


class _Stub:
    def store(self):
        return None


def test_warm_up_builds_what_a_suggestion_needs_first(services, monkeypatch):
    order: list[str] = []
    _record(monkeypatch, order)
    services.warm_up()
    assert order[:2] == ["routing", "teams"]  # before the slow geocoder builds
    assert order.index("reverse_geocoder") < order.index("forward_geocoder")
    assert set(order) == {"routing", "teams", "hash", "reverse_geocoder", "gi_kernel",
                          "forward_geocoder", "analytics_history"}


def test_routing_ready_is_signalled_before_the_geocoders_and_even_on_failure(services,
                                                                           monkeypatch):
    """``serve`` waits on this signal (bounded) before it answers: it must be set once the
    engine and team list are there, before the slow geocoder builds, and also when the
    routing build fails (or ``serve`` would wait its whole timeout for nothing)."""
    order: list[str] = []
    _record(monkeypatch, order)
    seen = {}
    real_rev = Services.reverse_geocoder

    def rev(self):
        seen["set_at_geocoder"] = self.routing_warm.is_set()
        return real_rev.fget(self)

    monkeypatch.setattr(Services, "reverse_geocoder", property(rev))
    assert services.wait_for_routing(0.01) is False  # no warm-up started: nothing to wait on
    services.start_warm_up().join(10)
    assert seen == {"set_at_geocoder": True} and services.wait_for_routing(0) is True

    def broken(self):
        raise RuntimeError("no graph")

    monkeypatch.setattr(Services, "routing", property(broken))
    fresh = Services(services.settings, services.db, services.categories)
    fresh.start_warm_up().join(10)
    assert fresh.routing_warm.is_set()


def test_start_warm_up_runs_once(services, monkeypatch):
    calls = []
    gate = threading.Event()
    monkeypatch.setattr(Services, "warm_up", lambda self: (calls.append(1), gate.wait(5)))
    t1 = services.start_warm_up()
    t2 = services.start_warm_up()
    assert t1 is t2
    gate.set()
    t1.join(10)
    assert not t1.is_alive() and calls == [1]
    assert services.start_warm_up() is t1  # a finished warm-up is not started again


def test_a_failing_warm_up_is_logged_not_raised(services, monkeypatch, caplog):
    def boom(self):
        raise RuntimeError("no graph")

    monkeypatch.setattr(Services, "warm_up", boom)
    services.start_warm_up().join(10)
    assert "warm-up failed" in caplog.text


def test_serve_starts_the_warm_up_before_it_builds_the_app(tmp_path, monkeypatch):
    """One worker: the services exist (warm-up running) before the web app is built, and
    uvicorn gets that app, whose lifespan does not start a second warm-up."""
    import uvicorn
    from typer.testing import CliRunner

    import geo_sigap.web.app as web_app
    from geo_sigap.cli.main import app

    for k, v in {"GEO_SIGAP_DATA_DIR": str(tmp_path / "d"),
                 "GEO_SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
                 "GEO_SIGAP_SECRET_KEY": SECRET}.items():
        monkeypatch.setenv(k, v)
    events: list = []
    monkeypatch.setattr(Services, "start_warm_up",
                        lambda self: events.append(("warm", self)))
    real = web_app.create_app

    import gc

    collecting: list[bool] = []

    def create_app(settings=None, services=None):
        events.append(("app", services))
        collecting.append(gc.isenabled())
        return real(settings, services)

    def run(app, **kw):
        events.append(("run", app, kw))
        collecting.append(gc.isenabled())

    monkeypatch.setattr(web_app, "create_app", create_app)
    monkeypatch.setattr(Services, "wait_for_routing",
                        lambda self, timeout: events.append(("wait", timeout)))
    monkeypatch.setattr(uvicorn, "run", run)
    frozen = gc.get_freeze_count()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    finally:
        gc.enable()
    assert result.exit_code == 0, result.output
    # no garbage collections while the service starts (a third of its CPU went to them),
    # and again once it listens, with what the start made out of the collector's view
    assert collecting == [False, True]
    assert gc.get_freeze_count() > frozen
    (warm, svc), (made, given), (wait, timeout), (run, served, kw) = events
    # the routing engine is waited for (bounded by the setting) before uvicorn listens
    assert (warm, made, wait, run) == ("warm", "app", "wait", "run")
    assert timeout == svc.settings.start_wait_routing_s == 1.0
    assert given is svc and served.state.services is svc
    assert kw["factory"] is False and kw["port"] == 8123
    svc.close()


def test_serve_with_workers_leaves_each_worker_its_own_services(tmp_path, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from geo_sigap.cli.main import app

    for k, v in {"GEO_SIGAP_DATA_DIR": str(tmp_path / "d"),
                 "GEO_SIGAP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                 "GEO_SIGAP_SECRET_KEY": SECRET}.items():
        monkeypatch.setenv(k, v)
    runs = []
    monkeypatch.setattr(Services, "from_settings", classmethod(
        lambda cls, s: pytest.fail("services built in the parent of several workers")))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append((app, kw)))
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert runs == [("geo_sigap.web.app:create_app", runs[0][1])]
    assert runs[0][1]["factory"] is True and runs[0][1]["workers"] == 2


# -- the demo's first start ------------------------------------------------------------

def _env_for(services) -> dict[str, str]:
    s = services.settings
    return {"GEO_SIGAP_DATA_DIR": str(s.data_dir), "GEO_SIGAP_ROAD_NETWORK": s.road_network,
            "GEO_SIGAP_DATABASE_URL": s.database_url, "GEO_SIGAP_SECRET_KEY": SECRET}


def test_cache_warming_child_fills_the_street_cache(services, monkeypatch):
    from geo_sigap import services as services_module
    from geo_sigap.geocoding import sources

    seen = []
    warming = services_module.start_cache_warming(
        _env_for(services), ("streets",), lambda step, done, total: seen.append((done, total)))
    assert warming.wait() is True
    assert seen[0] == (0, 1) and seen[-1] == (1, 1)
    monkeypatch.setattr(sources, "streets_from_file", lambda *a, **k: pytest.fail("parsed"))
    assert set(services._streets()["name"]) == {"Gang Mawar", "Jalan Merpati"}


def test_a_failing_cache_warming_is_reported_not_raised(services, caplog):
    from geo_sigap import services as services_module

    env = {**_env_for(services), "GEO_SIGAP_ROAD_NETWORK": __file__}  # not a road file
    assert services_module.start_cache_warming(env, ("streets",)).wait() is False
    assert "cache warming failed" in caplog.text


def test_demo_accounts_get_a_light_hash_until_their_first_sign_in(services):
    from argon2 import extract_parameters

    from geo_sigap.dispatch import users
    from geo_sigap.storage import users as store

    def params(name):
        with services.db.session() as s:
            return extract_parameters(store.user_by_name(s, name).password_hash)

    users.create_user(services.db, "kasi", "a-long-password-1", "dispatcher")
    full = params("kasi")  # an ordinary account: the full cost, always
    assert (full.time_cost, full.memory_cost) == (users._hasher.time_cost,
                                                  users._hasher.memory_cost)
    assert "dispatcher" in users.ensure_demo_users(services.db)
    light = params("dispatcher")
    assert light.memory_cost < full.memory_cost and light.time_cost <= full.time_cost
    users.login(services.db, "dispatcher", "dispatcher123")
    after = params("dispatcher")
    assert (after.time_cost, after.memory_cost) == (full.time_cost, full.memory_cost)
    users.login(services.db, "dispatcher", "dispatcher123")  # the new hash verifies


# -- the schema check at each start ----------------------------------------------------

def test_the_heads_read_from_the_scripts_are_alembics():
    from alembic.script import ScriptDirectory

    from geo_sigap.storage.migrate import alembic_config, script_heads

    assert script_heads() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_a_database_at_head_is_left_alone_and_an_older_one_upgraded(tmp_path, monkeypatch):
    from alembic import command

    from geo_sigap.storage.engine import make_engine
    from geo_sigap.storage.migrate import at_head, current_revision, script_heads, upgrade

    engine, _ = make_engine(f"sqlite:///{tmp_path / 'm.db'}", spatialite=False)
    assert not at_head(engine)  # a new database: alembic creates the schema
    (head,) = script_heads()
    upgrade(engine, str(int(head) - 1).zfill(len(head)))  # one revision behind
    assert not at_head(engine)
    upgrade(engine)
    assert current_revision(engine) == head and at_head(engine)
    monkeypatch.setattr(command, "upgrade", lambda *a, **k: pytest.fail("alembic ran"))
    upgrade(engine)  # at head: alembic is not even imported for it
    engine.dispose()


def test_the_services_engine_keeps_its_prepared_data_beside_the_graph(tmp_path):
    """The warm-up's engine reads its prepared data (CSR, snapping pieces, landmark
    tables) from cache_dir/routing on a later start instead of building it again."""
    from tests.conftest import TINY_OSM

    s = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'a.db'}",
                 road_network=str(TINY_OSM), secret_key=SECRET, warm_up_on_start=False)
    svc = Services.from_settings(s)
    try:
        assert svc.routing is not None
        routing = s.cache_dir / "routing"
        assert list(routing.glob("*.roads.npz"))
        assert [p for p in routing.iterdir() if p.is_dir()], "no prepared data kept"
    finally:
        svc.close()


_BIND = r"""
import json, sys
from geo_sigap.storage import open_database
db = open_database("sqlite:///" + sys.argv[1])
early = sorted(m for m in ("pandas", "geopandas", "pyogrio") if m in sys.modules)
import geopandas as gpd, shapely
g = gpd.read_file(sys.argv[2], engine="pyogrio")
g.to_file(sys.argv[3], driver="GPKG", engine="pyogrio")
h = gpd.read_file(sys.argv[3], engine="pyogrio")
area = float(shapely.union_all(h.geometry.values).buffer(0.001).area)
print(json.dumps({"spatial": db.spatial, "early": early, "n": len(h), "area": area}))
"""


def test_spatialite_and_the_geo_wheels_share_a_process_without_pandas_at_open(tmp_path):
    """Opening the database binds the wheels' GEOS/PROJ/GDAL before SpatiaLite (else
    WKB corrupts and the process aborts), without importing pandas/geopandas/pyogrio."""
    import json
    import os
    import subprocess
    import sys

    from tests.paths import REPO

    rt = REPO / "data" / "boundaries" / "paal_merah_demo" / "rt.geojson"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SIGAP_")}
    out = subprocess.run([sys.executable, "-c", _BIND, str(tmp_path / "b.db"), str(rt),
                          str(tmp_path / "b.gpkg")], capture_output=True, text=True,
                         timeout=300, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["spatial"] != "spatialite":
        pytest.skip("SpatiaLite is not installed: nothing to bind against")
    assert r["early"] == []
    assert r["n"] > 100 and r["area"] > 0
