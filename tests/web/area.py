"""A tiny synthetic area for web tests: 2 kelurahan sharing a border, 4 RW, 1 RT, roads.

Lon/lat EPSG:4326 near Paal Merah, Kota Jambi; every shape is invented.
"""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import Polygon, box

from geo_sigap.domain.admin import AdminLevel, AdminUnit

KEC = "15.71.11"
KEL_A, KEL_B = "15.71.11.1001", "15.71.11.1002"
X0, Y0, X1, Y1, XM = 103.620, -1.650, 103.640, -1.630, 103.630


def _wavy(x0, y0, x1, y1, n=40) -> Polygon:
    """A box whose top edge has many small vertices (so simplification has work to do)."""
    import math

    top = [(x1 - (x1 - x0) * i / n, y1 + 2e-6 * math.sin(i)) for i in range(n + 1)]
    return Polygon([(x0, y0), (x1, y0), *top])


def units() -> list[AdminUnit]:
    out = [AdminUnit(code=KEC, level=AdminLevel.KECAMATAN, name="Paal Merah",
                     geometry=box(X0, Y0, X1, Y1))]
    out.append(AdminUnit(code=KEL_A, level=AdminLevel.KELURAHAN, name="Talang Bakung",
                         parent_code=KEC, geometry=_wavy(X0, Y0, XM, Y1)))
    out.append(AdminUnit(code=KEL_B, level=AdminLevel.KELURAHAN, name="Payo Selincah",
                         parent_code=KEC, geometry=_wavy(XM, Y0, X1, Y1)))
    for kel, (a, b) in ((KEL_A, (X0, XM)), (KEL_B, (XM, X1))):
        ym = (Y0 + Y1) / 2
        for i, (y0, y1) in enumerate(((Y0, ym), (ym, Y1)), start=1):
            out.append(AdminUnit(code=f"{kel}.RW{i:03d}", level=AdminLevel.RW,
                                 name=f"RW {i:03d}", parent_code=kel, geometry=box(a, y0, b, y1)))
    out.append(AdminUnit(code=f"{KEL_A}.RW001.RT001", level=AdminLevel.RT, name="RT 001",
                         parent_code=f"{KEL_A}.RW001", geometry=box(X0, Y0, X0 + 0.005, Y0 + 0.005)))
    return out


def write_roads(path: Path) -> Path:
    """A small GeoJSON road network: a grid of 3 × 3 streets."""
    feats = []
    for i in range(3):
        y = Y0 + 0.005 + i * 0.005
        feats.append({"type": "Feature", "properties": {"highway": "secondary", "name": f"Jl. {i}"},
                      "geometry": {"type": "LineString",
                                   "coordinates": [[X0 + k * 0.001, y] for k in range(21)]}})
        x = X0 + 0.005 + i * 0.005
        feats.append({"type": "Feature", "properties": {"highway": "residential", "name": None},
                      "geometry": {"type": "LineString", "coordinates": [[x, Y0], [x, Y1]]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path
