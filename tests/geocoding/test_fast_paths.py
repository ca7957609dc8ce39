"""Every fast path gives the plain answer on random inputs: the batch kernel, the
single-point path and the array path (overlap duels, gap rule) against shapely."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_sigap.geocoding import ReverseGeocoder
from tests.geocoding.reference import Reference, compare
from tests.geocoding.test_overlaps import overlap_units


def voronoi_rts(n: int, seed: int, jitter_overlap: float = 0.0) -> gpd.GeoDataFrame:
    """``n`` RT-like polygons (a Voronoi tessellation of random points), optionally each
    grown by ``jitter_overlap`` degrees so that neighbours overlap."""
    rng = np.random.default_rng(seed)
    x0, y0, size = 103.55, -1.70, 0.05
    pts = np.column_stack([rng.uniform(x0, x0 + size, n), rng.uniform(y0, y0 + size, n)])
    frame = shapely.box(x0, y0, x0 + size, y0 + size)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(pts), extend_to=frame)), frame)
    if jitter_overlap:
        cells = shapely.buffer(cells, jitter_overlap, join_style="mitre")
    codes = [f"15.71.90.{1000 + k // 50:04d}.RW{k // 10 % 5 + 1:03d}.RT{k % 10 + 1:03d}"
             for k in range(len(cells))]
    return gpd.GeoDataFrame({"code": codes, "name": [c[-5:] for c in codes], "level": "rt",
                             "parent_code": [c.rsplit(".", 1)[0] for c in codes]},
                            geometry=cells, crs=4326)


def _strtree_min_code(polys: gpd.GeoDataFrame, xs, ys) -> np.ndarray:
    srt = polys.sort_values("code").reset_index(drop=True)
    pi, ti = shapely.STRtree(srt.geometry.values).query(shapely.points(xs, ys),
                                                        predicate="intersects")
    best = np.full(len(xs), len(srt))
    np.minimum.at(best, pi, ti)
    codes = np.r_[srt["code"].to_numpy(dtype=object), None]
    return codes[best]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_equals_strtree_on_random_tessellations(seed):
    polys = voronoi_rts(400, seed)
    rng = np.random.default_rng(seed)
    b = polys.total_bounds
    xs = rng.uniform(b[0] - 0.002, b[2] + 0.002, 20_000)
    ys = rng.uniform(b[1] - 0.002, b[3] + 0.002, 20_000)
    # plus polygon vertices: points exactly on borders and corners
    v = shapely.get_coordinates(polys.geometry.values)[::7]
    xs, ys = np.r_[xs, v[:, 0]], np.r_[ys, v[:, 1]]
    g = ReverseGeocoder.from_units(polys, gap_tolerance_m=0)
    got = g.locate_many(xs, ys)["rt_code"].astype(object).to_numpy()
    want = _strtree_min_code(polys, xs, ys)
    got = np.where([isinstance(c, str) for c in got], got, None)
    assert (got == want).all()
    for i in range(0, len(xs), 53):  # the single-point path agrees
        assert g.locate(float(xs[i]), float(ys[i])).placement.rt_code == got[i]


@pytest.mark.parametrize("gap", [0, 50])
def test_overlapping_random_polygons_match_the_reference(gap):
    polys = voronoi_rts(120, 9, jitter_overlap=0.0002)  # ≈ 22 m over every neighbour
    rng = np.random.default_rng(gap)
    b = polys.total_bounds
    xs = rng.uniform(b[0] - 0.001, b[2] + 0.001, 1200)
    ys = rng.uniform(b[1] - 0.001, b[3] + 0.001, 1200)
    g = ReverseGeocoder.from_units(polys, gap_tolerance_m=gap)
    assert g.locate_many(xs, ys)["overlap"].mean() > 0.1
    assert compare(g, Reference(polys, gap_tolerance_m=gap), xs, ys) == []


def test_first_batch_needs_no_compilation_or_first_sight_work():
    """Everything is prepared at build: the per-combination cache is already full and
    a first batch adds nothing to it."""
    g = ReverseGeocoder.from_units(overlap_units(), gap_tolerance_m=0)
    before = len(g._results)
    assert before >= 10
    rng = np.random.default_rng(3)
    g.locate_many(rng.uniform(103.6, 103.62, 5000), rng.uniform(-1.66, -1.63, 5000))
    assert len(g._results) == before
