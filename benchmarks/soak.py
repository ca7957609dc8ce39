"""Memory soak: does the service's memory level off under a steady mixed load?

The app runs in this process (ASGI, no sockets) on a fresh SQLite (or ``--postgis``)
copy of the demo area; ``--rounds`` rounds of ``--requests`` requests (a report, a map
read, a case list, a public status look-up, a sign-in) are sent, and after each round
the resident memory (RSS) and the Python heap traced by :mod:`tracemalloc` are printed,
with the code lines whose allocations grew most since the first round. Not part of the
test suite; bounded by ``--rounds`` × ``--requests`` (default 8 × 600, a few minutes).

Run ``python -m benchmarks.soak [--rounds N] [--requests N] [--json] [--postgis]``.
``--json`` prints ``{rss_mb: [...], traced_mb: [...], growth_last_half_mb, top_growth}``;
``growth_last_half_mb`` (traced heap, last round minus the middle one) is the figure to
watch: near zero means level.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.api import PG_ADMIN, _pg_database, _points, _prepare  # noqa: F401

REPO = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _round(client, token: str, points, tag: str, rng: random.Random) -> dict:
    h = {"Authorization": f"Bearer {token}"}
    errors = 0
    tickets = []
    for i, (lon, lat) in enumerate(points):
        r = await client.post("/api/incidents", headers={**h, "Idempotency-Key": f"{tag}-{i}"},
                              json={"category": rng.choice(["pkl", "gepeng", "ternak"]),
                                    "description": "uji rendam", "lon": lon, "lat": lat})
        errors += r.status_code != 201
        if r.status_code == 201:
            tickets.append(r.json()["ticket"])
        if i % 4 == 0:
            errors += (await client.get("/api/map/incidents", headers=h)).status_code != 200
            errors += (await client.get("/api/incidents?limit=20",
                                        headers=h)).status_code != 200
        if i % 10 == 0 and tickets:
            r = await client.get(f"/api/public/status/{rng.choice(tickets)}",
                                 headers={"X-Forwarded-For": f"10.0.{i % 250}.{i % 7}"})
            errors += r.status_code not in (200, 429)
        if i % 25 == 0:
            r = await client.post("/api/auth/login", json={"username": "bench",
                                                           "password": "bench-password-1"})
            errors += r.status_code != 200
            await client.post("/api/auth/logout", headers={
                "Authorization": f"Bearer {r.json()['token']}"})
    return {"errors": errors}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--requests", type=int, default=600, help="reports per round")
    ap.add_argument("--postgis", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import httpx

    from geo_sigap.settings import Settings
    from geo_sigap.web.app import create_app

    out: dict = {"benchmark": "soak", "rss_mb": [], "traced_mb": [], "errors": 0}
    with tempfile.TemporaryDirectory(prefix="sigap-soak-") as d:
        drop = None
        if args.postgis:
            url, drop = _pg_database()
        else:
            url = f"sqlite:///{Path(d) / 'soak.db'}"
        _prepare(url)
        settings = Settings(database_url=url, data_dir=Path(d) / "data",
                            secret_key="soak-secret-0123456789", warm_up_on_start=False,
                            road_network=REPO / "data" / "demo" / "roads.osm",
                            public_status_per_hour=100_000)
        app = create_app(settings)
        pts = _points(args.rounds * args.requests, seed=3)
        rng = random.Random(5)

        async def run() -> None:
            transport = httpx.ASGITransport(app=app)
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=transport, base_url="http://soak") as client:
                r = await client.post("/api/auth/login", json={
                    "username": "bench", "password": "bench-password-1"})
                token = r.json()["token"]
                first = None
                for k in range(args.rounds):
                    t0 = time.perf_counter()
                    res = await _round(client, token,
                                       pts[k * args.requests:(k + 1) * args.requests],
                                       f"r{k}", rng)
                    gc.collect()
                    snap = tracemalloc.take_snapshot().filter_traces(
                        [tracemalloc.Filter(False, tracemalloc.__file__)])
                    if k == 0:
                        first = snap
                    traced = sum(s.size for s in snap.statistics("filename")) / 1e6
                    out["rss_mb"].append(round(_rss_mb(), 1))
                    out["traced_mb"].append(round(traced, 2))
                    out["errors"] += res["errors"]
                    if not args.json:
                        print(f"round {k + 1}: {time.perf_counter() - t0:5.1f} s, rss "
                              f"{out['rss_mb'][-1]:7.1f} MB, python heap {traced:7.2f} MB, "
                              f"errors {res['errors']}", flush=True)
                    if k == args.rounds - 1 and first is not None:
                        top = snap.compare_to(first, "lineno")[:12]
                        out["top_growth"] = [f"{s.size_diff / 1e3:+.0f} kB "
                                             f"{s.traceback[0].filename.split('site-packages/')[-1]}"
                                             f":{s.traceback[0].lineno}" for s in top]

        tracemalloc.start(1)
        try:
            asyncio.run(run())
        finally:
            tracemalloc.stop()
            if drop is not None:
                drop()
    half = len(out["traced_mb"]) // 2
    out["growth_last_half_mb"] = round(out["traced_mb"][-1] - out["traced_mb"][half], 2)
    if args.json:
        print(json.dumps(out))
    else:
        print("growth since the first round, by line:")
        for line in out.get("top_growth", []):
            print("  " + line)
        print(f"python heap growth over the last half: {out['growth_last_half_mb']} MB")
    return out


if __name__ == "__main__":
    os.environ.setdefault("GEO_SIGAP_DEMO", "false")
    main()
