"""Render the rakor pack: HTML from a Jinja2 template (inline CSS, base64 images, no CDN)
and a PDF with matplotlib's ``PdfPages`` (no system libraries needed)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2
import pandas as pd

SECTION_TITLES = {
    "hot": "Titik panas triwulan ini (Gi*, heksagon)",
    "chronic": "Lokasi kronis (menetap, menguat atau beruntun)",
    "kelurahan": "Lima kategori SOP SK4 dan lainnya per kelurahan",
    "perf_role": "Waktu per langkah SOP per peran (median / p90, menit)",
    "perf_cat": "Waktu per langkah SOP per kategori (median / p90, menit)",
    "perf_kel": "Waktu per langkah SOP per kelurahan (median / p90, menit)",
    "perf_team": "Tim dengan kasus terlambat terbanyak",
    "late": "Kasus terlambat (paling lama dahulu)",
    "comp": "Perbandingan dengan triwulan sebelumnya",
}


def _env() -> jinja2.Environment:
    text = resources.files("geo_sigap.analytics.report").joinpath(
        "rakor.html").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def _html_table(df: pd.DataFrame) -> str:
    if df is None or len(df) == 0:
        return '<p class="muted">(tidak ada)</p>'
    return df.to_html(index=False, border=0, classes="tbl", na_rep="–", escape=True)


def render_html(meta: dict, headline, tables: dict, figs: dict) -> str:
    from geo_sigap.analytics.report.figures import png_data_url

    return _env().render(
        meta=meta, headline=headline, titles=SECTION_TITLES,
        tables={k: _html_table(v) for k, v in tables.items()},
        images={k: png_data_url(f) for k, f in figs.items()},
    )


def render_pdf(path: Path, meta: dict, headline, tables: dict, figs: dict) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    from geo_sigap.analytics.report import figures as F

    lines = [f"{meta['quarter_label']} — {meta['kecamatan_name']}",
             f"Dibuat {meta['generated']}", ""]
    lines += [f"{k}: {v}  {note}" for k, v, note in headline]
    lines += ["", f"Titik panas (heksagon {meta['hex_m']:.0f} m, FDR): "
              f"{meta['n_hot'][3]} sel 99 %, {meta['n_hot'][2]} sel ≥ 95 %, "
              f"{meta['n_hot'][1]} sel ≥ 90 %."]
    if meta["score"] is not None:
        s = meta["score"]
        lines.append(f"Titik panas {meta['prev']} menangkap {100 * s.hit_rate:.0f}% kejadian "
                     f"{meta['quarter']} pada {100 * s.area_share:.1f}% wilayah "
                     f"(PAI {s.pai:.1f}, PEI {s.pei:.2f}).")
    if meta["emerging_note"]:
        lines.append(meta["emerging_note"])
    lines += ["", "DATA: angka dihitung dari riwayat kejadian; uji statistik memakai",
              f"{meta['permutations']} permutasi bersyarat (seed {meta['seed']}) dan koreksi FDR."]
    pages = [F.text_figure("Laporan Rakor Trantibum", lines)]
    order = ["heat", "hot", "emerging", "dayhour", "monthly"]
    pages += [figs[k] for k in order if k in figs]
    for key in ("hot", "chronic", "kelurahan", "comp", "perf_role", "perf_cat", "perf_kel",
                "perf_team", "late"):
        pages.append(F.table_figure(tables[key], SECTION_TITLES[key]))
    with PdfPages(path) as pdf:
        for fig in pages:
            pdf.savefig(fig)
    import matplotlib.pyplot as plt

    for fig in pages[:1] + pages[1 + len([k for k in order if k in figs]):]:
        plt.close(fig)
