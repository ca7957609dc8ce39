"""The quality report over the whole layer: across parent borders, and against parents."""

import json

import shapely

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.importers.boundaries import read_boundaries


def _write(path, feats):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c, "name": c},
         "geometry": shapely.geometry.mapping(g)} for c, g in feats]}))
    return path


def test_overlap_and_gap_across_kecamatan_borders_are_reported(tmp_path):
    # 15.71.11.1001 (Paal Merah) overlaps 15.71.10.1001 (another kecamatan) by 0.001°;
    # a strip between 15.71.11.1002 and 15.71.10.1002 is covered by nobody (a gap along
    # the kecamatan border, inside the layer)
    f = _write(tmp_path / "kel.geojson", [
        ("15.71.11.1001", shapely.box(103.600, -1.610, 103.611, -1.600)),
        ("15.71.10.1001", shapely.box(103.610, -1.610, 103.620, -1.600)),
        ("15.71.11.1002", shapely.box(103.600, -1.620, 103.6095, -1.610)),
        ("15.71.10.1002", shapely.box(103.610, -1.620, 103.620, -1.610)),
        ("15.71.11.1003", shapely.box(103.600, -1.630, 103.620, -1.620)),
    ])
    data = read_boundaries(f)
    overlaps = [i for i in data.report.issues if i.kind == "overlap"]
    assert [set(i.codes) for i in overlaps] == [{"15.71.11.1001", "15.71.10.1001"}]
    assert overlaps[0].area_m2 > 100_000 * 0.9  # ~0.001° × 0.01° ≈ 111 m × 1.1 km
    gaps = [i for i in data.report.issues if i.kind == "gap"]
    assert len(gaps) == 1 and {"15.71.11.1002", "15.71.10.1002"} <= set(gaps[0].codes)
    assert gaps[0].lon is not None and 103.609 < gaps[0].lon < 103.611


def test_rw_checked_against_its_kelurahan_polygon(tmp_path):
    west = AdminUnit("15.71.11.1001", AdminLevel.KELURAHAN, "Talang Bakung", "15.71.11",
                     shapely.box(103.60, -1.62, 103.61, -1.60))
    east = AdminUnit("15.71.11.1002", AdminLevel.KELURAHAN, "Payo Selincah", "15.71.11",
                     shapely.box(103.61, -1.62, 103.62, -1.60))
    f = _write(tmp_path / "rw.geojson", [
        ("15.71.11.1001.RW001", shapely.box(103.600, -1.62, 103.605, -1.60)),  # fine
        ("15.71.11.1001.RW002", shapely.box(103.611, -1.62, 103.619, -1.60)),  # in 1002
        ("15.71.11.1001.RW003", shapely.box(103.606, -1.62, 103.6108, -1.60)),  # 17 % out
    ])
    data = read_boundaries(f, context=[west, east], derive_parents=False)
    [out] = [i for i in data.report.issues if i.kind == "outside_parent"]
    assert out.codes == ("15.71.11.1001.RW002", "15.71.11.1001", "15.71.11.1002")
    assert "15.71.11.1002" in out.message
    [part] = [i for i in data.report.issues if i.kind == "partly_outside_parent"]
    assert part.codes[0] == "15.71.11.1001.RW003"
    # the part of kelurahan 1001 no RW covers is a gap of that kelurahan
    assert any(i.kind == "gap" and i.codes == ("15.71.11.1001",) for i in data.report.issues)
