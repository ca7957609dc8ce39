"""Start the real GeoSIGAP app for browser tests: ``python -m tests.browser._server DIR PORT``.

A fresh demo-like database in DIR: the bundled demo area (boundaries, roads, teams; no
history unless ``--history`` is given), the demo users, and one field account per team
(``tim_<code>``, password ``tim_<code>123``). With ``--perf N_INCIDENTS N_TEAMS`` it also
seeds that many open incidents and extra teams directly in the database. Prints ``READY``
when serving.

``--build-only`` builds the database and exits (a template, made once per test session);
``--prebuilt`` serves a ``browser.db`` already copied into DIR from such a template
(argon2-hashing ~70 accounts and importing the demo take most of a cold start).
"""

from __future__ import annotations

import gc

gc.disable()  # as ``geo-sigap serve``: no collections while it starts (geo_sigap._gc)

# PROJ/GDAL before SpatiaLite (see tests/web/conftest.py)
import pyogrio  # noqa: F401,E402
import pyproj  # noqa: E402

pyproj.CRS.from_epsg(4326)

from tests._jit import share_compilation  # noqa: E402

share_compilation()  # the workers' and the other servers' kernels: compiled once

import random  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402


def _seed_perf(services, n_incidents: int, n_teams: int) -> None:
    import shapely
    from sqlalchemy import insert, select

    from geo_sigap.domain.admin import AdminLevel
    from geo_sigap.storage.tables import IncidentRow, TeamRow

    rng = random.Random(6)
    kels = [u for u in services.units if u.level == AdminLevel.KELURAHAN and u.geometry]
    cats = [c.code for c in services.categories]
    now = datetime.now(UTC)

    def point_in(geom):
        minx, miny, maxx, maxy = geom.bounds
        while True:
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if geom.contains(p):
                return p.x, p.y

    statuses = ["diterima", "terverifikasi", "ditugaskan", "menuju_lokasi", "di_lokasi",
                "ditangani"]
    rows = []
    for i in range(n_incidents):
        kel = kels[i % len(kels)]
        lon, lat = point_in(kel.geometry)
        status = statuses[i % len(statuses)]
        t = now - timedelta(minutes=rng.uniform(1, 600))
        row = {"ticket": f"PF-{i:06d}", "category": cats[i % len(cats)],
               "description": "beban uji peta", "channel": "hotline", "lon": lon, "lat": lat,
               "priority": 1 + i % 4, "status": status, "kecamatan_code": kel.parent_code,
               "kelurahan_code": kel.code, "placement": {}, "reported_at": t, "version": 1}
        if status != "diterima":
            row["verified_at"] = t + timedelta(minutes=2)
        rows.append(row)
    with services.db.session() as s:
        s.execute(insert(IncidentRow), rows)
        have = s.scalar(select(TeamRow.id).limit(1))
        teams = []
        roles = ["linmas", "satpol_pp", "bhabinkamtibmas", "babinsa"]
        for i in range(n_teams):
            kel = kels[i % len(kels)]
            lon, lat = point_in(kel.geometry)
            teams.append({"code": f"PT-{i:04d}", "name": f"Tim uji {i}",
                          "role": roles[i % len(roles)], "vehicle": "motor",
                          "post_lon": lon, "post_lat": lat, "area_codes": [kel.code],
                          "status": "tersedia", "last_lon": lon, "last_lat": lat,
                          "last_position_at": now - timedelta(minutes=rng.uniform(0, 30)),
                          "members": [], "version": 1})
        s.execute(insert(TeamRow), teams)
        s.commit()
        assert have is not None


def main(argv: list[str]) -> None:
    import uvicorn
    from sqlalchemy import select

    from geo_sigap.dispatch.users import create_user, ensure_demo_users
    from geo_sigap.importers.demo import demo_paths, load_demo
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings
    from geo_sigap.storage.tables import TeamRow
    from geo_sigap.web.app import create_app

    data, port = Path(argv[0]), int(argv[1])
    paths = demo_paths()
    settings = Settings(database_url=f"sqlite:///{data / 'browser.db'}", data_dir=data,
                        demo=True, secret_key="browser-test-secret-key-0123456789",
                        road_network=paths["roads"], gazetteer_file=paths["poi"])
    services = Services.from_settings(settings)
    if "--prebuilt" not in argv:  # else DIR/browser.db is a copy of a built template
        load_demo(services.db, services.categories, with_history="--history" in argv)
        ensure_demo_users(services.db)
        with services.db.session() as s:
            codes = list(s.scalars(select(TeamRow.code)))
        from geo_sigap.dispatch import users

        # one account per team (~65), with published test passwords: the demo accounts'
        # light hash, not 0.2 s of CPU each (the first sign-in rehashes, as for the demo's)
        full, users._hasher = users._hasher, users._demo_hasher
        try:
            for code in codes:
                name = f"tim_{code.lower()}"
                create_user(services.db, name, name + "123", "team_member", team_code=code)
        finally:
            users._hasher = full
    if "--build-only" in argv:  # a template for the session's servers: no server
        services.close()
        return
    if "--perf" in argv:
        i = argv.index("--perf")
        _seed_perf(services, int(argv[i + 1]), int(argv[i + 2]))
    services.reload()
    app = create_app(settings, services)
    from geo_sigap._gc import resume_collections

    resume_collections()
    print("READY", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
