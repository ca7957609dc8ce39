"""`geo-sigap import boundaries` as a new user types it: summaries, reports, refusals."""

import json

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from geo_sigap.cli.main import app
from geo_sigap.storage import open_database
from geo_sigap.storage.units import load_units
from tests.importers.conftest import DATA

runner = CliRunner()


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", db_url)
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    return db_url


def _codes(db_url):
    db = open_database(db_url)
    try:
        with db.session() as s:
            return {u.code for u in load_units(s)}
    finally:
        db.dispose()


def _kel_file(tmp_path, rows):
    geoms = [shapely.box(103.60 + 0.01 * i, -1.64, 103.61 + 0.01 * i, -1.62)
             for i in range(len(rows))]
    f = tmp_path / "kelurahan.shp"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_file(f)
    return f


def test_osm_export_with_report_and_readable_summary(cli_env, tmp_path):
    q3 = tmp_path / "q3.json"
    r = runner.invoke(app, ["import", "boundaries", str(DATA / "tiny_admin.osm"),
                            "--report", str(q3)])
    assert r.exit_code == 0, r.output
    assert "Pencocokan nama" in r.output and "outside_parent" in r.output
    report = json.loads(q3.read_text())
    assert report["summary"]["outside_parent"] == 1
    assert report["summary"]["unreadable_label"] == 1
    assert report["source_columns"]["parent.kecamatan"] == "KEC_name"
    assert "15.71.11.1002.RW003" in _codes(cli_env)


def test_mixed_case_columns_and_local_ids(cli_env, tmp_path):
    f = _kel_file(tmp_path, [
        {"ID": 112, "Nama_Kel": "KEL. TALANG BAKUNG", "nama_kec": "KEC. PAAL MERAH",
         "Nama_Kota": "KOTA JAMBI"},
        {"ID": 113, "Nama_Kel": "payo selincah", "nama_kec": "Paal Merah",
         "Nama_Kota": "Jambi"}])
    r = runner.invoke(app, [
        "import", "boundaries", str(f), "--level", "kelurahan", "--map", "name=NAMA_KEL",
        "--map", "parent.kecamatan=NAMA_KEC", "--map", "parent.kabupaten_kota=NAMA_KOTA",
        "--map", "code=id"])
    assert r.exit_code == 0, r.output
    assert {"15.71.11.1001", "15.71.11.1002", "15.71.11", "15.71", "15"} <= _codes(cli_env)


def test_mapped_column_missing_is_refused_in_bahasa(cli_env, tmp_path):
    f = _kel_file(tmp_path, [{"NAMA": "Talang Bakung"}])
    r = runner.invoke(app, ["import", "boundaries", str(f), "--level", "kelurahan",
                            "--map", "name=NAMA_KEL"])
    assert r.exit_code == 2
    assert "kolom yang dipetakan tidak ada" in r.output and "NAMA" in r.output
    assert _codes(cli_env) == set()


def test_names_that_match_nothing_are_refused_nothing_stored(cli_env, tmp_path):
    f = _kel_file(tmp_path, [{"NAMA": f"Persil {i}"} for i in range(5)]
                  + [{"NAMA": "Talang Bakung"}])
    r = runner.invoke(app, ["import", "boundaries", str(f), "--level", "kelurahan"])
    assert r.exit_code == 2
    out = " ".join(r.output.split())
    assert "ditolak" in out and "hanya 1 dari 6" in out and "Persil 0" in out
    assert _codes(cli_env) == set()


def test_bad_admin_level_option_refused(cli_env):
    r = runner.invoke(app, ["import", "boundaries", str(DATA / "tiny_admin.osm"),
                            "--admin-level", "sembilan"])
    assert r.exit_code == 2 and "--admin-level" in r.output
