"""/analisis in a real browser: a planner picks a quarter, reads the findings, maps and
tables of the rakor pack, gets the download links; the operator page is refused."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Requests, late_answers, login, shot, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "analisis", ["--history"])
    yield s
    s.stop()


def test_planner_reads_the_quarter_pack(server, browser):
    context = browser.new_context(locale="id-ID")
    seen = Requests()
    seen.watch(context)
    page = login(context, server.base, "planner", "/analisis")
    page.wait_for_selector("#an-quarter option", state="attached")
    assert page.locator("#an-area option").count() >= 1
    page.click("#an-form button[type=submit]")
    page.wait_for_selector(".an-find li", timeout=180_000)
    findings = page.locator(".an-find li").all_inner_texts()
    assert findings[0].startswith("Ada ") and "(Tabel " in findings[0]
    assert page.locator(".an-fig img").count() >= 3
    tables = page.locator(".an-tbl")
    assert tables.count() >= 8
    csv = tables.first.locator("a.an-csv").get_attribute("href")
    assert csv.startswith("/api/analysis/table.csv?quarter=")
    assert page.locator("#an-pdf").get_attribute("href").startswith("/api/analysis/pack.pdf?")
    gpkg = tables.first.locator("a.an-gpkg").get_attribute("href")
    assert gpkg.startswith("/api/analysis/table.gpkg?quarter=")
    assert page.locator("#an-gpkg").get_attribute("href").startswith("/api/analysis/pack.gpkg?")
    # a finding's "(Tabel N)" leads to that table
    ref = page.locator(".an-find li a").first
    assert page.locator(ref.get_attribute("href")).count() == 1
    shot(page, "60_analisis")
    # the planner does not open the operator pages
    r = page.goto(f"{server.base}/operator")
    assert r.status == 403 and "bukan untuk peran Anda" in page.content()
    assert all(u.startswith(server.base) or u.startswith("data:") for u in seen.urls)
    context.close()


# the pack of the quarter chosen first is asked at once and handed over 4 s late
LATE_FIRST_PACK = late_answers("p.includes('/api/analysis/pack?')", asked="__packs",
                               answers="__packAnswers", ms=4000, first_only=True)


def test_a_late_answer_of_an_earlier_choice_does_not_replace_the_last(server, browser):
    """The planner asks one quarter, then (before it has come) another: the page shows
    the last one asked, even when the first one's answer arrives after it."""
    context = browser.new_context(locale="id-ID")
    context.add_init_script(LATE_FIRST_PACK)
    page = login(context, server.base, "planner", "/analisis")
    page.wait_for_selector("#an-quarter option", state="attached")
    quarters = page.locator("#an-quarter option")
    assert quarters.count() >= 2
    first, last = quarters.nth(0), quarters.nth(1)
    page.select_option("#an-quarter", first.get_attribute("value"))
    page.click("#an-form button[type=submit]")
    page.wait_for_function("() => window.__packs >= 1")
    page.select_option("#an-quarter", last.get_attribute("value"))
    page.click("#an-form button[type=submit]")
    page.wait_for_function("() => window.__packAnswers >= 2", timeout=180_000)
    page.wait_for_timeout(300)  # the late answer handled too
    heading = page.locator(".an-col h2").first.inner_text()
    assert last.inner_text() in heading and first.inner_text() not in heading, heading
    pdf = page.locator("#an-pdf").get_attribute("href")
    assert f"quarter={last.get_attribute('value')}" in pdf, pdf
    context.close()
