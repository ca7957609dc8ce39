"""Coverage for planners on the tiny network."""

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.teams import Role, Team, Vehicle
from geo_sigap.routing.coverage import coverage, coverage_layer, write_coverage

from .conftest import MOTOR_RES, NODES, leg


@pytest.fixture()
def units():
    # RW around B (south of Jalan Bawah), RW around E (north), RW on the island
    def cell(lon, lat):
        return box(lon - 0.0003, lat - 0.0003, lon + 0.0003, lat + 0.0003)

    return gpd.GeoDataFrame(
        {"code": ["K.RW001", "K.RW002", "K.RW003"], "name": ["RW 1", "RW 2", "RW 3"],
         "level": ["rw"] * 3},
        geometry=[cell(*NODES["B"]), cell(*NODES["E"]), cell(*NODES["G"])], crs="EPSG:4326")


def test_times_from_nearest_post(tiny_engine, units, tmp_path, config):
    teams = [Team("S1", "Satpol 1", Role.SATPOL_PP, NODES["D"]),
             Team("S2", "Satpol 2", Role.SATPOL_PP, NODES["F"], vehicle=Vehicle.MOBIL),
             Team("L1", "Linmas 1", Role.LINMAS, NODES["C"])]
    cat = load_categories().get("pkl")  # satpol_pp lead, linmas support, 120 min
    out = coverage(tiny_engine, units, teams, category=cat, target_min=0.9)
    assert list(out["code"]) == ["K.RW001", "K.RW002", "K.RW003"]
    # RW 2 is reached at its representative point: check against its snapped road
    row = out.iloc[1]
    assert row["satpol_pp_post"] == "S1"  # D→E along the one-way, motor
    pt = (row["point_lon"], row["point_lat"])
    via_d = tiny_engine.eta_from_teams(pt, [NODES["D"]], "motor").eta_s[0]
    assert row["satpol_pp_eta_min"] == pytest.approx(via_d / 60, abs=0.01)
    assert out.iloc[0]["linmas_post"] == "L1"
    # the island cannot be reached: NaN and beyond target
    assert out.iloc[2]["satpol_pp_eta_min"] != out.iloc[2]["satpol_pp_eta_min"]
    assert bool(out.iloc[2]["beyond_target"])
    assert out.iloc[0]["linmas_eta_min"] <= (leg("C", "B") / MOTOR_RES + 60) / 60
    gj = write_coverage(out, tmp_path / "cov.geojson")
    csv = write_coverage(out, tmp_path / "cov.csv")
    assert gpd.read_file(gj).shape[0] == 3
    assert "satpol_pp_eta_min" in csv.read_text(encoding="utf-8").splitlines()[0]
    layer = coverage_layer(out, "satpol_pp")
    assert layer.layer_name.startswith("Jangkauan")


def test_cli_functions(tmp_path, units, tiny_engine):
    from geo_sigap.routing.cli import build_network, export_coverage

    from .conftest import DATA

    said = []
    cache = build_network(DATA / "tiny.osm", cache_dir=tmp_path, echo=said.append)
    assert cache.exists() and "simpul" in said[-1]
    units_file = tmp_path / "rw.geojson"
    units.to_file(units_file, driver="GeoJSON")
    teams = [Team("S1", "Satpol 1", Role.SATPOL_PP, NODES["D"])]
    out = export_coverage(tiny_engine, units_file, teams, tmp_path / "cov.csv",
                          category=load_categories().get("pkl"), echo=said.append)
    assert out.exists() and "melebihi target" in said[-1]
