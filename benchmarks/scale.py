"""City scale: the paths whose cost should not depend on the history, at S, M and L.

Sizes (a synthetic kota around Jambi; boxes, not real boundaries):

=====  ==========  =====  ======  ============================================
size   incidents   teams  RT      notes
=====  ==========  =====  ======  ============================================
S      11,000      65     210     the demo's size
M      100,000     500    2,100
L      1,005,000   2,000  16,740  five years of a kota, 5,000 still open
=====  ==========  =====  ======  ============================================

Each size is built honestly through the project's own importers into a fresh database
on SQLite (a file) and on PostGIS (``GEO_SIGAP_TEST_POSTGIS_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; a database ``geo_sigap_scale_<size>``
is created and dropped): boundary GeoJSON → :func:`read_boundaries`/
:func:`import_boundaries`, teams CSV → :func:`read_teams`/:func:`import_teams`, the
history CSV (written with numpy, seconds even at L) → the streaming
:func:`import_incidents_csv`. Then a fresh process (the "worker") opens the service
(:func:`create_app` on :class:`Services`, no road network), warms it up like
``geo-sigap serve`` does and measures through the HTTP API (Starlette's TestClient:
in-process, no network):

- ``analytics_warm_ms``: the slowest of KPIs / heat / hex hotspots for the default
  quarter, median of 5 calls once cached;
  ``analytics_warm_service_ms`` the same calls on the services object (no HTTP: the
  hotspot/heat answers are megabytes of JSON, whose transport the TestClient dominates);
- ``analytics_after_write_ms``: after a new report (POST /api/incidents) the slowest
  first call of KPIs / heat / hotspots for the open quarter (the one written; its
  partition is recomputed) — median of 3 rounds; ``analytics_after_write_default_ms``
  the same for the default quarter (untouched by the write: still cached);
- ``periods_ms``: ``/api/map/periods`` right after a write (median of 3);
- ``intake_p50_ms`` / ``intake_p95_ms``: 200 reports posted one after another;
- ``health_ms``: ``/health``, median of 20;
- ``rss_mb``: the worker's resident memory after all of it (VmRSS);
- ``first_build_s``: building the analytics history at start-up (warm-up);
- ``peta_first_load_kb``: what the coordinator's ``/peta`` fetches on first load (page,
  its scripts and styles, the API calls of the start) as sent on the wire with
  ``Accept-Encoding: gzip`` (compressed size where the service compresses);
- ``report_quarter_s`` / ``report_quarter_mb``: ``geo-sigap report --quarter <default>
  --no-pdf`` in its own process (wall time, peak RSS);
- ``import_rows_per_s``: history rows per second of the streaming import (wall time, the
  reverse geocoder's build included); ``import_stream_rows_per_s`` without it;
  ``import_cpu_s`` / ``import_rows_per_cpu_s``: CPU seconds of the importer and of its
  PostgreSQL backend, and rows per CPU-second (the rate without the others' load);
  ``import_server_cpu_s`` the backend's part; ``import_load_avg`` the machine's 1-minute
  load average as the import ended;
  ``import_peak_mb``: the build process's peak memory;
- ``history_restart_s``: the analytics history built in a second fresh process (a
  restart) from the closed quarters the first one stored (``history_quarters_stored`` /
  ``history_quarters_read``);
- ``hotspots_map_wire_kb`` / ``heat_map_wire_kb`` (and ``_ms``): the hotspot and heat
  layers as /peta asks for them (``compact=1``, gzip), bytes on the wire.

Run ``python -m benchmarks.scale [--sizes S,M,L] [--backends sqlite,postgis]
[--no-postgis] [--json]``. ``--json``
prints one object with every figure as ``<name>_<size>`` for SQLite and
``<name>_<size>_pg`` for PostGIS (``import_rows_per_s`` alone is the largest size's).
The machine is shared: figures are wall-clock and move with the load of others.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {  # incidents, teams, (kelurahan, RW per kelurahan, RT per RW), open
    "S": (11_000, 65, (6, 5, 7), 150),
    "M": (100_000, 500, (21, 10, 10), 1_000),
    "L": (1_005_000, 2_000, (62, 15, 18), 5_000),
}
WEST, SOUTH, EAST, NORTH = 103.55, -1.70, 103.70, -1.55
PG_ADMIN = os.environ.get("GEO_SIGAP_TEST_POSTGIS_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CATS = ["pkl", "gepeng", "ternak", "pekat", "odgj", "keributan", "pencurian", "bencana",
        "lainnya"]
ROLES = ["bhabinkamtibmas", "babinsa", "linmas", "satpol_pp"]


# ------------------------------------------------------------------------ the files

def _box(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def write_area(size: str, out: Path) -> dict:
    """Boundary GeoJSON per level, teams CSV, history CSV of ``size`` in ``out``."""
    n_inc, n_teams, (n_kel, n_rw, n_rt), n_open = SIZES[size]
    out.mkdir(parents=True, exist_ok=True)
    cols = int(np.ceil(np.sqrt(n_kel * (EAST - WEST) / (NORTH - SOUTH))))
    rows = int(np.ceil(n_kel / cols))
    dx, dy = (EAST - WEST) / cols, (NORTH - SOUTH) / rows
    feats = {"kecamatan": [], "kelurahan": [], "rw": [], "rt": []}
    kec_of = {}
    n_kec = max(1, n_kel // 8)
    for k in range(n_kec):
        code = f"15.71.{k + 1:02d}"
        feats["kecamatan"].append((code, f"Kecamatan {k + 1}", "15.71", None))
    rts = []
    for i in range(n_kel):
        r, c = divmod(i, cols)
        w, s = WEST + c * dx, SOUTH + r * dy
        kec = f"15.71.{i % n_kec + 1:02d}"
        kel = f"{kec}.{1001 + i}"
        kec_of[kel] = kec
        feats["kelurahan"].append((kel, f"Kelurahan {i + 1}", kec, _box(w, s, w + dx, s + dy)))
        for j in range(n_rw):
            rs, rn = s + j * dy / n_rw, s + (j + 1) * dy / n_rw
            rw = f"{kel}.RW{j + 1:03d}"
            feats["rw"].append((rw, f"RW {j + 1:03d}", kel, _box(w, rs, w + dx, rn)))
            for t in range(n_rt):
                tw, te = w + t * dx / n_rt, w + (t + 1) * dx / n_rt
                rt = f"{rw}.RT{t + 1:03d}"
                feats["rt"].append((rt, f"RT {t + 1:03d}", rw, _box(tw, rs, te, rn)))
                rts.append(((tw + te) / 2, (rs + rn) / 2, kel))
    # kecamatan polygons: the union of their kelurahan boxes' extent is enough for a test
    import shapely
    from shapely.geometry import shape

    kec_geoms = {}
    for code, _, parent, g in feats["kelurahan"]:
        kec_geoms.setdefault(parent, []).append(shape(g))
    feats["kecamatan"] = [(code, name, parent,
                           shapely.geometry.mapping(shapely.union_all(kec_geoms[code])))
                          for code, name, parent, _ in feats["kecamatan"]]
    paths = {}
    for level, items in feats.items():
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": g,
             "properties": {"code": code, "name": name, "level": level,
                            "parent_code": parent, "population": 3000}}
            for code, name, parent, g in items]}
        p = out / f"{level}.geojson"
        p.write_text(json.dumps(fc))
        paths[level] = p
    rng = np.random.default_rng(17)
    # teams: posts at RT centres, roles in turn
    pick = rng.choice(len(rts), size=n_teams, replace=n_teams > len(rts))
    lines = ["code,name,role,phone,vehicle,post_lon,post_lat,area_codes,status"]
    team_codes = []
    for k, ix in enumerate(pick):
        lon, lat, kel = rts[ix]
        role = ROLES[k % len(ROLES)]
        code = f"T{k + 1:04d}"
        team_codes.append(code)
        lines.append(f"{code},Tim {k + 1},{role},,{'mobil' if role == 'satpol_pp' else 'motor'},"
                     f"{lon:.6f},{lat:.6f},{kel},tersedia")
    paths["teams"] = out / "teams.csv"
    paths["teams"].write_text("\n".join(lines) + "\n")
    paths["incidents"] = write_history(out / "incidents.csv", n_inc, n_open, rts, team_codes,
                                       rng)
    return paths


def write_history(path: Path, n: int, n_open: int, rts, team_codes, rng) -> Path:
    """``n`` incidents over five years ending now (the last ``n_open`` still open)."""
    import pandas as pd

    centres = np.array([(x, y) for x, y, _ in rts])
    hot = rng.choice(len(centres), size=max(1, len(centres) // 20), replace=False)
    where = np.where(rng.random(n) < 0.3, rng.choice(hot, n), rng.integers(0, len(centres), n))
    span = (WEST - EAST) / 400
    lon = centres[where, 0] + rng.normal(0, abs(span), n)
    lat = centres[where, 1] + rng.normal(0, abs(span), n)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    t0 = now - pd.Timedelta(days=5 * 365)
    secs = np.sort(rng.integers(0, int((now - t0).total_seconds()) - 3600, n))
    rep = t0 + pd.to_timedelta(secs, unit="s")
    m = lambda lo, hi: pd.to_timedelta(rng.integers(lo, hi, n), unit="m")  # noqa: E731
    ver = rep + m(1, 10)
    dis = ver + m(1, 10)
    enr = dis + m(1, 8)
    ons = enr + m(3, 40)
    han = ons + m(10, 90)
    res = han + m(5, 120)
    closed = np.arange(n) < n - n_open
    iso = lambda t, keep: np.where(keep, t.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "")  # noqa
    df = pd.DataFrame({
        "ticket": [f"H-{i:07d}" for i in range(n)],
        "category": np.array(CATS)[rng.integers(0, len(CATS), n)],
        "description": "kejadian",
        "channel": "hotline",
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "reported_at": iso(rep, np.ones(n, bool)),
        "verified_at": iso(ver, closed), "dispatched_at": iso(dis, closed),
        "en_route_at": iso(enr, closed), "on_scene_at": iso(ons, closed),
        "handled_at": iso(han, closed), "resolved_at": iso(res, closed),
        "lead_team": np.where(closed, np.array(team_codes)[rng.integers(0, len(team_codes), n)],
                              ""),
    })
    df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------ building

def _pg_url(size: str) -> str:
    import sqlalchemy as sa

    name = f"geo_sigap_scale_{size.lower()}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE datname='{name}'"))
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(
        hide_password=False)


def _pg_existing_url(size: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(PG_ADMIN).set(database=f"geo_sigap_scale_{size.lower()}") \
        .render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    import sqlalchemy as sa

    name = sa.engine.make_url(url).database
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE datname='{name}'"))
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def build(url: str, paths: dict, echo) -> dict:
    """Import the files into the database at ``url`` with the project's importers."""
    from geo_sigap.domain.categories import load_categories
    from geo_sigap.importers.boundaries import import_boundaries, read_boundaries
    from geo_sigap.importers.incidents import import_incidents_csv
    from geo_sigap.importers.placement import placer_from_db
    from geo_sigap.importers.teams import import_teams, read_teams
    from geo_sigap.storage import open_database

    db = open_database(url, spatialite=False)
    out = {}
    t = time.perf_counter()
    for level in ("kecamatan", "kelurahan", "rw", "rt"):
        import_boundaries(db, read_boundaries(paths[level], derive_parents=False))
    out["boundaries_s"] = time.perf_counter() - t
    t = time.perf_counter()
    import_teams(db, read_teams(paths["teams"]))
    out["teams_s"] = time.perf_counter() - t
    last = [0.0]

    def progress(step, done, total):
        now = time.perf_counter()
        if now - last[0] > 10:
            last[0] = now
            echo(f"    {step}: {done:,}/{total:,}")

    t = time.perf_counter()
    cpu, own = _cpu_s(db), time.process_time()
    placer = placer_from_db(db)  # the reverse geocoder over the units (fixed cost)
    out["import_placer_s"] = time.perf_counter() - t
    t2 = time.perf_counter()
    summary = import_incidents_csv(db, paths["incidents"], load_categories(), placer,
                                   progress=progress)
    out["import_s"] = time.perf_counter() - t
    out["import_rows_per_s"] = summary["inserted"] / out["import_s"]
    out["import_stream_rows_per_s"] = summary["inserted"] / (time.perf_counter() - t2)
    # CPU seconds (this process + the database server's backends): what the import costs
    # whatever the others on the machine do; rows per CPU-second is its load-free rate
    out["import_cpu_s"] = _cpu_s(db) - cpu
    # of it the database server's (PostgreSQL; SQLite works inside the importer's process)
    out["import_server_cpu_s"] = max(0.0, out["import_cpu_s"] - (time.process_time() - own))
    out["import_rows_per_cpu_s"] = summary["inserted"] / max(out["import_cpu_s"], 1e-9)
    out["import_load_avg"] = os.getloadavg()[0]  # the machine's load as the import ended
    out["import_peak_mb"] = _peak_rss_mb()
    out["inserted"] = summary["inserted"]
    db.dispose()
    return out


def _cpu_s(db) -> float:
    """CPU seconds of this process and of the PostgreSQL backends of ``db``'s database
    (the server runs on this machine; read from /proc)."""
    total = time.process_time()
    if db.engine.dialect.name != "postgresql":
        return total
    name = db.engine.url.database or ""
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            if not cmd.startswith(b"postgres:") or f" {name} ".encode() not in cmd:
                continue
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / tick
        except OSError:
            continue
    return total


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------------ measuring

def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def measure(url: str, data_dir: Path) -> dict:
    """Run in a fresh process: open the service like ``serve`` and time the paths."""
    from fastapi.testclient import TestClient

    from geo_sigap.dispatch.users import create_user
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings
    from geo_sigap.web.app import create_app

    settings = Settings(database_url=url, data_dir=data_dir, secret_key="scale-bench-0123456789",
                        warm_up_on_start=False)
    services = Services.from_settings(settings)
    for name, role in (("planner", "planner"), ("operator", "operator")):
        try:
            create_user(services.db, name, name + "-pass-123", role)
        except Exception:  # noqa: BLE001 - already there
            pass
    out = {}
    t = time.perf_counter()
    services.warm_up()  # what `serve` runs in the background at start
    out["first_build_s"] = time.perf_counter() - t
    out["history_build_s"] = services.analytics_history.stats.get("build_s", float("nan"))
    app = create_app(settings, services)
    with TestClient(app) as c:
        tokens = {}
        for name in ("planner", "operator"):
            r = c.post("/api/auth/login", json={"username": name,
                                                "password": name + "-pass-123"})
            r.raise_for_status()
            tokens[name] = {"Authorization": f"Bearer {r.json()['token']}"}
            c.cookies.clear()
        pl, op = tokens["planner"], tokens["operator"]
        out["health_ms"] = statistics.median(_ms(lambda: c.get("/health").raise_for_status())
                                             for _ in range(20))
        per = c.get("/api/map/periods", headers=pl).json()
        default = per["default"]
        open_q = per["quarters"][0]["code"]
        calls = {
            "kpis": lambda q: c.get("/api/analytics/kpis", params={"quarter": q}, headers=pl),
            "heat": lambda q: c.get("/api/analytics/heat", params={"quarter": q}, headers=pl),
            "hotspots": lambda q: c.get("/api/analytics/hotspots", params={"quarter": q},
                                        headers=pl),
        }
        for f in calls.values():  # first computation of the default quarter
            f(default).raise_for_status()
        warm = {k: statistics.median(_ms(lambda: f(default).raise_for_status())
                                     for _ in range(5)) for k, f in calls.items()}
        out["analytics_warm_ms"] = max(warm.values())
        for k, v in warm.items():
            out[f"analytics_warm_{k}_ms"] = v
        live = services.analytics  # the same answers without the HTTP transport
        out["analytics_warm_service_ms"] = max(statistics.median(
            _ms(lambda f=f: getattr(live, f)(quarter=default, encoded=True))
            for _ in range(5)) for f in ("kpis", "heat", "hotspots"))
        out["hotspots_kb"] = len(calls["hotspots"](default).content) / 1024
        out["heat_kb"] = len(calls["heat"](default).content) / 1024
        # what /peta fetches when the overlays are switched on (compact, gzip on the wire)
        gz = {**pl, "Accept-Encoding": "gzip"}
        for name, url in (("hotspots", "/api/analytics/hotspots"),
                          ("heat", "/api/analytics/heat")):
            r = c.get(url, params={"quarter": default, "compact": 1}, headers=gz)
            out[f"{name}_map_wire_kb"] = r.num_bytes_downloaded / 1024
            out[f"{name}_map_ms"] = statistics.median(_ms(lambda url=url: c.get(
                url, params={"quarter": default, "compact": 1}, headers=gz)
                .raise_for_status()) for _ in range(5))
        rng = np.random.default_rng(3)
        kel = c.get("/api/map/boundaries", params={"level": "kelurahan"}).json()
        xs = [pt for f in kel["features"] for ring in f["geometry"]["coordinates"]
              for poly in ([ring] if f["geometry"]["type"] == "Polygon" else ring)
              for pt in poly]
        w, s = min(p[0] for p in xs), min(p[1] for p in xs)
        e, n = max(p[0] for p in xs), max(p[1] for p in xs)

        def report():
            body = {"category": str(rng.choice(CATS)), "description": "uji skala",
                    "lon": float(rng.uniform(w, e)), "lat": float(rng.uniform(s, n)),
                    "channel": "hotline"}
            r = c.post("/api/incidents", json=body, headers=op)
            assert r.status_code == 201, r.text

        after, after_default, periods = [], [], []
        for _ in range(3):
            report()
            periods.append(_ms(lambda: c.get("/api/map/periods", headers=pl).raise_for_status()))
            after.append(max(_ms(lambda f=f: f(open_q).raise_for_status())
                             for f in calls.values()))
            report()
            after_default.append(max(_ms(lambda f=f: f(default).raise_for_status())
                                     for f in calls.values()))
        out["analytics_after_write_ms"] = statistics.median(after)
        out["analytics_after_write_default_ms"] = statistics.median(after_default)
        out["periods_ms"] = statistics.median(periods)
        lat_ms = sorted(_ms(report) for _ in range(200))
        out["intake_p50_ms"] = lat_ms[len(lat_ms) // 2]
        out["intake_p95_ms"] = lat_ms[int(len(lat_ms) * 0.95) - 1]
        out["peta_first_load_kb"] = peta_first_load(c, pl) / 1024
        out["report_quarter"] = default
    out["rss_mb"] = _rss_mb()
    services.close()
    return out


def peta_first_load(c, headers) -> int:
    """Bytes on the wire for /peta's first load: the page, its assets, the start calls."""
    import re

    gz = {**headers, "Accept-Encoding": "gzip"}
    total = 0

    def get(url):
        nonlocal total
        r = c.get(url, headers=gz)
        total += r.num_bytes_downloaded
        return r

    page = get("/peta")
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        get(src)
    # the API calls peta.js and basemap.js make before the user touches anything
    static = Path(__file__).resolve().parents[1] / "geo_sigap" / "web" / "static" / "js"
    basemap = (static / "basemap.js").read_text()
    levels = ["kelurahan", "rw", "rt"]  # peta.js asks baseMap for these
    rt_eager = 'if (level === "rt") continue;' not in basemap  # older maps fetched RT at once
    for level in levels:
        if level != "rt" or rt_eager:
            get(f"/api/map/boundaries?level={level}")
    for url in ("/api/me", "/api/config", "/api/categories", "/api/map/incidents",
                "/api/teams", "/api/map/roads", "/api/map/periods"):
        get(url)
    return total


def restart(url: str, data_dir: Path) -> dict:
    """Run in a fresh process after :func:`measure` (same data folder): the analytics
    history built again at start, from the closed quarters stored by the first worker."""
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings

    settings = Settings(database_url=url, data_dir=data_dir, secret_key="scale-bench-0123456789",
                        warm_up_on_start=False)
    services = Services.from_settings(settings)
    t = time.perf_counter()
    services.analytics_history.store()
    out = {"history_restart_s": time.perf_counter() - t,
           "history_quarters_stored": services.analytics_history.stats.get("quarters_stored", 0),
           "history_quarters_read": services.analytics_history.stats.get("quarters_read", 0)}
    services.close()
    return out


def run_report(url: str, quarter: str, out_dir: Path) -> dict:
    env = {**os.environ, "GEO_SIGAP_DATABASE_URL": url,
           "GEO_SIGAP_SECRET_KEY": "scale-bench-0123456789",
           "GEO_SIGAP_DATA_DIR": str(out_dir / "data")}
    # A forked child's ru_maxrss starts from its parent's peak (Linux copies the high-water
    # mark at fork), and this process held the imported history: the report runs under a
    # small wrapper process, whose own peak is a few MB, and the wrapper reports its
    # child's peak.
    wrapper = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:]); "
               "_, st, ru = os.wait4(p.pid, 0); print(ru.ru_maxrss, file=sys.stderr); "
               "sys.exit(os.waitstatus_to_exitcode(st))")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "geo_sigap.cli.main",
                        "report", "--quarter", quarter, "--no-pdf", "-o",
                        str(out_dir / "report")], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    lines = p.stderr.decode(errors="replace").strip().splitlines()
    try:
        peak_mb = int(lines[-1]) / 1024
    except (IndexError, ValueError):
        peak_mb = float("nan")
    err = "\n".join(lines[:-1])[-500:]
    return {"report_quarter_s": wall, "report_quarter_mb": peak_mb, "report_ok": p.returncode == 0,
            **({} if p.returncode == 0 else {"report_error": err})}


def _measure_in_child(url: str, data_dir: Path, what: str = "--measure") -> dict:
    r = subprocess.run([sys.executable, "-m", "benchmarks.scale", what, url,
                        "--data-dir", str(data_dir)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--backends", default="sqlite,postgis", help="sqlite,postgis")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the databases and files")
    ap.add_argument("--root", help="folder for the files and SQLite databases (kept; files "
                    "already there are reused)")
    ap.add_argument("--reuse", action="store_true",
                    help="measure databases already built in --root / geo_sigap_scale_<size> "
                    "(no import: its figures are left out)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--restart", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.measure:
        print(json.dumps(measure(a.measure, Path(a.data_dir))))
        return 0
    if a.restart:
        print(json.dumps(restart(a.restart, Path(a.data_dir))))
        return 0
    echo = (lambda m: print(m, file=sys.stderr)) if a.json else print
    sizes = [s.strip().upper() for s in a.sizes.split(",") if s.strip()]
    backends = [b for b in a.backends.split(",") if b in ("sqlite", "postgis")
                and not (b == "postgis" and a.no_postgis)]
    results: dict = {}
    flat: dict = {}
    root = Path(a.root) if a.root else Path(tempfile.mkdtemp(prefix="geo_sigap_scale_"))
    keep = a.keep or bool(a.root)
    for size in sizes:
        t = time.perf_counter()
        if a.root and (root / size / "incidents.csv").exists():
            paths = {level: root / size / f"{level}.geojson"
                     for level in ("kecamatan", "kelurahan", "rw", "rt")}
            paths.update(teams=root / size / "teams.csv",
                         incidents=root / size / "incidents.csv")
            echo(f"{size}: files of {root / size} reused")
        else:
            paths = write_area(size, root / size)
            echo(f"{size}: files written in {time.perf_counter() - t:.1f} s")
        for backend in backends:
            if a.reuse:
                url = f"sqlite:///{root / size / 'sigap.db'}" if backend == "sqlite" \
                    else _pg_existing_url(size)
                r = {}
                echo(f"{size}/{backend}: database reused; measuring …")
            else:
                if backend == "sqlite":
                    (root / size / "sigap.db").unlink(missing_ok=True)
                url = f"sqlite:///{root / size / 'sigap.db'}" if backend == "sqlite" \
                    else _pg_url(size)
                echo(f"{size}/{backend}: importing …")
                r = build(url, paths, echo)
                echo(f"{size}/{backend}: {r['inserted']:,} incidents at "
                     f"{r['import_rows_per_s']:,.0f} rows/s "
                     f"({r['import_rows_per_cpu_s']:,.0f} per CPU-second); measuring …")
            data_dir = root / size / f"data-{backend}"
            if a.reuse is False and data_dir.exists():
                import shutil

                shutil.rmtree(data_dir)  # a fresh import: nothing stored from before
            r.update(_measure_in_child(url, data_dir))
            r.update(_measure_in_child(url, data_dir, "--restart"))
            r.update(run_report(url, r["report_quarter"], root / size / backend))
            results[(size, backend)] = r
            suffix = f"_{size}" + ("_pg" if backend == "postgis" else "")
            for k, v in r.items():
                if isinstance(v, (int, float)):
                    flat[k + suffix] = round(float(v), 2)
            if backend == "postgis" and not keep:
                _drop_pg(url)
    big = sizes[-1]
    if f"import_rows_per_s_{big}" in flat:
        flat["import_rows_per_s"] = flat[f"import_rows_per_s_{big}"]
    if f"import_rows_per_s_{big}_pg" in flat:
        flat["import_rows_per_s_pg"] = flat[f"import_rows_per_s_{big}_pg"]
    flat["sizes"] = sizes
    flat["machine_note"] = "2 shared cores; wall-clock figures move with others' load"
    if a.json:
        print(json.dumps(flat))
    else:
        _table(results, sizes, backends)
    if not keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 0


ROWS = [("import_rows_per_s", "history import, rows/s", "{:,.0f}"),
        ("import_stream_rows_per_s", "… without the geocoder build, rows/s", "{:,.0f}"),
        ("first_build_s", "warm-up at start (geocoders, Gi*, history), s", "{:.1f}"),
        ("history_build_s", "… of it the analytics history, s", "{:.1f}"),
        ("history_restart_s", "analytics history at a restart (stored quarters), s", "{:.1f}"),
        ("analytics_warm_ms", "analytics warm (slowest of 3), ms", "{:.0f}"),
        ("analytics_warm_service_ms", "… the same in the service (no HTTP), ms", "{:.1f}"),
        ("analytics_after_write_ms", "first analytics call after a write, ms", "{:.0f}"),
        ("analytics_after_write_default_ms", "… default quarter after a write, ms", "{:.0f}"),
        ("periods_ms", "/api/map/periods after a write, ms", "{:.0f}"),
        ("intake_p50_ms", "POST /api/incidents p50, ms", "{:.0f}"),
        ("intake_p95_ms", "POST /api/incidents p95, ms", "{:.0f}"),
        ("health_ms", "/health, ms", "{:.1f}"),
        ("rss_mb", "worker memory after warm-up + calls, MB", "{:.0f}"),
        ("peta_first_load_kb", "/peta first load on the wire, kB", "{:.0f}"),
        ("hotspots_map_wire_kb", "hotspot layer of /peta on the wire, kB", "{:.0f}"),
        ("heat_map_wire_kb", "heat layer of /peta on the wire, kB", "{:.0f}"),
        ("import_rows_per_cpu_s", "history import, rows per CPU-second", "{:,.0f}"),
        ("import_server_cpu_s", "… of its CPU seconds the database server's", "{:.1f}"),
        ("import_load_avg", "… load average as the import ended", "{:.1f}"),
        ("import_peak_mb", "build process peak memory (import), MB", "{:.0f}"),
        ("report_quarter_s", "report of one quarter, s", "{:.1f}"),
        ("report_quarter_mb", "report of one quarter, peak MB", "{:.0f}")]


def _table(results, sizes, backends) -> None:
    head = ["path"] + [f"{s} {'SQLite' if b == 'sqlite' else 'PostGIS'}" for s in sizes
                       for b in backends]
    lines = [head]
    for key, label, fmt in ROWS:
        row = [label]
        for s in sizes:
            for b in backends:
                v = results.get((s, b), {}).get(key)
                row.append(fmt.format(v) if isinstance(v, (int, float)) else "–")
        lines.append(row)
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    for i, r in enumerate(lines):
        print("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j])
                        for j, c in enumerate(r)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    raise SystemExit(main())
