"""Benchmark: how long a user waits for the service, the demo and the CLI to start.

    python -m benchmarks.startup [--json] [--side 180] [--teams 300] [--no-demo]
                                 [--repeat 5] [--starts 3] [--suggestions 200]

Every figure is a new process, timed from its launch, as a user meets it; ``/health``
is polled every 20 ms with a plain keep-alive-less ``http.client`` request (cheap: the
poller must not take the CPU the server needs on a 2-core machine):

- ``serve_start_s``: ``python -m geo_sigap.cli serve`` with a city-size road network
  (``GEO_SIGAP_ROAD_NETWORK``: an OSM XML file of a perturbed ``side × side`` street grid,
  32,400 nodes by default, generated here and read by the project's own importer), its
  kelurahan and ``--teams`` teams in the database, until ``/health`` answers 200; the
  median of ``--starts`` starts with the caches of an earlier start (graph cache and
  preprocessing in ``<data_dir>/cache``, compiled kernels in ``NUMBA_CACHE_DIR``).
  ``serve_start_first_s``: on a fresh data dir and an empty numba cache.
  ``serve_cpu_s``: the server's CPU time (user + system) until ``/health`` (steadier
  than wall time on a busy machine).
- ``first_suggestion_ms``: in the same starts, from the ``/health`` answer to the answer
  of the first ``GET /api/incidents/{ticket}/suggestions`` (sent at once; the median
  over the starts, the worst in ``first_suggestion_ms_max``). The first real suggestion
  must not wait for a graph load or a JIT.
- ``suggest_http_p50_ms`` / ``suggest_http_p95_ms``: ``--suggestions`` suggestions over
  HTTP (one keep-alive connection, one at a time, different incidents) on that city
  graph with ``--teams`` teams, once the start's background warm-up is over (the
  server's CPU idle for a second: ``warm_up_done_s`` from launch);
  ``suggest_server_cpu_ms``: the server's CPU per suggestion meanwhile (steadier than
  latency on a busy machine).
- ``routing_ready_s``: a new process that builds the services from the same settings
  and asks for the routing engine (graph load or import, kernel load or JIT, engine
  warm-up), exactly as the warm-up does. ``_first`` on empty caches; that process then
  waits for the contraction hierarchies its warm-up builds in the background
  (``hierarchy_build_first_s``), as an earlier start left running would have saved
  them, so later starts load them.
- ``demo_first_start_s``: ``python -m geo_sigap.cli serve --demo`` (what ``scripts/demo``
  runs) on a fresh ``GEO_SIGAP_DEMO_DIR`` **and an empty numba cache** (as after an
  install), until the demo is ready for use: ``/health`` answers and a dispatcher's first
  team suggestion has been answered. ``demo_first_health_s``: until ``/health`` only;
  ``demo_first_cpu_s``: CPU until then of the server and its cache-warming child.
  ``demo_progress_lines``: progress lines the user saw meanwhile.
- ``cli_help_s``: ``python -m geo_sigap.cli --help``, the median of ``--repeat`` runs.

The machine's load average is reported with the figures (a busy 2-core machine makes
every start slower); ``--json`` prints one object with these keys.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-startup-secret-not-for-production-0123456789"


def city_osm(path: Path, side: int, *, seed: int = 7) -> np.ndarray:
    """Write an OSM XML street grid of ``side × side`` nodes near Jambi; return the
    nodes' (lon, lat), shape ``(side², 2)``.

    Rows and columns are ways; every 30th is primary, every 10th secondary, every 5th
    tertiary, the rest residential (every 7th of those one-way); ~80 m blocks, jittered.
    """
    rng = np.random.default_rng(seed)
    step = 0.00072
    lon0, lat0 = 103.55, -1.68
    jitter = rng.uniform(-0.2, 0.2, size=(side, side, 2)) * step
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<osm version="0.6" generator="benchmarks.startup">\n')
        for i in range(side):
            for j in range(side):
                lon = lon0 + j * step + jitter[i, j, 0]
                lat = lat0 + i * step + jitter[i, j, 1]
                f.write(f'<node id="{i * side + j + 1}" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
        way = 0

        def write_way(ids: list[int], k: int) -> None:
            nonlocal way
            way += 1
            hw = ("primary" if k % 30 == 0 else "secondary" if k % 10 == 0
                  else "tertiary" if k % 5 == 0 else "residential")
            f.write(f'<way id="{way}">')
            f.write("".join(f'<nd ref="{n}"/>' for n in ids))
            f.write(f'<tag k="highway" v="{hw}"/><tag k="name" v="Jalan {way}"/>')
            if hw == "residential" and k % 7 == 0:
                f.write('<tag k="oneway" v="yes"/>')
            f.write("</way>\n")

        for i in range(side):
            write_way([i * side + j + 1 for j in range(side)], i)
        for j in range(side):
            write_way([i * side + j + 1 for i in range(side)], j)
        f.write("</osm>\n")
    j, i = np.meshgrid(np.arange(side), np.arange(side))
    return np.column_stack([(lon0 + j * step + jitter[..., 0]).ravel(),
                            (lat0 + i * step + jitter[..., 1]).ravel()])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GEO_SIGAP_") and k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env.update(extra)
    return env


def _service_env(data: Path, numba: Path, roads: Path) -> dict[str, str]:
    return _env(GEO_SIGAP_DATA_DIR=str(data), NUMBA_CACHE_DIR=str(numba),
                GEO_SIGAP_DATABASE_URL=f"sqlite:///{data / 'geo_sigap.db'}",
                GEO_SIGAP_ROAD_NETWORK=str(roads), GEO_SIGAP_SECRET_KEY=SECRET)


def _cpu_s(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of process ``pid`` (with ``children``: and of its
    children it has waited for); Linux ``/proc``, NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        if children:
            ticks += int(fields[13]) + int(fields[14])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


class _Http:
    """One keep-alive HTTP/1.1 connection (``http.client``: no TLS context, no pool)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            raise
        raw = r.read()
        try:
            return r.status, json.loads(raw) if raw else {}
        except ValueError:
            return r.status, {"raw": raw[:200].decode(errors="replace")}

    def login(self, username: str, password: str) -> str:
        status, out = self.request("POST", "/api/auth/login",
                                   {"username": username, "password": password})
        if status != 200:
            raise RuntimeError(f"login {username}: {status} {out}")
        self.token = out["token"]
        return self.token


class _Served:
    """``python -m geo_sigap.cli <args>`` started now; :meth:`wait_health` times it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.port = _free_port()
        self.lines: list[str] = []
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "geo_sigap.cli", *args, "--port", str(self.port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_health(self, timeout: float = 900.0) -> tuple[float, float]:
        """(seconds from launch to ``/health`` = 200, server CPU seconds until then)."""
        while time.perf_counter() - self.t0 < timeout:
            if self.proc.poll() is not None:
                self._reader.join(5)
                raise RuntimeError("server exited: " + "\n".join(self.lines[-40:]))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return time.perf_counter() - self.t0, _cpu_s(self.proc.pid)
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        raise RuntimeError("no /health answer in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> _Served:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def until_health(args: list[str], env: dict[str, str], timeout: float = 900.0) -> float:
    """Seconds from launching ``python -m geo_sigap.cli <args>`` to ``/health`` = 200."""
    with _Served(args, env) as s:
        return s.wait_health(timeout)[0]


# -- the city: kelurahan, teams and users in the database (set-up, not timed) ----------

CITY_USER, CITY_PASSWORD = "bench-dispatcher", "bench-password-1"
_ROLES = ("bhabinkamtibmas", "satpol_pp", "babinsa", "linmas")
_CATEGORIES = ("pkl", "gepeng", "ternak", "pekat", "odgj", "keributan")
_GRID = 6  # kelurahan per side; one kecamatan per row


def _box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def city_files(folder: Path, lonlat: np.ndarray, teams: int, *, seed: int = 11) -> dict:
    """Boundary GeoJSONs (provinsi → kelurahan, ``_GRID²`` kelurahan over the grid) and a
    teams CSV (posts on random grid nodes, 70 % motorcycles) for the generated city."""
    rng = np.random.default_rng(seed)
    pad = 0.002
    x0, y0 = lonlat.min(axis=0) - pad
    x1, y1 = lonlat.max(axis=0) + pad
    dx, dy = (x1 - x0) / _GRID, (y1 - y0) / _GRID

    def kel_code(lon: float, lat: float) -> str:
        i = min(_GRID - 1, int((lat - y0) / dy))
        j = min(_GRID - 1, int((lon - x0) / dx))
        return f"15.71.{i + 1:02d}.{1001 + j}"

    levels = {"provinsi": [("15", "Jambi", None, _box(x0, y0, x1, y1))],
              "kabupaten_kota": [("15.71", "Kota Uji", "15", _box(x0, y0, x1, y1))],
              "kecamatan": [], "kelurahan": []}
    for i in range(_GRID):
        levels["kecamatan"].append((f"15.71.{i + 1:02d}", f"Kecamatan Uji {i + 1}", "15.71",
                                    _box(x0, y0 + i * dy, x1, y0 + (i + 1) * dy)))
        for j in range(_GRID):
            levels["kelurahan"].append((
                f"15.71.{i + 1:02d}.{1001 + j}", f"Kelurahan Uji {i + 1}-{j + 1}",
                f"15.71.{i + 1:02d}",
                _box(x0 + j * dx, y0 + i * dy, x0 + (j + 1) * dx, y0 + (i + 1) * dy)))
    folder.mkdir(parents=True, exist_ok=True)
    for level, rows in levels.items():
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": g,
             "properties": {"code": c, "name": n, "level": level, "parent_code": p}}
            for c, n, p, g in rows]}
        (folder / f"{level}.geojson").write_text(json.dumps(fc))
    lines = ["code,name,role,phone,vehicle,post_lon,post_lat,area_codes,status"]
    for k, v in enumerate(rng.choice(len(lonlat), teams, replace=False)):
        lon, lat = lonlat[v]
        vehicle = "mobil" if rng.random() < 0.3 else "motor"
        lines.append(f"T{k:04d},Tim {k},{_ROLES[k % len(_ROLES)]},+62813{k:07d},{vehicle},"
                     f"{lon:.7f},{lat:.7f},{kel_code(lon, lat)},tersedia")
    (folder / "teams.csv").write_text("\n".join(lines) + "\n")
    return {"levels": list(levels), "teams": teams, "kelurahan": len(levels["kelurahan"])}


_SETUP = """
import sys
from pathlib import Path
from geo_sigap.dispatch.users import create_user
from geo_sigap.importers.boundaries import import_boundaries, read_boundaries
from geo_sigap.importers.teams import import_teams, read_teams
from geo_sigap.storage import open_database
from geo_sigap.settings import Settings
folder = Path(sys.argv[1])
db = open_database(Settings().database_url)
for level in sys.argv[2].split(","):
    import_boundaries(db, read_boundaries(folder / f"{level}.geojson", derive_parents=False))
import_teams(db, read_teams(folder / "teams.csv"))
create_user(db, sys.argv[3], sys.argv[4], "dispatcher")
db.dispose()
"""


def seed_city(env: dict[str, str], folder: Path, levels: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", _SETUP, str(folder), ",".join(levels),
                          CITY_USER, CITY_PASSWORD], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=1800)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])


def report_incidents(port: int, lonlat: np.ndarray, n: int, *, seed: int = 5) -> list[str]:
    """``n`` reports at random points near the grid's roads; their tickets."""
    rng = np.random.default_rng(seed)
    http = _Http(port)
    http.login(CITY_USER, CITY_PASSWORD)
    tickets = []
    for k, v in enumerate(rng.choice(len(lonlat), n, replace=False)):
        lon, lat = lonlat[v] + rng.uniform(-0.0003, 0.0003, 2)
        status, out = http.request("POST", "/api/incidents", {
            "category": _CATEGORIES[k % len(_CATEGORIES)], "description": "uji mulai",
            "channel": "api", "lon": float(lon), "lat": float(lat)})
        if status != 201:
            raise RuntimeError(f"report: {status} {out}")
        tickets.append(out["ticket"])
    return tickets


def _suggest(http: _Http, ticket: str) -> dict:
    status, out = http.request("GET", f"/api/incidents/{ticket}/suggestions")
    if status != 200:
        raise RuntimeError(f"suggestions {ticket}: {status} {out}")
    return out


def settled(pid: int, t0: float, *, quiet_cpu: float = 0.05, window: float = 1.0,
            timeout: float = 300.0) -> float:
    """Seconds from ``t0`` until process ``pid`` has used less than ``quiet_cpu`` CPU
    seconds over ``window`` seconds (its background warm-up is over)."""
    last = _cpu_s(pid)
    while time.perf_counter() - t0 < timeout:
        time.sleep(window)
        now = _cpu_s(pid)
        if now - last < quiet_cpu:
            return time.perf_counter() - t0 - window
        last = now
    return float("nan")


def timed_start(env: dict[str, str], token: str, tickets: list[str],
                suggestions: int = 0) -> dict:
    """One start: launch → ``/health``, then at once the first suggestion; with
    ``suggestions``, once the warm-up is over (the server idle), that many more, one at
    a time (latencies in ms)."""
    with _Served(["serve"], env) as s:
        health_s, cpu_s = s.wait_health()
        t = time.perf_counter()
        http = _Http(s.port, token)
        _suggest(http, tickets[0])
        first_ms = (time.perf_counter() - t) * 1000
        warm_s = settled(s.proc.pid, s.t0) if suggestions else float("nan")
        http = _Http(s.port, token)  # a new connection: uvicorn closes an idle one after 5 s
        lat = []
        cpu0 = _cpu_s(s.proc.pid)
        for k in range(suggestions):
            t = time.perf_counter()
            _suggest(http, tickets[1 + k % (len(tickets) - 1)])
            lat.append((time.perf_counter() - t) * 1000)
        per_ms = (_cpu_s(s.proc.pid) - cpu0) * 1000 / suggestions if suggestions else 0.0
    return {"health_s": health_s, "cpu_s": cpu_s, "first_ms": first_ms, "lat_ms": lat,
            "warm_s": warm_s, "server_cpu_ms": per_ms}


_READY = """
import time
t0 = time.perf_counter()
from geo_sigap.services import Services
from geo_sigap.settings import Settings
services = Services.from_settings(Settings())
engine = services.routing
ready = time.perf_counter() - t0
# as an earlier start that ran until its warm-up was over: the contraction hierarchies
# its background thread builds (when not on disk yet) are saved before this one exits
wait = getattr(engine, "wait_hierarchies", None)
if wait is not None:
    wait()
print("READY", ready, engine.graph.n_nodes, time.perf_counter() - t0)
"""


def routing_ready(env: dict[str, str]) -> tuple[float, int, float]:
    """Seconds for a new process to build the services and the routing engine, its
    graph's nodes, and the seconds it then waited for its background hierarchy build
    (0 when the hierarchies were on disk)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _READY], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=1800)
    wall = time.perf_counter() - t0
    line = [x for x in out.stdout.splitlines() if x.startswith("READY")]
    if out.returncode or not line:
        raise RuntimeError(out.stderr[-3000:])
    parts = line[0].split()
    waited = float(parts[3]) - float(parts[1])
    return wall - waited, int(parts[2]), waited  # ready without the wait; the wait


def demo_first_start(tmp: Path) -> dict:
    """``serve --demo`` on a fresh demo folder and an empty numba cache: seconds to
    ``/health`` and to the first team suggestion of a dispatcher (demo account)."""
    env = _env(GEO_SIGAP_DEMO_DIR=str(tmp / "demo"), NUMBA_CACHE_DIR=str(tmp / "demo-numba"))
    with _Served(["serve", "--demo"], env) as s:
        health_s, _ = s.wait_health()
        cpu_s = _cpu_s(s.proc.pid, children=True)  # with the cache-warming child
        http = _Http(s.port)
        http.login("dispatcher", "dispatcher123")
        status, out = http.request("GET", "/api/incidents?limit=1")
        items = out.get("items", out) if isinstance(out, dict) else out
        if status != 200 or not items:
            raise RuntimeError(f"demo incidents: {status} {str(out)[:300]}")
        _suggest(http, items[0]["ticket"])
        ready_s = time.perf_counter() - s.t0
        shown = [x for x in s.lines if x.strip() and not x.startswith("INFO:")]
    return {"demo_first_health_s": health_s, "demo_first_start_s": ready_s,
            "demo_first_cpu_s": cpu_s, "demo_progress_lines": len(shown)}


def cli_help(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "geo_sigap.cli", "--help"], env=_env(),
                       capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(side: int = 180, demo: bool = True, repeat: int = 5, teams: int = 300,
        starts: int = 3, suggestions: int = 200) -> dict:
    r: dict = {"load_average": list(os.getloadavg()), "cpus": os.cpu_count()}
    r["cli_help_s"] = round(cli_help(repeat), 3)
    with tempfile.TemporaryDirectory(prefix="geo-sigap-startup-") as tmp:
        tmp = Path(tmp)
        roads = tmp / "city.osm"
        lonlat = city_osm(roads, side)
        r["nodes_generated"] = len(lonlat)
        r["teams"] = teams
        warm_data, warm_numba = tmp / "warm", tmp / "warm-numba"
        env = _service_env(warm_data, warm_numba, roads)
        # import + JIT; then the hierarchies built in the background (saved for later)
        r["routing_ready_first_s"], r["nodes"], r["hierarchy_build_first_s"] = (
            routing_ready(env))
        r["routing_ready_s"], _, _ = routing_ready(env)               # all cached
        r["serve_start_first_s"] = until_health(
            ["serve"], _service_env(tmp / "fresh", tmp / "fresh-numba", roads))
        info = city_files(tmp / "city", lonlat, teams)
        seed_city(env, tmp / "city", info["levels"])
        with _Served(["serve"], env) as s:  # set-up: reports to suggest teams for
            s.wait_health()
            tickets = report_incidents(s.port, lonlat, 60)
            token = _Http(s.port).login(CITY_USER, CITY_PASSWORD)
        runs = [timed_start(env, token, tickets, suggestions if k == 0 else 0)
                for k in range(max(1, starts))]
        r["serve_start_s"] = statistics.median(x["health_s"] for x in runs)
        r["serve_start_max_s"] = max(x["health_s"] for x in runs)
        r["serve_cpu_s"] = statistics.median(x["cpu_s"] for x in runs)
        r["first_suggestion_ms"] = statistics.median(x["first_ms"] for x in runs)
        r["first_suggestion_ms_max"] = max(x["first_ms"] for x in runs)
        lat = runs[0]["lat_ms"]
        r["suggest_http_p50_ms"], r["suggest_http_p95_ms"] = _pct(lat, 50), _pct(lat, 95)
        r["suggestions_timed"] = len(lat)
        r["warm_up_done_s"] = runs[0]["warm_s"]
        r["suggest_server_cpu_ms"] = runs[0]["server_cpu_ms"]
        if demo:
            r.update(demo_first_start(tmp))
    r["load_average_after"] = list(os.getloadavg())
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}


GOALS = {"serve_start_s": 2.0, "demo_first_start_s": 20.0, "cli_help_s": 0.5,
         "first_suggestion_ms": 200.0, "suggest_http_p95_ms": 20.0}


def _table(r: dict) -> str:
    rows = [
        ("geo-sigap --help (median)", "cli_help_s", "s"),
        ("serve, city graph, 1st start (empty caches) → /health", "serve_start_first_s", "s"),
        ("serve, city graph, later start → /health (median)", "serve_start_s", "s"),
        ("  the same, server CPU until /health", "serve_cpu_s", "s"),
        ("first suggestion after /health (median of starts)", "first_suggestion_ms", "ms"),
        ("  worst start", "first_suggestion_ms_max", "ms"),
        ("background warm-up over (from launch)", "warm_up_done_s", "s"),
        ("suggestion over HTTP, city graph, p50", "suggest_http_p50_ms", "ms"),
        ("suggestion over HTTP, city graph, p95", "suggest_http_p95_ms", "ms"),
        ("  server CPU per suggestion", "suggest_server_cpu_ms", "ms"),
        ("routing engine ready, empty caches (import + JIT)", "routing_ready_first_s", "s"),
        ("routing engine ready, warm caches", "routing_ready_s", "s"),
        ("then: hierarchies built in the background (first start)",
         "hierarchy_build_first_s", "s"),
        ("serve --demo, first start → /health", "demo_first_health_s", "s"),
        ("serve --demo, first start → first suggestion", "demo_first_start_s", "s"),
        ("  CPU until /health (server + cache-warming child)", "demo_first_cpu_s", "s"),
    ]
    out = [f"road graph: {r['nodes']:,} nodes (generated OSM grid, "
           f"{r['nodes_generated']:,} OSM nodes), {r['teams']} teams; load average "
           f"{' '.join(f'{x:.1f}' for x in r['load_average'])} → "
           f"{' '.join(f'{x:.1f}' for x in r['load_average_after'])} on {r['cpus']} CPUs",
           ""]
    out.append(f"{'path':<58} {'value':>9} {'goal':>8}")
    for label, key, unit in rows:
        if key in r:
            goal = f"≤ {GOALS[key]:g}" if key in GOALS else ""
            out.append(f"{label:<58} {r[key]:>7.2f} {unit:<2}{goal:>7}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--side", type=int, default=180, help="grid side (nodes = side²)")
    ap.add_argument("--teams", type=int, default=300, help="teams in the city")
    ap.add_argument("--no-demo", action="store_true", help="skip the demo first start")
    ap.add_argument("--repeat", type=int, default=5, help="runs of --help (median)")
    ap.add_argument("--starts", type=int, default=3, help="timed later starts (median)")
    ap.add_argument("--suggestions", type=int, default=200,
                    help="suggestions over HTTP for the p50/p95")
    a = ap.parse_args(argv)
    r = run(a.side, demo=not a.no_demo, repeat=a.repeat, teams=a.teams, starts=a.starts,
            suggestions=a.suggestions)
    print(json.dumps(r) if a.json else _table(r))
    return r


if __name__ == "__main__":
    main()
