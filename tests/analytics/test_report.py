"""The rakor pack: self-contained HTML in Bahasa Indonesia, a PDF, progress to the end."""

import re

import pytest

from geo_sigap.analytics import _synthetic as S
from geo_sigap.analytics.report import build_report
from geo_sigap.domain.categories import load_categories
from geo_sigap.errors import InvalidInput


def test_report_is_self_contained_and_printable(units, incidents, tmp_path):
    seen = []
    paths = build_report(incidents, units, S.teams_frame(), load_categories(), "2026Q3",
                         out_dir=tmp_path, progress=lambda d, t, m: seen.append((d, t, m)),
                         permutations=9999)
    html = paths.html.read_text("utf-8")
    assert paths.html.name == "rakor_2026Q3.html"
    # offline: no external scripts, styles or images
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count('src="data:image/png;base64,') == 5
    for heading in ("Angka utama", "Kinerja respons", "Lokasi kronis",
                    "Perbandingan dengan triwulan sebelumnya", "PKL"):
        assert heading in html
    assert paths.pdf.read_bytes()[:5] == b"%PDF-"
    assert seen[-1][0] == seen[-1][1] and [d for d, _, _ in seen] == list(range(1, len(seen) + 1))
    # the planted persistent PKL area shows up among the chronic locations
    assert "Titik panas menetap" in html
    # the method text names the metric projection chosen from the area (Jambi: UTM 48S)
    assert "proyeksi UTM zona 48S (EPSG:32748)" in html


def test_report_for_a_quarter_without_incidents(units, incidents, tmp_path):
    with pytest.raises(InvalidInput) as e:
        build_report(incidents, units, S.teams_frame(), load_categories(), "2030Q1",
                     out_dir=tmp_path, pdf=False)
    assert "Tidak ada kejadian" in e.value.message_id
