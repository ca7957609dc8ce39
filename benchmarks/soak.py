"""Memory soak: does a running worker's memory level off under steady mixed load?

The demo area is loaded into a fresh SQLite file (or ``--postgis`` database), the service
is started like in production (``uvicorn``, one worker, warm-up on start, the demo road
network) and ``--concurrency`` keep-alive connections send a steady mixed load for
``--minutes``: per step a report (``POST /api/incidents?suggest=true``: geocoding,
duplicate search, suggestions by road), and in turn the live map (``/api/map/incidents``),
the case list, the KPIs of the current quarter (recomputed after every write), a public
status look-up, a rejection of an earlier report (so the open cases stay about constant,
as in operation) and a sign-in/sign-out. Every ``--sample-s`` (10) seconds the worker's
resident memory is read from ``/proc/<pid>/smaps_rollup`` (RSS and its anonymous part)
with its thread count; a sample holds the working memory of the requests in flight too,
so the figures use the median of each minute.

Figures (per-minute medians): ``rss_mb_start`` (the second minute: warm-up done, pools
and caches filled), ``rss_mb_end`` (the last), ``rss_slope_mb_per_min`` (least squares
over the second half of the run), ``rss_floor_slope_mb_per_min`` (the same for each
minute's lowest sample: what stays when no request is in flight) and ``levelled`` (the
floor's slope under 1 MB/min: a leak raises the floor, requests in flight only the median
and the peaks). Growth that stops is the working
set filling; growth that goes on is a leak. ``--env NAME=VALUE`` passes settings to the
worker, e.g. ``--env GEO_SIGAP_MALLOC_ARENA_MAX=0`` for glibc's default arenas (the
growth of issue #11: one arena per request thread).

Run ``python -m benchmarks.soak [--minutes 10] [--concurrency 8] [--sample-s 30]
[--postgis] [--env NAME=VALUE ...] [--json]``. ``--json`` prints ``{rss_mb_start,
rss_mb_end, rss_slope_mb_per_min, levelled, reports, requests, errors, minutes: [{t_s,
reports, rss_mb, rss_mb_floor, rss_mb_peak, anon_mb, threads}], samples, load_avg, ...}``. The Python-level counterpart (no
growth of objects or caches) is ``tests/api/test_soak_objects.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

from benchmarks.api import (
    _Conn,
    _host_port,
    _login,
    _pg_database,
    _points,
    _post,
    _prepare,
    _run,
    _Server,
)

CATEGORIES = ("pkl", "gepeng", "ternak")
LEVEL_SLOPE_MB_PER_MIN = 1.0


def memory_of(pid: int) -> dict:
    """Resident memory of a process (MB): ``rss_mb``, ``anon_mb`` and its thread count."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0]) / 1024
    threads = next(int(line.split()[1]) for line in
                   Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Threads:"))
    return {"rss_mb": round(fields["Rss"], 1), "anon_mb": round(fields["Anonymous"], 1),
            "threads": threads}


def slope_per_min(samples: list[dict], key: str = "rss_mb") -> float | None:
    """Least-squares slope of ``key`` over time (MB per minute)."""
    if len(samples) < 2:
        return None
    ts = [s["t_s"] / 60 for s in samples]
    ys = [s[key] for s in samples]
    mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
    var = sum((t - mt) ** 2 for t in ts)
    return round(sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var, 2) \
        if var else None


def _get(host: str, port: int, path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode()


def _json_req(host: str, port: int, path: str, token: str | None, body: dict) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode() + data


async def soak(server: _Server, token: str, *, seconds: float, concurrency: int,
               sample_s: float, echo) -> dict:
    host, port = _host_port(server.base)
    points = _points(200_000, seed=3)
    rng = random.Random(5)
    clock = time.monotonic
    t0 = clock()
    counts = {"reports": 0, "requests": 0, "errors": 0}
    errors: dict[str, int] = {}
    pending: list[tuple[str, int]] = []  # (ticket, version) of reports not yet rejected
    samples: list[dict] = []
    map_req = _get(host, port, "/api/map/incidents", token)
    list_req = _get(host, port, "/api/incidents?limit=20", token)
    kpi_req = _get(host, port, "/api/analytics/kpis", token)

    async def call(conn: _Conn, raw: bytes, ok: tuple[int, ...], what: str) -> bytes | None:
        status, body = await conn.request(raw)
        counts["requests"] += 1
        if status not in ok:
            counts["errors"] += 1
            errors[f"{what} {status}"] = errors.get(f"{what} {status}", 0) + 1
            return None
        return body

    async def worker(w: int) -> None:
        conn = await _Conn.open(host, port)
        i = 0
        while clock() - t0 < seconds:
            lon, lat = points[(w * 25_000 + i) % len(points)]
            body = await call(conn, _post(
                host, port, "/api/incidents?suggest=true", token, f"soak-{w}-{i}",
                {"category": rng.choice(CATEGORIES), "description": "uji rendam memori",
                 "channel": "api", "lon": lon, "lat": lat}), (201,), "report")
            if body is not None:
                counts["reports"] += 1
                case = json.loads(body)
                pending.append((case["ticket"], case["version"]))
            if i % 2 == 0:
                await call(conn, map_req, (200,), "map")
                await call(conn, list_req, (200,), "list")
            if i % 5 == 1 and pending:
                ticket = rng.choice(pending)[0]
                await call(conn, _get(host, port, f"/api/public/status/{ticket}", None),
                           (200, 429), "status")
            if i % 5 == 3:
                await call(conn, kpi_req, (200,), "kpis")
            if len(pending) > 50:  # keep the open cases about constant, as in operation
                ticket, version = pending.pop(0)
                await call(conn, _json_req(
                    host, port, f"/api/incidents/{ticket}/transitions", token,
                    {"action": "reject", "version": version, "reason": "uji rendam"}),
                    (200, 409), "reject")
            if i % 25 == 24:
                body = await call(conn, _json_req(host, port, "/api/auth/login", None, {
                    "username": "bench", "password": "bench-password-1"}), (200,), "login")
                if body is not None:
                    other = json.loads(body)["token"]
                    await call(conn, _json_req(host, port, "/api/auth/logout", other, {}),
                               (200, 204), "logout")
            i += 1
        conn.close()

    async def sampler() -> None:
        while True:
            t = clock() - t0
            samples.append({"t_s": round(t), "reports": counts["reports"],
                            **memory_of(server.proc.pid)})
            if len(samples) == 1 or t // 60 > samples[-2]["t_s"] // 60:
                echo(f"{t / 60:5.1f} min  {counts['reports']:7,} reports  "
                     f"rss {samples[-1]['rss_mb']:7.1f} MB")
            if t >= seconds:
                return
            await asyncio.sleep(min(sample_s, max(0.0, seconds - t)))

    await asyncio.gather(sampler(), *(worker(w) for w in range(concurrency)))
    return {**counts, "error_kinds": errors, "samples": samples}


def per_minute(samples: list[dict]) -> list[dict]:
    """Median of the samples of each minute (``t_s`` its end): a sample taken while
    eight requests are in flight holds their working memory too; the median is what
    stays."""
    out = []
    for m in range(1, int(samples[-1]["t_s"] // 60 + (samples[-1]["t_s"] % 60 > 0)) + 1):
        got = [s for s in samples if (m - 1) * 60 < s["t_s"] <= m * 60]
        if got:
            mid = len(got) // 2
            out.append({"t_s": m * 60, "reports": got[-1]["reports"], **{
                k: sorted(s[k] for s in got)[mid] for k in ("rss_mb", "anon_mb", "threads")},
                "rss_mb_floor": min(s["rss_mb"] for s in got),
                "rss_mb_peak": max(s["rss_mb"] for s in got)})
    return out


def summarise(samples: list[dict]) -> dict:
    """From the per-minute medians: ``rss_mb_start`` (the second minute: warm-up done),
    ``rss_mb_end`` (the last), ``rss_slope_mb_per_min`` (least squares over the second
    half); ``rss_floor_slope_mb_per_min`` the same for each minute's lowest sample (what
    stays when no request is in flight: a leak raises it); ``levelled``: the floor's
    slope under 1 MB/min (the median also moves with the working memory of the requests
    in flight, e.g. a 64 MB allocator heap filled and given back)."""
    minutes = per_minute(samples)
    start = minutes[1] if len(minutes) > 2 else minutes[0]
    half = [m for m in minutes if m["t_s"] > minutes[-1]["t_s"] / 2]
    slope, floor = slope_per_min(half), slope_per_min(half, "rss_mb_floor")
    return {"rss_mb_start": start["rss_mb"], "rss_mb_end": minutes[-1]["rss_mb"],
            "rss_mb_peak": max(s["rss_mb"] for s in samples),
            "rss_slope_mb_per_min": slope, "rss_floor_slope_mb_per_min": floor,
            "anon_slope_mb_per_min": slope_per_min(half, "anon_mb"),
            "levelled": floor is not None and floor < LEVEL_SLOPE_MB_PER_MIN,
            "minutes": minutes}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--sample-s", type=float, default=10.0)
    ap.add_argument("--postgis", action="store_true")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for the worker (repeatable)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    extra = dict(e.split("=", 1) for e in args.env)
    echo = (lambda m: None) if args.json else (lambda m: print(m, flush=True))

    out: dict = {"benchmark": "soak", "minutes": args.minutes,
                 "concurrency": args.concurrency, "backend": "postgis" if args.postgis
                 else "sqlite", "env": extra}
    with tempfile.TemporaryDirectory(prefix="sigap-soak-") as d:
        drop = None
        if args.postgis:
            got = _pg_database()
            if got is None:
                raise SystemExit("PostGIS is not reachable")
            url, drop = got
        else:
            url = f"sqlite:///{Path(d) / 'soak.db'}"
        try:
            _prepare(url)
            server = _Server(url, Path(d) / "data", extra_env=extra)
            try:
                server.wait(300)
                token = _login(server)
                res = _run(soak(server, token, seconds=args.minutes * 60,
                                concurrency=args.concurrency, sample_s=args.sample_s,
                                echo=echo))
            finally:
                server.stop()
        finally:
            if drop is not None:
                drop()
    out.update(summarise(res["samples"]))
    out.update({k: res[k] for k in ("reports", "requests", "errors", "error_kinds",
                                    "samples")})
    out["load_avg"] = [round(v, 2) for v in os.getloadavg()]
    if args.json:
        print(json.dumps(out))
    else:
        print("minute  reports  RSS MB median  floor     peak  anon MB  threads")
        for m in out["minutes"]:
            print(f"{m['t_s'] // 60:6.0f}  {m['reports']:7,}  {m['rss_mb']:13.1f}  "
                  f"{m['rss_mb_floor']:5.1f}  {m['rss_mb_peak']:7.1f}  {m['anon_mb']:7.1f}  "
                  f"{m['threads']:7}")
        print(f"{out['reports']:,} reports, {out['requests']:,} requests, "
              f"{out['errors']} errors {out['error_kinds'] or ''}")
        print(f"RSS (per-minute median) minute 2 {out['rss_mb_start']} MB → last "
              f"{out['rss_mb_end']} MB (peak {out['rss_mb_peak']}); slope over the second half "
              f"{out['rss_slope_mb_per_min']} MB/min (floor "
              f"{out['rss_floor_slope_mb_per_min']}) → "
              f"{'levelled' if out['levelled'] else 'NOT levelled'}; load {out['load_avg']}")
    return out


if __name__ == "__main__":
    os.environ.setdefault("GEO_SIGAP_DEMO", "false")
    main()
