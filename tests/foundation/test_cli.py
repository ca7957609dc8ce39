"""The CLI as a user runs it: clear errors, exit codes, summaries."""

import json

import pytest
from typer.testing import CliRunner

from geo_sigap.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    return tmp_path


def test_create_admin_and_refusals(env):
    r = runner.invoke(app, ["user", "create-admin", "kasatpol", "--password", "rahasia-123"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["user", "create-admin", "kasatpol", "--password", "rahasia-123"])
    assert r.exit_code == 2 and "sudah dipakai" in r.output
    r = runner.invoke(app, ["user", "list"])
    assert "kasatpol" in r.output and "rahasia" not in r.output


def test_import_boundaries_broken_file_exit_2(env):
    bad = env / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "15.71.11.1003", "name": "X"},
         "geometry": {"type": "Point", "coordinates": [103.6, -1.6]}}]}))
    r = runner.invoke(app, ["import", "boundaries", str(bad)])
    assert r.exit_code == 2
    assert "ditolak" in r.output and "15.71.11.1003" in r.output


def test_import_demo_boundaries_with_report(env):
    from tests.paths import DEMO_DATA

    f = DEMO_DATA / "boundaries" / "paal_merah_demo" / "kelurahan.geojson"
    out = env / "quality.json"
    r = runner.invoke(app, ["import", "boundaries", str(f), "--report", str(out)])
    assert r.exit_code == 0, r.output
    assert "inserted" in r.output
    assert json.loads(out.read_text())["summary"] == {}  # the demo tiles without gaps


def test_config_categories_writes_editable_table(env):
    out = env / "cat.toml"
    r = runner.invoke(app, ["config", "categories", "-o", str(out)])
    assert r.exit_code == 0 and "[category.pkl]" in out.read_text()
    r = runner.invoke(app, ["config", "categories", "-o", str(out)])
    assert r.exit_code == 2  # never overwrites a user's file
