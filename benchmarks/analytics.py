"""Analytics benchmark: KDE heatmap, Gi* (cold/warm, against esda) and the rakor report.

Run from the repository root::

    python -m benchmarks.analytics [--json] [--quick]

- KDE: 1,000,000 incidents, quartic kernel (300 m), binning + FFT; against KDEpy's
  ``FFTKDE`` (linear binning + FFT, the fastest binned KDE for Python) with the same
  kernel and bandwidth on the same cells, warm and in a new process, answers compared
  with each other and with the exact kernel sum (``kde_*``, ``kdepy_*``,
  ``speedup_vs_kdepy``); and scipy's ``gaussian_kde`` timed on a subsample and
  extrapolated linearly in points (it is O(points × cells); about an hour on 1M).
- Gi* at 50,000 units, as the live map and the rakor pack run it
  (:func:`geo_sigap.analytics.hotspots.hex_gi`: 250 m hexagons, 9,999 permutations,
  stopping where a cell is certainly not significant at 90 %): "first" is a new Python
  process, timed by the parent from spawning it to the classes (interpreter start,
  every import, the grid's adjacency and Gi* weights, counting 150,000 incidents into
  cells, the test; only reading the benchmark's input arrays is left out); "warm" is a
  second call in that process with a new seed. The same for 50,000 square polygons
  (Queen) with ``gi_star(y, w, permutations=999)``, esda's default; their Queen weights
  are timed against libpysal's ``Queen.from_dataframe`` (same matrix checked).
- Gi* against esda: 10,000 square polygons (Queen), 999 permutations from esda's stream
  (so that the pseudo p-values can be compared; they differ only where esda's rounded
  comparison breaks an exact tie of counts: ``p_sim_outside_ties_vs_esda`` counts the
  units where no breaking of ties gives esda's p, expected 0) and from the default stream (other random
  numbers: the share of units in the same class is given). "cold" = the first call in a
  fresh Python process, timed from ``import`` to result (compiled kernel loaded from the
  on-disk numba cache; ``gi_10k_compile_s`` is the same with an empty cache, i.e. the
  very first run after install). "warm" = a second call in one process with a new
  seed. esda's ``G_Local`` is run the same way in a fresh process, timed from its
  imports and its ``W`` (its JIT is not cached).
- Report: the rakor pack (HTML + PDF printed by headless Chromium) of the demo quarter
  (2026Q3), then the full pack for 100,000 incidents resampled from the demo history
  with ~50 m jitter (synthetic history when the demo data is absent). The machine's load
  average is printed with it: on a shared machine the seconds are not comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


_KDE_COLD = """
import sys, time
import numpy as np
d = np.load(sys.argv[1])
t = time.perf_counter()
if sys.argv[2] == "ours":
    from geo_sigap.analytics.heatmap import kde_grid
    kde_grid(d["lon"], d["lat"], bandwidth_m=float(d["h"]))
else:  # given the points already in our local frame, and the grid
    from KDEpy import FFTKDE
    FFTKDE(kernel="biweight", bw=float(d["h"]) / np.sqrt(7)).fit(d["xy"]).evaluate(d["grid"])
print(time.perf_counter() - t)  # the library's import and its first call
"""


def _kde(n: int) -> dict:
    """Our binned FFT KDE against KDEpy's ``FFTKDE`` (linear binning + FFT), the strongest
    peer, with the same kernel (quartic = KDEpy's biweight; its ``bw`` is the kernel's
    standard deviation, so ``bw = h / √7`` for radius ``h``) on the same cell centres,
    both fed lon/lat (KDEpy after the same local projection, which is timed with it);
    warm (best of 5 in one process) and cold (a new process: imports and the first call,
    reading the input left out, and KDEpy given the points already projected); answers
    compared with each other and with the exact kernel sum at 300 random cells. scipy's
    ``gaussian_kde`` (O(points × cells)) is timed on a subsample and extrapolated
    linearly in points, for scale."""
    from scipy.stats import gaussian_kde

    from geo_sigap.analytics.heatmap import _frame, kde_grid

    rng = np.random.default_rng(0)
    k = n // 4
    lon = np.r_[103.60 + rng.uniform(0, 0.07, n - k), 103.649 + rng.normal(0, 0.001, k)]
    lat = np.r_[-1.66 + rng.uniform(0, 0.07, n - k), -1.620 + rng.normal(0, 0.001, k)]
    h = 300.0
    kde_grid(lon[:1000], lat[:1000], bandwidth_m=h)  # import costs out of the timing
    times = []
    for _ in range(5):
        t = time.perf_counter()
        g = kde_grid(lon, lat, bandwidth_m=h)
        times.append(time.perf_counter() - t)
    ours = min(times)
    out = {"kde_1m_s": ours, "kde_points": n, "kde_cells": int(g.density.size),
           "kde_bandwidth_m": h, "kde_cell_m": g.cell_m}
    clon, clat = g.cell_centres()
    lon0, lat0 = (g.bounds[0] + g.bounds[2]) / 2, (g.bounds[1] + g.bounds[3]) / 2
    gx, gy = _frame(clon, lat0, lon0, lat0)[0], _frame(lon0, clat, lon0, lat0)[1]
    px, py, _ = _frame(lon, lat, lon0, lat0)
    cells = np.unravel_index(rng.integers(0, g.density.size, 300), g.shape)
    exact = np.array([np.sum(np.where(d2 < h * h, (1 - d2 / (h * h)) ** 2, 0.0))
                      for d2 in ((px - gx[c]) ** 2 + (py - gy[r]) ** 2
                                 for r, c in zip(*cells, strict=True))])
    exact *= 3 / (np.pi * h * h) * 1e6
    peak = float(exact.max())
    out["kde_max_error_vs_exact"] = float(np.abs(g.density[cells] - exact).max() / peak)
    try:
        from KDEpy import FFTKDE
    except ImportError:
        out["kdepy"] = "not installed (pip install KDEpy)"
    else:
        grid = np.column_stack([np.repeat(gx, len(gy)), np.tile(gy, len(gx))])

        def kdepy():
            x, y, _ = _frame(lon, lat, lon0, lat0)
            return FFTKDE(kernel="biweight", bw=h / np.sqrt(7)).fit(
                np.column_stack([x, y])).evaluate(grid)

        kdepy()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            theirs = kdepy()
            times.append(time.perf_counter() - t)
        theirs = theirs.reshape(len(gx), len(gy)).T * n * 1e6
        diff = np.abs(g.density - theirs)
        out.update({
            "kdepy_1m_s": min(times), "speedup_vs_kdepy": min(times) / ours,
            "kde_max_diff_vs_kdepy": float(diff.max() / theirs.max()),
            "kde_mean_diff_vs_kdepy": float(diff.mean() / theirs.mean()),
            "kdepy_max_error_vs_exact": float(np.abs(theirs[cells] - exact).max() / peak)})
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "kde.npz"
            np.savez(path, lon=lon, lat=lat, h=h, xy=np.column_stack([px, py]), grid=grid)
            cold = {}
            for who in ("ours", "kdepy"):
                r = subprocess.run([sys.executable, "-c", _KDE_COLD, str(path), who],
                                   capture_output=True, text=True, cwd=ROOT, check=True)
                cold[who] = float(r.stdout.strip().splitlines()[-1])
        out.update({"kde_1m_cold_s": cold["ours"], "kdepy_1m_cold_s": cold["kdepy"],
                    "speedup_vs_kdepy_cold": cold["kdepy"] / cold["ours"]})
    m = 2000
    xs, ys = np.meshgrid(clon, clat)
    kde = gaussian_kde(np.vstack([lon[:m], lat[:m]]))
    t = time.perf_counter()
    kde(np.vstack([xs.ravel(), ys.ravel()]))
    out["scipy_kde_1m_extrapolated_s"] = (time.perf_counter() - t) * n / m
    return out


_CHILD = """
import sys, time, warnings
t0 = time.perf_counter()
import numpy as np, scipy.sparse as sp
a = sp.load_npz(sys.argv[1]); y = np.load(sys.argv[2])
t1 = time.perf_counter()
counts = None
if sys.argv[3] in ("ours", "fast"):
    from geo_sigap.analytics import gistar as G
    # esda's permutation stream, so that the p-values can be compared with esda's
    stream = "esda" if sys.argv[3] == "ours" else "fast"
    r = G.gi_star(y, a, permutations=999, seed=1, stream=stream)
    t2 = time.perf_counter()
    G.gi_star(y, a, permutations=999, seed=2, stream=stream)  # warm: a new seed
    t3 = time.perf_counter()
    sw = G.star_weights(a)
    (lg, sm, _), = G._counts([y], sw, G.permuted_ids(len(y), sw.max_card, 999, 1, stream),
                            0, stream == "fast")
    counts = np.stack([lg, sm])
else:
    warnings.simplefilter("ignore")
    from libpysal.weights import WSP
    import esda
    w = WSP(a).to_W(silence_warnings=True)  # esda timed with its imports and its W
    r = esda.G_Local(y, w, star=True, transform="R", permutations=999, seed=1, n_jobs=1)
    t2 = time.perf_counter()
    esda.G_Local(y, w, star=True, transform="R", permutations=999, seed=2, n_jobs=1)
    t3 = time.perf_counter()
np.save(sys.argv[4], np.asarray(r.p_sim, dtype=float))
if counts is not None:
    np.save(sys.argv[4] + ".counts.npy", counts)
print(t2 - t1, t3 - t2)
"""


def _child(kind: str, a_path: str, y_path: str, out: str, env: dict | None = None):
    res = subprocess.run([sys.executable, "-c", _CHILD, a_path, y_path, kind, out],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    cold, warm = (float(v) for v in res.stdout.split()[-2:])
    return cold, warm


_FIRST = """
import sys, time
import numpy as np
t0 = time.time()
inp = np.load(sys.argv[1])
load = time.time() - t0
t1 = time.perf_counter()
from geo_sigap.analytics.gistar import gi_star, star_weights
if sys.argv[2] == "hex":
    from geo_sigap.analytics.hotspots import hex_gi
    from geo_sigap.analytics.weights import HexGrid
    t2 = time.perf_counter()
    grid = HexGrid(250.0, inp["q"], inp["r"], crs=str(inp["crs"]))
    w = star_weights(grid.adjacency())
    t3 = time.perf_counter()
    r = hex_gi(grid, w, inp["lon"], inp["lat"])
    cls, p = r.classes, r.gi.p_folded
    t_end = time.time()
    t4 = time.perf_counter()
    hex_gi(grid, w, inp["lon"], inp["lat"], seed=54321)
else:
    import scipy.sparse as sp
    t2 = time.perf_counter()
    a = sp.csr_matrix((inp["data"], inp["indices"], inp["indptr"]))
    w = star_weights(a)
    t3 = time.perf_counter()
    g = gi_star(inp["y"], w, permutations=999)
    cls, p = g.classes(), g.p_folded
    t_end = time.time()
    t4 = time.perf_counter()
    gi_star(inp["y"], w, permutations=999, seed=54321)
t5 = time.perf_counter()
np.savez(sys.argv[3], classes=cls, p=p)
print(load, t_end, t2 - t1, t3 - t2, t4 - t3, t5 - t4, "numba" in sys.modules)
"""


def _first_call(kind: str, inp: str, out: str) -> dict:
    """One new process running the 50k case ``kind`` (see the module docstring)."""
    t0 = time.time()
    res = subprocess.run([sys.executable, "-c", _FIRST, inp, kind, out], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    load, t_end, imports, weights, test, warm = (float(v) for v in res.stdout.split()[-7:-1])
    return {"first_s": t_end - t0 - load, "imports_s": imports, "weights_s": weights,
            "test_s": test, "warm_s": warm, "numba": res.stdout.split()[-1] == "True"}


def _libpysal_queen(units):
    """The strongest peer's Queen weights (libpysal, as its docs build them)."""
    import warnings

    import scipy.sparse as sp
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(units, use_index=False, silence_warnings=True)
    return sp.csr_matrix(w.sparse, dtype=np.float64)


def _gi_50k() -> dict:
    """Gi* on 50,000 hexagons (the live map's / rakor pack's test) and on 50,000 Queen
    squares (999 permutations), each the first call of a new process."""
    import geopandas as gpd
    import shapely

    from geo_sigap.analytics import _synthetic as S
    from geo_sigap.analytics.weights import hex_grid, queen_weights, to_lonlat

    crs = "EPSG:32748"  # around Kota Jambi
    x0, y0 = 390_000.0, 9_790_000.0
    area = gpd.GeoSeries([shapely.box(x0, y0, x0 + 61_000, y0 + 44_500)], crs=crs)
    grid = hex_grid(area, 250.0, crs=crs)
    cx, cy = grid.centres()
    rng = np.random.default_rng(12)
    n_bg, n_hot = 120_000, 30_000
    pick = rng.integers(0, len(cx), 40)  # 40 planted hot areas of ~400 m
    px = np.r_[rng.uniform(cx.min(), cx.max(), n_bg),
               cx[pick].repeat(n_hot // 40) + rng.normal(0, 400, n_hot)]
    py = np.r_[rng.uniform(cy.min(), cy.max(), n_bg),
               cy[pick].repeat(n_hot // 40) + rng.normal(0, 400, n_hot)]
    lon, lat = to_lonlat(px, py, crs=crs)
    squares = S.square_grid(224)  # 50,176 squares
    t = time.perf_counter()
    a = queen_weights(squares)
    queen_s = time.perf_counter() - t
    t = time.perf_counter()
    ref = _libpysal_queen(squares)
    libpysal_s = time.perf_counter() - t
    y = rng.poisson(2.0, a.shape[0]).astype(float)
    out = {"gistar_50k_units": int(len(grid.q)), "gistar_50k_incidents": int(len(lon)),
           "gistar_50k_queen_units": int(a.shape[0]), "queen_50k_s": queen_s,
           "libpysal_queen_50k_s": libpysal_s, "queen_50k_same_as_libpysal":
           bool((a != ref).nnz == 0)}
    with tempfile.TemporaryDirectory() as tmp:
        hex_in, sq_in = os.path.join(tmp, "hex.npz"), os.path.join(tmp, "sq.npz")
        np.savez(hex_in, q=grid.q, r=grid.r, crs=crs, lon=lon, lat=lat)
        np.savez(sq_in, data=a.data, indices=a.indices, indptr=a.indptr, y=y)
        out["load_average_gistar_50k"] = os.getloadavg()[0]
        for kind, inp, key in (("hex", hex_in, "gistar_50k"), ("queen", sq_in,
                                                              "gistar_50k_queen999")):
            runs = [_first_call(kind, inp, os.path.join(tmp, f"{kind}{i}.npz"))
                    for i in range(3)]
            best = min(runs, key=lambda r: r["first_s"])  # the least disturbed of three
            for f in ("first_s", "imports_s", "weights_s", "test_s", "warm_s"):
                out[f"{key}_{f}"] = best[f]
            out[f"{key}_loads_numba"] = best["numba"]
            c0, c1 = (np.load(os.path.join(tmp, f"{kind}{i}.npz"))["classes"] for i in (0, 1))
            out[f"{key}_same_classes_every_run"] = bool((c0 == c1).all())
        cls = np.load(os.path.join(tmp, "hex0.npz"))["classes"]
        out["gistar_50k_hot_cells"] = int((cls > 0).sum())
    return out


def _outside_ties(p_esda, larger, smaller, P: int) -> int:
    """Units whose esda p_sim no way of breaking the exact ties gives: its count of
    permuted statistics ≥ the observed one must lie in ``[P - #≤, #≥]`` (ours)."""
    bad = 0
    for pe, ge, le in zip(p_esda, larger, smaller):
        if ge < 0:  # island
            continue
        L = np.arange(P - le, ge + 1)
        if not np.isclose((np.minimum(L, P - L) + 1) / (P + 1), pe, atol=1e-6).any():
            bad += 1
    return bad


def _gi(n_side: int, with_esda: bool) -> dict:
    import scipy.sparse as sp

    from geo_sigap.analytics import _synthetic as S
    from geo_sigap.analytics.weights import queen_weights

    units = S.square_grid(n_side)
    a = queen_weights(units)
    rng = np.random.default_rng(3)
    y = rng.poisson(2.0, len(units)).astype(float)
    out = {"gi_units": len(units)}
    with tempfile.TemporaryDirectory() as tmp:
        ap, yp = os.path.join(tmp, "a.npz"), os.path.join(tmp, "y.npy")
        sp.save_npz(ap, a)
        np.save(yp, y)
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))
        out["gi_10k_compile_s"], _ = _child("ours", ap, yp, os.path.join(tmp, "p0.npy"), env)
        cold, warm = _child("ours", ap, yp, os.path.join(tmp, "p1.npy"), env)
        out["gi_10k_cold_s"], out["gi_10k_warm_s"] = cold, warm
        fc, fw = _child("fast", ap, yp, os.path.join(tmp, "p3.npy"), env)
        out["gi_10k_fast_cold_s"], out["gi_10k_fast_warm_s"] = fc, fw
        out["load_average_gi_10k"] = os.getloadavg()[0]
        if with_esda:
            ec, ew = _child("esda", ap, yp, os.path.join(tmp, "p2.npy"))
            out["esda_gi_10k_cold_s"], out["esda_gi_10k_warm_s"] = ec, ew
            p1, p2 = np.load(os.path.join(tmp, "p1.npy")), np.load(os.path.join(tmp, "p2.npy"))
            p3 = np.load(os.path.join(tmp, "p3.npy"))
            out["p_sim_max_abs_diff_vs_esda"] = float(np.nanmax(np.abs(p1 - p2)))
            out["p_sim_same_as_esda_share"] = float(np.mean(np.isclose(p1, p2, atol=1e-6)))
            # esda compares rounded statistics, so a permuted total equal to the observed
            # one falls either way there: its p must be one that breaking those ties gives
            larger, smaller = np.load(os.path.join(tmp, "p1.npy.counts.npy"))
            out["p_sim_outside_ties_vs_esda"] = _outside_ties(p2, larger, smaller, 999)
            # the default stream draws other numbers: how often the 95 % call agrees
            out["fast_stream_same_95_call_vs_esda"] = float(((p3 <= 0.05) == (p2 <= 0.05))
                                                            .mean())
    return out


def _bar(label: str):
    """A progress bar on stderr for one pack (the CLI's), as ``build_report(progress=…)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=False)
    task = bar.add_task(label, total=1)

    def cb(done, total, message):
        bar.update(task, completed=done, total=total, description=f"{label}: {message}")

    return bar, cb


def _report(n: int) -> dict:

    from geo_sigap.analytics import _synthetic as S
    from geo_sigap.analytics.loaders import load_demo_incidents, place_incidents
    from geo_sigap.analytics.report import build_report
    from geo_sigap.domain.categories import load_categories

    try:
        d = load_demo_incidents(ROOT)
        base, units, teams, cats, src = d.incidents, d.units, d.teams, d.categories, "demo"
    except Exception:  # noqa: BLE001 - demo data absent: synthetic history
        units = S.lattice_units()
        base = place_incidents(S.incidents_history(units, hot_rw="15.71.11.1002.RW005",
                                                   new_rw="15.71.11.1004.RW002"), units)
        teams, cats, src = S.teams_frame(), load_categories(), "synthetic"
    rng = np.random.default_rng(11)
    idx = rng.integers(0, len(base), n)
    big = base.iloc[idx].reset_index(drop=True).copy()
    big["lon"] = big["lon"] + rng.normal(0, 0.00045, n)
    big["lat"] = big["lat"] + rng.normal(0, 0.00045, n)
    big["ticket"] = [f"B{i:07d}" for i in range(n)]
    big = place_incidents(big.drop(columns=["kelurahan_code", "rw_code", "rt_code"]), units)
    bar, cb = _bar(f"paket {n:,} kejadian")
    with tempfile.TemporaryDirectory() as tmp, bar:
        t = time.perf_counter()
        build_report(big, units, teams, cats, "2026Q3", out_dir=tmp, progress=cb)
        dt = time.perf_counter() - t
    return {"report_100k_s": dt, "report_incidents": n, "report_source": src}


def _demo_pack() -> dict:
    """The rakor pack (HTML + PDF) of the demo quarter, as ``geo-sigap report`` builds it
    (without the post-placement section, which needs the road network)."""
    from geo_sigap.analytics.loaders import load_demo_incidents
    from geo_sigap.analytics.report import build_report

    try:
        d = load_demo_incidents(ROOT)
    except Exception:  # noqa: BLE001 - demo data absent
        return {}
    bar, cb = _bar("paket triwulan demo")
    with tempfile.TemporaryDirectory() as tmp, bar:
        t = time.perf_counter()
        paths = build_report(d.incidents, d.units, d.teams, d.categories, "2026Q3",
                             out_dir=tmp, progress=cb)
        dt = time.perf_counter() - t
        pages = None
        try:
            from pypdf import PdfReader

            pages = len(PdfReader(str(paths.pdf)).pages)
        except Exception:  # noqa: BLE001
            pass
    return {"report_demo_s": dt, "report_demo_pages": pages,
            "load_average": os.getloadavg()[0]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, no esda")
    ap.add_argument("--gi-only", action="store_true",
                    help="only Gi* (50k units; 10k against esda unless --quick)")
    ap.add_argument("--report-only", action="store_true",
                    help="only the rakor packs (demo quarter, then 100k incidents)")
    args = ap.parse_args(argv)
    res = {}
    if args.gi_only:
        res.update(_gi_50k())
        res.update(_gi(30 if args.quick else 100, with_esda=not args.quick))
        if args.json:
            print(json.dumps(res))
        else:
            _table(_gi_rows(res))
        return
    res.update(_demo_pack())
    if args.report_only:
        res.update(_report(10_000 if args.quick else 100_000))
        print(json.dumps(res) if args.json else "\n".join(
            f"{k:<22} {v}" for k, v in res.items()))
        return
    res.update(_kde(100_000 if args.quick else 1_000_000))
    res.update(_gi_50k())
    res.update(_gi(30 if args.quick else 100, with_esda=not args.quick))
    res.update(_report(10_000 if args.quick else 100_000))
    if args.json:
        print(json.dumps(res))
        return
    rows = [
        ("KDE 1M titik (binning + FFT), quartic 300 m", res["kde_1m_s"],
         f"galat maks. {res['kde_max_error_vs_exact']:.2%} dari puncak (vs jumlah kernel "
         "eksak)"),
    ]
    if "kdepy_1m_s" in res:
        rows += [
            ("  KDEpy FFTKDE (biweight, sel sama)", res["kdepy_1m_s"],
             f"×{res['speedup_vs_kdepy']:.1f} lebih lambat; beda maks. "
             f"{res['kde_max_diff_vs_kdepy']:.2%} dari puncak; galat maks. "
             f"{res['kdepy_max_error_vs_exact']:.2%}"),
            ("  proses baru: kami (impor + panggilan pertama)", res["kde_1m_cold_s"], ""),
            ("  proses baru: KDEpy", res["kdepy_1m_cold_s"],
             f"×{res['speedup_vs_kdepy_cold']:.1f}"),
        ]
    rows += [
        ("  scipy gaussian_kde (ekstrapolasi)", res["scipy_kde_1m_extrapolated_s"],
         f"×{res['scipy_kde_1m_extrapolated_s'] / res['kde_1m_s']:.0f} lebih lambat"),
    ] + _gi_rows(res)
    if "report_demo_s" in res:
        rows.append(("Paket rakor triwulan demo (HTML + PDF)", res["report_demo_s"],
                     f"{res['report_demo_pages']} halaman A4; beban mesin "
                     f"{res['load_average']:.1f}"))
    rows.append((f"Laporan rakor {res['report_incidents']} kejadian ({res['report_source']})",
                 res["report_100k_s"], ""))
    _table(rows)


def _gi_rows(res: dict) -> list[tuple[str, float, str]]:
    rows = [
        (f"Gi* {res['gistar_50k_units']:,} heksagon, panggilan pertama (proses baru)",
         res["gistar_50k_first_s"],
         f"impor {res['gistar_50k_imports_s']:.2f} s, bobot {res['gistar_50k_weights_s']:.2f}"
         f" s, uji {res['gistar_50k_test_s']:.2f} s; 9.999 permutasi; beban mesin "
         f"{res['load_average_gistar_50k']:.1f}"),
        ("  panggilan kedua (benih baru)", res["gistar_50k_warm_s"], ""),
        (f"Gi* {res['gistar_50k_queen_units']:,} persegi (Queen), 999 permutasi, pertama",
         res["gistar_50k_queen999_first_s"], ""),
        ("  panggilan kedua (benih baru)", res["gistar_50k_queen999_warm_s"], ""),
        (f"Bobot Queen {res['gistar_50k_queen_units']:,} poligon", res["queen_50k_s"],
         "sama dengan libpysal" if res["queen_50k_same_as_libpysal"] else "BEDA dari libpysal"),
        ("  libpysal Queen.from_dataframe", res["libpysal_queen_50k_s"],
         f"×{res['libpysal_queen_50k_s'] / res['queen_50k_s']:.0f}"),
        (f"Gi* {res['gi_units']} unit, aliran esda, proses baru (cache)", res["gi_10k_cold_s"],
         f"beban mesin {res['load_average_gi_10k']:.1f}"),
        ("  proses baru tanpa cache (kompilasi)", res["gi_10k_compile_s"], ""),
        ("  panggilan kedua (benih baru)", res["gi_10k_warm_s"], ""),
        (f"Gi* {res['gi_units']} unit, aliran bawaan, proses baru", res["gi_10k_fast_cold_s"],
         ""),
        ("  panggilan kedua (benih baru)", res["gi_10k_fast_warm_s"], ""),
    ]
    if "esda_gi_10k_cold_s" in res:
        rows += [("esda G_Local proses baru (dengan impor)", res["esda_gi_10k_cold_s"],
                  f"×{res['esda_gi_10k_cold_s'] / res['gi_10k_cold_s']:.0f} aliran esda, "
                  f"×{res['esda_gi_10k_cold_s'] / res['gi_10k_fast_cold_s']:.0f} aliran bawaan"),
                 ("esda G_Local panggilan kedua", res["esda_gi_10k_warm_s"],
                  f"×{res['esda_gi_10k_warm_s'] / res['gi_10k_warm_s']:.1f} aliran esda, "
                  f"×{res['esda_gi_10k_warm_s'] / res['gi_10k_fast_warm_s']:.0f} aliran "
                  f"bawaan"),
                 ("  p aliran esda = p esda", 100 * res["p_sim_same_as_esda_share"],
                  f"% unit; sisanya seri yang dipecah esda "
                  f"({res['p_sim_outside_ties_vs_esda']} unit di luar itu)", "%"),
                 ("  keputusan 95 % aliran bawaan = esda",
                  100 * res["fast_stream_same_95_call_vs_esda"], "% unit (angka acak lain)",
                  "%")]
    return rows


def _table(rows) -> None:
    w = max(len(r[0]) for r in rows)
    for name, v, note, *unit in rows:
        print(f"{name:<{w}}  {v:9.3f} {(unit or ['s'])[0]}  {note}")


if __name__ == "__main__":
    main()
