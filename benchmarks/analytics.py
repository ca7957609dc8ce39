"""Analytics benchmark: KDE heatmap, Gi* (cold/warm, against esda) and the rakor report.

Run from the repository root::

    python -m benchmarks.analytics [--json] [--quick]

- KDE: 1,000,000 incidents, quartic kernel, binning + FFT; against scipy's
  ``gaussian_kde`` timed on a subsample and extrapolated linearly in points
  (it is O(points × cells); running it on 1M points would take about an hour).
- Gi*: 10,000 square polygons (Queen), 999 permutations from esda's stream (so that the
  pseudo p-values can be compared; they differ only where esda's rounded comparison
  breaks an exact tie of counts). "cold" = the first call in a
  fresh Python process, timed from ``import`` to result (compiled kernel loaded from the
  on-disk numba cache; ``gi_10k_compile_s`` is the same with an empty cache, i.e. the
  very first run after install). "warm" = a second call in one process. esda's
  ``G_Local`` is run the same way in a fresh process (its JIT is not cached).
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
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _kde(n: int) -> dict:
    from scipy.stats import gaussian_kde

    from geo_sigap.analytics.heatmap import kde_grid

    rng = np.random.default_rng(0)
    k = n // 4
    lon = np.r_[103.60 + rng.uniform(0, 0.07, n - k), 103.649 + rng.normal(0, 0.001, k)]
    lat = np.r_[-1.66 + rng.uniform(0, 0.07, n - k), -1.620 + rng.normal(0, 0.001, k)]
    kde_grid(lon[:1000], lat[:1000], bandwidth_m=300)  # import costs out of the timing
    t = time.perf_counter()
    g = kde_grid(lon, lat, bandwidth_m=300)
    ours = time.perf_counter() - t
    m = 2000
    xs, ys = np.meshgrid(*g.cell_centres())
    kde = gaussian_kde(np.vstack([lon[:m], lat[:m]]))
    t = time.perf_counter()
    kde(np.vstack([xs.ravel(), ys.ravel()]))
    naive_m = time.perf_counter() - t
    return {"kde_1m_s": ours, "kde_cells": int(g.density.size),
            "scipy_kde_1m_extrapolated_s": naive_m * n / m}


_CHILD = """
import sys, time, warnings
t0 = time.perf_counter()
import numpy as np, scipy.sparse as sp
a = sp.load_npz(sys.argv[1]); y = np.load(sys.argv[2])
t1 = time.perf_counter()
if sys.argv[3] == "ours":
    from geo_sigap.analytics.gistar import gi_star
    # esda's permutation stream, so that the p-values can be compared with esda's
    r = gi_star(y, a, permutations=999, seed=1, stream="esda")
    t2 = time.perf_counter()
    r = gi_star(y, a, permutations=999, seed=1, stream="esda")
    t3 = time.perf_counter()
    p = r.p_sim
else:
    warnings.simplefilter("ignore")
    from libpysal.weights import WSP
    import esda
    w = WSP(a).to_W(silence_warnings=True)
    t1 = time.perf_counter()
    r = esda.G_Local(y, w, star=True, transform="R", permutations=999, seed=1, n_jobs=1)
    t2 = time.perf_counter()
    r = esda.G_Local(y, w, star=True, transform="R", permutations=999, seed=1, n_jobs=1)
    t3 = time.perf_counter()
    p = r.p_sim
np.save(sys.argv[4], np.asarray(p, dtype=float))
print(t2 - t1, t3 - t2)
"""


def _child(kind: str, a_path: str, y_path: str, out: str, env: dict | None = None):
    res = subprocess.run([sys.executable, "-c", _CHILD, a_path, y_path, kind, out],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    cold, warm = (float(v) for v in res.stdout.split()[-2:])
    return cold, warm


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
        if with_esda:
            ec, ew = _child("esda", ap, yp, os.path.join(tmp, "p2.npy"))
            out["esda_gi_10k_cold_s"], out["esda_gi_10k_warm_s"] = ec, ew
            p1, p2 = np.load(os.path.join(tmp, "p1.npy")), np.load(os.path.join(tmp, "p2.npy"))
            out["p_sim_max_abs_diff_vs_esda"] = float(np.nanmax(np.abs(p1 - p2)))
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
    import pandas as pd

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
    ap.add_argument("--report-only", action="store_true",
                    help="only the rakor packs (demo quarter, then 100k incidents)")
    args = ap.parse_args(argv)
    res = {}
    res.update(_demo_pack())
    if args.report_only:
        res.update(_report(10_000 if args.quick else 100_000))
        print(json.dumps(res) if args.json else "\n".join(
            f"{k:<22} {v}" for k, v in res.items()))
        return
    res.update(_kde(100_000 if args.quick else 1_000_000))
    res.update(_gi(30 if args.quick else 100, with_esda=not args.quick))
    res.update(_report(10_000 if args.quick else 100_000))
    if args.json:
        print(json.dumps(res))
        return
    rows = [
        ("KDE 1M titik (binning + FFT)", res["kde_1m_s"], ""),
        ("  scipy gaussian_kde (ekstrapolasi)", res["scipy_kde_1m_extrapolated_s"],
         f"×{res['scipy_kde_1m_extrapolated_s'] / res['kde_1m_s']:.0f} lebih lambat"),
        (f"Gi* {res['gi_units']} unit, proses baru (cache)", res["gi_10k_cold_s"], ""),
        ("Gi* proses baru tanpa cache (kompilasi)", res["gi_10k_compile_s"], ""),
        ("Gi* panggilan kedua (warm)", res["gi_10k_warm_s"], ""),
    ]
    if "esda_gi_10k_cold_s" in res:
        rows += [("esda G_Local proses baru", res["esda_gi_10k_cold_s"],
                  f"×{res['esda_gi_10k_cold_s'] / res['gi_10k_cold_s']:.0f}"),
                 ("esda G_Local warm", res["esda_gi_10k_warm_s"],
                  f"×{res['esda_gi_10k_warm_s'] / res['gi_10k_warm_s']:.1f}; "
                  f"selisih p maks {res['p_sim_max_abs_diff_vs_esda']:.1e}")]
    if "report_demo_s" in res:
        rows.append(("Paket rakor triwulan demo (HTML + PDF)", res["report_demo_s"],
                     f"{res['report_demo_pages']} halaman A4; beban mesin "
                     f"{res['load_average']:.1f}"))
    rows.append((f"Laporan rakor {res['report_incidents']} kejadian ({res['report_source']})",
                 res["report_100k_s"], ""))
    w = max(len(r[0]) for r in rows)
    for name, s, note in rows:
        print(f"{name:<{w}}  {s:9.3f} s  {note}")


if __name__ == "__main__":
    main()
