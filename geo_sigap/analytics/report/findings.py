"""Temuan utama and Rekomendasi: plain Bahasa Indonesia sentences written from the
figures of the pack, each pointing at the table it comes from (``table`` key, numbered
when the page order is known) and carrying the figures it quotes (``values``), so tests
can hold every sentence against its table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo_sigap.analytics.report.fmt import HARI_PANJANG, hours_block, num, pct


def lc(name: str) -> str:
    """Lower-case a category name inside a sentence, keeping acronyms (PKL, ODGJ)."""
    first = name.split(" ")[0]
    return name if first.isupper() else name[:1].lower() + name[1:]


@dataclass
class Finding:
    text: str
    table: str | None = None
    values: dict = field(default_factory=dict)


def _peak_block(frame: pd.DataFrame):
    """(day name, "20.00–24.00", n in the block, n) of the busiest day × 4-hour block."""
    t = frame["reported_at"]
    key = pd.DataFrame({"d": t.dt.dayofweek, "b": t.dt.hour // 4 * 4})
    vc = key.value_counts()
    (d, b), k = vc.index[0], int(vc.iloc[0])
    return HARI_PANJANG[int(d)], hours_block(int(b)), k, len(frame)


def write_findings(pack, *, cur, old, ann, comp, hot_rw, chronic, forecast, near_repeat,
                   late_by, short_cat, rw_place, too_few, placement=None, target_min=15.0,
                   role_name=str) -> None:
    F, R = pack.findings, pack.recommendations
    qs, ps = pack.meta["quarter_short"], pack.meta["prev_label"]

    # 1. how many, against last quarter
    n, n0 = len(cur), len(old)
    if n0:
        ch = (n - n0) / n0
        word = "naik" if n > n0 else ("turun" if n < n0 else "sama dengan")
        F.append(Finding(
            f"Ada {num(n)} kejadian pada {qs}, {word} "
            + (f"{pct(abs(ch))} " if n != n0 else "")
            + f"dari {ps} ({num(n0)} kejadian).", "comp", {"n": n, "n_prev": n0}))
    else:
        F.append(Finding(f"Ada {num(n)} kejadian pada {qs}; {ps} tidak punya data "
                         "untuk dibandingkan.", "comp", {"n": n, "n_prev": 0}))

    # 2. categories that changed for real
    comp = comp.copy()
    comp["cat"] = comp.index
    tested = comp.loc[(comp["prev"] + comp["curr"]) >= 10]
    sig = tested.loc[tested["p_value"] < 0.05].sort_values("change", key=np.abs,
                                                          ascending=False)
    for _, r in sig.head(3).iterrows():
        up = r["change"] > 0
        share = abs(r["change"]) / r["prev"] if r["prev"] else np.nan
        F.append(Finding(
            f"{short_cat(r['cat'])} {'naik' if up else 'turun'} "
            + (f"{pct(share)} " if np.isfinite(share) else "")
            + f"({num(r['prev'])} → {num(r['curr'])} kejadian); perubahan ini nyata, "
            "bukan kebetulan.", "comp",
            {"category": r["cat"], "prev": int(r["prev"]), "curr": int(r["curr"])}))
    if sig.empty:
        F.append(Finding("Tidak ada kategori yang naik atau turun secara nyata dibanding "
                         f"{ps}; perbedaan yang terlihat masih bisa karena kebetulan.", "comp"))
    small = comp.loc[(comp["prev"] + comp["curr"]) < 10]
    if len(small):
        F.append(Finding(
            "Data " + ", ".join(short_cat(c) for c in small.index)
            + " terlalu sedikit (kurang dari 10 kejadian dalam dua triwulan) untuk "
            "menilai naik-turunnya.", "comp"))

    # 3. where: the strongest hotspot, and whether it keeps coming back
    chronic_places = set(chronic["Lokasi"]) if len(chronic) else set()
    if len(hot_rw):
        top = hot_rw.iloc[0]
        lasting = top["place"] in chronic_places
        F.append(Finding(
            f"Titik panas terkuat: {top['place']}, {num(top['kejadian'])} kejadian "
            f"({pct(top['kejadian'] / max(n, 1))} dari semua kejadian)"
            + (", dan sudah menjadi titik panas yang menetap." if lasting else "."),
            "hot", {"place": top["place"], "kejadian": int(top["kejadian"])}))
        sub = cur.loc[cur["rw_code"] == top["rw_code"]] if isinstance(top["rw_code"], str) \
            else cur.iloc[0:0]
        if len(sub) >= 3:
            main_cat = sub["category"].value_counts().index[0]
            sc = sub.loc[sub["category"] == main_cat]
            day, block, k, m = _peak_block(sc)
            R.append(Finding(
                f"Patroli gabungan di {top['place']} pada {day} {block}: jam tersering "
                f"{lc(short_cat(main_cat))} di sana ({num(k)} dari {num(m)} kejadian).",
                "hot", {"place": top["place"], "k": k, "m": m}))
    else:
        F.append(Finding(f"Tidak ada titik panas yang nyata pada {qs}: kejadian tersebar.",
                         "hot"))
    if len(chronic):
        c0 = chronic.iloc[0]
        tot = [c for c in chronic.columns if c.startswith("Kejadian ") and "triwulan" in c
               and c != "Kejadian triwulan ini"][0]
        F.append(Finding(
            f"{num(chronic['Lokasi'].nunique())} lokasi terus menjadi titik panas; yang "
            f"terbesar {lc(c0['Kategori'])} di {c0['Lokasi']} ({num(c0[tot])} kejadian "
            f"dalam {pack.meta['n_slices']} triwulan, {lc(c0['Pola'])}).", "chronic",
            {"place": c0["Lokasi"], "total": int(c0[tot])}))
    if too_few:
        F.append(Finding(
            "Data " + ", ".join(f"{c} ({num(k)} kejadian)" for c, k in too_few)
            + " terlalu sedikit untuk menguji pola titik panasnya.", "patterns"))

    # 4. late responses and when
    n_late = int(ann["overdue"].sum())
    if n_late and len(late_by):
        lb = late_by.iloc[0]
        F.append(Finding(
            f"{num(n_late)} dari {num(n)} laporan terlambat ditangani ({pct(n_late / n)}); "
            f"paling banyak pada {lb['hari']} {lb['blok']} ({num(lb['terlambat'])} dari "
            f"{num(lb['laporan'])} laporan).", "late_rhythm",
            {"late": n_late, "n": n, "hari": lb["hari"], "blok": lb["blok"],
             "terlambat": int(lb["terlambat"]), "laporan": int(lb["laporan"])}))
        R.append(Finding(
            f"Siagakan tim piket cadangan pada {lb['hari']} {lb['blok']}: "
            f"{num(lb['terlambat'])} dari {num(lb['laporan'])} laporan pada jam itu "
            "terlambat.", "late_rhythm"))
    else:
        F.append(Finding("Tidak ada laporan yang terlambat ditangani.", "late_rhythm",
                         {"late": 0, "n": n}))

    # 5. did last quarter's targeting work?
    if forecast is not None:
        f = forecast
        good = np.isfinite(f.pai) and f.pai >= 2
        F.append(Finding(
            f"Titik panas {ps} ({pct(f.area_share, 1)} dari luas wilayah) menangkap "
            f"{num(f.n_hot)} dari {num(f.n_total)} kejadian {qs} ({pct(f.hit_rate)}), "
            f"{num(f.pai, 1)} kali lebih padat dari rata-rata wilayah.", "forecast",
            {"n_hot": f.n_hot, "n_total": f.n_total, "pai": f.pai}))
        R.append(Finding(
            ("Sasaran patroli triwulan lalu tepat: pertahankan patroli di titik panas "
             "dan perbarui daftarnya dengan Tabel titik panas triwulan ini." if good else
             "Sasaran patroli triwulan lalu kurang tepat: arahkan patroli ke titik panas "
             "triwulan ini."), "forecast"))
    else:
        F.append(Finding(f"{ps} tidak punya titik panas yang nyata, jadi belum ada sasaran "
                         "patroli yang bisa dinilai.", "forecast"))

    # 6. near repeat
    raised = [r for r in near_repeat if r["ext"]]
    for r in raised[:2]:
        d, t = r["ext"]
        F.append(Finding(
            f"Setelah satu {lc(r['Kategori'])}, kejadian serupa dalam {num(d)} m lebih "
            f"sering terjadi selama {num(t)} hari berikutnya (rasio "
            f"{r['Rasio 0–100 m, 0–7 hari']} pada 100 m dan 7 hari pertama).", "near_repeat",
            {"category": r["cat"], "metres": d, "days": t}))
        R.append(Finding(
            f"Setelah laporan {lc(r['Kategori'])}, sambangi warga dalam radius "
            f"{num(d)} m selama {num(t)} hari (peringatan tetangga, patroli singgah).",
            "near_repeat"))
    if near_repeat and not raised:
        F.append(Finding("Tidak ada pola kejadian susulan yang nyata: kejadian tidak "
                         "cenderung diikuti kejadian serupa di dekatnya.", "near_repeat"))
    if not near_repeat:
        F.append(Finding("Data terlalu sedikit untuk menguji kejadian susulan (perlu "
                         "sedikitnya 20 kejadian satu kategori dalam triwulan).",
                         "near_repeat"))

    # 7. the team with most late reports
    lt = ann.groupby("tim")["overdue"].sum().sort_values(ascending=False)
    if len(lt) and lt.iloc[0] >= 3:
        R.append(Finding(f"Bahas bersama {lt.index[0]} penyebab {num(lt.iloc[0])} laporan "
                         "yang terlambat ditangani.", "perf_team",
                         {"team": lt.index[0], "late": int(lt.iloc[0])}))

    # 8. moving posts (road travel times)
    if placement is not None and len(placement):
        moves = placement.loc[placement["gain"] > 0].sort_values("gain", ascending=False)
        for _, m in moves.drop_duplicates("role").head(2).iterrows():
            R.append(Finding(
                f"Memindahkan {m['post_name']} ke {m['to_name']} menambah {num(m['gain'])} RT "
                f"yang terjangkau dalam {num(target_min)} menit ({num(m['before'])} → "
                f"{num(m['after'])} dari {num(m['n_rt'])} RT).", "placement",
                {"post": m["post_code"], "to": m["to_code"], "gain": float(m["gain"])}))
