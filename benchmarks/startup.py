"""Benchmark: how long a user waits for the service, the demo and the CLI to start.

    python -m benchmarks.startup [--json] [--side 180] [--no-demo] [--repeat 5]

Every figure is a new process, timed from its launch, as a user meets it:

- ``serve_start_s``: ``python -m geo_sigap.cli serve`` with a city-size road network
  (``GEO_SIGAP_ROAD_NETWORK``: an OSM XML file of a perturbed ``side × side`` street grid,
  32,400 nodes by default, generated here and read by the project's own importer) until
  ``/health`` answers 200. ``_first`` on a fresh data dir and an empty numba cache;
  without suffix the second start, with the caches of an earlier start (graph cache in
  ``<data_dir>/cache/routing``, compiled kernels in ``NUMBA_CACHE_DIR``).
- ``routing_ready_s``: the part of the service start that ``/health`` does not wait for
  (the warm-up runs in a background thread): a new process that builds the services
  from the same settings and asks for the routing engine (graph load or import, kernel
  load or JIT, engine warm-up), exactly as the warm-up does. ``_first`` on empty caches
  (import of the OSM file and JIT), without suffix with warm caches.
- ``demo_first_start_s``: ``python -m geo_sigap.cli serve --demo`` (what ``scripts/demo``
  runs) on a fresh ``GEO_SIGAP_DEMO_DIR`` until ``/health`` answers.
- ``cli_help_s``: ``python -m geo_sigap.cli --help``, the median of ``--repeat`` runs.

The machine's load average is reported with the figures (a busy 2-core machine makes
every start slower); ``--json`` prints one object with these keys.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-startup-secret-not-for-production-0123456789"


def city_osm(path: Path, side: int, *, seed: int = 7) -> int:
    """Write an OSM XML street grid of ``side × side`` nodes near Jambi; return the nodes.

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
    return side * side


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


def until_health(args: list[str], env: dict[str, str], timeout: float = 900.0) -> float:
    """Seconds from launching ``python -m geo_sigap.cli <args>`` to ``/health`` = 200."""
    import httpx

    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "geo_sigap.cli", *args, "--port",
                             str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stdout.read()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("no /health answer in time")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_READY = """
import time
t0 = time.perf_counter()
from geo_sigap.services import Services
from geo_sigap.settings import Settings
services = Services.from_settings(Settings())
engine = services.routing
print("READY", time.perf_counter() - t0, engine.graph.n_nodes if hasattr(engine.graph,
      "n_nodes") else len(engine.graph.node_lon))
"""


def routing_ready(env: dict[str, str]) -> tuple[float, int]:
    """Seconds for a new process to build the services and the routing engine."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _READY], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=1800)
    wall = time.perf_counter() - t0
    line = [x for x in out.stdout.splitlines() if x.startswith("READY")]
    if out.returncode or not line:
        raise RuntimeError(out.stderr[-3000:])
    return wall, int(line[0].split()[2])


def cli_help(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "geo_sigap.cli", "--help"], env=_env(),
                       capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(side: int = 180, demo: bool = True, repeat: int = 5) -> dict:
    r: dict = {"load_average": list(os.getloadavg()), "cpus": os.cpu_count()}
    r["cli_help_s"] = round(cli_help(repeat), 3)
    with tempfile.TemporaryDirectory(prefix="geo-sigap-startup-") as tmp:
        tmp = Path(tmp)
        roads = tmp / "city.osm"
        r["nodes_generated"] = city_osm(roads, side)
        warm_data, warm_numba = tmp / "warm", tmp / "warm-numba"
        env = _service_env(warm_data, warm_numba, roads)
        r["routing_ready_first_s"], r["nodes"] = routing_ready(env)   # import + JIT
        r["routing_ready_s"], _ = routing_ready(env)                  # both cached
        r["serve_start_first_s"] = until_health(
            ["serve"], _service_env(tmp / "fresh", tmp / "fresh-numba", roads))
        r["serve_start_s"] = until_health(["serve"], env)
        if demo:
            r["demo_first_start_s"] = until_health(
                ["serve", "--demo"], _env(GEO_SIGAP_DEMO_DIR=str(tmp / "demo")))
    r["load_average_after"] = list(os.getloadavg())
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}


GOALS = {"serve_start_s": 2.0, "demo_first_start_s": 20.0, "cli_help_s": 0.5}


def _table(r: dict) -> str:
    rows = [
        ("geo-sigap --help (median)", "cli_help_s"),
        ("serve, city graph, 1st start (empty caches) → /health", "serve_start_first_s"),
        ("serve, city graph, 2nd start (warm caches) → /health", "serve_start_s"),
        ("routing engine ready, empty caches (import + JIT)", "routing_ready_first_s"),
        ("routing engine ready, warm caches", "routing_ready_s"),
        ("serve --demo, first start → /health", "demo_first_start_s"),
    ]
    out = [f"road graph: {r['nodes']:,} nodes (generated OSM grid, "
           f"{r['nodes_generated']:,} OSM nodes); load average "
           f"{' '.join(f'{x:.1f}' for x in r['load_average'])} on {r['cpus']} CPUs", ""]
    out.append(f"{'path':<58} {'seconds':>8} {'goal':>6}")
    for label, key in rows:
        if key in r:
            goal = f"≤ {GOALS[key]:g}" if key in GOALS else ""
            out.append(f"{label:<58} {r[key]:>8.2f} {goal:>6}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--side", type=int, default=180, help="grid side (nodes = side²)")
    ap.add_argument("--no-demo", action="store_true", help="skip the demo first start")
    ap.add_argument("--repeat", type=int, default=5, help="runs of --help (median)")
    a = ap.parse_args(argv)
    r = run(a.side, demo=not a.no_demo, repeat=a.repeat)
    print(json.dumps(r) if a.json else _table(r))
    return r


if __name__ == "__main__":
    main()
