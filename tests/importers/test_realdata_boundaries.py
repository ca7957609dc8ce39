"""Real files, the commands of issue 10: codes from names must equal the official ones.

Jambi (BIG kelurahan with ``KDEPUM`` dropped), Sarolangun (desa names only), Surabaya
(a JOSM OSM boundary export without codes) and the national Kemendagri list, all in
``../shared/data``. The CLI runs in-process on SQLite and on PostGIS.
"""

import json

import geopandas as gpd
import pytest
import shapely
from rapidfuzz import fuzz
from typer.testing import CliRunner

from geo_sigap.cli.main import app
from geo_sigap.domain.admin import AdminLevel
from geo_sigap.importers.boundaries import read_boundaries
from geo_sigap.importers.wilayah import core_name, load_code_list
from geo_sigap.storage import open_database
from geo_sigap.storage.units import load_units
from tests.paths import SHARED_DATA, require_shared_data

pytestmark = pytest.mark.realdata
runner = CliRunner()
NATIONAL = SHARED_DATA / "wilayah" / "kode_wilayah_kepmendagri_2025.csv"
SURABAYA = SHARED_DATA / "surabaya" / "Adm_Surabaya_All.osm"


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", db_url)
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    return db_url


def _units(db_url):
    db = open_database(db_url)
    try:
        with db.session() as s:
            return {u.code: u for u in load_units(s)}
    finally:
        db.dispose()


def _compact(name):
    return core_name(name, AdminLevel.KECAMATAN)[0].replace(" ", "")


def _jambi_names_only(tmp_path):
    """The BIG file as a city might hand it out: a Shapefile, codes gone, odd columns."""
    src = gpd.read_file(require_shared_data() / "kelurahan_kota_jambi.geojson")
    shp = gpd.GeoDataFrame({
        "OBJECTID": [str(100 + i) for i in range(len(src))],  # a local id, not a code
        "NAMA_KEL": src["NAMOBJ"].str.upper(),
        "NAMA_KEC": "KEC. " + src["WADMKC"],
        "NAMA_KOTA": "KOTA JAMBI",
    }, geometry=src.geometry, crs="EPSG:4326")
    f = tmp_path / "kelurahan.shp"
    shp.to_file(f)
    return f, dict(zip(src["NAMOBJ"].str.upper(), src["KDEPUM"], strict=True))


def test_jambi_kelurahan_by_names_get_every_official_code(cli_env, tmp_path):
    f, truth = _jambi_names_only(tmp_path)
    q = tmp_path / "q.json"
    r = runner.invoke(app, [
        "import", "boundaries", str(f), "--level", "kelurahan", "--map", "name=NAMA_KEL",
        "--map", "parent.kecamatan=NAMA_KEC", "--map", "parent.kabupaten_kota=NAMA_KOTA",
        "--names", str(NATIONAL), "--report", str(q)])
    assert r.exit_code == 0, r.output
    report = json.loads(q.read_text())
    assert report["match_summary"] == {"exact": 68}
    assert len(report["matches"]) == 68
    got = {u.attrs.get("source_name", u.name).upper(): c for c, u in _units(cli_env).items()
           if u.level == AdminLevel.KELURAHAN}
    assert got == truth  # every one of the 68 codes equals the original KDEPUM
    units = _units(cli_env)
    assert units["15.71.11"].name == "Paal Merah" and units["15.71"].name == "Kota Jambi"


def test_rw_shapefile_command_after_the_kelurahan(cli_env, tmp_path):
    f, _ = _jambi_names_only(tmp_path)
    r = runner.invoke(app, ["import", "boundaries", str(f), "--level", "kelurahan",
                            "--map", "name=NAMA_KEL"])
    assert r.exit_code == 0, r.output
    # RW polygons cut from the Paal Merah kelurahan: three vertical strips each
    src = gpd.read_file(require_shared_data() / "kelurahan_kota_jambi.geojson")
    src = src[src["WADMKC"] == "Paal Merah"]
    rows, geoms, expected = [], [], set()
    styles = ["RW 01", "RW.002", "003"]
    for name, code, geom in zip(src["NAMOBJ"], src["KDEPUM"], src.geometry, strict=True):
        x0, y0, x1, y1 = geom.bounds
        for k in range(3):
            strip = shapely.box(x0 + (x1 - x0) * k / 3, y0, x0 + (x1 - x0) * (k + 1) / 3, y1)
            rows.append({"RW": styles[k], "KELURAHAN": name.lower(),
                         "KECAMATAN": "Kec. Paal Merah", "KOTA": "Jambi"})
            geoms.append(geom.intersection(strip))
            expected.add(f"{code}.RW00{k + 1}")
    rw = tmp_path / "rw.shp"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_file(rw)
    q2 = tmp_path / "q2.json"
    r = runner.invoke(app, [
        "import", "boundaries", str(rw), "--level", "rw", "--map", "rw=RW",
        "--map", "parent.kelurahan=KELURAHAN", "--map", "parent.kecamatan=KECAMATAN",
        "--map", "parent.kabupaten_kota=KOTA", "--names", str(NATIONAL), "--report", str(q2)])
    assert r.exit_code == 0, r.output
    got = {c for c, u in _units(cli_env).items() if u.level == AdminLevel.RW}
    assert got == expected
    report = json.loads(q2.read_text())
    assert report["summary"].get("outside_parent", 0) == 0
    assert report["source_columns"]["parent.kelurahan"] == "KELURAHAN"


def test_sarolangun_desa_names_only_get_every_official_code(tmp_path):
    src = gpd.read_file(require_shared_data() / "desa_kelurahan_sarolangun.geojson")
    f = tmp_path / "desa.gpkg"
    src[["nama", "geometry"]].to_file(f)
    data = read_boundaries(f, level="desa")  # no parents at all: the kabupaten is inferred
    got = {m["feature"]: m["code"] for m in data.report.matches}
    assert [got[i + 1] for i in range(len(src))] == list(src["kode"])
    assert data.report.count("inferred_parent") == 1


def test_surabaya_osm_export_imported_directly(cli_env, tmp_path):
    require_shared_data()
    q3 = tmp_path / "q3.json"
    r = runner.invoke(app, ["import", "boundaries", str(SURABAYA), "--report", str(q3)])
    assert r.exit_code == 0, r.output
    report = json.loads(q3.read_text())
    units = _units(cli_env)
    kel = {c: u for c, u in units.items() if u.level == AdminLevel.KELURAHAN}
    kec = {c: u for c, u in units.items() if u.level == AdminLevel.KECAMATAN}
    assert len(kec) == 31 and all(c.startswith("35.78.") for c in kec)
    assert len(kel) >= 0.98 * 154  # 152: Perak Utara/Timur are no longer in the 2025 list
    misses = [m["name"] for m in report["matches"]
              if m["level"] == "kelurahan" and m["code"] is None]
    assert sorted(misses) == ["Perak Timur", "Perak Utara"]
    # checked against the national list: the name, and the kecamatan of the code
    codes = load_code_list(NATIONAL)
    for c, u in kel.items():
        source = u.attrs.get("source_name", u.name)
        assert fuzz.ratio(core_name(source, AdminLevel.KELURAHAN)[0],
                          core_name(codes.name(c), AdminLevel.KELURAHAN)[0]) >= 85, (c, source)
        kec_tag = u.attrs.get("parent_name.kecamatan")
        if kec_tag:
            assert _compact(codes.name(c[:8])) == _compact(kec_tag), (c, kec_tag)
        # and by geometry: the kelurahan lies in the kecamatan its code names
        assert u.geometry.representative_point().within(kec[c[:8]].geometry.buffer(1e-6))
    rw = [u for u in units.values() if u.level == AdminLevel.RW]
    assert len(rw) >= 1_270
    assert report["summary"]["unreadable_label"] == 41  # places at level 9, and no name
    assert any("Makam Belanda" in i["message"] for i in report["issues"])
