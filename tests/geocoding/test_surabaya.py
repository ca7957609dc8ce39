"""≥ 99.5 % of points inside Surabaya's 1,341 RW polygons are placed in their RW — on
the real layer and with every RW drawn 20 m over its neighbours (overlaps along every
border, across kelurahan borders too). Truth: the RW polygon that contains the point
(plain shapely on the original layer)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_sigap.geocoding import ReverseGeocoder
from tests.geocoding.surabaya import OSM, UTM, units

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def surabaya():
    if not OSM.exists():
        pytest.skip(f"../shared/data is absent ({OSM}); real-data tests need it")
    u = units()
    rw = u[u["level"] == "rw"].reset_index(drop=True)
    rng = np.random.default_rng(1)
    b = rw.total_bounds
    xs, ys = rng.uniform(b[0], b[2], 30_000), rng.uniform(b[1], b[3], 30_000)
    pi, ti = shapely.STRtree(rw.geometry.values).query(shapely.points(xs, ys), predicate="within")
    inside = np.full(len(xs), -1)
    inside[pi] = ti
    keep = inside >= 0
    return u, rw, xs[keep], ys[keep], rw["code"].to_numpy()[inside[keep]]


def test_real_rw_layer(surabaya):
    u, rw, xs, ys, truth = surabaya
    assert len(rw) == 1341 and len(xs) > 15_000
    df = ReverseGeocoder.from_units(u).locate_many(xs, ys)
    assert (df["rw_code"].astype(object).to_numpy() == truth).mean() >= 0.995


def test_rw_polygons_overlapping_their_neighbours(surabaya):
    u, rw, xs, ys, truth = surabaya
    grown = rw.to_crs(UTM)
    grown["geometry"] = grown.buffer(20)
    grown = grown.to_crs(4326)
    g = ReverseGeocoder.from_units(gpd.GeoDataFrame(
        pd.concat([u[u["level"] != "rw"], grown], ignore_index=True), crs=4326))
    df = g.locate_many(xs, ys)
    assert df["overlap"].mean() > 0.1  # the overlaps are really there
    got = df["rw_code"].astype(object).to_numpy()
    assert (got == truth).mean() >= 0.995
    # across kelurahan borders too: points whose two candidate RWs are in different kelurahan
    kel_of = dict(zip(rw["code"], rw["parent_code"]))
    cross = [i for i in np.flatnonzero(df["overlap"].to_numpy())
             if kel_of[truth[i]] != df["kelurahan_code"].iloc[i]
             or any(kel_of.get(a["code"]) != kel_of[truth[i]]
                    for a in g.locate(xs[i], ys[i]).alternatives if a["level"] == "rw")][:400]
    assert len(cross) > 50
    assert np.mean([got[i] == truth[i] for i in cross]) >= 0.99
    # one point at a time gives the same
    for i in range(0, len(xs), 97):
        assert g.locate(xs[i], ys[i]).placement.rw_code == (got[i] if isinstance(got[i], str)
                                                             else None)
