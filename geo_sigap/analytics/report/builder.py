"""The quarterly rakor pack: one self-contained HTML file (works offline) and a PDF.

``build_report`` computes every section from the plain frames, shows progress through
a callback ``progress(done, total, message)`` and writes
``rakor_<quarter>[_<kecamatan>].html`` and ``.pdf`` into ``out_dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_sigap.analytics import emerging as _em
from geo_sigap.analytics import gistar as _gi
from geo_sigap.analytics.evaluation import score_hotspots
from geo_sigap.analytics.frames import SK4_CATEGORIES, Quarter, filter_incidents
from geo_sigap.analytics.heatmap import kde_grid
from geo_sigap.analytics.hotspots import units_of_level
from geo_sigap.analytics.performance import STEP_LABELS, annotate, overdue_cases, summarise
from geo_sigap.analytics.temporal import day_hour_matrix, monthly_by_category, quarter_comparison
from geo_sigap.analytics.weights import hex_grid
from geo_sigap.domain.projection import describe as describe_crs
from geo_sigap.errors import InvalidInput

Progress = Callable[[int, int, str], None]
N_QUARTERS = 8  # history shown and used for emerging hotspots
CHRONIC = ("persistent hotspot", "intensifying hotspot", "consecutive hotspot")


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    pdf: Path


def _fmt_min(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.0f}"


def _pct(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * v:.0f}%"


class _Steps:
    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, message: str) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, message)


def build_report(incidents: pd.DataFrame, units: gpd.GeoDataFrame, teams: pd.DataFrame,
                 categories, quarter: str | Quarter = "2026Q3", kecamatan: str | None = None,
                 out_dir: str | Path = ".", progress: Progress | None = None, *,
                 hex_m: float = 250.0, permutations: int = 9999, seed: int = 12345,
                 pdf: bool = True) -> ReportPaths:
    """Write the rakor pack for ``quarter`` and return the paths.

    Parameters
    ----------
    incidents, units, teams, categories
        The analytics frames (:mod:`geo_sigap.analytics.frames`) and the category table.
    quarter : "2026Q3" or Quarter
    kecamatan : str, optional
        Kecamatan code (``15.71.11``): only its kelurahan and incidents.
    out_dir : path
        Created when missing.
    progress : callable(done, total, message), optional
        Called after each section (e.g. to drive a rich progress bar).
    hex_m : float
        Hexagon size (centre to centre, metres) for hotspot maps.
    permutations : int
        Gi* permutations (9,999: with FDR over hundreds of cells, 999 cannot reach 99 %).
    """
    from geo_sigap.analytics.report import figures as F
    from geo_sigap.analytics.report.render import render_html, render_pdf

    q = Quarter.parse(quarter)
    prev = q.previous()
    step = _Steps(progress, 10)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    kel = units_of_level(units, "kelurahan", kecamatan)
    rw = units.loc[units["level"] == "rw"]
    if kecamatan:
        rw = rw.loc[rw["code"].astype(str).str.startswith(kecamatan)]
    allinc = filter_incidents(incidents, kecamatan=kecamatan)
    first = Quarter(q.year - 2, q.q)  # N_QUARTERS back, exclusive → 8 slices
    slices = []
    s = first.next()
    while s <= q:
        slices.append(str(s))
        s = s.next()
    hist = filter_incidents(allinc, start=Quarter.parse(slices[0]).start, end=q.end)
    cur = filter_incidents(allinc, start=q.start, end=q.end)
    old = filter_incidents(allinc, start=prev.start, end=prev.end)
    if cur.empty:
        raise InvalidInput(
            f"Tidak ada kejadian pada {q.label}" + (f" di kecamatan {kecamatan}" if kecamatan
                                                     else ""),
            f"No incidents in {q}" + (f" in kecamatan {kecamatan}" if kecamatan else ""),
        )
    names = dict(zip(units["code"], units["name"]))
    cat_name = {c.code: c.name for c in categories}
    step("Data disiapkan")

    # -- hex grid and the place (RW, kelurahan) of each cell ---------------------------
    grid = hex_grid(kel, hex_m)
    cells = grid.to_geodataframe()
    cent = gpd.GeoDataFrame(geometry=cells.geometry.representative_point(), crs=cells.crs)
    where = gpd.sjoin(cent, rw[["code", "geometry"]], how="left", predicate="within")
    where = where[~where.index.duplicated()]
    cells["rw_code"] = where["code"].reindex(cells.index).to_numpy()
    cells["place"] = [
        (f"{names.get(c, c)} {names.get(c.rsplit('.', 1)[0], '')}" if isinstance(c, str)
         else "–") for c in cells["rw_code"]]
    x, y = grid.to_metric(hist["lon"].to_numpy(), hist["lat"].to_numpy())
    hist = hist.assign(hex_code=pd.Series(grid.codes(), dtype=object)
                       .reindex(grid.cell_index(x, y)).to_numpy())
    w_hex = grid.adjacency()
    codes = grid.codes()

    def hex_counts(frame):
        return frame["hex_code"].value_counts().reindex(codes).fillna(0).to_numpy(float)

    # -- headline ---------------------------------------------------------------------
    ann = annotate(cur, categories, as_of=min(q.end, pd.Timestamp.now(tz=q.start.tz)))
    resp = ann["min_respons"].dropna()
    wt = ann["within_target"].dropna().astype(bool)
    n_prev = len(old)
    change = (len(cur) - n_prev) / n_prev if n_prev else np.nan
    top_cat = cur["category"].value_counts()
    headline = [
        ("Kejadian", f"{len(cur):,}".replace(",", "."),
         f"{'+' if change >= 0 else ''}{100 * change:.0f}% dari {prev}" if n_prev else ""),
        ("Waktu respons (median)", f"{_fmt_min(resp.median())} menit",
         f"p90 {_fmt_min(resp.quantile(0.9))} menit" if len(resp) else ""),
        ("Tepat waktu", _pct(wt.mean() if len(wt) else np.nan), "tiba sebelum target"),
        ("Terlambat / lewat target", str(int(ann["overdue"].sum())), "kasus"),
        ("Kategori terbanyak", cat_name.get(top_cat.index[0], top_cat.index[0]),
         f"{int(top_cat.iloc[0])} kejadian"),
    ]
    step("Angka utama")

    # -- heat map -----------------------------------------------------------------------
    kb = tuple(kel.total_bounds)
    heat = kde_grid(cur["lon"], cur["lat"], bounds=kb)
    figs = {"heat": F.heat_map(heat, kel, f"Peta panas kejadian, {q.label}")}
    step("Peta panas")

    # -- Gi* hotspots on the hex grid -------------------------------------------------
    g = _gi.gi_star(hex_counts(hist.loc[hist.index.isin(cur.index)]), w_hex,
                    permutations=permutations, seed=seed)
    cells["count"] = hex_counts(hist.loc[hist.index.isin(cur.index)]).astype(int)
    cells["gi_z"] = g.z
    cells["gi_class"] = g.classes(fdr=True)
    n_hot = {lvl: int((cells["gi_class"] >= lvl).sum()) for lvl in (1, 2, 3)}
    figs["hot"] = F.class_map(
        cells, kel, "gi_class", F.GI_COLOURS, _gi.GI_CLASS_LABELS,
        f"Titik panas Gi* (heksagon {hex_m:.0f} m), {q.label}",
        f"{permutations} permutasi bersyarat (seed {seed}), koreksi FDR Benjamini–Hochberg; "
        f"sel tanpa tetangga tidak diuji.")
    hot_table = (cells.loc[cells["gi_class"] > 0]
                 .sort_values(["gi_class", "gi_z"], ascending=False)
                 .assign(tingkat=lambda d: d["gi_class"].map(_gi.GI_CLASS_LABELS))
                 [["place", "count", "gi_z", "tingkat"]]
                 .rename(columns={"place": "Lokasi (RW, kelurahan)", "count": "Kejadian",
                                  "gi_z": "z Gi*", "tingkat": "Tingkat"}).head(15))
    hot_table["z Gi*"] = hot_table["z Gi*"].round(2)
    step("Titik panas Gi*")

    # -- emerging hot spots (all categories, and per SK4 category) --------------------
    em_all = _em.emerging_hotspots(hist, codes, w_hex, "hex", freq="quarter", slices=slices,
                                   permutations=permutations, seed=seed)
    cells["ehsa"] = em_all.table["classification"].to_numpy()
    figs["emerging"] = F.class_map(
        cells, kel, "ehsa", F.EHSA_COLOURS, _em.LABELS_ID,
        f"Titik panas yang muncul ({slices[0]}–{slices[-1]}), semua kategori",
        em_all.note or "Gi* per triwulan + uji tren Mann-Kendall; aturan Esri/sfdep.")
    chronic_rows = []
    per_cat_counts = {}
    for cat in [*SK4_CATEGORIES, None]:
        sub = hist if cat is None else hist.loc[hist["category"] == cat]
        if cat is not None and len(sub) < 10:
            continue
        res = em_all if cat is None else _em.emerging_hotspots(
            sub, codes, w_hex, "hex", freq="quarter", slices=slices,
            permutations=permutations, seed=seed)
        t = res.table
        per_cat_counts[cat or "semua"] = t["classification"].value_counts()
        for i in np.nonzero(t["classification"].isin(CHRONIC).to_numpy())[0]:
            chronic_rows.append({
                "Kategori": "Semua" if cat is None else cat_name.get(cat, cat),
                "Lokasi (RW, kelurahan)": cells["place"].iat[i],
                "Pola": _em.LABELS_ID[t["classification"].iat[i]],
                f"Kejadian {q}": int(t["count_last"].iat[i]),
                "Total 8 triwulan": int(t["count_total"].iat[i]),
            })
    chronic = pd.DataFrame(chronic_rows)
    if len(chronic):
        chronic = (chronic.sort_values("Total 8 triwulan", ascending=False)
                   .drop_duplicates(["Kategori", "Lokasi (RW, kelurahan)", "Pola"]).head(25))
    step("Titik panas yang muncul")

    # -- categories by kelurahan --------------------------------------------------------
    ct = pd.crosstab(cur["kelurahan_code"].map(names), cur["category"])
    order = [c for c in SK4_CATEGORIES if c in ct.columns] + sorted(
        c for c in ct.columns if c not in SK4_CATEGORIES)
    ct = ct.reindex(columns=order, fill_value=0)
    ct.columns = [cat_name.get(c, c).split(" (")[0] for c in ct.columns]
    ct.loc["Jumlah"] = ct.sum()
    ct = ct.reset_index().rename(columns={"kelurahan_code": "Kelurahan"})
    step("Kategori per kelurahan")

    # -- response performance -----------------------------------------------------------
    main_steps = ["verifikasi", "penugasan", "berangkat", "perjalanan", "penanganan", "respons"]
    def perf_table(by, label):
        s = summarise(ann, by)
        out = pd.DataFrame({label: s.index.astype(str), "n": s["n"].to_numpy()})
        for k in main_steps:
            out[STEP_LABELS[k].split(" (")[0]] = [
                f"{_fmt_min(a)} / {_fmt_min(b)}"
                for a, b in zip(s[f"{k}_median"], s[f"{k}_p90"])]
        out["Tepat waktu"] = [_pct(v) for v in s["share_within_target"]]
        out["Terlambat"] = s["overdue"].to_numpy()
        return out
    from geo_sigap.domain.teams import Role

    def role_name(r):
        try:
            return Role.parse(r).label
        except Exception:  # noqa: BLE001
            return str(r)
    ann["peran"] = ann["lead_role"].map(lambda r: role_name(r) if isinstance(r, str) else "–")
    ann["kategori"] = ann["category"].map(lambda c: cat_name.get(c, c).split(" (")[0])
    ann["kelurahan"] = ann["kelurahan_code"].map(names)
    team_name = dict(zip(teams["code"].astype(str), teams["name"].astype(str))) if len(teams) \
        else {}
    ann["tim"] = ann["lead_team"].map(lambda t: team_name.get(t, t) if isinstance(t, str)
                                      else "–")
    perf_role = perf_table("peran", "Peran")
    perf_cat = perf_table("kategori", "Kategori")
    perf_kel = perf_table("kelurahan", "Kelurahan")
    perf_team = perf_table("tim", "Tim").sort_values("Terlambat", ascending=False).head(15)
    late = overdue_cases(ann).head(15)
    late_tbl = pd.DataFrame({
        "Tiket": late["ticket"], "Kategori": late["category"].map(cat_name),
        "Kelurahan": late["kelurahan_code"].map(names),
        "Dilaporkan": late["reported_at"].dt.strftime("%d-%m %H:%M"),
        "Respons (menit)": [_fmt_min(v) for v in late["min_respons"]],
        "Target": [_fmt_min(v) for v in late["target_min"]]})
    step("Kinerja respons")

    # -- comparison with the previous quarter ---------------------------------------------
    comp = quarter_comparison(allinc, q, by="category")
    comp_tbl = pd.DataFrame({
        "Kategori": [cat_name.get(c, c) for c in comp.index], str(prev): comp["prev"],
        str(q): comp["curr"],
        "Perubahan": [f"{c:+d}" + ("" if not np.isfinite(p) else f" ({p:+.0f}%)")
                      for c, p in zip(comp["change"], comp["change_pct"])],
        "p (uji binomial)": comp["p_value"].round(3),
        "Sinyal": comp["signal"]})
    g_prev = _gi.gi_star(hex_counts(hist.loc[hist.index.isin(old.index)]), w_hex,
                         permutations=permutations, seed=seed)
    hot_prev = g_prev.classes(fdr=True) >= 2
    score = score_hotspots(hot_prev, cells["count"].to_numpy()) if hot_prev.any() else None
    monthly = monthly_by_category(hist, Quarter.parse(slices[0]).start, q.end)
    monthly.columns = [cat_name.get(c, c).split(" (")[0] for c in monthly.columns]
    figs["monthly"] = F.monthly_lines(monthly, "Kejadian per bulan per kategori",
                                      highlight=[cat_name.get(c, c).split(" (")[0]
                                                 for c in SK4_CATEGORIES])
    figs["dayhour"] = F.day_hour(day_hour_matrix(cur), f"Hari × jam kejadian, {q.label}")
    step("Perbandingan triwulan")

    meta = {
        "quarter": str(q), "quarter_label": q.label, "prev": str(prev),
        "kecamatan": kecamatan or "semua", "kecamatan_name": names.get(kecamatan, kecamatan)
        if kecamatan else "Semua wilayah",
        "generated": pd.Timestamp.now(tz="Asia/Jakarta").strftime("%d-%m-%Y %H:%M WIB"),
        "n_hot": n_hot, "hex_m": hex_m, "projection": describe_crs(grid.crs),
        "permutations": permutations, "seed": seed,
        "heat_bw": heat.bandwidth_m, "emerging_note": em_all.note,
        "score": score, "slices": slices, "islands": int(g.island.sum()),
        "ehsa_counts": {k: {(_em.LABELS_ID[c]): int(n) for c, n in v.items()
                            if c != "no pattern detected"} for k, v in per_cat_counts.items()},
    }
    tables = {"hot": hot_table, "chronic": chronic, "kelurahan": ct, "perf_role": perf_role,
              "perf_cat": perf_cat, "perf_kel": perf_kel, "perf_team": perf_team,
              "late": late_tbl, "comp": comp_tbl}
    stem = f"rakor_{q}" + (f"_{kecamatan}" if kecamatan else "")
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(render_html(meta, headline, tables, figs), encoding="utf-8")
    step("HTML ditulis")
    pdf_path = out_dir / f"{stem}.pdf"
    if pdf:
        render_pdf(pdf_path, meta, headline, tables, figs)
    step("PDF ditulis")
    import matplotlib.pyplot as plt

    for f in figs.values():
        plt.close(f)
    return ReportPaths(html=html_path, pdf=pdf_path)
