"""Benchmark: reverse geocoding against the strongest shapely/geopandas ways, forward
geocoding latency.

Run from the repository root::

    python -m benchmarks.geocoding              # readable table
    python -m benchmarks.geocoding --json       # one JSON object
    python -m benchmarks.geocoding --points 200000 --sizes 1000,20000   # quicker

In the same run, on the same points, :class:`geo_sigap.geocoding.ReverseGeocoder`
(``locate_many``: codes, names and flags of every point as a DataFrame) is compared
with what a skilled user would write:

* **STRtree** — ``shapely.STRtree(polygons).query(points, predicate="intersects")``
  (points built beforehand and not timed; the pairs it returns are not even reduced to
  one answer per point: the strictest comparison);
* **prepared** — ``shapely.prepare`` then ``STRtree.query`` (bounding boxes) and
  ``shapely.intersects_xy`` on the candidate pairs;
* **sjoin** — ``geopandas.sjoin(points, polygons, predicate="intersects")``.

Polygons: RT-like tessellations (jittered Voronoi near Kota Jambi) of 1k, 20k and 100k
polygons, and the 68 Kota Jambi kelurahan of ``../shared/data`` for the 50 m gap rule
on realistic points (around the real POIs, 10 % anywhere in the city's box). Every
peer's answer is checked to equal ours (smallest code among covering polygons — the
tessellations have shared borders but no overlapping interiors).

*Cold* is the first batch of a freshly built geocoder (and the first query of a fresh
tree) in this process — the best over 2–3 fresh builds of each —, and a fresh Python process that imports, builds and answers one
batch; *warm* is the best of ``--repeat`` runs, ours and the peers' interleaved.
Every time is taken as wall clock and as CPU time of the process; all contenders run
on one thread, so on a shared, busy machine the CPU-time ratio is the fair one: the
``--json`` keys (``speedup_vs_strtree`` — the lowest over the polygon counts —,
``first_batch_speedup_vs_strtree``, ``gap_rule_speedup_vs_sjoin``) are CPU-time ratios,
``wall_clock`` holds the same ratios on wall time; ``forward_ms_p95`` is CPU time per
query too (``forward.forward_wall_ms_p95`` the wall clock); ``single_point_us_p95`` is
wall clock (a call is too short for a CPU clock).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_sigap.geocoding import ForwardGeocoder, ReverseGeocoder, load_gazetteer, streets_from_osm

REPO = Path(__file__).resolve().parents[1]
JAMBI = (REPO.parent / "shared" / "data" / "jambi").resolve()
DEMO_BOUNDARIES = REPO / "data" / "boundaries" / "paal_merah_demo"
DEMO = REPO / "data" / "demo"

QUERIES_DEMO = [
    "RT 05 RW 02 Kel. Eka Jaya", "RT.005/RW.002", "Kelurahan Talang Bakung", "kel talang bakng",
    "Jl. Lingkar Selatan", "jln lingkar sltn", "Gg. Mawar", "Lrg Kenanga",
    "dekat Masjid Al-Ikhlas", "di gang sebelah masjid Al-Ikhlas, RT 05 Eka Jaya",
    "kantor lurah eka jaya", "msjid al iklas", "pasar", "Jl. Lingkar Selatan RT 3 Paal Merah",
    "sekolah dasar", "payo selincah", "bakung jaya rt 1", "xyz tidak ada",
]
QUERIES_JAMBI = [
    "Kelurahan Talang Bakung", "kel talang bakng", "Jl. Lingkar Selatan", "jln lingkar sltn",
    "Jalan Lingkar Selatan, Kel. Paal Merah", "RSUD Raden Mattaher", "rsud raden matahir",
    "SD Negeri 47", "pasar angso duo", "kantor lurah eka jaya", "Jl. Kapten Pattimura",
    "jalan sudirman thehok", "RT 05 Eka Jaya", "payo selincah", "puskesmas paal merah",
    "xyz tidak ada",
]


def rt_like_polygons(n: int = 20_000, seed: int = 42) -> gpd.GeoDataFrame:
    """``n`` RT-like polygons tiling a 0.15° × 0.15° box near Kota Jambi (EPSG:4326)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    x0, y0, size = 103.55, -1.70, 0.15
    cell = size / side
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    px = x0 + (gx.ravel() + 0.5 + rng.uniform(-0.35, 0.35, side * side)) * cell
    py = y0 + (gy.ravel() + 0.5 + rng.uniform(-0.35, 0.35, side * side)) * cell
    frame = shapely.box(x0, y0, x0 + size, y0 + size)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(
        np.column_stack([px, py])), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    cells = cells[~shapely.is_empty(cells)][:n]
    i = np.arange(len(cells))
    codes = [f"15.71.90.{1000 + k // 400:04d}.RW{(k // 20) % 20 + 1:03d}.RT{k % 20 + 1:03d}"
             for k in i]
    return gpd.GeoDataFrame({"code": codes, "name": [f"RT {k % 20 + 1:03d}" for k in i],
                             "level": "rt", "parent_code": [c.rsplit(".", 1)[0] for c in codes]},
                            geometry=cells, crs=4326)



def forward_latency(repeat: int = 10) -> dict[str, Any]:
    """Forward geocoding latency over a fixed query list (ms)."""
    if (DEMO / "poi.csv").exists() and (DEMO_BOUNDARIES / "kelurahan.geojson").exists():
        parts = [gpd.read_file(DEMO_BOUNDARIES / f"{lvl}.geojson")
                 for lvl in ("kabupaten_kota", "kecamatan", "kelurahan", "rw", "rt")
                 if (DEMO_BOUNDARIES / f"{lvl}.geojson").exists()]
        units = gpd.GeoDataFrame(
            gpd.pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
        roads = streets_from_osm(DEMO / "roads.osm") if (DEMO / "roads.osm").exists() else None
        gaz = load_gazetteer(DEMO / "poi.csv")
        dataset, queries = "demo (data/demo)", QUERIES_DEMO
    elif JAMBI.exists():
        g = gpd.read_file(JAMBI / "kelurahan_kota_jambi.geojson")
        units = gpd.GeoDataFrame(
            {"code": g["KDEPUM"], "name": g["NAMOBJ"], "level": "kelurahan",
             "parent_code": g["KDEPUM"].str.rsplit(".", n=1).str[0]}, geometry=g.geometry,
            crs=4326)
        roads = streets_from_osm(JAMBI / "roads_main_kota_jambi.osm")
        gaz = load_gazetteer(JAMBI / "poi_kota_jambi.geojson")
        dataset, queries = "Kota Jambi (demo data absent)", QUERIES_JAMBI
    else:
        return {"forward_dataset": None}
    t = time.perf_counter()
    fg = ForwardGeocoder(units, roads, gaz)
    build_s = time.perf_counter() - t
    for q in queries:
        fg.search(q)
    wall, cpu = [], []
    for _ in range(repeat):
        for q in queries:
            t0, c0 = time.perf_counter(), time.thread_time()
            fg.search(q)
            cpu.append((time.thread_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)
    return {
        "forward_dataset": dataset, "forward_build_s": round(build_s, 3),
        "forward_queries": len(wall), "gazetteer_entries": len(gaz),
        "forward_ms_p50": round(statistics.median(cpu), 3),
        "forward_ms_p95": round(float(np.percentile(cpu, 95)), 3),
        "forward_ms_max": round(max(cpu), 3),
        "forward_wall_ms_p50": round(statistics.median(wall), 3),
        "forward_wall_ms_p95": round(float(np.percentile(wall, 95)), 3),
    }


class _T:
    """Wall and CPU seconds of one call (both single-threaded: CPU time is what the
    work costs when other processes share the machine)."""

    __slots__ = ("wall", "cpu")

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu


def _timed(fn: Any) -> tuple[_T, Any]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return _T(time.perf_counter() - t, time.process_time() - c), out


def _r(x: float) -> float:
    return round(x, 3)


def _ratio(a: _T, b: _T) -> dict[str, float]:
    return {"cpu": round(a.cpu / max(b.cpu, 1e-9), 2), "wall": round(a.wall / max(b.wall, 1e-9), 2)}


def _best(ts: list[_T]) -> _T:
    return _T(min(t.wall for t in ts), min(t.cpu for t in ts))


def _codes_of(df: pd.DataFrame, level: str) -> np.ndarray:
    return df[f"{level}_code"].astype(object).fillna("-").to_numpy()


def _min_code(n: int, pi: np.ndarray, ti: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Smallest code per point from (point, polygon) pairs; polygons sorted by code."""
    best = np.full(n, len(codes))
    np.minimum.at(best, pi, ti)
    return np.append(codes.astype(object), "-")[best]


def compare_reverse(polys: gpd.GeoDataFrame, level: str, xs: np.ndarray, ys: np.ndarray, *,
                    repeat: int = 3, gap_tolerance_m: float = 0.0) -> dict[str, Any]:
    """Ours vs STRtree+predicate vs prepared+intersects_xy vs sjoin, same points."""
    polys = polys.sort_values("code").reset_index(drop=True)
    geoms = polys.geometry.to_numpy()
    codes = polys["code"].to_numpy(dtype=object)
    n = len(xs)
    points = shapely.points(xs, ys)
    # cold: the first batch of a freshly built geocoder / the first query of a fresh tree,
    # best of `fresh` fresh builds each (one sample alone is mostly the machine's noise)
    builds, firsts, tree_builds, tree_firsts = [], [], [], []
    for _ in range(max(2, min(repeat, 3))):
        b, rg = _timed(lambda: ReverseGeocoder.from_units(polys,
                                                          gap_tolerance_m=gap_tolerance_m))
        f, df = _timed(lambda: rg.locate_many(xs, ys))
        builds.append(b), firsts.append(f)
        b, tree = _timed(lambda: shapely.STRtree(geoms))
        f, (pi, ti) = _timed(lambda: tree.query(points, predicate="intersects"))
        tree_builds.append(b), tree_firsts.append(f)
    build_s, first_s = _best(builds), _best(firsts)
    tree_build_s, tree_first_s = _best(tree_builds), _best(tree_firsts)
    ours = _codes_of(df, level)
    same_strtree = bool((_min_code(n, pi, ti, codes) == ours).all())

    prepared = geoms.copy()
    shapely.prepare(prepared)

    def prepared_xy() -> tuple[np.ndarray, np.ndarray]:
        a, b = tree.query(points)
        hit = shapely.intersects_xy(prepared[b], xs[a], ys[a])
        return a[hit], b[hit]

    prep_first_s, (pa, pb) = _timed(prepared_xy)
    same_prepared = bool((_min_code(n, pa, pb, codes) == ours).all())
    pts = gpd.GeoDataFrame(geometry=gpd.GeoSeries(points, crs=4326))
    sj_first_s, j = _timed(lambda: gpd.sjoin(pts, polys[["code", "geometry"]],
                                             predicate="intersects", how="left"))
    sj = j.groupby(level=0)["code"].min().reindex(range(n)).astype(object).fillna("-")
    same_sjoin = bool((sj.to_numpy() == ours).all())

    warm = {"ours": [], "strtree": [], "prepared": [], "sjoin": []}
    for _ in range(repeat):  # interleaved, so that load on the machine hits all alike
        warm["ours"].append(_timed(lambda: rg.locate_many(xs, ys))[0])
        warm["strtree"].append(_timed(lambda: tree.query(points, predicate="intersects"))[0])
        warm["prepared"].append(_timed(prepared_xy)[0])
        if len(warm["sjoin"]) < 2:
            warm["sjoin"].append(_timed(lambda: gpd.sjoin(pts, polys[["code", "geometry"]],
                                                          predicate="intersects"))[0])
    best = {k: _best(v) for k, v in warm.items()}
    return {
        "polygons": len(polys), "points": n, "build_s": _r(build_s.wall),
        "strtree_build_s": _r(tree_build_s.wall),
        "first_batch_s": _r(first_s.wall), "first_batch_cpu_s": _r(first_s.cpu),
        "strtree_first_s": _r(tree_first_s.wall), "strtree_first_cpu_s": _r(tree_first_s.cpu),
        "prepared_first_s": _r(prep_first_s.wall), "sjoin_first_s": _r(sj_first_s.wall),
        "warm_s": {k: _r(v.wall) for k, v in best.items()},
        "warm_cpu_s": {k: _r(v.cpu) for k, v in best.items()},
        "points_per_s_cpu": {k: round(n / max(v.cpu, 1e-9)) for k, v in best.items()},
        "speedup_vs_strtree": _ratio(best["strtree"], best["ours"]),
        "speedup_vs_prepared": _ratio(best["prepared"], best["ours"]),
        "speedup_vs_sjoin": _ratio(best["sjoin"], best["ours"]),
        "first_batch_speedup_vs_strtree": _ratio(tree_first_s, first_s),
        "identical": {"strtree": same_strtree, "prepared": same_prepared, "sjoin": same_sjoin},
    }


_COLD_OURS = """
import sys, time, numpy as np, pandas as pd
t0 = time.perf_counter()
from geo_sigap.geocoding import ReverseGeocoder
polys = pd.read_pickle(sys.argv[1]); xy = np.load(sys.argv[2])
t1 = time.perf_counter()
rg = ReverseGeocoder.from_units(polys, gap_tolerance_m=0)
t2 = time.perf_counter(); c2 = time.process_time()
rg.locate_many(xy[0], xy[1])
t3 = time.perf_counter(); c3 = time.process_time()
print(t1 - t0, t2 - t1, t3 - t2, c3 - c2)
"""
_COLD_STRTREE = """
import sys, time, numpy as np
t0 = time.perf_counter()
import shapely, pandas as pd
polys = pd.read_pickle(sys.argv[1]); xy = np.load(sys.argv[2])
t1 = time.perf_counter()
tree = shapely.STRtree(polys.geometry.values); pts = shapely.points(xy[0], xy[1])
t2 = time.perf_counter(); c2 = time.process_time()
tree.query(pts, predicate="intersects")
t3 = time.perf_counter(); c3 = time.process_time()
print(t1 - t0, t2 - t1, t3 - t2, c3 - c2)
"""


def cold_process(polys: gpd.GeoDataFrame, xs: np.ndarray, ys: np.ndarray) -> dict[str, Any]:
    """Fresh Python processes: import + load, build (tree / geocoder), first batch."""
    with tempfile.TemporaryDirectory() as d:
        pq, npy = Path(d) / "polys.pkl", Path(d) / "xy.npy"
        polys.to_pickle(pq)
        np.save(npy, np.stack([xs, ys]))
        out = {}
        for name, code in (("ours", _COLD_OURS), ("strtree", _COLD_STRTREE)):
            r = subprocess.run([sys.executable, "-c", code, str(pq), str(npy)], cwd=REPO,
                               capture_output=True, text=True, check=True)
            imp, build, batch, cpu = map(float, r.stdout.split())
            out[name] = {"import_load_s": _r(imp), "build_s": _r(build),
                         "first_batch_s": _r(batch), "first_batch_cpu_s": _r(cpu),
                         "total_s": _r(imp + build + batch)}
    out["first_batch_speedup_vs_strtree"] = {
        "cpu": round(out["strtree"]["first_batch_cpu_s"] / out["ours"]["first_batch_cpu_s"], 2),
        "wall": round(out["strtree"]["first_batch_s"] / out["ours"]["first_batch_s"], 2)}
    return out


def jambi_kelurahan() -> gpd.GeoDataFrame | None:
    if not JAMBI.exists():
        return None
    g = gpd.read_file(JAMBI / "kelurahan_kota_jambi.geojson")
    return gpd.GeoDataFrame({"code": g["KDEPUM"], "name": g["NAMOBJ"], "level": "kelurahan",
                             "parent_code": g["KDEPUM"].str.rsplit(".", n=1).str[0]},
                            geometry=g.geometry, crs=4326)


def realistic_points(kel: gpd.GeoDataFrame, n: int, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """90 % within ~300 m of a real POI (where incidents happen), 10 % anywhere in the
    city's box (many outside the city or in gaps between kelurahan)."""
    rng = np.random.default_rng(seed)
    poi = gpd.read_file(JAMBI / "poi_kota_jambi.geojson")
    px, py = poi.geometry.x.to_numpy(), poi.geometry.y.to_numpy()
    k = rng.integers(0, len(px), int(n * 0.9))
    b = kel.total_bounds
    m = n - len(k)
    return (np.r_[px[k] + rng.normal(0, 0.003, len(k)), rng.uniform(b[0], b[2], m)],
            np.r_[py[k] + rng.normal(0, 0.003, len(k)), rng.uniform(b[1], b[3], m)])


def gap_rule(kel: gpd.GeoDataFrame, n: int, repeat: int) -> dict[str, Any]:
    """Ours with the 50 m gap rule vs sjoin (no gap rule) on realistic points; answers
    checked equal wherever a point is covered (the gap rule only adds answers)."""
    xs, ys = realistic_points(kel, n)
    build_s, rg = _timed(lambda: ReverseGeocoder.from_units(kel, gap_tolerance_m=50))
    first_s, df = _timed(lambda: rg.locate_many(xs, ys))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
    polys = kel.sort_values("code").reset_index(drop=True)[["code", "geometry"]]
    sj_first_s, j = _timed(lambda: gpd.sjoin(pts, polys, predicate="intersects", how="left"))
    want = j.groupby(level=0)["code"].min().reindex(range(n)).astype(object).fillna("-")
    got = _codes_of(df, "kelurahan")
    covered = want.to_numpy() != "-"
    plain = covered & ~df["overlap"].to_numpy()
    ours_w, sj_w = [], []
    for _ in range(repeat):
        ours_w.append(_timed(lambda: rg.locate_many(xs, ys))[0])
        if len(sj_w) < 2:
            sj_w.append(_timed(lambda: gpd.sjoin(pts, polys, predicate="intersects"))[0])
    ours, sjb = _best(ours_w), _best(sj_w)
    return {
        "points": n, "polygons": len(kel), "build_s": _r(build_s.wall),
        "first_batch_s": _r(first_s.wall), "sjoin_first_s": _r(sj_first_s.wall),
        "warm_s": {"ours": _r(ours.wall), "sjoin": _r(sjb.wall)},
        "warm_cpu_s": {"ours": _r(ours.cpu), "sjoin": _r(sjb.cpu)},
        "gap_nearest_points": int(df["gap_nearest"].sum()),
        "outside_points": int(df["outside_coverage"].sum()),
        "identical_where_covered": bool((got[plain] == want.to_numpy()[plain]).all()),
        "speedup_vs_sjoin": _ratio(sjb, ours),
        "first_batch_speedup_vs_sjoin": _ratio(sj_first_s, first_s),
    }


def single_point(polys: gpd.GeoDataFrame, samples: int = 20_000) -> dict[str, Any]:
    """``locate(lon, lat)`` latency (µs) on random points, default 50 m gap rule."""
    rg = ReverseGeocoder.from_units(polys)
    rng = np.random.default_rng(3)
    b = polys.total_bounds
    xs = rng.uniform(b[0], b[2], samples).tolist()
    ys = rng.uniform(b[1], b[3], samples).tolist()
    for x, y in zip(xs[:500], ys[:500]):
        rg.locate(x, y)
    times = []
    clock = time.perf_counter
    for x, y in zip(xs, ys):
        t0 = clock()
        rg.locate(x, y)
        times.append(clock() - t0)
    us = np.array(times) * 1e6
    return {"polygons": len(polys), "samples": samples,
            "p50_us": round(float(np.percentile(us, 50)), 2),
            "p95_us": round(float(np.percentile(us, 95)), 2),
            "p99_us": round(float(np.percentile(us, 99)), 2),
            "mean_us": round(float(us.mean()), 2)}


def run(points: int = 1_000_000, sizes: tuple[int, ...] = (1_000, 20_000, 100_000),
        repeat: int = 3, cold: bool = True) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    by_size: dict[str, Any] = {}
    cold_r = None
    for size in sizes:
        polys = rt_like_polygons(size)
        b = polys.total_bounds
        xs, ys = rng.uniform(b[0], b[2], points), rng.uniform(b[1], b[3], points)
        by_size[str(size)] = compare_reverse(polys, "rt", xs, ys, repeat=repeat)
        if cold and size == 20_000:
            cold_r = cold_process(polys, xs, ys)
    single = single_point(rt_like_polygons(20_000))
    kel = jambi_kelurahan()
    gap = gap_rule(kel, points, repeat) if kel is not None else None
    fwd = forward_latency()
    identical = all(all(d["identical"].values()) for d in by_size.values()) and (
        gap is None or gap["identical_where_covered"])
    result: dict[str, Any] = {
        "speedup_vs_strtree": min(d["speedup_vs_strtree"]["cpu"] for d in by_size.values()),
        "first_batch_speedup_vs_strtree": min(d["first_batch_speedup_vs_strtree"]["cpu"]
                                              for d in by_size.values()),
        "gap_rule_speedup_vs_sjoin": gap["speedup_vs_sjoin"]["cpu"] if gap else None,
        "wall_clock": {
            "speedup_vs_strtree": min(d["speedup_vs_strtree"]["wall"] for d in by_size.values()),
            "first_batch_speedup_vs_strtree": min(d["first_batch_speedup_vs_strtree"]["wall"]
                                                  for d in by_size.values()),
            "gap_rule_speedup_vs_sjoin": gap["speedup_vs_sjoin"]["wall"] if gap else None},
        "single_point_us_p95": single["p95_us"],
        "forward_ms_p95": fwd.get("forward_ms_p95"),
        "identical": identical,
        "by_polygons": by_size, "cold_process": cold_r, "gap_rule": gap,
        "single_point": single, "forward": fwd,
    }
    speed = {str(s): by_size[str(s)]["speedup_vs_strtree"]["cpu"] for s in sizes}
    result["targets_met"] = bool(
        identical and speed.get("20000", 9) >= 2 and speed.get("100000", 9) >= 1.5
        and result["first_batch_speedup_vs_strtree"] >= 1.5
        and (gap is None or gap["speedup_vs_sjoin"]["cpu"] >= 2) and single["p95_us"] <= 5
        and (result["forward_ms_p95"] is not None and result["forward_ms_p95"] <= 20))
    return result


def _table(r: dict[str, Any]) -> str:
    lines = ["Reverse geocoding, one run on this machine, the same points for all. Seconds of",
             "CPU (wall clock in brackets); ×peer = peer time / ours, on CPU time (wall).",
             "'first' = the first batch of a freshly built geocoder / the first query of a "
             "fresh tree.", ""]
    head = (f"{'polygons':>9}{'points':>10}{'ours':>16}{'ours first':>16}{'STRtree':>16}"
            f"{'prepared':>16}{'sjoin':>16}{'×STRtree':>14}{'×first':>14}{'×prep':>7}"
            f"{'×sjoin':>7}{'same':>5}")
    lines += [head, "-" * len(head)]

    def t(cpu: float, wall: float) -> str:
        return f"{cpu:.3f} ({wall:.3f})"

    def x(d: dict[str, float]) -> str:
        return f"{d['cpu']} ({d['wall']})"

    for d in r["by_polygons"].values():
        c, w = d["warm_cpu_s"], d["warm_s"]
        lines.append(
            f"{d['polygons']:>9,}{d['points']:>10,}{t(c['ours'], w['ours']):>16}"
            f"{t(d['first_batch_cpu_s'], d['first_batch_s']):>16}"
            f"{t(c['strtree'], w['strtree']):>16}{t(c['prepared'], w['prepared']):>16}"
            f"{t(c['sjoin'], w['sjoin']):>16}{x(d['speedup_vs_strtree']):>14}"
            f"{x(d['first_batch_speedup_vs_strtree']):>14}{d['speedup_vs_prepared']['cpu']:>7}"
            f"{d['speedup_vs_sjoin']['cpu']:>7}"
            f"{'yes' if all(d['identical'].values()) else 'NO':>5}")
    c = r.get("cold_process")
    if c:
        lines += ["", "Fresh process, 20k polygons (import+load / build / first batch, wall s):",
                  *(f"  {k:<8} {v['import_load_s']:>6} / {v['build_s']:>6} / "
                    f"{v['first_batch_s']:>6} (CPU {v['first_batch_cpu_s']})  total {v['total_s']}"
                    for k, v in c.items() if k in ("ours", "strtree")),
                  f"  first batch, ours vs STRtree: ×{x(c['first_batch_speedup_vs_strtree'])}"]
    g = r.get("gap_rule")
    if g:
        lines += ["", f"Kota Jambi kelurahan, {g['points']:,} realistic points: ours with the 50 m "
                  f"gap rule {t(g['warm_cpu_s']['ours'], g['warm_s']['ours'])} s (first "
                  f"{g['first_batch_s']}) vs sjoin without it "
                  f"{t(g['warm_cpu_s']['sjoin'], g['warm_s']['sjoin'])} s: "
                  f"×{x(g['speedup_vs_sjoin'])}",
                  f"  {g['gap_nearest_points']:,} points placed by the gap rule, "
                  f"{g['outside_points']:,} outside; same answers where covered: "
                  f"{'yes' if g['identical_where_covered'] else 'NO'}"]
    s = r["single_point"]
    lines += ["", f"One point (locate, {s['polygons']:,} polygons, 50 m gap rule, wall): p50 "
              f"{s['p50_us']} µs, p95 {s['p95_us']} µs, p99 {s['p99_us']} µs"]
    f = r["forward"]
    lines += [f"Forward geocoding on {f.get('forward_dataset')}, CPU ms per query (wall): p50 "
              f"{f.get('forward_ms_p50')} ({f.get('forward_wall_ms_p50')}), p95 "
              f"{f.get('forward_ms_p95')} ({f.get('forward_wall_ms_p95')}) over "
              f"{f.get('forward_queries')} queries",
              "", f"Targets (×2 STRtree at 20k, ×1.5 at 100k, first batch ×1.5, gap rule ×2 "
              f"sjoin, 1 point p95 ≤ 5 µs, forward p95 ≤ 20 ms, identical answers): "
              f"{'met' if r['targets_met'] else 'NOT met'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--sizes", default="1000,20000,100000",
                    help="polygon counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process run")
    args = ap.parse_args(argv)
    r = run(args.points, tuple(int(s) for s in args.sizes.split(",")), args.repeat,
            not args.no_cold)
    print(json.dumps(r) if args.json else _table(r))


if __name__ == "__main__":
    main()
