"""A short soak in the process: after a warm-up round, further rounds of mixed requests
(reports with suggestions, map, case list, KPIs, public status, rejections, sign-in and
out) leave no more Python objects behind and fill no cache past its size.

The resident-memory side (allocator arenas, minutes of load on a real server) is
``benchmarks.soak``; this guards the Python level, counted, never timed."""

from __future__ import annotations

import gc
import sys

from tests.conftest import PASSWORDS

ROUNDS = 4
PER_ROUND = 15
# Allocator blocks a report may leave behind: its row lives in the database and in the
# analytics history as numbers (no Python object of its own); what is left is the slow
# filling of bounded caches (SQLAlchemy statements, URL parsing) and noise (±20 a report
# over one round of 15). Keeping one case view or ORM row per report is 40 or more.
MAX_BLOCKS_PER_REPORT = 25

POINTS = [(103.6003 + (i % 7) * 1e-5, -1.6198 + (i % 5) * 1e-5) for i in range(PER_ROUND)]


def _round(client, headers, rejecter, k: int, pending: list) -> None:
    for i, (lon, lat) in enumerate(POINTS):
        r = client.post("/api/incidents", params={"suggest": "true"},
                        headers={**headers, "Idempotency-Key": f"soak-{k}-{i}"},
                        json={"category": "pkl", "description": f"uji rendam {k} {i}",
                              "channel": "hotline", "lon": lon + k * 1e-4, "lat": lat})
        assert r.status_code == 201, r.text
        pending.append((r.json()["ticket"], r.json()["version"]))
        if i % 2 == 0:
            assert client.get("/api/map/incidents", headers=headers).status_code == 200
            assert client.get("/api/incidents?limit=20", headers=headers).status_code == 200
        if i % 5 == 3:
            assert client.get("/api/analytics/kpis", headers=headers).status_code == 200
            assert client.get(f"/api/public/status/{pending[-1][0]}").status_code in (200, 429)
        if len(pending) > 10:  # the open cases stay about constant
            ticket, version = pending.pop(0)
            r = client.post(f"/api/incidents/{ticket}/transitions", headers=rejecter,
                            json={"action": "reject", "version": version,
                                  "reason": "uji rendam"})
            assert r.status_code == 200, r.text
        if i % 10 == 9:
            r = client.post("/api/auth/login", json={"username": "operator",
                                                     "password": PASSWORDS["operator"]})
            assert r.status_code == 200
            client.post("/api/auth/logout",
                        headers={"Authorization": f"Bearer {r.json()['token']}"})
            client.cookies.clear()


def _blocks() -> int:
    """Memory blocks the Python allocator holds (every object, strings included)."""
    gc.collect()
    return sys.getallocatedblocks()


def _cache_sizes(app, services) -> dict[str, int]:
    from geo_sigap.web import auth as web_auth

    sizes = {"analytics answers": len(services.analytics._cache),
             "analytics grids": len(services.analytics._weights),
             "token lookups": sum(len(v) for v in web_auth._CACHE._by_engine.values()),
             "map answers": len(getattr(app.state, "map_cache", {}))}
    limits = getattr(app.state, "rate_limits", None)
    sizes["rate-limit clients"] = len(limits._hits) if limits is not None else 0
    engine = services.routing
    for profile, cache in getattr(engine, "snap_caches", {}).items():
        sizes[f"snap cache {profile}"] = len(cache)
    return sizes


def _soak(client, auth, services, rounds: int, first: int = 0, leak=None
          ) -> tuple[list[int], list[dict]]:
    headers, rejecter = auth["dispatcher"], auth["operator"]
    pending: list = []
    counts, caches = [], []
    for k in range(first, first + rounds):
        _round(client, headers, rejecter, k, pending)
        if leak is not None:
            leak()
        counts.append(_blocks())
        caches.append(_cache_sizes(client.app, services))
    return counts, caches


def _per_report(counts: list[int]) -> float:
    """Blocks left per report from the end of the first round (the warm-up) to the end."""
    return (counts[-1] - counts[0]) / (PER_ROUND * (len(counts) - 1))


def test_rounds_of_mixed_requests_leave_no_objects_behind(client, auth, services):
    counts, caches = _soak(client, auth, services, ROUNDS)
    assert _per_report(counts) <= MAX_BLOCKS_PER_REPORT, counts
    # every cache is as full after the last round as after the first (or emptier)
    for name in caches[0]:
        assert caches[-1][name] <= max(caches[0][name], 2), (name, caches)
    # the count sees a cache that keeps something of every report
    kept: list = []

    def leak():
        kept.extend(f"laporan {len(kept) + i}" for i in range(
            PER_ROUND * 2 * MAX_BLOCKS_PER_REPORT))

    counts, _ = _soak(client, auth, services, 2, first=ROUNDS, leak=leak)
    assert _per_report(counts) > MAX_BLOCKS_PER_REPORT, counts
