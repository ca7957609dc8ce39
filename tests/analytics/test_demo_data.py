"""Analytics finds the patterns planted in the demo data (data/demo, synthetic)."""

from pathlib import Path

import numpy as np
import pytest

from geo_sigap.analytics.frames import filter_incidents
from geo_sigap.analytics.loaders import load_demo_incidents

REPO = Path(__file__).resolve().parents[2]
SLICES = ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]


@pytest.fixture(scope="module")
def demo():
    if not (REPO / "data" / "demo" / "incidents.csv").exists():
        pytest.fail("demo data missing: run python -m geo_sigap.demo.generate")
    return load_demo_incidents(REPO)


@pytest.fixture(scope="module")
def hexes(demo):
    from geo_sigap.analytics.hotspots import units_of_level
    from geo_sigap.analytics.weights import hex_grid, to_metric

    grid = hex_grid(units_of_level(demo.units, "kelurahan"), 250)
    x, y = to_metric(demo.incidents["lon"].to_numpy(), demo.incidents["lat"].to_numpy())
    idx = grid.cell_index(x, y)
    inc = demo.incidents.assign(hex_code=np.where(idx >= 0, grid.codes()[np.maximum(idx, 0)],
                                                  None))
    return grid, inc


def test_loader_places_every_incident_in_a_kelurahan(demo):
    inc = demo.incidents
    assert len(inc) > 10_000
    assert inc["kelurahan_code"].notna().all() and inc["rw_code"].notna().all()
    assert str(inc["reported_at"].dt.tz) == "Asia/Jakarta"
    assert inc["lead_role"].notna().mean() > 0.9


def _ehsa(hexes, category):
    from geo_sigap.analytics.emerging import emerging_hotspots

    grid, inc = hexes
    res = emerging_hotspots(filter_incidents(inc, categories=category), grid.codes(),
                            grid.adjacency(), "hex", freq="quarter", slices=SLICES,
                            permutations=9999)
    cx, cy = grid.centres()
    return res.table, cx, cy


def _near(cx, cy, lon, lat, metres):
    from geo_sigap.analytics.weights import to_metric

    x, y = to_metric(np.array([lon]), np.array([lat]))
    return np.hypot(cx - x[0], cy - y[0]) <= metres


def test_pkl_is_a_persistent_hotspot_at_the_market(hexes):
    t, cx, cy = _ehsa(hexes, "pkl")
    market = _near(cx, cy, 103.649468, -1.620307, 300)
    persistent = t["classification"].to_numpy() == "persistent hotspot"
    assert persistent[market].any()
    assert not (persistent & ~_near(cx, cy, 103.649468, -1.620307, 1200)).any()


def test_pekat_is_new_in_eka_jaya_rw003(hexes, demo):
    t, cx, cy = _ehsa(hexes, "pekat")
    cls = t["classification"].to_numpy()
    rw = demo.units.loc[demo.units["code"] == "15.71.11.1003.RW003"].to_crs("EPSG:32748")
    import shapely

    inside = shapely.contains_xy(rw.geometry.iloc[0].buffer(250), cx, cy)
    emerging = np.isin(cls, ["new hotspot", "consecutive hotspot", "intensifying hotspot"])
    assert emerging[inside].any()
    assert not (cls[inside] == "persistent hotspot").any()


def test_keributan_is_diminishing_at_the_terminal(hexes):
    t, cx, cy = _ehsa(hexes, "keributan")
    terminal = _near(cx, cy, 103.639176, -1.646875, 400)
    assert (t["classification"].to_numpy()[terminal] == "diminishing hotspot").any()
