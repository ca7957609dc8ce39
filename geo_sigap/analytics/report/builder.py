"""The quarterly rakor pack: one self-contained HTML file (works offline) and a PDF.

``build_report`` computes every section from the plain frames, shows progress through
a callback ``progress(done, total, message)`` and writes
``rakor_<quarter>[_<kecamatan>].html`` and ``.pdf`` into ``out_dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_sigap.analytics import emerging as _em
from geo_sigap.analytics import gistar as _gi
from geo_sigap.analytics import hotspots as _H
from geo_sigap.analytics.forecast import score_forecast
from geo_sigap.analytics.nearrepeat import knox_test
from geo_sigap.analytics.report.fmt import (HARI_PANJANG, area_title, hours_block,
                                            kecamatan_names, minutes, num, pct, signed_pct)
from geo_sigap.analytics.frames import SK4_CATEGORIES, Quarter, filter_incidents
from geo_sigap.analytics.heatmap import kde_grid
from geo_sigap.analytics.hotspots import units_of_level
from geo_sigap.analytics.performance import annotate, overdue_cases, summarise
from geo_sigap.analytics.temporal import day_hour_matrix, monthly_by_category, quarter_comparison
from geo_sigap.analytics.weights import hex_grid
from geo_sigap.domain.projection import describe as describe_crs
from geo_sigap.errors import InvalidInput

Progress = Callable[[int, int, str], None]
N_QUARTERS = 8  # history shown and used for emerging hotspots
CHRONIC = ("persistent hotspot", "intensifying hotspot", "consecutive hotspot")
PATTERNS_SHOWN = ("new hotspot", "consecutive hotspot", "intensifying hotspot",
                  "persistent hotspot", "diminishing hotspot", "sporadic hotspot",
                  "oscillating hotspot", "historical hotspot")
MIN_PATTERN = 20  # incidents over the history before a category's pattern is tested
MIN_NEAR_REPEAT = 20  # incidents in the quarter before a near-repeat test
MIN_COMPARE = 10  # incidents in both quarters before a change is tested
MAIN_STEPS = ("verifikasi", "penugasan", "berangkat", "perjalanan", "penanganan", "respons")
GI_WORDS = {3: "sangat yakin (99%)", 2: "yakin (95%)", 1: "cukup yakin (90%)",
            0: "bukan titik panas", -1: "titik dingin (90%)", -2: "titik dingin (95%)",
            -3: "titik dingin (99%)", -9: "tidak diuji"}


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    pdf: Path | None
    tables: dict = field(default_factory=dict)  # key → (number, title, DataFrame)
    gpkg: Path | None = None  # the data behind the tables and maps
    hotspots: object = None  # the quarter's HexHotspots (the live map's result)


@dataclass
class Pack:
    """Everything the HTML (and so the PDF) shows, in reading order."""

    meta: dict
    headline: list
    figures: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)  # key → Table
    findings: list = field(default_factory=list)  # Finding
    recommendations: list = field(default_factory=list)
    layers: dict = field(default_factory=dict)  # name → GeoDataFrame (the GeoPackage)

    def add_table(self, key: str, title: str, df: pd.DataFrame, note: str = "",
                  geometry=None) -> None:
        """``geometry``: one shapely geometry (EPSG:4326) or None per row, for the
        table's GeoPackage layer."""
        self.tables[key] = Table(key, title, df.reset_index(drop=True), note,
                                 geometry=None if geometry is None else list(geometry))


@dataclass
class Table:
    key: str
    title: str
    df: pd.DataFrame
    note: str = ""
    number: int = 0  # set when the page order is known
    geometry: list | None = None  # per row (EPSG:4326), for the GeoPackage


STEP_LABELS = {
    "verifikasi": "Laporan masuk → diverifikasi", "penugasan": "Diverifikasi → tim ditugaskan",
    "berangkat": "Ditugaskan → tim berangkat", "perjalanan": "Berangkat → tiba di lokasi",
    "penanganan": "Tiba → selesai ditangani", "respons": "Laporan masuk → tim tiba (respons)"}


class _Steps:
    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, message: str) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, message)


def hot_places(hot_cells: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Hot hex cells (``place, count, gi_class, rw_code``) grouped by place, hottest and
    busiest first, and how many places were left out: a cell can test hot from its
    neighbours alone, and a place whose hot cells hold no incident of their own is the
    edge of a hotspot (drawn on the map), not a place to send a patrol."""
    rows = (hot_cells.groupby("place", sort=False)
            .agg(kejadian=("count", "sum"), sel=("count", "size"),
                 kelas=("gi_class", "max"), rw_code=("rw_code", "first"))
            .sort_values(["kelas", "kejadian"], ascending=False).reset_index())
    edge_only = int((rows["kejadian"] == 0).sum())
    return rows.loc[rows["kejadian"] > 0].reset_index(drop=True), edge_only


def build_report(incidents: pd.DataFrame, units: gpd.GeoDataFrame, teams: pd.DataFrame,
                 categories, quarter: str | Quarter = "2026Q3", kecamatan: str | None = None,
                 out_dir: str | Path = ".", progress: Progress | None = None, *,
                 hex_m: float = _H.HEX_M, permutations: int = _H.PERMUTATIONS,
                 seed: int = _H.SEED,
                 pdf: bool = True, em_permutations: int = 9999,
                 knox_permutations: int = 99, placement: pd.DataFrame | None = None,
                 target_min: float = 15.0, base=None,
                 hotspots: Callable[[Quarter], object] | None = None,
                 printer=None) -> ReportPaths:
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
    em_permutations : int
        Gi* permutations per quarter slice of the emerging-hotspot patterns (FDR per
        slice needs p < 0.05 / m, which 999 permutations cannot reach for m > 50).
    knox_permutations : int
        Monte Carlo shuffles of the near-repeat test (99: p down to 0,01).
    placement : DataFrame, optional
        :func:`geo_sigap.analytics.placement.post_proposals` (needs the road network):
        the section on moving posts; left out when not given.
    target_min : float
        The travel-time target of ``placement`` (minutes).
    base : geo_sigap.maps.printed.BaseLayers, optional
        Streets, landmarks and posts drawn (and named) under the maps.
    hotspots : callable(Quarter) → HexHotspots, optional
        The shared hotspot test of a quarter on this area's hex grid (the service passes
        :meth:`LiveAnalytics.hex_hotspots`, the result the live map shows); without it,
        :func:`geo_sigap.analytics.hotspots.hex_gi` is run here on the same incidents
        with the same parameters, which gives the same result.
    printer : geo_sigap.analytics.report.render.Printer, optional
        A browser started beforehand (it starts while the pack is computed); without it
        one is started for the PDF.
    """
    from geo_sigap.analytics.report import figures as F
    from geo_sigap.analytics.report.render import write_pack
    from geo_sigap.maps.printed import hot_callouts

    q = Quarter.parse(quarter)
    prev = q.previous()
    step = _Steps(progress, 13)
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
    hist = _within(allinc, Quarter.parse(slices[0]).start, q.end)
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
    area = area_title(kecamatan, kel["code"])
    multi_kec = len({str(c)[:8] for c in kel["code"]}) > 1
    kec_names = kecamatan_names(kel["code"]) if multi_kec else {}
    kel_label = {c: (f"{n}, Kec. {kec_names.get(str(c)[:8], '')}" if multi_kec else n)
                 for c, n in zip(kel["code"], kel["name"])}

    def rw_place(code) -> str:
        """"RW 004, Kel. Talang Bakung" (and the kecamatan on a city-wide pack)."""
        if not isinstance(code, str):
            return "di luar RW"
        k = code.rsplit(".", 1)[0]
        return f"{names.get(code, code)}, Kel. {kel_label.get(k, names.get(k, k))}"

    pack = Pack(meta={}, headline=[])
    step("Data disiapkan")

    # -- hex grid and the place (RW, kelurahan) of each cell ---------------------------
    grid = hex_grid(kel, hex_m)
    cells = grid.to_geodataframe()
    cent = gpd.GeoDataFrame(geometry=cells.geometry.representative_point(), crs=cells.crs)
    where = gpd.sjoin(cent, rw[["code", "geometry"]], how="left", predicate="within")
    where = where[~where.index.duplicated()]
    cells["rw_code"] = where["code"].reindex(cells.index).to_numpy()
    in_kel = gpd.sjoin(cent, kel[["code", "geometry"]], how="left", predicate="within")
    in_kel = in_kel[~in_kel.index.duplicated()]
    cells["kel_code"] = in_kel["code"].reindex(cells.index).to_numpy()
    # a cell is named by its RW and kelurahan; without RW boundaries, by its kelurahan
    cells["place"] = [rw_place(r) if isinstance(r, str) else
                      (f"Kel. {kel_label.get(k, k)}" if isinstance(k, str) else "di luar wilayah")
                      for r, k in zip(cells["rw_code"], cells["kel_code"])]
    # each incident's cell as its position in the grid (-1 outside): what the pattern
    # test counts, without a code string per incident or a copy of the history
    hex_cell = grid.cell_index(*grid.to_metric(hist["lon"].to_numpy(), hist["lat"].to_numpy()))
    w_hex = _gi.star_weights(grid.adjacency())  # shared by every test on this grid
    codes = np.asarray(grid.codes())
    def short_cat(c) -> str:
        return cat_name.get(c, c).split(" (")[0]

    # -- headline ---------------------------------------------------------------------
    ann = annotate(cur, categories, as_of=min(q.end, pd.Timestamp.now(tz=q.start.tz)))
    resp = ann["min_respons"].dropna()
    wt = ann["within_target"].dropna().astype(bool)
    n_prev = len(old)
    change = (len(cur) - n_prev) / n_prev if n_prev else np.nan
    top_cat = cur["category"].value_counts()
    pack.headline = [
        ("Kejadian", num(len(cur)),
         f"{signed_pct(change)} dari {prev.label.split(' (')[0]}" if n_prev else ""),
        ("Waktu respons biasa", f"{minutes(resp.median())} menit",
         f"9 dari 10 dalam {minutes(resp.quantile(0.9))} menit" if len(resp) else ""),
        ("Tiba tepat waktu", pct(wt.mean() if len(wt) else np.nan), "sebelum batas waktu"),
        ("Terlambat", num(int(ann["overdue"].sum())), "laporan"),
        ("Kategori terbanyak", short_cat(top_cat.index[0]),
         f"{num(int(top_cat.iloc[0]))} kejadian"),
    ]
    step("Angka utama")

    # -- heat map -----------------------------------------------------------------------
    kb = tuple(kel.total_bounds)
    heat = kde_grid(cur["lon"], cur["lat"], bounds=kb)
    pack.figures["heat"] = F.heat_map(heat, kel, f"Kepadatan kejadian, {q.label}", base=base)
    step("Peta kepadatan")

    # -- Gi* hotspots on the hex grid, named by RW -------------------------------------
    def quarter_gi(quarter: Quarter, frame: pd.DataFrame):
        """The shared per-quarter test (the live map's), or the same computation here."""
        if hotspots is not None:
            res = hotspots(quarter)
            if (res is not None and res.permutations == permutations and res.seed == seed
                    and np.array_equal(res.codes, codes)):
                return res
        return _H.hex_gi(grid, w_hex, frame["lon"].to_numpy(), frame["lat"].to_numpy(),
                         permutations=permutations, seed=seed)

    gi_cur = quarter_gi(q, cur)
    gi_old = quarter_gi(prev, old)
    g = gi_cur.gi
    cells["count"] = gi_cur.counts.astype(int)
    cells["prev_count"] = gi_old.counts.astype(int)
    cells["gi_z"] = g.z
    cells["gi_class"] = gi_cur.classes
    n_hot = {lvl: int((cells["gi_class"] >= lvl).sum()) for lvl in (1, 2, 3)}
    pack.figures["hot"] = F.class_map(
        cells, kel, "gi_class", F.GI_COLOURS, GI_WORDS,
        f"Titik panas kejadian (heksagon {num(hex_m)} m), {q.label}", "Keyakinan", base=base,
        callouts=hot_callouts(cells, "gi_class", (3, 2, 1)), marked=(3, 2, 1))
    hot_cells = cells.loc[cells["gi_class"] > 0]
    hot_rw, edge_only = hot_places(hot_cells)
    total_cur = max(len(cur), 1)
    hot_table = pd.DataFrame({
        "Lokasi": hot_rw["place"], "Kejadian": hot_rw["kejadian"].astype(int),
        "Bagian dari semua kejadian": [pct(v / total_cur) for v in hot_rw["kejadian"]],
        "Sel heksagon": hot_rw["sel"].astype(int),
        "Keyakinan": hot_rw["kelas"].map(GI_WORDS)}).head(15)
    pack.add_table("hot", "Titik panas triwulan ini, per RW", hot_table,
                   "Sel heksagon yang jumlah kejadiannya (bersama tetangganya) jauh di atas "
                   "rata-rata wilayah, dikelompokkan per RW."
                   + (f" {num(edge_only)} lokasi di tepi titik panas tanpa kejadian sendiri "
                      "tidak dicantumkan (tampak di peta)." if edge_only else ""),
                   geometry=[hot_cells.loc[hot_cells["place"] == p].geometry.union_all()
                             for p in hot_table["Lokasi"]])
    step("Titik panas")

    # -- emerging hot spots (all categories, and per SK4 category) --------------------
    # every category's patterns and all together, each slice's tests in one pass
    cat_n = hist["category"].value_counts()
    tested_cats = [c for c in SK4_CATEGORIES if cat_n.get(c, 0) >= MIN_PATTERN]
    em_in = pd.DataFrame({"hex_code": hex_cell, "reported_at": hist["reported_at"],
                          "category": hist["category"]}, index=hist.index)
    em = _em.emerging_hotspots_by(em_in, {**{c: c for c in tested_cats}, None: None},
                                  np.arange(len(codes)), w_hex, "hex", freq="quarter",
                                  slices=slices,
                                  permutations=em_permutations, seed=seed)
    em_all = em[None]
    cells["ehsa"] = em_all.table["classification"].to_numpy()
    pack.figures["emerging"] = F.class_map(
        cells, kel, "ehsa", F.EHSA_COLOURS, _em.LABELS_ID,
        f"Pola titik panas {len(slices)} triwulan ({_q_short(slices[0])} – "
        f"{_q_short(slices[-1])}), semua kategori", "Pola", base=base,
        callouts=hot_callouts(cells, "ehsa", [k for k in _em.LABELS_ID
                                              if k.endswith(" hotspot") and k != "historical hotspot"]),
        marked=tuple(k for k in _em.LABELS_ID if k.endswith("hotspot")))
    chronic_rows, pattern_rows, too_few = [], [], []
    for cat in [*SK4_CATEGORIES, None]:
        sub = hist if cat is None else hist.loc[hist["category"] == cat]
        if cat is not None and len(sub) < MIN_PATTERN:
            too_few.append((short_cat(cat), len(sub)))
            continue
        res = em[cat]
        t = res.table
        vc = t["classification"].value_counts()
        row = {"Kategori": "Semua kategori" if cat is None else short_cat(cat)}
        for key in PATTERNS_SHOWN:
            row[_em.LABELS_ID[key]] = int(vc.get(key, 0))
        pattern_rows.append(row)
        for i in np.nonzero(t["classification"].isin(CHRONIC).to_numpy())[0]:
            chronic_rows.append({
                "Kategori": "Semua kategori" if cat is None else short_cat(cat),
                "Lokasi": cells["place"].iat[i], "rw_code": cells["rw_code"].iat[i],
                "cat": cat, "Pola": _em.LABELS_ID[t["classification"].iat[i]],
                "Kejadian triwulan ini": int(t["count_last"].iat[i]),
                f"Kejadian {len(slices)} triwulan": int(t["count_total"].iat[i]),
            })
    chronic_all = pd.DataFrame(chronic_rows)
    tot_col = f"Kejadian {len(slices)} triwulan"
    if len(chronic_all):
        chronic_all = (chronic_all.groupby(["Kategori", "Lokasi", "Pola"], sort=False)
                       .agg({"rw_code": "first", "cat": "first",
                             "Kejadian triwulan ini": "sum", tot_col: "sum"})
                       .reset_index().sort_values(tot_col, ascending=False))
        chronic = chronic_all.drop(columns=["rw_code", "cat"]).head(20)
    else:
        chronic = chronic_all
    pack.add_table("chronic", "Lokasi yang terus menjadi titik panas", chronic,
                   f"Titik panas yang menetap, menguat atau beruntun selama {len(slices)} "
                   "triwulan terakhir, per kategori dan RW.",
                   geometry=[cells.loc[cells["place"] == p].geometry.union_all()
                             for p in chronic["Lokasi"]] if len(chronic) else None)
    pack.add_table("patterns", "Jumlah sel heksagon per pola, per kategori",
                   pd.DataFrame(pattern_rows),
                   "Kategori dengan kurang dari "
                   f"{MIN_PATTERN} kejadian dalam {len(slices)} triwulan tidak diuji: "
                   + (", ".join(f"{c} ({num(n)})" for c, n in too_few) if too_few
                      else "tidak ada") + ".")
    step("Pola titik panas")

    # -- last quarter's hotspots scored on this quarter ---------------------------------
    hot_prev = gi_old.classes >= 2
    fc = score_forecast(hot_prev, cells["prev_count"], cells["count"]) if hot_prev.any() \
        else None
    if fc is not None:
        fc_tbl = pd.DataFrame([
            ("Sel titik panas triwulan lalu", num(fc.n_cells),
             f"{pct(fc.area_share, 1)} dari luas wilayah"),
            ("Kejadian triwulan ini di sel itu", f"{num(fc.n_hot)} dari {num(fc.n_total)}",
             f"{pct(fc.hit_rate)} kejadian tertangkap"),
            ("PAI", num(fc.pai, 1), "berapa kali lebih padat dari rata-rata wilayah"),
            ("PEI*", num(fc.pei_star, 2), "1 = pilihan sel terbaik yang mungkin"),
            ("RRI", num(fc.rri, 2), "di atas 1: titik panas mempertahankan kejadiannya "
             "lebih dari wilayah lain"),
        ], columns=["Ukuran", "Nilai", "Artinya"])
    else:
        fc_tbl = pd.DataFrame(columns=["Ukuran", "Nilai", "Artinya"])
    pack.add_table("forecast", f"Apakah titik panas {prev.label.split(' (')[0]} tepat sasaran?",
                   fc_tbl, "Titik panas (keyakinan ≥ 95%) dipilih dari triwulan lalu, lalu "
                   "dinilai dengan kejadian triwulan ini." if fc is not None else
                   "Triwulan lalu tidak punya titik panas: tidak ada yang dinilai.")
    step("Penilaian titik panas triwulan lalu")

    # -- near repeat (Knox) per category ---------------------------------------------------
    nr_rows, nr_detail = [], {}
    x_c, y_c = grid.to_metric(cur["lon"].to_numpy(), cur["lat"].to_numpy())
    t_c = ((cur["reported_at"] - q.start).dt.total_seconds() / 86400.0).to_numpy()
    cats_c = cur["category"].to_numpy()
    for cat in cur["category"].value_counts().index:
        m = cats_c == cat
        if m.sum() < MIN_NEAR_REPEAT:
            continue
        r = knox_test(x_c[m], y_c[m], t_c[m], distance_m=100, n_distance=4, time_days=7,
                      n_time=4, permutations=knox_permutations, seed=seed)
        ext = r.extent()
        nr_detail[cat] = r
        nr_rows.append({
            "Kategori": short_cat(cat), "Kejadian": int(m.sum()),
            "Rasio 0–100 m, 0–7 hari": num(r.ratio[0, 0], 2),
            "Risiko naik sampai": f"{num(ext[0])} m" if ext else (
                "belum terbukti (bisa kebetulan)" if r.ratio[0, 0] > 1 else "tidak ada"),
            "Selama": f"{num(ext[1])} hari" if ext else "–", "cat": cat, "ext": ext})
    nr_tbl = pd.DataFrame(nr_rows)
    pack.add_table("near_repeat", "Kejadian susulan di dekatnya (near-repeat)",
                   nr_tbl.drop(columns=["cat", "ext"]) if len(nr_tbl) else nr_tbl,
                   "Apakah setelah satu kejadian, kejadian sejenis lebih sering terjadi di "
                   "dekatnya dalam hari-hari berikutnya? Rasio 1,5 = 50% lebih sering dari "
                   f"kebetulan. Kategori dengan kurang dari {MIN_NEAR_REPEAT} kejadian "
                   "triwulan ini tidak diuji.")
    detail_cat = next((r["cat"] for r in nr_rows if r["ext"]), None)
    if detail_cat is not None:
        r = nr_detail[detail_cat]
        ratio, pv = r.ratio, r.p_value
        d = pd.DataFrame({"Jarak": r.distance_labels()})
        for j, lab in enumerate(r.time_labels()):
            d[lab] = [num(ratio[i, j], 2) + (" *" if pv[i, j] < 0.05 and ratio[i, j] > 1
                                              else "") for i in range(len(d))]
        pack.add_table("near_repeat_detail",
                       f"Rasio kejadian susulan {short_cat(detail_cat)}, jarak × waktu", d,
                       "Pasangan kejadian teramati dibagi yang diharapkan bila waktu acak; "
                       "* = lebih sering dari kebetulan (p < 0,05).")
    step("Kejadian susulan")

    # -- categories by kelurahan --------------------------------------------------------
    ct = pd.crosstab(cur["kelurahan_code"].map(kel_label), cur["category"])
    order = [c for c in SK4_CATEGORIES if c in ct.columns] + sorted(
        c for c in ct.columns if c not in SK4_CATEGORIES)
    ct = ct.reindex(columns=order, fill_value=0)
    ct.columns = [short_cat(c) for c in ct.columns]
    ct["Jumlah"] = ct.sum(axis=1)
    ct = ct.sort_values("Jumlah", ascending=False)
    ct.loc["Jumlah"] = ct.sum()
    ct = ct.reset_index().rename(columns={"kelurahan_code": "Kelurahan"})
    kel_shape = dict(zip(kel["code"].map(kel_label), kel.geometry))
    pack.add_table("kelurahan", "Kejadian per kelurahan dan kategori",
                   _kecamatan_column(ct) if multi_kec else ct,
                   geometry=[kel_shape.get(k) for k in ct["Kelurahan"]])
    step("Kategori per kelurahan")

    # -- comparison with the previous quarter ---------------------------------------------
    comp = quarter_comparison(allinc, q, by="category")
    meaning = []
    for c, p_, a, b in zip(comp["change"], comp["p_value"], comp["prev"], comp["curr"]):
        if a + b < MIN_COMPARE:
            meaning.append("terlalu sedikit untuk diuji")
        elif p_ < 0.05:
            meaning.append("naik nyata" if c > 0 else "turun nyata")
        else:
            meaning.append("tidak berbeda nyata")
    comp_tbl = pd.DataFrame({
        "Kategori": [short_cat(c) for c in comp.index],
        prev.label.split(" (")[0]: comp["prev"].astype(int).to_numpy(),
        q.label.split(" (")[0]: comp["curr"].astype(int).to_numpy(),
        "Perubahan": [f"{c:+d}".replace("-", "−") + ("" if not np.isfinite(p) else
                                                    f" ({signed_pct(p / 100)})")
                      for c, p in zip(comp["change"].astype(int), comp["change_pct"])],
        "Artinya": meaning})
    pack.add_table("comp", "Dibandingkan dengan triwulan lalu", comp_tbl,
                   "\"Nyata\": perubahan sebesar ini jarang terjadi karena kebetulan "
                   "(uji binomial, p < 0,05).")
    monthly = monthly_by_category(hist, Quarter.parse(slices[0]).start, q.end)
    monthly.columns = [short_cat(c) for c in monthly.columns]
    pack.figures["monthly"] = F.monthly_lines(monthly, "Kejadian per bulan per kategori",
                                              highlight=[short_cat(c) for c in SK4_CATEGORIES])
    pack.figures["dayhour"] = F.day_hour(day_hour_matrix(cur), f"Hari × jam kejadian, "
                                         f"{q.label}")
    step("Perbandingan triwulan")

    # -- rhythm: when are reports late? ----------------------------------------------------
    rep = ann["reported_at"]
    ann["hari"] = rep.dt.dayofweek.map(dict(enumerate(HARI_PANJANG)))
    ann["blok"] = (rep.dt.hour // 4 * 4).map(hours_block)
    late_by = (ann.groupby(["hari", "blok"]).agg(laporan=("ticket", "size"),
                                                 terlambat=("overdue", "sum"))
               .reset_index().sort_values(["terlambat", "laporan"], ascending=False))
    late_by = late_by.loc[late_by["terlambat"] > 0].head(8)
    late_rhythm = pd.DataFrame({
        "Hari": late_by["hari"], "Jam": late_by["blok"],
        "Laporan": late_by["laporan"].astype(int),
        "Terlambat": late_by["terlambat"].astype(int),
        "Bagian terlambat": [pct(a / b) for a, b in zip(late_by["terlambat"],
                                                        late_by["laporan"])]})
    pack.add_table("late_rhythm", "Hari dan jam dengan laporan terlambat terbanyak",
                   late_rhythm, "Laporan yang timnya tiba melewati batas waktu kategori, "
                   "per hari dan blok empat jam.")

    # -- response performance -----------------------------------------------------------
    from geo_sigap.domain.teams import Role

    def role_name(r):
        try:
            return Role.parse(r).label
        except Exception:  # noqa: BLE001
            return str(r)

    def per_value(col, fn):  # one call per distinct value (50,000 rows at city scale)
        values = ann[col]
        return values.map({v: fn(v) for v in values.dropna().unique()}).fillna("–") \
            .astype(object)

    ann["peran"] = per_value("lead_role", lambda r: role_name(r) if isinstance(r, str)
                             else "–")
    ann["kategori"] = ann["category"].map(short_cat)
    ann["kelurahan"] = ann["kelurahan_code"].map(kel_label)
    team_name = dict(zip(teams["code"].astype(str), teams["name"].astype(str))) if len(teams) \
        else {}
    ann["tim"] = per_value("lead_team", lambda t: team_name.get(t, t) if isinstance(t, str)
                           else "–")

    def perf_table(by, label):
        s = summarise(ann, by)
        return pd.DataFrame({
            label: s.index.astype(str), "Laporan": s["n"].astype(int).to_numpy(),
            "Respons biasa (menit)": [minutes(v) for v in s["respons_median"]],
            "9 dari 10 dalam (menit)": [minutes(v) for v in s["respons_p90"]],
            "Tepat waktu": [pct(v) for v in s["share_within_target"]],
            "Terlambat": s["overdue"].astype(int).to_numpy()})

    perf_role = perf_table("peran", "Peran")
    perf_cat = perf_table("kategori", "Kategori")
    perf_kel = perf_table("kelurahan", "Kelurahan")
    perf_team = perf_table("tim", "Tim").sort_values("Terlambat", ascending=False).head(12)
    all_steps = summarise(ann.assign(_all="semua"), "_all")
    steps_tbl = pd.DataFrame({
        "Langkah SOP": [STEP_LABELS[k] for k in MAIN_STEPS],
        "Biasanya (menit)": [minutes(all_steps[f"{k}_median"].iat[0]) for k in MAIN_STEPS],
        "9 dari 10 dalam (menit)": [minutes(all_steps[f"{k}_p90"].iat[0])
                                    for k in MAIN_STEPS]})
    late = overdue_cases(ann).head(15)
    late_tbl = pd.DataFrame({
        "Tiket": late["ticket"], "Kategori": late["category"].map(short_cat),
        "Kelurahan": late["kelurahan_code"].map(kel_label),
        "Dilaporkan": late["reported_at"].dt.strftime("%d-%m %H.%M"),
        "Respons (menit)": [minutes(v) for v in late["min_respons"]],
        "Batas (menit)": [minutes(v) for v in late["target_min"]]})
    pack.add_table("steps", "Berapa lama setiap langkah SOP", steps_tbl,
                   "\"Biasanya\" = median (separuh laporan lebih cepat); \"9 dari 10 dalam\" "
                   "= persentil ke-90.")
    pack.add_table("perf_role", "Waktu respons per peran tim utama", perf_role)
    pack.add_table("perf_cat", "Waktu respons per kategori", perf_cat)
    pack.add_table("perf_kel", "Waktu respons per kelurahan",
                   _kecamatan_column(perf_kel) if multi_kec else perf_kel,
                   geometry=[kel_shape.get(k) for k in perf_kel["Kelurahan"]])
    pack.add_table("perf_team", "Tim dengan laporan terlambat terbanyak", perf_team)
    pack.add_table("late", "Laporan paling terlambat", late_tbl,
                   "Tanpa data pribadi pelapor.",
                   geometry=_points(cur, late["ticket"]))
    step("Kinerja respons")

    # -- where to put posts (road travel times, maximal coverage) -------------------------
    if placement is not None and len(placement):
        best_now = [role_name(getattr(r, "value", r))
                    for r in placement.loc[placement["gain"] <= 0, "role"]]
        pl = placement.loc[placement["gain"] > 0]
        pl_tbl = pd.DataFrame({
            "Peran": [role_name(getattr(r, "value", r)) for r in pl["role"]],
            "Usulan": [f"Pindahkan {a} ke {b}" if isinstance(b, str) else
                       "pos sekarang sudah terbaik (tidak ada pindahan yang menambah)"
                       for a, b in zip(pl["post_name"], pl["to_name"])],
            f"RT ≤ {num(target_min)} menit sekarang": [
                f"{num(b)} dari {num(n)}" for b, n in zip(pl["before"], pl["n_rt"])],
            "Sesudah": [f"{num(a)} dari {num(n)}" for a, n in zip(pl["after"], pl["n_rt"])],
            "Tambahan RT": [f"+{num(g)}" for g in pl["gain"]]})
        pack.add_table("placement", f"Usulan pemindahan pos (target {num(target_min)} menit "
                       "lewat jalan)", pl_tbl,
                       "Waktu tempuh lewat jaringan jalan dari setiap pos ke titik tengah "
                       "setiap RT; usulan = memindahkan satu pos ke RW yang paling menambah "
                       "jumlah RT yang terjangkau dalam target."
                       + (" Pos " + ", ".join(best_now) + " sudah di tempat terbaik: tidak ada "
                          "satu pindahan yang menambah RT terjangkau." if best_now else ""),
                       geometry=_moves(pl, units, base))
        lines = pack.tables["placement"].geometry or []
        shown = [(f"{post} (+{num(g)} RT)", to, ln) for post, to, g, ln in
                 zip(pl["post_name"], pl["to_name"], pl["gain"], lines) if ln is not None]
        if shown:
            pack.figures["posts"] = F.moves_map(
                kel, base, shown, f"Usulan pemindahan pos (target {num(target_min)} menit "
                "lewat jalan)")
    step("Penempatan pos")

    # -- plain findings and recommendations ------------------------------------------------
    from geo_sigap.analytics.report.findings import write_findings

    pack.meta = {
        "quarter": str(q), "quarter_label": q.label, "quarter_short": q.label.split(" (")[0],
        "prev": str(prev), "prev_label": prev.label.split(" (")[0], "area": area,
        "kecamatan": kecamatan or "semua",
        "generated": pd.Timestamp.now(tz="Asia/Jakarta").strftime("%d-%m-%Y %H.%M WIB"),
        "n_hot": n_hot, "hex_m": num(hex_m), "projection": describe_crs(grid.crs),
        "permutations": num(permutations), "em_permutations": num(em_permutations),
        "knox_permutations": num(knox_permutations), "seed": seed,
        "heat_bw": num(heat.bandwidth_m), "emerging_note": em_all.note,
        "slices": ", ".join(_q_short(x) for x in slices), "islands": int(g.island.sum()),
        "n_slices": len(slices),
    }
    write_findings(pack, cur=cur, old=old, ann=ann, comp=comp, hot_rw=hot_rw,
                   chronic=chronic_all, forecast=fc, near_repeat=nr_rows,
                   late_by=late_by, short_cat=short_cat, rw_place=rw_place,
                   too_few=too_few, placement=placement, target_min=target_min,
                   role_name=role_name)
    step("Temuan dan rekomendasi")

    pack.layers["sel_heksagon"] = gpd.GeoDataFrame({
        "kode": cells["code"], "lokasi": cells["place"],
        "kejadian": cells["count"].astype(int), "kejadian_triwulan_lalu":
        cells["prev_count"].astype(int), "titik_panas": cells["gi_class"].map(GI_WORDS),
        "z_gi": cells["gi_z"].astype(float),
        "pola": cells["ehsa"].map(lambda v: _em.LABELS_ID.get(v, v))},
        geometry=cells.geometry, crs=cells.crs)
    stem = f"rakor_{q}" + (f"_{kecamatan}" if kecamatan else "")
    html_path = out_dir / f"{stem}.html"
    pdf_path = out_dir / f"{stem}.pdf"
    write_pack(pack, html_path, pdf_path if pdf else None, printer=printer)
    step("HTML dan PDF ditulis" if pdf else "HTML ditulis")
    import matplotlib.pyplot as plt

    for f in pack.figures.values():
        plt.close(f)
    return ReportPaths(html=html_path, pdf=pdf_path if pdf else None, tables=pack.tables,
                       gpkg=html_path.with_suffix(".gpkg"), hotspots=gi_cur)


def _within(df: pd.DataFrame, start, end) -> pd.DataFrame:
    """The rows reported in ``[start, end)`` (as :func:`filter_incidents` with those
    bounds on rows already filtered); ``df`` itself when every row is (the pack's read
    holds these quarters only: no copy of the whole history)."""
    t = df["reported_at"]
    m = ((t >= start) & (t < end)).to_numpy()
    return df if m.all() else df.loc[m]


def _kecamatan_column(df: pd.DataFrame) -> pd.DataFrame:
    """"Rawa Sari, Kec. Alam Barajo" → Kelurahan "Rawa Sari", Kecamatan "Alam Barajo" (a
    city-wide table: two short columns instead of a name wrapped over three lines)."""
    parts = [str(v).split(", Kec. ", 1) for v in df["Kelurahan"]]
    out = df.copy()
    out["Kelurahan"] = [p[0] for p in parts]
    out.insert(1, "Kecamatan", [p[1] if len(p) > 1 else "" for p in parts])
    return out


def _points(frame: pd.DataFrame, tickets) -> list:
    """The reported spot (EPSG:4326) of each ticket."""
    from shapely.geometry import Point

    where = {t: (x, y) for t, x, y in zip(frame["ticket"], frame["lon"], frame["lat"])}
    return [Point(where[t]) if t in where else None for t in tickets]


def _moves(pl: pd.DataFrame, units, base) -> list | None:
    """A post move as a line from the post to the RW it moves to (EPSG:4326); None when
    the posts' places are not known."""
    from shapely.geometry import LineString

    posts = getattr(base, "posts", None)
    if posts is None or not len(posts) or not len(pl):
        return None
    where = {n: (x, y) for n, x, y in zip(posts["name"], posts["lon"], posts["lat"])}
    rp = units.set_index("code").geometry
    out = []
    for a, b in zip(pl["post_name"], pl["to_code"]):
        if a in where and isinstance(b, str) and b in rp.index:
            p = rp.loc[b].representative_point()
            out.append(LineString([where[a], (p.x, p.y)]))
        else:
            out.append(None)
    return out


def _q_short(code: str) -> str:
    return Quarter.parse(code).label.split(" (")[0].replace("Triwulan ", "Tw ")
