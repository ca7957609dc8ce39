"""The coordinator's live map with the planners' layers, in a real browser, offline.

A demo-like database WITH the demo incident history (so the analytics have data): the
coordinator turns on the Gi* hot spots, the server KDE heatmap and the travel-time
coverage on ``/peta``; each draws, shows its legend, and nothing leaves 127.0.0.1.
Screenshots: ``artifacts/screenshots/3x_*.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.conftest import Requests, login, shot, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "layers", ["--history"])
    yield s
    s.stop()


def _toggle(page, title: str, on: bool = True):
    box = page.get_by_role("checkbox", name=title, exact=True)
    box.check() if on else box.uncheck()


def _click_feature(page, layer: str, predicate: str):
    """Click the map at an interior point of the first feature of ``layer`` matching
    ``predicate`` (a JS expression over ``p``, the feature's properties); its popup text."""
    xy = page.evaluate(
        """([layer, pred]) => {
          const M = window.SIGAP_MAP, test = new Function('p', 'return ' + pred);
          const l = M.overlays[layer].getLayers().find((x) => test(x.feature.properties));
          const g = l.feature.geometry;
          const ring = (g.type === 'Polygon' ? g.coordinates : g.coordinates[0])[0];
          // centre of the ring's vertices: inside for the convex hexagons and boxes here
          let x = 0, y = 0; for (const [lon, lat] of ring) { x += lon; y += lat; }
          const ll = [y / ring.length, x / ring.length];
          M.map.setView(ll, 16, { animate: false });
          const pt = M.map.latLngToContainerPoint(ll);
          return [pt.x, pt.y];
        }""", [layer, predicate])
    page.wait_for_timeout(400)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_selector(".leaflet-popup-content", timeout=20000)
    return page.inner_text(".leaflet-popup-content")


def _coverage_stats(page) -> dict:
    return page.evaluate("""() => {
        const ls = SIGAP_MAP.overlays.cov.getLayers(), p = (l) => l.feature.properties;
        return { n: ls.length, levels: [...new Set(ls.map((l) => p(l).level))],
                 red: ls.filter((l) => l.options.color === '#e31a1c').length,
                 beyond: ls.filter((l) => p(l).bhabinkamtibmas_beyond_target).length,
                 eta: ls.filter((l) => p(l).bhabinkamtibmas_eta_min != null).length };
    }""")


def test_planner_layers_on_the_live_map(browser, server):
    base = server.base
    req = Requests()
    ctx = req.watch(browser.new_context(viewport={"width": 1600, "height": 1000},
                                        locale="id-ID", timezone_id="Asia/Jakarta"))
    page = login(ctx, base, "coordinator", "/peta")
    page.wait_for_selector("body[data-overlays='1']", timeout=30000)
    # the open incidents would sit on top of the polygons we click
    _toggle(page, "Kejadian aktif", on=False)

    # the analytics quarter defaults to the last complete quarter of the history
    periods = page.evaluate("SIGAP.api('GET', '/api/map/periods')")
    assert periods["default"] and page.input_value("#f-quarter") == periods["default"]
    assert page.locator(".map-legend").is_hidden()

    # --- Gi* hot spots (hexagons, the default level)
    _toggle(page, "Titik panas (Gi*)")
    page.wait_for_function("() => (SIGAP_METRICS.overlays.hot || {}).n > 0", timeout=60000)
    stats = page.evaluate("""() => {
        const ls = SIGAP_MAP.overlays.hot.getLayers();
        return { n: ls.length, hot: ls.filter((l) => l.feature.properties.gi_class > 0).length,
                 cold: ls.filter((l) => l.feature.properties.gi_class < 0).length,
                 url: SIGAP_METRICS.overlays.hot.url,
                 hex: ls.every((l) => String(l.feature.properties.code).startsWith('HEX')) };
    }""")
    assert stats["hex"] and stats["hot"] > 0 and stats["n"] > 50
    assert f"quarter={periods['default']}" in stats["url"] and "level=hex" in stats["url"]
    legend = page.inner_text(".map-legend section[data-layer='hot']")
    assert "Titik panas 99%" in legend and "Tidak signifikan" in legend and "Titik dingin" in legend
    text = _click_feature(page, "hot", "p.gi_class > 0")
    assert "Titik panas" in text and "Skor z" in text and "Jumlah kejadian" in text
    assert "Kel. " in text  # the hexagon's kelurahan, found from the boundaries
    page.evaluate("() => { SIGAP_MAP.map.setZoom(15, {animate: false}); }")
    page.wait_for_timeout(600)  # popup fade-in
    shot(page, "30_peta_titik_panas")
    page.keyboard.press("Escape")

    # the category filter reaches the server: hot spots of one category only
    page.select_option("#f-category", "pkl")
    page.wait_for_function("() => (SIGAP_METRICS.overlays.hot || {}).url.includes('category=pkl')",
                           timeout=60000)
    page.select_option("#f-category", "")
    page.wait_for_function("() => !(SIGAP_METRICS.overlays.hot || {}).url.includes('category=')",
                           timeout=60000)
    _toggle(page, "Titik panas (Gi*)", on=False)

    # --- KDE heatmap from the server grid, as an image overlay
    _toggle(page, "Peta panas (KDE)")
    page.wait_for_function("() => (SIGAP_METRICS.overlays.kde || {}).n > 0", timeout=60000)
    page.wait_for_function("() => { const i = document.querySelector('img.kde-image');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=30000)
    img = page.evaluate("""() => { const i = document.querySelector('img.kde-image');
        const r = i.getBoundingClientRect(); return [i.src.slice(0, 22), r.width, r.height]; }""")
    assert img[0] == "data:image/png;base64," and img[1] > 100 and img[2] > 100
    assert "kejadian/km²" in page.inner_text(".map-legend section[data-layer='kde']")
    page.evaluate("() => { SIGAP_MAP.map.fitBounds("
                  "SIGAP_MAP.overlays.kde.getLayers()[0].getBounds(), {animate: false}); }")
    page.wait_for_timeout(400)
    shot(page, "31_peta_kde")
    _toggle(page, "Peta panas (KDE)", on=False)

    # --- travel-time coverage per RT, coloured by the lead role, beyond target in red
    page.select_option("#f-category", "keributan")  # target 15 min, lead Bhabinkamtibmas
    _toggle(page, "Cakupan waktu tempuh")
    page.wait_for_function("() => (SIGAP_METRICS.overlays.cov || {}).n > 0", timeout=60000)
    cov = _coverage_stats(page)
    assert cov["levels"] == ["rt"] and cov["n"] > 100 and cov["eta"] == cov["n"]
    assert cov["beyond"] == 0 and cov["red"] == 0  # the demo posts reach every RT in time
    roles = page.eval_on_selector_all("#f-role option", "os => os.map((o) => o.value)")
    assert roles[0] == "bhabinkamtibmas" and page.input_value("#f-role") == "bhabinkamtibmas"
    legend = page.inner_text(".map-legend section[data-layer='cov']")
    assert "Bhabinkamtibmas" in legend and "15 mnt" in legend and "Tanpa jalur" in legend

    # only the northernmost Bhabinkamtibmas post is staffed: the south falls beyond 15 min
    db = sa.create_engine(f"sqlite:///{Path(server.log.name).parent / 'browser.db'}")
    with db.begin() as c:
        rows = c.execute(sa.text("SELECT post_lon, post_lat FROM teams "
                                 "WHERE role = 'bhabinkamtibmas'")).all()
        lon, lat = max(rows, key=lambda r: r[1])
        c.execute(sa.text("UPDATE teams SET post_lon = :x, post_lat = :y "
                          "WHERE role = 'bhabinkamtibmas'"), {"x": lon, "y": lat})
    db.dispose()
    _toggle(page, "Cakupan waktu tempuh", on=False)
    _toggle(page, "Cakupan waktu tempuh")  # switched on again: asks the server again
    page.wait_for_function("() => SIGAP_MAP.overlays.cov.getLayers().some("
                           "(l) => l.feature.properties.bhabinkamtibmas_beyond_target)",
                           timeout=60000)
    cov = _coverage_stats(page)
    assert cov["beyond"] > 0 and cov["red"] == cov["beyond"]  # exactly those are outlined
    text = _click_feature(page, "cov", "p.bhabinkamtibmas_beyond_target")
    assert "Melewati target 15 mnt" in text and "Waktu tempuh" in text
    assert "Pos terdekat" in text and "Kel. " in text
    page.evaluate("() => { SIGAP_MAP.map.setZoom(14, {animate: false}); }")
    page.wait_for_timeout(600)
    shot(page, "32_peta_cakupan")

    # another role recolours without a new request; RW level asks the server again
    before = page.evaluate("SIGAP_METRICS.overlays.cov.at")
    page.select_option("#f-role", "linmas")
    assert "Linmas" in page.inner_text(".map-legend section[data-layer='cov']")
    assert page.evaluate("SIGAP_METRICS.overlays.cov.at") == before
    page.select_option("#f-covlevel", "rw")
    page.wait_for_function("() => SIGAP_METRICS.overlays.cov.url.includes('level=rw')"
                           " && SIGAP_MAP.overlays.cov.getLayers().every("
                           "(l) => l.feature.properties.level === 'rw')", timeout=60000)

    # all three together, with their legends
    _toggle(page, "Peta panas (KDE)")
    _toggle(page, "Titik panas (Gi*)")
    page.wait_for_function("() => ['hot', 'kde'].every((k) => (SIGAP_METRICS.overlays[k] || {})"
                           ".url.includes('category=keributan'))", timeout=60000)
    page.wait_for_timeout(300)
    assert page.locator(".map-legend section").count() == 3
    shot(page, "33_peta_tiga_lapisan")

    assert page.evaluate("Object.values(SIGAP_METRICS.overlays).filter((o) => o.error)") == []

    # the same layers in English
    page.goto(base + "/peta?lang=en")
    page.wait_for_selector("body[data-overlays='1']", timeout=30000)
    assert page.inner_text("#f-quarter option:checked").endswith(periods["default"][-2:])
    _toggle(page, "Travel-time coverage")
    _toggle(page, "Hot spots (Gi*)")
    page.wait_for_function("() => (SIGAP_METRICS.overlays.cov || {}).n > 0"
                           " && (SIGAP_METRICS.overlays.hot || {}).n > 0", timeout=60000)
    legend = page.inner_text(".map-legend")
    assert "Minutes from the nearest" in legend and "Hot spot 99%" in legend
    assert "Not significant" in legend
    shot(page, "34_peta_lapisan_en")
    assert req.foreign() == [], req.foreign()
    ctx.close()
