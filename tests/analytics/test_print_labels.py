"""Printed maps: labels never overprint (asserted on the placed boxes), never leave the
map, keep off the hotspot cells, and what does not fit is dropped; streets and landmarks
are named; the legend sits beside the map, not on it."""

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import LineString  # noqa: E402

from geo_sigap.maps import labels as L  # noqa: E402
from geo_sigap.maps.printed import BaseLayers, PrintMap  # noqa: E402


def _label(text, x, y, prio, **kw):
    return L.Label(text, 7.0, prio, L.around_point(x, y, text, 7.0), **kw)


def test_crowded_labels_do_not_overlap_and_the_rest_is_dropped():
    rng = np.random.default_rng(3)
    labels = [_label(f"Tempat {i}", *rng.uniform(0, 200, 2), i) for i in range(120)]
    placed, dropped = L.place_labels(labels, (200.0, 200.0))
    assert placed and dropped  # 120 names do not fit in 200 × 200 pt
    assert len(placed) + len(dropped) == 120
    assert L.overlaps(placed) == []
    for p in placed:
        x0, y0, x1, y1 = p.box
        assert x0 >= 0 and y0 >= 0 and x1 <= 200 and y1 <= 200
    # the first (highest priority) label always gets a place
    assert placed[0].label.text == "Tempat 0"
    # the must-not: without the checks the same candidates do overlap
    naive = [L.Placed(lb, lb.candidates[0], L.text_polygon(lb, lb.candidates[0]))
             for lb in labels]
    assert L.overlaps(naive)


def test_labels_keep_off_obstacles_they_avoid_and_leaders_are_not_crossed():
    cell = (90.0, 90.0, 110.0, 110.0)
    street = L.Label("Jalan Sudirman", 7.0, 1, [L.Candidate(100, 100), L.Candidate(100, 150)])
    name = L.Label("Talang Bakung", 8.0, 2, [L.Candidate(100, 100)], avoid=frozenset())
    placed, dropped = L.place_labels([street, name], (300.0, 300.0), [(cell, "data")])
    by = {p.label.text: p for p in placed}
    assert by["Jalan Sudirman"].candidate.y == 150  # moved off the hotspot cell
    # a label that does not avoid data may sit on it, but never on another label
    assert "Talang Bakung" in by
    # a callout's leader line crosses no label placed before it
    other = L.Label("Masjid An-Nur", 6.0, 0, [L.Candidate(100, 150)])
    callout = L.Label("RW 004, Kel. Eka Jaya", 7.0, 1,
                      [L.Candidate(100, 200, leader=(100, 100)),
                       L.Candidate(220, 100, leader=(100, 100))])
    placed, dropped = L.place_labels([callout, other], (300.0, 300.0), [(cell, "data")])
    by = {p.label.text: p for p in placed}
    assert by["RW 004, Kel. Eka Jaya"].candidate.x == 220 and not dropped
    placed, _ = L.place_labels([callout, other], (300.0, 300.0))
    # the must-not: the first spot's leader would run through "Masjid An-Nur"
    lead = LineString([(100, 200), (100, 100)])
    assert lead.intersects(L.text_polygon(other, other.candidates[0]))


def test_street_labels_follow_the_road_and_stay_upright():
    road = LineString([(0, 0), (200, 200)])
    c = L.along_line(road, "Jalan Kol. Abunjani", 6.0)
    assert c and all(abs(k.angle - 45) < 1e-6 for k in c)
    back = L.along_line(LineString([(200, 200), (0, 0)]), "Jalan Kol. Abunjani", 6.0)
    assert all(abs(k.angle - 45) < 1e-6 for k in back)  # not upside down
    zigzag = LineString([(x, 30 * (x // 10 % 2)) for x in range(0, 200, 10)])
    assert L.along_line(zigzag, "Jalan Kol. Abunjani", 6.0) == []  # too bent to carry text
    assert L.along_line(LineString([(0, 0), (20, 0)]), "Jalan Kol. Abunjani", 6.0) == []


def test_text_size_is_what_matplotlib_draws():
    import matplotlib.pyplot as plt

    fig = plt.figure(dpi=L.DPI)
    t = fig.text(0.1, 0.5, "Lingkar Selatan", fontsize=7.0)
    bb = t.get_window_extent(fig.canvas.get_renderer())
    w, h = L.text_size("Lingkar Selatan", 7.0)
    assert w == pytest.approx(bb.width * 72 / L.DPI, rel=0.01)
    assert h >= bb.height * 72 / L.DPI
    plt.close(fig)


@pytest.fixture(scope="module")
def area():
    polys = [shapely.box(103.60 + i * 0.01, -1.62, 103.61 + i * 0.01, -1.60) for i in range(3)]
    return gpd.GeoDataFrame({"code": [f"15.71.11.100{i}" for i in range(1, 4)],
                             "name": ["Talang Bakung", "Eka Jaya", "Paal Merah"]},
                            geometry=polys, crs=4326)


def test_print_map_names_streets_landmarks_and_keeps_the_legend_off_the_map(area):
    import matplotlib.pyplot as plt

    roads = pd.DataFrame({"name": ["Jalan Sudirman", "Gang Mawar", None],
                          "highway": ["primary", "residential", "residential"],
                          "geometry": [LineString([(103.601, -1.605), (103.629, -1.605)]),
                                       LineString([(103.615, -1.619), (103.615, -1.601)]),
                                       LineString([(103.62, -1.619), (103.62, -1.601)])]})
    landmarks = pd.DataFrame({"name": ["Pasar Talang Bakung", "SD Negeri 1"],
                              "kind": ["pasar", "sekolah"], "lon": [103.605, 103.625],
                              "lat": [-1.612, -1.615]})
    posts = pd.DataFrame({"name": ["Pos Linmas RW 001"], "role": ["linmas"],
                          "lon": [103.612], "lat": [-1.603]})
    m = PrintMap(area, BaseLayers(roads, landmarks, posts), "Uji")
    m.finish(legend=[("patch", "yakin (95%)", "#ef8a62")], legend_title="Keyakinan")
    texts = {p.label.text: p.label.kind for p in m.placed}
    assert texts["Jalan Sudirman"] == "jalan" and texts["Gang Mawar"] == "jalan"
    assert texts["Pasar Talang Bakung"] == "tempat" and texts["SD Negeri 1"] == "tempat"
    assert {"Talang Bakung", "Eka Jaya", "Paal Merah"} <= set(texts)
    assert L.overlaps(m.placed) == []
    # the legend panel lies right of the map frame, not over it
    m.fig.set_dpi(L.DPI)  # as the pack saves it
    m.fig.canvas.draw()
    r = m.fig.canvas.get_renderer()
    frame = m.ax.get_window_extent(r)
    # what is drawn is what was checked: each label's ink lies inside its placed box
    k = 72.0 / m.fig.dpi
    boxes = {p.label.text: p.box for p in m.placed}
    drawn = [t for t in m.ax.texts if t.get_text() in boxes and t.get_rotation() == 0]
    assert len(drawn) >= 5
    for t in drawn:
        bb = t.get_window_extent(r)
        x0, y0, x1, y1 = boxes[t.get_text()]
        assert (bb.x0 - frame.x0) * k >= x0 - 0.5 and (bb.x1 - frame.x0) * k <= x1 + 0.5
        assert (bb.y0 - frame.y0) * k >= y0 - 0.5 and (bb.y1 - frame.y0) * k <= y1 + 0.5
    legend_texts = [t for t in m.panel.texts if t.get_text() in ("yakin (95%)", "Sekolah",
                                                                 "Pos Linmas")]
    assert len(legend_texts) == 3
    for t in legend_texts:
        assert t.get_window_extent(r).x0 > frame.x1
    plt.close(m.fig)


def test_city_wide_map_of_the_68_kelurahan_of_kota_jambi():
    """Real boundaries, arterial roads and POIs: the names do not pile up (no two boxes
    overlap), most kelurahan are named, main streets too; drawing stays quick."""
    import matplotlib.pyplot as plt

    from geo_sigap.analytics.report.figures import _outline
    from geo_sigap.geocoding.sources import load_gazetteer
    from geo_sigap.maps.roads import build_roads_geojson
    from tests.paths import require_shared_data

    jambi = require_shared_data()
    src = gpd.read_file(jambi / "kelurahan_kota_jambi.geojson")
    kel = gpd.GeoDataFrame({"code": src["KDEPUM"], "name": src["NAMOBJ"]},
                           geometry=src.geometry.make_valid(), crs=4326)
    base = BaseLayers.from_files(build_roads_geojson(jambi / "roads_main_kota_jambi.geojson"),
                                 load_gazetteer(jambi / "poi_kota_jambi.geojson"))
    m = PrintMap(kel, base, "Kota Jambi", outline=_outline(kel))
    m.finish()
    assert L.overlaps(m.placed) == []
    kinds = [p.label.kind for p in m.placed]
    named = {p.label.text for p in m.placed if p.label.kind == "kelurahan"}
    assert len(named) >= 55 and named <= set(kel["name"])  # of 68; one label each
    assert kinds.count("kelurahan") == len(named)
    assert "jalan" in kinds and kinds.count("tempat") <= 22
    assert not any(p.label.text.lower().startswith("unnamed") for p in m.placed)
    w, h = m.frame
    assert all(0 <= p.box[0] and p.box[2] <= w and 0 <= p.box[1] and p.box[3] <= h
               for p in m.placed)
    plt.close(m.fig)


def test_post_move_map_names_the_target_once_and_each_moved_post(area):
    import matplotlib.pyplot as plt

    from geo_sigap.analytics.report.figures import moves_map

    to = (103.625, -1.605)
    moves = [("Damkar Pos Lingkar Selatan (+19 RT)", "RW 002, Kel. Talang Bakung",
              LineString([(103.603, -1.618), to])),
             ("TRC BPBD Kota Jambi (+13 RT)", "RW 002, Kel. Talang Bakung",
              LineString([(103.628, -1.618), to]))]
    fig = moves_map(area, BaseLayers(), moves, "Usulan")
    m = fig.print_map
    callouts = [p.label.text for p in m.placed if p.label.kind == "titik"]
    assert callouts.count("ke RW 002, Kel. Talang Bakung") == 1
    assert {"Damkar Pos Lingkar Selatan (+19 RT)", "TRC BPBD Kota Jambi (+13 RT)"} <= set(callouts)
    assert L.overlaps(m.placed) == []
    plt.close(fig)
