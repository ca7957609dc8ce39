"""Intake throughput of the running dispatch service (loopback HTTP, real uvicorn).

For each backend (SQLite file, and PostGIS when reachable) the synthetic Paal Merah demo
area is loaded into a fresh database, the service is started with ``uvicorn`` (one
worker) and a bounded async load generator (httpx, fixed request count, fixed
concurrency) posts reports at random points of the area:

* ``intake+suggest``: ``POST /api/incidents?suggest=true`` — check, reverse-geocode,
  duplicate search, insert + audit + outbox event, then team suggestions by road;
* ``intake``: the same without suggestions;
* ``paced@200/s``: intake+suggest offered at a fixed 200 reports/s (open loop; latency
  from each request's due time), the target's load;
* ``sequential``: intake+suggest with one request at a time (the latency floor).

Run ``python -m benchmarks.api [--json] [--requests N] [--concurrency C]``. ``--json``
prints one object with ``intake_rps`` (SQLite, intake+suggest, saturated) and
``intake_p95_ms`` (SQLite, p95 at an offered 200 reports/s) and per-backend figures. Target on the 2-core machine: ≥ 200 reports/s with
p95 ≤ 50 ms on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("GEO_SIGAP_TEST_POSTGIS_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CATEGORIES = ["pkl", "gepeng", "ternak", "pekat", "odgj", "keributan"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    """``n`` random (lon, lat) inside the demo kelurahan polygons (EPSG:4326)."""
    import geopandas as gpd
    import shapely

    kel = gpd.read_file(REPO / "data" / "boundaries" / "paal_merah_demo" / "kelurahan.geojson")
    area = shapely.union_all(kel.geometry.values)
    minx, miny, maxx, maxy = area.bounds
    rng = random.Random(seed)
    shapely.prepare(area)
    out = []
    while len(out) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(area, x, y):
            out.append((round(x, 6), round(y, 6)))
    return out


def _prepare(url: str) -> None:
    from geo_sigap.dispatch.users import create_user
    from geo_sigap.domain.categories import load_categories
    from geo_sigap.importers.demo import load_demo
    from geo_sigap.storage import open_database

    db = open_database(url)
    try:
        load_demo(db, load_categories(), with_history=False)
        create_user(db, "bench", "bench-password-1", "operator")
    finally:
        db.dispose()


def _pg_database() -> tuple[str, object] | None:
    import sqlalchemy as sa

    name = f"geo_sigap_bench_{os.getpid()}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 - PostGIS not reachable: SQLite only
        admin.dispose()
        return None
    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              f"WHERE datname='{name}'"))
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


class _Server:
    def __init__(self, url: str, data_dir: Path):
        self.port = _free_port()
        env = {**os.environ, "GEO_SIGAP_DATABASE_URL": url, "GEO_SIGAP_DATA_DIR": str(data_dir),
               "GEO_SIGAP_SECRET_KEY": "benchmark-secret-0123456789",
               "GEO_SIGAP_ROAD_NETWORK": str(REPO / "data" / "demo" / "roads.osm"),
               "GEO_SIGAP_GAZETTEER_FILE": str(REPO / "data" / "demo" / "poi.csv")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "geo_sigap.web.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
             "--no-access-log"], cwd=REPO, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 120) -> None:
        import httpx

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("uvicorn exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("service did not start")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


async def _load(base: str, token: str, points, *, concurrency: int, suggest: bool,
                tag: str) -> dict:
    import httpx

    lat_ms: list[float] = []
    errors: dict[int, int] = {}
    queue = list(enumerate(points))
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(11)
    cats = [rng.choice(CATEGORIES) for _ in points]

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            i, (lon, lat) = queue.pop()
            body = {"category": cats[i], "description": "laporan uji beban", "channel": "api",
                    "lon": lon, "lat": lat}
            t0 = time.perf_counter()
            r = await client.post("/api/incidents", json=body,
                                  params={"suggest": "true"} if suggest else None,
                                  headers={**headers, "Idempotency-Key": f"{tag}-{i}"})
            lat_ms.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 201:
                errors[r.status_code] = errors.get(r.status_code, 0) + 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    lat_ms.sort()

    def q(p: float) -> float:
        return round(lat_ms[min(len(lat_ms) - 1, int(p * len(lat_ms)))], 2)

    return {"requests": len(points), "concurrency": concurrency, "seconds": round(wall, 2),
            "rps": round(len(points) / wall, 1), "p50_ms": q(0.50), "p95_ms": q(0.95),
            "p99_ms": q(0.99), "errors": errors}


async def _paced(base: str, token: str, points, *, rate: float, tag: str,
                 max_in_flight: int = 64) -> dict:
    """Open loop: request ``i`` is due at ``i / rate`` s; latency counts from the due time
    (no coordinated omission); at most ``max_in_flight`` requests outstanding."""
    import httpx

    lat_ms: list[float] = []
    errors: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(13)
    sem = asyncio.Semaphore(max_in_flight)
    limits = httpx.Limits(max_connections=max_in_flight,
                          max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def one(i: int, lon: float, lat: float) -> None:
            async with sem:
                due = start + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = {"category": rng.choice(CATEGORIES), "description": "laporan uji beban",
                        "channel": "api", "lon": lon, "lat": lat}
                r = await client.post("/api/incidents", json=body, params={"suggest": "true"},
                                      headers={**headers, "Idempotency-Key": f"{tag}-{i}"})
                lat_ms.append((loop.time() - due) * 1000)
                if r.status_code != 201:
                    errors[r.status_code] = errors.get(r.status_code, 0) + 1

        await asyncio.gather(*(one(i, *p) for i, p in enumerate(points)))
        wall = loop.time() - start
    lat_ms.sort()

    def q(p: float) -> float:
        return round(lat_ms[min(len(lat_ms) - 1, int(p * len(lat_ms)))], 2)

    return {"requests": len(points), "offered_rps": rate, "seconds": round(wall, 2),
            "rps": round(len(points) / wall, 1), "p50_ms": q(0.50), "p95_ms": q(0.95),
            "p99_ms": q(0.99), "errors": errors, "concurrency": 0}


def _run_backend(name: str, url: str, tmp: Path, n: int, concurrency: int) -> dict:
    import httpx

    _prepare(url)
    server = _Server(url, tmp / f"data-{name}")
    try:
        server.wait()
        r = httpx.post(server.base + "/api/auth/login",
                       json={"username": "bench", "password": "bench-password-1"}, timeout=30)
        token = r.json()["token"]
        pts = _points(n * 3 + 300, seed=len(name))
        warm, pts = pts[:100], pts[100:]
        asyncio.run(_load(server.base, token, warm, concurrency=4, suggest=True,
                          tag=f"{name}-warm"))
        out = {
            "intake+suggest": asyncio.run(_load(server.base, token, pts[:n],
                                                concurrency=concurrency, suggest=True,
                                                tag=f"{name}-s")),
            "intake": asyncio.run(_load(server.base, token, pts[n:2 * n],
                                        concurrency=concurrency, suggest=False,
                                        tag=f"{name}-i")),
            "paced@200/s": asyncio.run(_paced(server.base, token, pts[2 * n + 200:3 * n + 200],
                                              rate=200.0, tag=f"{name}-p")),
            "sequential": asyncio.run(_load(server.base, token, pts[2 * n:2 * n + 200],
                                            concurrency=1, suggest=True, tag=f"{name}-q")),
        }
        return out
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--requests", type=int, default=2000, help="reports per mode")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-postgis", action="store_true")
    args = ap.parse_args(argv)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="sigap-bench-") as d:
        tmp = Path(d)
        results["sqlite"] = _run_backend("sqlite", f"sqlite:///{tmp / 'bench.db'}", tmp,
                                         args.requests, args.concurrency)
        pg = None if args.no_postgis else _pg_database()
        if pg is not None:
            url, drop = pg
            try:
                results["postgis"] = _run_backend("postgis", url, tmp, args.requests,
                                                  args.concurrency)
            finally:
                drop()
    sat = results["sqlite"]["intake+suggest"]
    paced = results["sqlite"]["paced@200/s"]
    summary = {"benchmark": "api", "intake_rps": sat["rps"], "intake_p95_ms": paced["p95_ms"],
               "intake_p95_ms_saturated": sat["p95_ms"],
               "target": {"intake_rps": 200, "intake_p95_ms": 50},
               "meets_target": sat["rps"] >= 200 and paced["p95_ms"] <= 50,
               "backends": results, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{'backend':9} {'mode':15} {'req':>5} {'conc':>4} {'rps':>7} {'p50 ms':>7} "
              f"{'p95 ms':>7} {'p99 ms':>7} errors")
        for b, modes in results.items():
            for m, r in modes.items():
                print(f"{b:9} {m:15} {r['requests']:5d} {r['concurrency']:4d} {r['rps']:7.1f} "
                      f"{r['p50_ms']:7.2f} {r['p95_ms']:7.2f} {r['p99_ms']:7.2f} "
                      f"{r['errors'] or '-'}")
        print("\nintake_rps = saturated throughput (closed loop); intake_p95_ms = p95 at an "
              "offered 200 reports/s (open loop).")
        print(f"Target (SQLite, intake+suggest): >= 200 rps, p95 <= 50 ms -> "
              f"{'met' if summary['meets_target'] else 'NOT met'}")
    return summary


if __name__ == "__main__":
    main()
