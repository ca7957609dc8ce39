"""OSM XML boundary exports read directly (tests/data/boundaries/tiny_admin.osm).

The fixture is a JOSM-style export with negative ids: Kecamatan Paal Merah (admin_level
6, open ways joined into a ring, an inner ring), two kelurahan (7; Payo Selincah without
``KEC_name`` and with a member role missing), RW (9) named "RW 01", "RW.002", "RW 3"
(no ``KEL_name``: kelurahan from geometry) and "RW 04" tagged Talang Bakung but drawn in
Payo Selincah, a cemetery at level 9, and a relation whose way is not in the file.
"""

import pytest
from sqlalchemy import func, select

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.errors import ImportFailed
from geo_sigap.importers.boundaries import import_boundaries, read_boundaries
from geo_sigap.importers.osm_boundaries import parse_admin_levels, read_osm_boundaries
from geo_sigap.storage.tables import AdminUnitRow
from geo_sigap.storage.units import load_units
from tests.importers.conftest import DATA

TINY = DATA / "tiny_admin.osm"


def test_multipolygons_with_negative_ids_and_inner_rings():
    osm = read_osm_boundaries(TINY)
    f = osm.frame.set_index("osm_id")
    kec = f.loc["-1"].geometry
    assert kec.area == pytest.approx(0.04 * 0.04 - 0.005 * 0.01)  # the hole is cut out
    assert len(kec.geoms[0].interiors) == 1
    assert f.loc["-3"].geometry.area == pytest.approx(0.02 * 0.04 - 0.005 * 0.01)
    assert f.loc["-11", "level"] == "rw" and f.loc["-1", "level"] == "kecamatan"
    assert osm.skipped == ["relasi -16 (Eka Jaya): 1 garis anggotanya tidak ada dalam berkas"]


def test_import_osm_codes_from_names_and_parents_from_geometry(db):
    data = read_boundaries(TINY)
    got = {u.code: u for u in data.units}
    assert set(got) == {"15.71.11", "15.71.11.1001", "15.71.11.1002", "15.71.11.1001.RW001",
                        "15.71.11.1001.RW002", "15.71.11.1002.RW003", "15.71.11.1001.RW004"}
    assert got["15.71.11.1002"].attrs["code_from"].endswith("nama dalam induknya")
    assert got["15.71.11.1002.RW003"].attrs["code_from"] == "nomor + kelurahan dari poligon"
    assert got["15.71.11.1001"].name == "Talang Bakung"  # official, not "TALANG BAKUNG"
    kinds = data.report.summary()
    assert kinds["unreadable_label"] == 1 and kinds["incomplete_relation"] == 1
    # RW 04 says Talang Bakung but lies in Payo Selincah: reported with the right one
    [out] = [i for i in data.report.issues if i.kind == "outside_parent"]
    assert out.codes == ("15.71.11.1001.RW004", "15.71.11.1001", "15.71.11.1002")
    summary = import_boundaries(db, data)
    assert summary["inserted"] == 7
    with db.session() as s:
        levels = {u.code: u.level for u in load_units(s)}
    assert levels["15.71"] == AdminLevel.KABKOTA  # derived by dissolving, named from the list


def test_admin_level_override(tmp_path):
    f = tmp_path / "lvl11.osm"
    f.write_text(TINY.read_text().replace("v='9'", "v='11'"))
    plain = read_boundaries(f, derive_parents=False)
    assert not [u for u in plain.units if u.level == AdminLevel.RW]
    assert plain.report.count("unknown_level") == 1  # said, not silently dropped
    data = read_boundaries(f, admin_levels=parse_admin_levels(["11=rw"]), derive_parents=False)
    assert {u.code for u in data.units if u.level == AdminLevel.RW} == {
        "15.71.11.1001.RW001", "15.71.11.1001.RW002", "15.71.11.1002.RW003",
        "15.71.11.1001.RW004"}
    with pytest.raises(ImportFailed, match="admin-level"):
        parse_admin_levels(["rw"])


def test_unclosed_relation_refused_nothing_stored(db, tmp_path):
    text = TINY.read_text().replace("<member type='way' ref='-103' role='outer' />\n    "
                                    "<member type='way' ref='-105' role='inner' />",
                                    "<member type='way' ref='-105' role='inner' />")
    assert text != TINY.read_text()
    bad = tmp_path / "open.osm"
    bad.write_text(text)
    with pytest.raises(ImportFailed) as e:
        read_boundaries(bad)
    assert "relasi -1" in e.value.message_id and "tertutup" in e.value.message_id
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AdminUnitRow)) == 0


def test_unit_named_only_in_its_custom_tag(tmp_path):
    f = tmp_path / "kelname.osm"
    f.write_text(TINY.read_text().replace("<tag k='name' v='Payo Selincah' />",
                                          "<tag k='KEL_name' v='PAYO SELINCAH' />"))
    data = read_boundaries(f, derive_parents=False)
    assert "15.71.11.1002" in {u.code for u in data.units}


def test_osm_boundaries_saved_as_geojson_use_admin_level(tmp_path):
    """An Overpass/QGIS export of the same relations as GeoJSON (admin_level a property)."""
    frame = read_osm_boundaries(TINY).frame.drop(columns=["level"])
    f = tmp_path / "export.geojson"
    frame.to_file(f)
    data = read_boundaries(f, derive_parents=False)
    assert {u.code for u in data.units} >= {"15.71.11", "15.71.11.1001", "15.71.11.1002",
                                            "15.71.11.1002.RW003"}


def test_overpass_out_geom_with_inline_coordinates(tmp_path):
    """Overpass ``out geom;``: member ways carry their coordinates, no node elements."""
    import xml.etree.ElementTree as ET

    root = ET.parse(TINY).getroot()
    nodes = {n.get("id"): n for n in root.findall("node")}
    ways = {w.get("id"): w for w in root.findall("way")}
    out = ET.Element("osm", version="0.6", generator="Overpass API")
    for rel in root.findall("relation"):
        r = ET.SubElement(out, "relation", id=rel.get("id"))
        for m in rel.findall("member"):
            mm = ET.SubElement(r, "member", type="way", ref=m.get("ref"), role=m.get("role"))
            for nd in ways.get(m.get("ref"), ET.Element("x")).findall("nd"):
                n = nodes[nd.get("ref")]
                ET.SubElement(mm, "nd", lat=n.get("lat"), lon=n.get("lon"))
        for t in rel.findall("tag"):
            ET.SubElement(r, "tag", k=t.get("k"), v=t.get("v"))
    f = tmp_path / "overpass.osm"
    ET.ElementTree(out).write(f, encoding="utf-8", xml_declaration=True)
    data = read_boundaries(f, derive_parents=False)
    assert {u.code for u in data.units} == {
        "15.71.11", "15.71.11.1001", "15.71.11.1002", "15.71.11.1001.RW001",
        "15.71.11.1001.RW002", "15.71.11.1002.RW003", "15.71.11.1001.RW004"}
    kec = next(u for u in data.units if u.code == "15.71.11")
    assert len(kec.geometry.geoms[0].interiors) == 1
