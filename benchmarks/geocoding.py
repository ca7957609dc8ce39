"""Benchmark: reverse geocoding throughput/latency and forward geocoding latency.

Run from the repository root::

    python -m benchmarks.geocoding            # readable table
    python -m benchmarks.geocoding --json     # one JSON object

In the same run it compares :class:`geo_sigap.geocoding.ReverseGeocoder` with
``geopandas.sjoin(predicate="intersects")`` and with a naive loop (per point,
``shapely.intersects`` over all prepared polygons) on

* ≥ 20,000 generated RT-like polygons (a jittered Voronoi tessellation near Kota Jambi),
* the 68 Kota Jambi kelurahan of ``../shared/data/jambi`` (skipped when absent),

checks that the answers are identical (smallest code among covering polygons, the
documented border rule), and times forward geocoding on the demo gazetteer
(``data/demo``; Kota Jambi roads and POIs when the demo data is absent).
Reverse geocoders are built with ``gap_tolerance_m=0`` for the comparison (sjoin has no
gap rule); the cost of the 50 m gap rule is reported separately on Kota Jambi.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo_sigap.geocoding import ForwardGeocoder, ReverseGeocoder, load_gazetteer, streets_from_osm
from geo_sigap.geocoding import _grid

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


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _sjoin_min_code(pts: gpd.GeoDataFrame, polys: gpd.GeoDataFrame) -> np.ndarray:
    j = gpd.sjoin(pts, polys[["code", "geometry"]], predicate="intersects", how="left")
    return j.groupby(level=0)["code"].min().reindex(range(len(pts))).astype(object) \
        .fillna("-").to_numpy()


def compare_reverse(polys: gpd.GeoDataFrame, level: str, xs: np.ndarray, ys: np.ndarray,
                    *, naive_points: int = 300, repeat: int = 3) -> dict[str, Any]:
    """Ours vs sjoin vs naive on the same points; identical answers checked."""
    t = time.perf_counter()
    rg = ReverseGeocoder.from_units(polys, gap_tolerance_m=0)
    build_s = time.perf_counter() - t
    rg.locate_many(xs[:1000], ys[:1000])  # JIT and caches warm
    batch_s, df = _best(lambda: rg.locate_many(xs, ys), repeat)
    layer = rg._layers[-1]
    index_s, _ = _best(lambda: _grid.query(layer.grid, xs, ys), repeat)
    ours = df[f"{level}_code"].astype(object).fillna("-").to_numpy()

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
    sorted_polys = polys.sort_values("code").reset_index(drop=True)
    sj_s, _ = _best(lambda: gpd.sjoin(pts, sorted_polys[["code", "geometry"]],
                                      predicate="intersects", how="left"), max(1, repeat - 1))
    expected = _sjoin_min_code(pts, sorted_polys)

    geoms = sorted_polys.geometry.to_numpy()
    shapely.prepare(geoms)
    codes = sorted_polys["code"].to_numpy()
    sample = min(naive_points, len(xs))

    def naive() -> list[str]:
        out = []
        for x, y in zip(xs[:sample], ys[:sample]):
            hit = np.flatnonzero(shapely.intersects(geoms, shapely.Point(x, y)))
            out.append(codes[hit[0]] if len(hit) else "-")
        return out

    naive_s, naive_out = _best(naive, 1)

    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(xs), 20_000)
    for k in pick[:200]:
        rg.locate(xs[k], ys[k])
    times = []
    for k in pick:
        x, y = float(xs[k]), float(ys[k])
        t0 = time.perf_counter()
        rg.locate(x, y)
        times.append(time.perf_counter() - t0)
    single = np.array(times) * 1e6
    n = len(xs)
    return {
        "polygons": len(polys), "points": n, "build_s": round(build_s, 3),
        "grid_cells": layer.grid.nx * layer.grid.ny,
        "batch_points_per_s": round(n / batch_s),
        "index_points_per_s": round(n / index_s),
        "sjoin_points_per_s": round(n / sj_s),
        "naive_points_per_s": round(sample / naive_s, 1),
        "speedup_vs_sjoin": round(sj_s / batch_s, 2),
        "identical_to_sjoin": bool((ours == expected).all()),
        "mismatches_vs_sjoin": int((ours != expected).sum()),
        "identical_to_naive": bool(list(ours[:sample]) == naive_out),
        "single_point_us": round(float(single.mean()), 2),
        "single_point_us_p50": round(float(np.percentile(single, 50)), 2),
        "single_point_us_p95": round(float(np.percentile(single, 95)), 2),
    }


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
    times = []
    for _ in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            fg.search(q)
            times.append((time.perf_counter() - t0) * 1000)
    return {
        "forward_dataset": dataset, "forward_build_s": round(build_s, 3),
        "forward_queries": len(times), "gazetteer_entries": len(gaz),
        "forward_ms_p50": round(statistics.median(times), 3),
        "forward_ms_p95": round(float(np.percentile(times, 95)), 3),
        "forward_ms_max": round(max(times), 3),
    }


def run(points: int = 1_000_000, polygons: int = 20_000) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    polys = rt_like_polygons(polygons)
    b = polys.total_bounds
    xs = rng.uniform(b[0], b[2], points)
    ys = rng.uniform(b[1], b[3], points)
    rt = compare_reverse(polys, "rt", xs, ys)
    result: dict[str, Any] = {
        "batch_points_per_s": rt["batch_points_per_s"],
        "sjoin_points_per_s": rt["sjoin_points_per_s"],
        "speedup_vs_sjoin": rt["speedup_vs_sjoin"],
        "single_point_us": rt["single_point_us"],
        "identical_to_sjoin": rt["identical_to_sjoin"],
        "rt_like": rt,
    }
    if JAMBI.exists():
        g = gpd.read_file(JAMBI / "kelurahan_kota_jambi.geojson")
        kel = gpd.GeoDataFrame({"code": g["KDEPUM"], "name": g["NAMOBJ"], "level": "kelurahan",
                                "parent_code": g["KDEPUM"].str.rsplit(".", n=1).str[0]},
                               geometry=g.geometry, crs=4326)
        kb = kel.total_bounds
        kx = rng.uniform(kb[0], kb[2], points)
        ky = rng.uniform(kb[1], kb[3], points)
        jambi = compare_reverse(kel, "kelurahan", kx, ky, naive_points=2000)
        with_gap = ReverseGeocoder.from_units(kel, gap_tolerance_m=50)
        with_gap.locate_many(kx[:1000], ky[:1000])
        gap_s, gdf = _best(lambda: with_gap.locate_many(kx, ky), 2)
        jambi["batch_points_per_s_with_gap_rule"] = round(points / gap_s)
        jambi["gap_nearest_points"] = int(gdf["gap_nearest"].sum())
        result["kota_jambi"] = jambi
        result["identical_to_sjoin"] = result["identical_to_sjoin"] and jambi["identical_to_sjoin"]
    fwd = forward_latency()
    result["forward_ms_p95"] = fwd.get("forward_ms_p95")
    result["forward"] = fwd
    result["targets_met"] = bool(
        result["identical_to_sjoin"] and result["speedup_vs_sjoin"] >= 2
        and result["single_point_us"] <= 20
        and (result["forward_ms_p95"] is not None and result["forward_ms_p95"] <= 20))
    return result


def _table(r: dict[str, Any]) -> str:
    lines = ["Reverse geocoding (points/s, higher is better; same points, same run)", ""]
    head = f"{'dataset':<22}{'polygons':>9}{'ours batch':>12}{'grid index':>12}" \
           f"{'sjoin':>11}{'naive':>9}{'speedup':>9}{'same?':>7}{'1 pt µs':>9}"
    lines.append(head)
    lines.append("-" * len(head))
    for name, d in (("RT-like (generated)", r["rt_like"]), ("Kota Jambi kelurahan",
                                                             r.get("kota_jambi"))):
        if not d:
            continue
        lines.append(
            f"{name:<22}{d['polygons']:>9}{d['batch_points_per_s']:>12,}"
            f"{d['index_points_per_s']:>12,}{d['sjoin_points_per_s']:>11,}"
            f"{d['naive_points_per_s']:>9,.0f}{d['speedup_vs_sjoin']:>9}"
            f"{'yes' if d['identical_to_sjoin'] else 'NO':>7}{d['single_point_us']:>9}")
    if r.get("kota_jambi"):
        lines.append(f"Kota Jambi with the 50 m gap rule: "
                     f"{r['kota_jambi']['batch_points_per_s_with_gap_rule']:,} points/s")
    f = r["forward"]
    lines += ["", f"Forward geocoding on {f.get('forward_dataset')}: p50 "
              f"{f.get('forward_ms_p50')} ms, p95 {f.get('forward_ms_p95')} ms, max "
              f"{f.get('forward_ms_max')} ms over {f.get('forward_queries')} queries", "",
              f"Targets (identical, speedup ≥ 2, 1 point ≤ 20 µs, forward p95 ≤ 20 ms): "
              f"{'met' if r['targets_met'] else 'NOT met'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--polygons", type=int, default=20_000)
    args = ap.parse_args(argv)
    r = run(args.points, args.polygons)
    print(json.dumps(r) if args.json else _table(r))


if __name__ == "__main__":
    main()
