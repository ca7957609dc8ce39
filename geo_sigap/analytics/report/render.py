"""Render the rakor pack: one HTML file (inline CSS, base64 images, no CDN) and the PDF
printed from that same HTML by headless Chromium, so the two never differ.

The HTML carries its print layout: A4 portrait pages (landscape pages for the maps),
a header with the area and quarter and "Halaman N dari M" in the page margins, table
headers repeated on every page a table spans. The table of contents gets its page
numbers from a first print (the page each section starts on, read back with pypdf); the
HTML is then written again with those numbers and printed a second time.
"""

from __future__ import annotations

import html as _html
import logging
import os
import re
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from geo_sigap.analytics.report.fmt import num
from geo_sigap.errors import InvalidInput

log = logging.getLogger(__name__)

# reading order: (section id, title, [("fig", key) | ("table", key) | ("text", key)])
SECTIONS = [
    ("temuan", "Temuan utama", [("text", "findings")]),
    ("rekomendasi", "Rekomendasi", [("text", "recommendations")]),
    ("angka", "Angka utama", [("text", "headline")]),
    ("dimana", "Di mana kejadian terkumpul", [("fig", "heat"), ("fig", "hot"),
                                             ("table", "hot")]),
    # tables first: they fill the page after the hotspot table, the map follows
    ("pola", "Lokasi yang terus berulang", [("table", "chronic"), ("table", "patterns"),
                                            ("fig", "emerging")]),
    ("sasaran", "Apakah sasaran patroli triwulan lalu tepat?", [("table", "forecast")]),
    ("susulan", "Kejadian susulan di dekatnya",
     [("table", "near_repeat"), ("table", "near_repeat_detail")]),
    ("kelurahan", "Kejadian per kelurahan", [("table", "kelurahan")]),
    ("pos", "Penempatan pos", [("fig", "posts"), ("table", "placement")]),
    ("kapan", "Kapan kejadian terjadi", [("fig", "dayhour"), ("fig", "monthly"),
                                        ("table", "comp"), ("table", "late_rhythm")]),
    ("respons", "Kinerja penanganan", [("table", "steps"), ("table", "perf_role"),
                                       ("table", "perf_cat"), ("table", "perf_kel"),
                                       ("table", "perf_team"), ("table", "late")]),
    ("lampiran", "Lampiran: cara menghitung", [("text", "methods")]),
]
BREAKS = {"respons", "lampiran"}  # sections that start on a new page
KEEP_ROWS = 16  # a table this short moves whole to the next page instead of splitting
MAPS = {"heat", "hot", "emerging", "posts"}  # printed on their own A4 landscape page
FIG_TITLES = {"heat": "Peta kepadatan kejadian", "hot": "Peta titik panas",
              "emerging": "Peta pola titik panas", "posts": "Peta usulan pemindahan pos",
              "dayhour": "Hari × jam kejadian",
              "monthly": "Kejadian per bulan"}


def _env() -> jinja2.Template:
    text = resources.files("geo_sigap.analytics.report").joinpath(
        "rakor.html").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def _cell(v) -> tuple[str, bool]:
    """(text, is_number) of one table cell, numbers in Indonesian format."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–", True  # a missing number: aligned with the numbers of its column
    if isinstance(v, (bool, np.bool_)):
        return ("ya" if v else "tidak"), False
    if isinstance(v, (int, np.integer)):
        return num(int(v)), True
    if isinstance(v, (float, np.floating)):
        return num(v, 0 if float(v).is_integer() else 2), True
    s = str(v)
    return s, s == "–" or bool(re.fullmatch(r"[−+\-]?[\d.,]+( ?%)?( \(.*\))?", s))


def html_table(df: pd.DataFrame) -> str:
    if df is None or len(df) == 0:
        return '<p class="muted">(tidak ada data)</p>'
    head = "".join(f"<th>{_html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        tds = []
        for v in rec:
            text, is_num = _cell(v)
            cls = "n" if is_num else ("nw" if " " not in text and len(text) <= 24 else "")
            tds.append(f'<td class="{cls}">{_html.escape(text)}</td>' if cls
                       else f"<td>{_html.escape(text)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    keep = " keep" if len(df) <= KEEP_ROWS else ""  # short: never split across pages
    return (f'<table class="tbl{keep}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _numbered(pack) -> None:
    n = 0
    for _, _, items in SECTIONS:
        for kind, key in items:
            if kind == "table" and key in pack.tables:
                n += 1
                pack.tables[key].number = n


def _ref(pack, text: str, key: str | None) -> str:
    t = pack.tables.get(key) if key else None
    return f"{text} (Tabel {t.number})" if t is not None else text


def render_html(pack, toc_pages: dict | None = None) -> str:
    from geo_sigap.analytics.report.figures import png_data_url

    _numbered(pack)
    images = pack.__dict__.get("_png")
    if images is None:  # once per pack: the second (paginated) render reuses them
        images = pack.__dict__["_png"] = {k: png_data_url(f) for k, f in pack.figures.items()}
    shown = [sec for sec in SECTIONS if any(
        kind == "text" or (kind == "fig" and key in images) or (kind == "table" and key in
                                                                pack.tables)
        for kind, key in sec[2])]
    return _env().render(
        meta=pack.meta, headline=pack.headline, sections=shown, maps=MAPS,
        tables=pack.tables, html_table=html_table, images=images, fig_titles=FIG_TITLES,
        findings=[_ref(pack, f.text, f.table) for f in pack.findings],
        recommendations=[_ref(pack, f.text, f.table) for f in pack.recommendations],
        toc_pages=toc_pages or {}, breaks=BREAKS,
        css_string=lambda s: '"' + s.replace('"', "'").replace("\\", "") + '"',
    )


def chromium_path() -> str:
    for name in (os.environ.get("GEO_SIGAP_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome", "/usr/bin/chromium"):
        if name and (p := shutil.which(name)):
            return p
    raise InvalidInput(
        "PDF perlu Chromium (apt-get install chromium); buat HTML saja dengan --no-pdf.",
        "The PDF needs Chromium (apt-get install chromium); use --no-pdf for HTML only.")


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (CSS @page layout)."""
    with tempfile.TemporaryDirectory(prefix="geo-sigap-pdf-") as profile:
        cmd = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update",
               f"--user-data-dir={profile}", "--no-pdf-header-footer",
               "--run-all-compositor-stages-before-draw",
               f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or not pdf_path.exists():
        raise InvalidInput(f"Chromium gagal membuat PDF: {proc.stderr[-400:]}",
                           f"Chromium could not print the PDF: {proc.stderr[-400:]}")


def _section_pages(pdf_path: Path) -> dict:
    """Section id → first page (1-based): from the PDF's named destinations (Chromium
    writes one per link target: the table of contents links every section), else from
    the markers "QQidQQ" printed invisibly in each heading (text extraction, slower)."""
    try:
        from pypdf import PdfReader
    except ImportError:  # no pypdf: a table of contents without page numbers
        return {}
    reader = PdfReader(str(pdf_path))
    ids = {sid for sid, _, _ in SECTIONS}
    try:
        number = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages, start=1)}
        out = {}
        for name, dest in reader.named_destinations.items():
            sid = str(name).lstrip("/")
            if sid in ids and dest.page is not None:
                out[sid] = number[dest.page.idnum]
        if out:
            return out
    except Exception:  # noqa: BLE001 - no usable destinations: read the markers
        log.debug("no named destinations in %s", pdf_path, exc_info=True)
    out = {}
    for i, page in enumerate(reader.pages, start=1):
        text = re.sub(r"\s+", "", page.extract_text() or "")
        for sid in re.findall(r"QQ([a-z]+)QQ", text):
            out.setdefault(sid, i)
    return out


def pack_json(pack) -> dict:
    """What the /analisis page shows: the same findings, tables and figures as the pack."""
    from geo_sigap.analytics.report.layers import layer_name

    _numbered(pack)

    def cell(v):
        text, _ = _cell(v)
        return text

    return {
        "meta": {k: v for k, v in pack.meta.items() if isinstance(v, (str, int, float))},
        "headline": [list(h) for h in pack.headline],
        "findings": [_ref(pack, f.text, f.table) for f in pack.findings],
        "recommendations": [_ref(pack, f.text, f.table) for f in pack.recommendations],
        "tables": [{"key": t.key, "number": t.number, "title": t.title, "note": t.note,
                    "layer": layer_name(t.number, t.title),
                    "spatial": t.geometry is not None and any(g is not None for g in t.geometry),
                    "columns": [str(c) for c in t.df.columns],
                    "rows": [[cell(v) for v in r] for r in t.df.itertuples(index=False)]}
                   for t in sorted(pack.tables.values(), key=lambda t: t.number)],
        "figures": {k: {"title": FIG_TITLES.get(k, k), "src": v}
                    for k, v in pack.__dict__.get("_png", {}).items()},
    }


def write_pack(pack, html_path: Path, pdf_path: Path | None, printer=None) -> None:
    """Write the HTML (and, with ``pdf_path``, the PDF printed from it) and, beside them,
    ``<stem>.json`` with the findings and tables (for the /analisis page and its CSVs) and
    ``<stem>.gpkg`` with the data behind every table and map (:mod:`.layers`).
    ``printer``: a :class:`Printer` already started (else one is started here)."""
    import json

    from geo_sigap.analytics.report.layers import write_geopackage

    html_path.write_text(render_html(pack), encoding="utf-8")
    if pdf_path is not None:
        own = printer is None
        printer = printer or Printer.start()
        try:
            # the browser lays the pages out while the JSON and the GeoPackage are written
            job = printer.submit(html_path, pdf_path)
            html_path.with_suffix(".json").write_text(
                json.dumps(pack_json(pack), ensure_ascii=False), encoding="utf-8")
            write_geopackage(pack, html_path.with_suffix(".gpkg"))
            job.result()
            pages = _section_pages(pdf_path)
            if pages:  # the table of contents with its page numbers: printed again
                html_path.write_text(render_html(pack, pages), encoding="utf-8")
                printer.submit(html_path, pdf_path, toc_pages=pages).result()
        finally:
            if own:
                printer.close()
        return
    html_path.with_suffix(".json").write_text(
        json.dumps(pack_json(pack), ensure_ascii=False), encoding="utf-8")
    write_geopackage(pack, html_path.with_suffix(".gpkg"))


# the numbers of the table of contents set in the page already loaded (the same layout as
# the HTML written again with them: a fixed-width column)
_SET_TOC = """pages => { for (const li of document.querySelectorAll('.toc li')) {
  const a = li.querySelector('a'), pg = li.querySelector('.pg');
  if (a && pg) pg.textContent = pages[a.getAttribute('href').slice(1)] ?? ''; } }"""


class Printer:
    """Headless Chromium printing the pack's HTML to PDF, started in a thread of its own
    (:meth:`start`) so that the browser starts while the data is read and the pack
    computed; :meth:`submit` queues a print and returns a future. One browser for every
    print through Playwright when it is installed; else (or when Playwright cannot start
    this Chromium) Chromium's own ``--print-to-pdf``, one process a print."""

    def __init__(self) -> None:
        import queue
        import threading

        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="rakor-pdf", daemon=True)

    @classmethod
    def start(cls) -> Printer:
        p = cls()
        p._thread.start()
        return p

    def submit(self, html_path: Path, pdf_path: Path, toc_pages: dict | None = None):
        """Print ``html_path`` to ``pdf_path``; with ``toc_pages`` (a second print of the
        page just printed) the table of contents' numbers are set in the loaded page."""
        from concurrent.futures import Future

        fut: Future = Future()
        self._jobs.put((Path(html_path), Path(pdf_path), toc_pages, fut))
        return fut

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            self._serve(None)
            return
        try:
            exe = chromium_path()
        except InvalidInput as exc:
            self._fail(exc)
            return
        try:
            with sync_playwright() as p:
                try:
                    browser = p.chromium.launch(executable_path=exe, headless=True, args=[
                        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-extensions", "--disable-background-networking"])
                except Exception:  # noqa: BLE001 - Playwright cannot start this Chromium
                    self._serve(None)
                    return
                try:
                    self._serve(browser.new_page())
                finally:
                    browser.close()
        except Exception as exc:  # noqa: BLE001 - the jobs still waiting get the error
            self._fail(exc)

    def _serve(self, page) -> None:
        loaded = None
        while (job := self._jobs.get()) is not None:
            html_path, pdf_path, toc, fut = job
            try:
                if page is None:
                    print_pdf(html_path, pdf_path)
                else:
                    if toc is not None and loaded == html_path:
                        page.evaluate(_SET_TOC, {k: str(v) for k, v in toc.items()})
                    else:
                        page.goto(html_path.resolve().as_uri(), wait_until="load")
                        loaded = html_path
                    page.pdf(path=str(pdf_path), prefer_css_page_size=True,
                             print_background=True)
                fut.set_result(pdf_path)
            except Exception as exc:  # noqa: BLE001 - raised to the caller by result()
                fut.set_exception(exc)

    def _fail(self, exc: Exception) -> None:
        while (job := self._jobs.get()) is not None:
            job[3].set_exception(exc)
