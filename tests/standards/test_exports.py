"""``geo-sigap export incidents|hotspots``: GeoPackage and CSV, role-appropriate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from geo_sigap.cli.main import app
from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2

runner = CliRunner()
NAME, PHONE = "Yuliani Pelaporrahasia", "0813-2222-9090"


@pytest.fixture
def env(std_services, db_url, tmp_path, monkeypatch):
    """Four incidents this quarter (one pekat) and one the quarter before; the CLI
    pointed at the same database."""
    from geo_sigap.analytics.frames import Quarter
    from geo_sigap.dispatch.actors import Actor
    from geo_sigap.dispatch.intake import ReportInput, report_incident
    from geo_sigap.domain.lifecycle import UserRole

    now = datetime.now(UTC)
    quarter = Quarter.of(pd.Timestamp(now))
    op = Actor("operator", UserRole.OPERATOR)
    start = quarter.start.to_pydatetime()
    for cat, point, at in (("ternak", IN_RT1, start + timedelta(hours=1)),
                           ("pekat", IN_RT1, start + timedelta(hours=2)),
                           ("pkl", IN_RT2, start + timedelta(hours=3)),
                           ("keributan", IN_KEL_B, start + timedelta(hours=4)),
                           ("pkl", IN_KEL_B, start - timedelta(days=5))):
        at = min(at, now)
        report_incident(std_services, op, ReportInput(
            category=cat, description=f"Uraian {cat}", lon=point[0], lat=point[1],
            reporter_name=NAME, reporter_phone=PHONE, reported_at=at), now=now)
    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", db_url)
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GEO_SIGAP_SPATIALITE", "false")
    return {"dir": tmp_path, "quarter": str(quarter), "services": std_services}


def run(*args: str):
    r = runner.invoke(app, ["export", *args])
    return r


def test_incidents_gpkg_for_staff_without_personal_data(env):
    out = env["dir"] / "x.gpkg"
    r = run("incidents", "--format", "gpkg", "-o", str(out), "--quarter", env["quarter"])
    assert r.exit_code == 0, r.output
    assert "4 kejadian" in r.output
    assert pyogrio.list_layers(out)[0][0] == "incidents"
    gdf = gpd.read_file(out, layer="incidents")
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 4
    assert set(gdf["category"]) == {"ternak", "pekat", "pkl", "keributan"}
    pekat = gdf.loc[gdf["category"] == "pekat"].iloc[0]
    assert (pekat.geometry.x, pekat.geometry.y) == IN_RT1  # staff: exact
    for col in ("description", "reporter_name", "reporter_phone", "address_text"):
        assert col not in gdf.columns
    assert gdf["reported_at"].astype(str).str.contains(r"\+07:00").all()  # WIB
    everything = env["dir"] / "all.gpkg"
    assert run("incidents", "-o", str(everything)).exit_code == 0  # format from the suffix
    assert len(gpd.read_file(everything)) == 5


def test_public_csv_rounds_points_and_hides_sensitive_ones(env):
    out = env["dir"] / "publik.csv"
    r = run("incidents", "--format", "csv", "-o", str(out), "--audience", "publik",
            "--quarter", env["quarter"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert len(df) == 4 and "rt_code" not in df.columns
    pekat = df.loc[df["category"] == "pekat"].iloc[0]
    assert pd.isna(pekat["lon"]) and pd.isna(pekat["lat"])
    ternak = df.loc[df["category"] == "ternak"].iloc[0]
    assert (ternak["lon"], ternak["lat"]) == (round(IN_RT1[0], 3), round(IN_RT1[1], 3))
    text = out.read_text()
    assert NAME not in text and PHONE not in text and "Uraian" not in text


def test_personal_data_only_for_an_admin_and_audited(env):
    out = env["dir"] / "pribadi.csv"
    r = run("incidents", "-o", str(out), "--with-personal-data")
    assert r.exit_code == 2 and "admin" in r.output and not out.exists()
    r = run("incidents", "-o", str(out), "--with-personal-data", "--admin", "operator")
    assert r.exit_code == 2 and not out.exists()
    r = run("incidents", "-o", str(out), "--with-personal-data", "--admin", "admin",
            "--audience", "publik")
    assert r.exit_code == 2 and not out.exists()
    r = run("incidents", "-o", str(out), "--with-personal-data", "--admin", "admin")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype=str)
    assert set(df["reporter_phone"]) == {PHONE} and set(df["reporter_name"]) == {NAME}
    from sqlalchemy import select

    from geo_sigap.storage.tables import AuditRow

    with env["services"].db.session() as s:
        (entry,) = s.scalars(select(AuditRow).where(AuditRow.action == "export_personal_data"))
    assert entry.actor == "admin" and entry.details["rows"] == 5


def test_hotspots_gpkg_and_csv(env):
    gp, csv = env["dir"] / "hot.gpkg", env["dir"] / "hot.csv"
    r = run("hotspots", "-o", str(gp), "--quarter", env["quarter"])
    assert r.exit_code == 0, r.output
    gdf = gpd.read_file(gp, layer="hotspots")
    assert len(gdf) == 2 and gdf.crs.to_epsg() == 4326
    assert {"code", "count", "gi_z", "gi_label"} <= set(gdf.columns)
    assert sorted(gdf["count"]) == [1, 3]  # kelurahan B: 1 this quarter; A: 3
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    r = run("hotspots", "-o", str(csv), "--format", "csv", "--level", "kelurahan")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(csv)
    assert {"code", "count", "lon", "lat"} <= set(df.columns) and len(df) == 2


def test_bad_options_exit_2(env):
    assert run("incidents", "-o", str(env["dir"] / "x.shp")).exit_code == 2
    assert run("incidents", "-o", str(env["dir"] / "x.csv"), "--quarter", "2026Q9"
               ).exit_code == 2
    assert run("hotspots", "-o", str(env["dir"] / "h.csv"), "--level", "desa").exit_code == 2


def test_planner_page_downloads(env, client, auth):
    r = client.get("/api/exports/incidents", params={"format": "csv",
                                                     "quarter": env["quarter"]},
                   headers=auth["planner"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert f"incidents_{env['quarter']}.csv" in r.headers["content-disposition"]
    assert r.text.count("\n") == 5 and NAME not in r.text and PHONE not in r.text
    g = client.get("/api/exports/incidents", headers=auth["coordinator"])
    assert g.status_code == 200 and g.headers["content-type"] == "application/geopackage+sqlite3"
    path = env["dir"] / "dl.gpkg"
    path.write_bytes(g.content)
    assert len(gpd.read_file(path, layer="incidents")) == 5
    h = client.get("/api/exports/hotspots", params={"format": "csv"}, headers=auth["admin"])
    assert h.status_code == 200 and "gi_label" in h.text.splitlines()[0]
    assert client.get("/api/exports/incidents", headers=auth["operator"]).status_code == 403
    assert client.get("/api/exports/incidents").status_code == 401
    assert client.get("/api/exports/incidents", params={"format": "shp"},
                      headers=auth["planner"]).status_code == 422
