"""RW/RT labels as real files hold them: parsed, or listed when they cannot be."""

import geopandas as gpd
import pytest
import shapely

from geo_sigap.domain.admin import RwRtLabel, parse_rw_rt_label
from geo_sigap.errors import InvalidInput
from geo_sigap.importers.boundaries import FieldMapping, read_boundaries


@pytest.mark.parametrize("value, expect, label", [
    ("RW 01", "rw", RwRtLabel(1)), ("RW18", "rw", RwRtLabel(18)), ("RW.005", "rw", RwRtLabel(5)),
    ("RW 1 A", "rw", RwRtLabel(1, None, "A")), ("001", "rw", RwRtLabel(1)),
    ("RT 03/RW 05", "rw", RwRtLabel(5, 3)), ("RT 03/RW 05", "rt", RwRtLabel(5, 3)),
    ("RW 011", "rw", RwRtLabel(11)), (7, "rw", RwRtLabel(7)), (5.0, "rw", RwRtLabel(5)),
    ("5.0", "rw", RwRtLabel(5)), ("rw-02 / rt 3", "rt", RwRtLabel(2, 3)),
    ("Rukun Warga 4", "rw", RwRtLabel(4)), ("003", "rt", RwRtLabel(None, 3)),
])
def test_labels_parsed(value, expect, label):
    assert parse_rw_rt_label(value, expect) == label


@pytest.mark.parametrize("value", ["Makam Belanda", "SIER", "", "RW", "RW 0", 5.5,
                                   float("nan"), None, "PERTAMINA"])
def test_unreadable_labels_raise(value):
    with pytest.raises(InvalidInput):
        parse_rw_rt_label(value, "rw")


def test_rw_file_with_text_labels_and_parent_names(tmp_path):
    labels = ["RW 01", "RW18", "RW.005", "RW 1 A", "006", "7", "8.0", "Makam Umum"]
    geoms = [shapely.box(103.600 + 0.001 * i, -1.63, 103.601 + 0.001 * i, -1.62)
             for i in range(len(labels))]
    f = tmp_path / "rw.gpkg"
    gpd.GeoDataFrame({"rw": labels,
                      "kelurahan": ["Kel. Talang Bakung"] * len(labels),
                      "KECAMATAN": ["KEC. PAAL MERAH"] * len(labels),
                      "kota": ["KOTA JAMBI"] * len(labels)},
                     geometry=geoms, crs="EPSG:4326").to_file(f)
    m = FieldMapping.from_options(["rw=RW", "parent.kelurahan=KELURAHAN",
                                   "parent.kecamatan=KECAMATAN", "parent.kabupaten_kota=KOTA"])
    data = read_boundaries(f, level="rw", mapping=m, derive_parents=False)
    codes = [u.code for u in data.units]
    kel = "15.71.11.1001"
    assert codes == [f"{kel}.RW{n:03d}" for n in (1, 5, 6, 7, 8, 18)]
    # "RW 1 A" and "RW 01" are one RW number: merged, and both facts reported
    assert data.report.count("duplicate_code") == 1 and data.report.count("label_suffix") == 1
    [bad] = [i for i in data.report.issues if i.kind == "unreadable_label"]
    assert "Makam Umum" in bad.message and "fitur #8" in bad.message
    assert {u.name for u in data.units} >= {"RW 001", "RW 018"}


def test_numeric_rw_column_and_kelurahan_from_geometry(tmp_path):
    """RW numbers stored as floats (5.0) and no kelurahan column: the kelurahan polygon
    already imported decides."""
    from geo_sigap.domain.admin import AdminLevel, AdminUnit

    kel = AdminUnit("15.71.11.1002", AdminLevel.KELURAHAN, "Payo Selincah", "15.71.11",
                    shapely.box(103.60, -1.64, 103.62, -1.60))
    f = tmp_path / "rw.shp"
    gpd.GeoDataFrame({"NO_RW": [5.0, 12.0]},
                     geometry=[shapely.box(103.60, -1.63, 103.61, -1.62),
                               shapely.box(103.61, -1.63, 103.62, -1.62)],
                     crs="EPSG:4326").to_file(f)
    data = read_boundaries(f, level="rw", context=[kel], derive_parents=False)
    assert [u.code for u in data.units] == ["15.71.11.1002.RW005", "15.71.11.1002.RW012"]


def test_rt_file_rw_from_label_or_from_the_rw_polygon(tmp_path):
    from geo_sigap.domain.admin import AdminLevel, AdminUnit

    kel = AdminUnit("15.71.11.1002", AdminLevel.KELURAHAN, "Payo Selincah", "15.71.11",
                    shapely.box(103.60, -1.64, 103.62, -1.60))
    rw7 = AdminUnit("15.71.11.1002.RW007", AdminLevel.RW, "RW 007", "15.71.11.1002",
                    shapely.box(103.61, -1.64, 103.62, -1.60))
    f = tmp_path / "rt.gpkg"
    gpd.GeoDataFrame({"LABEL": ["RT 03/RW 05", "RT.004"], "DESA": ["Payo Selincah"] * 2},
                     geometry=[shapely.box(103.600, -1.63, 103.605, -1.62),
                               shapely.box(103.612, -1.63, 103.615, -1.62)],
                     crs="EPSG:4326").to_file(f)
    m = FieldMapping.from_options(["rt=LABEL", "parent.desa=DESA"])
    data = read_boundaries(f, level="rt", mapping=m, context=[kel, rw7], derive_parents=False)
    assert [u.code for u in data.units] == ["15.71.11.1002.RW005.RT003",
                                            "15.71.11.1002.RW007.RT004"]
    assert [u.name for u in data.units] == ["RT 003", "RT 004"]


def test_rw_file_with_the_kelurahan_code_in_its_code_column(tmp_path):
    f = tmp_path / "rw.shp"
    gpd.GeoDataFrame({"KD_KEL": [1571111003, 1571111003], "NO_RW": ["RW 01", "RW 02"]},
                     geometry=[shapely.box(103.60, -1.63, 103.61, -1.62),
                               shapely.box(103.61, -1.63, 103.62, -1.62)],
                     crs="EPSG:4326").to_file(f)
    data = read_boundaries(f, level="rw", derive_parents=False)
    assert [u.code for u in data.units] == ["15.71.11.1003.RW001", "15.71.11.1003.RW002"]
    assert data.report.count("local_id_ignored") == 0
