"""Snapping finds the truly nearest usable road (checked against shapely, brute force)."""

import numpy as np
import shapely

from geo_sigap.routing.graph import from_edges
from geo_sigap.routing.snap import LocalProjection, SnapIndex


def test_nearest_edge_matches_brute_force(config):
    rng = np.random.default_rng(5)
    n = 60
    lon = 103.60 + rng.uniform(0, 0.02, n)
    lat = -1.63 + rng.uniform(0, 0.02, n)
    edges = []
    for _ in range(90):
        a, b = rng.choice(n, 2, replace=False)
        mid = ((lon[a] + lon[b]) / 2 + rng.normal(0, 0.001), (lat[a] + lat[b]) / 2)
        tags = {"highway": "residential"} if rng.random() < 0.7 else \
            {"highway": "path", "motorcar": "no"}
        edges.append((a, b, tags, [(lon[a], lat[a]), mid, (lon[b], lat[b])]))
    g = from_edges(lon, lat, edges, config)
    proj = LocalProjection(103.61, -1.62)
    for profile in ("motor", "mobil"):
        index = SnapIndex(g, profile, proj)
        p = g.profile_index(profile)
        usable = np.flatnonzero(np.isfinite(g.edge_time[p]))
        lines = []
        for e in usable:
            x, y = proj.forward(g.geom_lon[g.geom_ptr[e]:g.geom_ptr[e + 1]],
                                g.geom_lat[g.geom_ptr[e]:g.geom_ptr[e + 1]])
            lines.append(shapely.linestrings(np.column_stack([x, y])))
        qlon = 103.60 + rng.uniform(-0.005, 0.025, 300)
        qlat = -1.63 + rng.uniform(-0.005, 0.025, 300)
        snaps = index.snap(qlon, qlat)
        qx, qy = proj.forward(qlon, qlat)
        pts = shapely.points(qx, qy)
        brute = np.min(shapely.distance(pts[:, None], np.array(lines)[None, :]), axis=1)
        np.testing.assert_allclose(snaps.access_m, brute, atol=1e-6)
        assert np.all(np.isfinite(g.edge_time[p, snaps.edge]))  # only usable roads
        # the snapped point lies on the snapped edge at the reported fraction
        sx, sy = proj.forward(snaps.lon, snaps.lat)
        np.testing.assert_allclose(np.hypot(sx - qx, sy - qy), snaps.access_m, atol=1e-6)
        assert np.all((snaps.frac >= 0) & (snaps.frac <= 1))
