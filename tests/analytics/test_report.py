"""The rakor pack: one HTML in Bahasa Indonesia and the PDF printed from it; every page
A4, names never codes, findings true to the tables they cite."""

import re
import warnings

import numpy as np
import pytest

from geo_sigap.analytics import _synthetic as S
from geo_sigap.analytics.report import build_report
from geo_sigap.analytics.report.fmt import num
from geo_sigap.analytics.report.render import chromium_path
from geo_sigap.domain.categories import load_categories
from geo_sigap.errors import InvalidInput

A4 = (595.28, 841.89)  # points


def _have_chromium():
    try:
        chromium_path()
        return True
    except InvalidInput:
        return False


@pytest.fixture(scope="module")
def live(units, incidents):
    """The live map's analytics over the same history (as the service has them)."""
    from geo_sigap.analytics.incremental import LiveAnalytics, store_from_frame

    store = store_from_frame(incidents)
    return LiveAnalytics(lambda: store, lambda: (units, 1), load_categories())


@pytest.fixture(scope="module")
def pack(units, incidents, tmp_path_factory, live):
    if not _have_chromium():
        pytest.skip("Chromium not found (apt-get install chromium)")
    seen = []
    out = tmp_path_factory.mktemp("rakor")
    # the coordinator opened the map's hotspot layer of the quarter first (as /peta asks)
    live.map_answer = live.hotspots(quarter="2026Q3", permutations=9999)
    live.misses_before = live.misses
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nothing printed to the terminal
        paths = build_report(incidents, units, S.teams_frame(), load_categories(), "2026Q3",
                             out_dir=out, progress=lambda d, t, m: seen.append((d, t, m)),
                             hotspots=lambda q: live.hex_hotspots(q))
    return paths, seen


def test_map_and_report_give_the_same_classes_from_one_computation(pack, live, units,
                                                                    incidents):
    from geo_sigap.analytics.frames import Quarter, filter_incidents
    from geo_sigap.analytics.hotspots import hex_gi, units_of_level
    from geo_sigap.analytics.weights import hex_grid

    paths, _ = pack
    on_map = {f["properties"]["code"]: f["properties"]["gi_class"]
              for f in live.map_answer["features"]}
    assert paths.hotspots.class_of() == on_map
    assert any(c >= 2 for c in on_map.values())  # not trivially equal: there are hot cells
    # one computation: the pack read the map's cached result of 2026Q3 (the only new one
    # is last quarter's, which the map had not been asked for)
    assert paths.hotspots is live.hex_hotspots("2026Q3")
    assert live.misses == live.misses_before + 1
    # the CLI's pack (no live map in its process) runs the same function on the frames
    q = Quarter.parse("2026Q3")
    cur = filter_incidents(incidents, start=q.start, end=q.end)
    grid = hex_grid(units_of_level(units, "kelurahan"), 250)
    alone = hex_gi(grid, grid.adjacency(), cur["lon"], cur["lat"])
    assert alone.class_of() == on_map
    np.testing.assert_array_equal(alone.gi.p_folded, paths.hotspots.gi.p_folded)
    # and the figure is not one any setting would give: 999 permutations differ
    fewer = hex_gi(grid, grid.adjacency(), cur["lon"], cur["lat"], permutations=999)
    assert fewer.class_of() != on_map
    # the pack's hotspot table counts the cells the map colours hot
    hot_cells = sum(1 for c in on_map.values() if c > 0)
    assert paths.tables["hot"].df["Sel heksagon"].sum() <= hot_cells
    assert paths.tables["hot"].df["Sel heksagon"].sum() == hot_cells or \
        len(paths.tables["hot"].df) == 15


def _text(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    body = re.sub(r'src="data:[^"]+"', "", body)
    return re.sub(r"<[^>]+>", " ", body)


def test_report_is_self_contained_and_named(pack):
    paths, seen = pack
    html = paths.html.read_text("utf-8")
    assert paths.html.name == "rakor_2026Q3.html"
    assert not re.search(r'(src|href)="(https?:)?//', html)  # offline
    assert html.count('src="data:image/png;base64,') == 5
    text = _text(html)
    for heading in ("Temuan utama", "Rekomendasi", "Daftar isi", "Kinerja penanganan",
                    "Lampiran: cara menghitung", "Kejadian susulan", "PKL"):
        assert heading in text
    # the area by name, never its code; no raw keys such as "pkl:" / "semua:"
    assert "Kecamatan Paal Merah" in text
    assert not re.search(r"\b15\.71\.\d\d", text)
    assert not re.search(r"\b(pkl|semua|pencurian):", text)
    # hotspot rows name the RW with its kelurahan, and no two rows read alike
    assert re.search(r"RW \d{3}, Kel\. \w+", text)
    hot = paths.tables["hot"]
    assert hot.df["Lokasi"].is_unique
    # the planted persistent PKL area shows up among the locations that keep returning
    chronic = paths.tables["chronic"].df
    assert ((chronic["Kategori"] == "PKL") & chronic["Pola"].str.startswith("Titik panas")).any()
    # the method appendix names the metric projection chosen from the area
    assert "proyeksi UTM zona 48S (EPSG:32748)" in text
    assert seen[-1][0] == seen[-1][1] and [d for d, _, _ in seen] == list(range(1, len(seen) + 1))


def test_every_pdf_page_is_a4_with_page_numbers_and_a_paginated_toc(pack):
    from pypdf import PdfReader

    paths, _ = pack
    reader = PdfReader(str(paths.pdf))
    assert len(reader.pages) >= 8
    landscape = 0
    for i, page in enumerate(reader.pages, start=1):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert sorted((round(w), round(h))) == [round(A4[0]), round(A4[1])], (i, w, h)
        landscape += w > h
        text = page.extract_text()
        assert f"Halaman {i} dari {len(reader.pages)}" in text
        assert "Kecamatan Paal Merah" in text and "Triwulan III 2026" in text
    assert landscape == 3  # the three maps
    # the table of contents carries the page each section starts on
    html = paths.html.read_text("utf-8")
    toc = re.findall(r'<a href="#(\w+)">[^<]+</a><span class="pg">(\d+)</span>', html)
    assert len(toc) == 11
    for sid, page in toc:
        assert f"QQ{sid}QQ" in re.sub(r"\s+", "", reader.pages[int(page) - 1].extract_text())
    # … and the printed table of contents shows those numbers (the second print)
    front = re.sub(r"\s+", "", "".join(reader.pages[i].extract_text() for i in range(2)))
    for title, page in re.findall(r'<a href="#\w+">([^<]+)</a><span class="pg">(\d+)</span>',
                                  html):
        assert re.sub(r"\s+", "", title) + page in front, (title, page)


def test_findings_quote_the_tables_they_cite(pack):
    paths, _ = pack
    html = paths.html.read_text("utf-8")
    t = paths.tables
    comp = t["comp"].df
    cur_col, prev_col = comp.columns[2], comp.columns[1]
    total, total_prev = int(comp[cur_col].sum()), int(comp[prev_col].sum())
    findings = re.search(r'<ol class="find">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", findings, re.S)
    first = items[0]
    assert f"Ada {num(total)} kejadian" in first and f"({num(total_prev)} kejadian)" in first
    assert f"(Tabel {t['comp'].number})" in first
    # the strongest hotspot sentence names the first row of the hotspot table
    hot = t["hot"].df
    if len(hot):
        line = next(i for i in items if i.startswith("Titik panas terkuat"))
        assert hot["Lokasi"].iat[0] in line and f"{num(hot['Kejadian'].iat[0])} kejadian" in line
        assert f"(Tabel {t['hot'].number})" in line
    # the late-response sentence quotes the first row of the rhythm table
    lr = t["late_rhythm"].df
    if len(lr):
        line = next(i for i in items if "terlambat ditangani" in i)
        assert f"{lr['Hari'].iat[0]} {lr['Jam'].iat[0]}" in line
        assert f"({num(lr['Terlambat'].iat[0])} dari {num(lr['Laporan'].iat[0])} laporan)" in line
    # every sentence points at a table that exists
    numbers = {tb.number for tb in t.values()}
    for i in items:
        ref = re.search(r"\(Tabel (\d+)\)$", i.strip())
        assert ref and int(ref.group(1)) in numbers, i


def test_report_for_a_quarter_without_incidents(units, incidents, tmp_path):
    with pytest.raises(InvalidInput) as e:
        build_report(incidents, units, S.teams_frame(), load_categories(), "2030Q1",
                     out_dir=tmp_path, pdf=False)
    assert "Tidak ada kejadian" in e.value.message_id


def test_indonesian_number_format():
    assert num(12345.6, 1) == "12.345,6" and num(1355) == "1.355" and num(float("nan")) == "–"


def test_hotspot_places_leave_out_edges_without_incidents():
    """A place whose hot cells hold no incident of their own (hot from its neighbours
    only) is not listed as a place to patrol; the others keep their order and sums."""
    import pandas as pd

    from geo_sigap.analytics.report.builder import hot_places

    cells = pd.DataFrame({
        "place": ["RW 001, Kel. A", "RW 001, Kel. A", "RW 002, Kel. A", "RW 003, Kel. B"],
        "count": [5, 2, 0, 3], "gi_class": [3, 2, 1, 2],
        "rw_code": ["A.RW001", "A.RW001", "A.RW002", "B.RW003"]})
    rows, left_out = hot_places(cells)
    assert left_out == 1
    assert rows["place"].tolist() == ["RW 001, Kel. A", "RW 003, Kel. B"]
    assert rows["kejadian"].tolist() == [7, 3] and rows["sel"].tolist() == [2, 1]
