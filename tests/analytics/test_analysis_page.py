"""/analisis: planners and coordinators see the rakor pack of a quarter in the browser and
download it (PDF/HTML, CSV per table); the planner no longer opens operator pages."""

import pandas as pd
import pytest

from geo_sigap.analytics.frames import Quarter
from geo_sigap.analytics.report.render import chromium_path
from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2

HTML = {"Accept": "text/html"}


def test_page_access_table(client, auth):
    for role, page, status in [("planner", "/operator", 403), ("planner", "/dispatch/X", 403),
                               ("planner", "/analisis", 200), ("coordinator", "/analisis", 200),
                               ("operator", "/analisis", 403), ("operator", "/operator", 200),
                               ("planner", "/peta", 200)]:
        r = client.get(page, headers={**HTML, **auth[role]})
        assert r.status_code == status, (role, page, r.status_code)
        if status == 403:
            assert "Halaman ini bukan untuk peran Anda" in r.text
    # no session: the shell, whose API calls send the browser to /masuk
    assert client.get("/analisis", headers=HTML).status_code == 200


def test_analysis_api_pack_csv_and_pdf(client, auth, tmp_path):
    chromium_path()  # the PDF is printed by Chromium (CI installs it)
    op = auth["operator"]
    for i, (lon, lat) in enumerate([IN_RT1, IN_RT2, IN_KEL_B, IN_RT1, IN_RT2]):
        r = client.post("/api/incidents", headers=op, json={
            "category": "pkl" if i % 2 else "keributan", "description": f"kejadian {i}",
            "lon": lon, "lat": lat})
        assert r.status_code == 201, r.text
    q = str(Quarter.of(pd.Timestamp.now(tz="Asia/Jakarta")))
    pl = auth["planner"]
    opt = client.get("/api/analysis/options", headers=pl).json()
    assert q in [x["code"] for x in opt["quarters"]] and opt["areas"][0]["name"]
    assert client.get("/api/analysis/options", headers=op).status_code == 403
    assert client.get(f"/api/analysis/pack?quarter={q}", headers=op).status_code == 403

    r = client.get(f"/api/analysis/pack?quarter={q}", headers=pl)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["headline"][0][1] == "5"  # five incidents this quarter
    assert data["findings"][0].startswith("Ada 5 kejadian")
    keys = [t["key"] for t in data["tables"]]
    assert "comp" in keys and data["figures"]
    # too little data is said plainly
    assert any("terlalu sedikit" in f for f in data["findings"])

    comp = next(t for t in data["tables"] if t["key"] == "comp")
    csv = client.get(f"/api/analysis/table.csv?quarter={q}&table=comp", headers=pl)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").strip().splitlines()
    assert lines[0].split(",") == comp["columns"] and len(lines) == 1 + len(comp["rows"])
    assert client.get(f"/api/analysis/table.csv?quarter={q}&table=nope",
                      headers=pl).status_code == 422

    # the same table as a GeoPackage: one layer, named as in the pack, one row per table
    # row, kelurahan outlines in EPSG:4326 (the totals row has no outline)
    import pyogrio

    kel = next(t for t in data["tables"] if t["key"] == "kelurahan")
    assert kel["spatial"] and kel["layer"].startswith(f"tabel_{kel['number']:02d}_kejadian_per")
    g = client.get(f"/api/analysis/table.gpkg?quarter={q}&table=kelurahan", headers=pl)
    assert g.status_code == 200 and g.headers["content-type"] == \
        "application/geopackage+sqlite3"
    assert g.content[:16] == b"SQLite format 3\x00"
    path = tmp_path / "t.gpkg"
    path.write_bytes(g.content)
    assert [name for name, _ in pyogrio.list_layers(path)] == [kel["layer"]]
    layer = pyogrio.read_dataframe(path)
    assert layer.crs.to_epsg() == 4326 and len(layer) == len(kel["rows"])
    assert list(layer["Kelurahan"]) == [r[0] for r in kel["rows"]]
    total = layer["Kelurahan"] == "Jumlah"
    assert layer.geometry[~total].notna().all() and layer.geometry[total].isna().all()
    assert set(layer.geometry[~total].geom_type) <= {"Polygon", "MultiPolygon"}
    assert int(layer.loc[total, "Jumlah"].iloc[0]) == 5  # numbers stay numbers
    # a table that is not about places is an attribute table
    g = client.get(f"/api/analysis/table.gpkg?quarter={q}&table=comp", headers=pl)
    path.write_bytes(g.content)
    assert pyogrio.list_layers(path)[0][1] is None
    assert client.get(f"/api/analysis/table.gpkg?quarter={q}&table=comp",
                      headers=op).status_code == 403
    # the whole pack's data: every table plus the hex cells of the maps
    g = client.get(f"/api/analysis/pack.gpkg?quarter={q}", headers=pl)
    path.write_bytes(g.content)
    names = [name for name, _ in pyogrio.list_layers(path)]
    assert "sel_heksagon" in names and len(names) == len(data["tables"]) + 1
    cells = pyogrio.read_dataframe(path, layer="sel_heksagon")
    assert int(cells["kejadian"].sum()) == 5 and cells.crs.to_epsg() == 4326

    pdf = client.get(f"/api/analysis/pack.pdf?quarter={q}", headers=auth["coordinator"])
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    html = client.get(f"/api/analysis/pack.html?quarter={q}", headers=pl)
    assert html.status_code == 200 and "Temuan utama" in html.text


@pytest.mark.parametrize("bad", ["2026Q5", "kemarin"])
def test_bad_quarter_is_refused(client, auth, bad):
    assert client.get(f"/api/analysis/pack?quarter={bad}",
                      headers=auth["planner"]).status_code == 422
