"""The metric projection follows the area: a 150 m hex is 150 m on the ground anywhere."""

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import box

from geo_sigap.analytics.weights import hex_grid, to_lonlat, to_metric
from geo_sigap.domain.projection import (
    describe,
    metric_crs,
    metric_crs_for_frame,
    metric_crs_for_lonlat,
    utm_epsg,
)

PLACES = {  # lon, lat of a city centre → its UTM zone
    "jambi": ((103.61, -1.61), 32748),
    "surabaya": ((112.74, -7.26), 32749),
    "banda_aceh": ((95.32, 5.55), 32646),
    "medan": ((98.67, 3.59), 32647),
    "makassar": ((119.42, -5.14), 32750),
    "jayapura": ((140.70, -2.54), 32754),
}
GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("place", sorted(PLACES))
def test_utm_zone_of_indonesian_cities(place):
    (lon, lat), epsg = PLACES[place]
    assert utm_epsg(lon, lat) == epsg
    assert metric_crs(lon, lat) == f"EPSG:{epsg}"
    assert metric_crs_for_lonlat(np.array([lon - 0.01, lon + 0.01]),
                                 np.array([lat, lat])) == f"EPSG:{epsg}"


def test_describe_and_frames_in_other_crs():
    assert describe("EPSG:32749") == "UTM zona 49S (EPSG:32749)"
    assert describe("EPSG:32646", "en") == "UTM zone 46N (EPSG:32646)"
    area = gpd.GeoDataFrame(geometry=[box(112.70, -7.30, 112.78, -7.22)], crs=4326)
    assert metric_crs_for_frame(area.to_crs(3857)) == "EPSG:32749"
    assert utm_epsg(179.9, 0.0) == 32660 and utm_epsg(-180.0, 0.0) == 32601


def _adjacent_spacing_m(grid):
    """Geodesic distance between the centres of every pair of adjacent cells."""
    x, y = grid.centres()
    lon, lat = to_lonlat(x, y, crs=grid.crs)
    a = grid.adjacency().tocoo()
    _, _, d = GEOD.inv(lon[a.row], lat[a.row], lon[a.col], lat[a.col])
    return np.asarray(d)


@pytest.mark.parametrize("place", ["surabaya", "banda_aceh", "jayapura", "jambi"])
def test_150_m_hex_is_150_m_on_the_ground(place):
    (lon, lat), epsg = PLACES[place]
    area = gpd.GeoDataFrame(geometry=[box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)],
                            crs=4326)
    grid = hex_grid(area, 150)
    assert grid.crs == f"EPSG:{epsg}"
    d = _adjacent_spacing_m(grid)
    assert len(d) > 100
    assert np.all(np.abs(d - 150) <= 1.5), (d.min(), d.max())
    # points fall into the cells of the same projection
    x, y = grid.to_metric(np.array([lon]), np.array([lat]))
    assert grid.cell_index(x, y)[0] >= 0
    np.testing.assert_allclose(to_metric(np.array([lon]), np.array([lat]), crs=grid.crs), (x, y))


@pytest.mark.parametrize("place", ["banda_aceh", "jayapura"])
def test_one_zone_for_all_indonesia_was_wrong(place):
    # the old fixed UTM 48S: more than 1 % off far from 105°E
    (lon, lat), _ = PLACES[place]
    area = gpd.GeoDataFrame(geometry=[box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)],
                            crs=4326)
    d = _adjacent_spacing_m(hex_grid(area, 150, crs="EPSG:32748"))
    assert np.abs(d - 150).max() > 1.5


def test_no_points_project_to_nothing():
    x, y = to_metric(np.array([]), np.array([]))
    assert len(x) == len(y) == 0
    x, y = to_metric(np.array([np.nan]), np.array([np.nan]))
    assert np.isnan(x).all() and np.isnan(y).all()
