"""Importers: real Jambi/Sarolangun data, other CRSs, broken files refused whole."""

import json

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.domain.categories import load_categories
from geo_sigap.errors import ImportFailed
from geo_sigap.importers.boundaries import (
    FieldMapping,
    apply_code_names,
    import_boundaries,
    read_boundaries,
)
from geo_sigap.importers.incidents import import_incidents, read_incidents
from geo_sigap.importers.placement import placer_from_db
from geo_sigap.importers.teams import import_teams, read_teams
from geo_sigap.storage.tables import AdminUnitRow, IncidentRow, TeamRow
from geo_sigap.storage.units import load_units
from tests.paths import require_shared_data


def _count(db, table):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(table))


@pytest.mark.realdata
def test_all_68_kota_jambi_kelurahan_import_with_codes(db):
    jambi = require_shared_data()
    data = read_boundaries(jambi / "kelurahan_kota_jambi.geojson")
    apply_code_names(data, jambi / "kode_wilayah_jambi_kepmendagri_2025.csv")
    summary = import_boundaries(db, data)
    assert summary["inserted"] == 68
    src = gpd.read_file(jambi / "kelurahan_kota_jambi.geojson")
    with db.session() as s:
        got = {u.code: u for u in load_units(s)}
    assert set(src["KDEPUM"]) <= set(got)
    assert got["15.71.11.1003"].name == "Eka Jaya"
    # kecamatan and kota derived by dissolving, named from WADMKC / the Kemendagri list
    assert got["15.71.11"].level == AdminLevel.KECAMATAN and got["15.71.11"].name == "Paal Merah"
    assert got["15.71"].name == "Kota Jambi"
    assert got["15.71.11"].geometry.area == pytest.approx(
        sum(got[c].geometry.area for c in got if c.startswith("15.71.11.")), rel=1e-6)


@pytest.mark.realdata
def test_all_158_sarolangun_desa_import_with_quality_report(db):
    jambi = require_shared_data()
    data = read_boundaries(jambi / "desa_kelurahan_sarolangun.geojson")
    apply_code_names(data, jambi / "kode_wilayah_jambi_kepmendagri_2025.csv")
    assert len(data.units) == 158
    assert all(u.code.startswith("15.03.") for u in data.units)
    # the simplified outlines overlap and leave gaps: reported, not hidden
    assert data.report.count("overlap") > 0 and data.report.count("gap") > 0
    assert import_boundaries(db, data)["inserted"] == 158
    with db.session() as s:
        kec = [u for u in load_units(s, [AdminLevel.KECAMATAN])]
    assert len(kec) == 11 and all(not u.name.startswith("Kecamatan 15.") for u in kec)


def test_projected_crs_and_mapping_options(tmp_path):
    poly = shapely.box(103.64, -1.62, 103.66, -1.60)
    g = gpd.GeoDataFrame({"KODE_KEL": ["1571111003"], "NAMA": ["Eka Jaya"], "JIWA": ["12000"]},
                         geometry=[poly], crs="EPSG:4326").to_crs(32748)
    f = tmp_path / "kel.gpkg"
    g.to_file(f, driver="GPKG")
    m = FieldMapping.from_options(["code=KODE_KEL", "name=NAMA", "population=JIWA"])
    data = read_boundaries(f, mapping=m, level="kelurahan")
    [u] = data.units
    assert (u.code, u.name, u.population) == ("15.71.11.1003", "Eka Jaya", 12000)
    assert u.geometry.bounds == pytest.approx(poly.bounds, abs=1e-6)  # back in EPSG:4326
    assert data.crs.endswith("32748")


def test_invalid_geometry_is_repaired_and_reported(tmp_path):
    bowtie = shapely.Polygon([(103.64, -1.62), (103.66, -1.60), (103.66, -1.62), (103.64, -1.60)])
    f = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"code": ["15.71.11.1003"], "name": ["Eka Jaya"]}, geometry=[bowtie],
                     crs="EPSG:4326").to_file(f)
    data = read_boundaries(f)
    assert data.units[0].geometry.is_valid
    assert data.report.count("repaired_geometry") == 1


def _write(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def _feat(code, geom):
    return {"type": "Feature", "properties": {"code": code, "name": code},
            "geometry": shapely.geometry.mapping(geom)}


def test_broken_files_refused_with_nothing_imported(db, tmp_path):
    good = shapely.box(103.64, -1.62, 103.66, -1.60)
    line = shapely.LineString([(103.6, -1.6), (103.7, -1.7)])
    f = tmp_path / "broken.geojson"
    _write(f, [_feat("15.71.11.1003", good), _feat("15.71.11.1004", line)])
    with pytest.raises(ImportFailed) as e:
        read_boundaries(f)
    assert "fitur #2" in e.value.message_id and "15.71.11.1004" in e.value.message_id
    assert _count(db, AdminUnitRow) == 0
    # missing required column
    nocode = tmp_path / "nocode.geojson"
    nocode.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nama_kel": "X"},
         "geometry": shapely.geometry.mapping(good)}]}))
    with pytest.raises(ImportFailed) as e:
        read_boundaries(nocode)
    assert "kolom wajib" in e.value.message_id and "nama_kel" in e.value.message_id
    # not a geospatial file at all
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not json")
    with pytest.raises(ImportFailed, match="cannot be read"):
        read_boundaries(junk)
    # projected coordinates without a CRS
    raw = tmp_path / "nocrs.geojson"
    raw.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feat("15.71.11.1003", shapely.box(400000, 9800000, 401000, 9801000))]}))
    with pytest.raises(ImportFailed) as e:
        read_boundaries(raw)
    assert "--crs" in e.value.message_id
    shp = tmp_path / "noprj.shp"  # a Shapefile without its .prj
    gpd.GeoDataFrame({"code": ["15.71.11.1003"], "name": ["x"]},
                     geometry=[shapely.box(400000, 9800000, 401000, 9801000)]).to_file(shp)
    with pytest.raises(ImportFailed, match="unknown coordinate system"):
        read_boundaries(shp)
    assert read_boundaries(shp, source_crs="EPSG:32748").units[0].geometry.bounds[0] > 100
    assert _count(db, AdminUnitRow) == 0


def test_overlap_gap_and_duplicate_codes_reported(tmp_path):
    f = tmp_path / "rw.geojson"
    a = shapely.box(0, 0, 0.01, 0.01)
    b = shapely.box(0.009, 0, 0.02, 0.01)  # overlaps a
    c = shapely.box(0.021, 0, 0.03, 0.01)  # leaves a hole? no: separate → fine
    ring = shapely.box(0, 0.02, 0.03, 0.05).difference(shapely.box(0.01, 0.03, 0.02, 0.04))
    _write(f, [_feat("15.71.11.1003.RW001", a), _feat("15.71.11.1003.RW002", b),
               _feat("15.71.11.1003.RW003", c), _feat("15.71.11.1003.RW004", ring),
               _feat("15.71.11.1003.RW004", shapely.box(0.1, 0.1, 0.11, 0.11))])
    data = read_boundaries(f, derive_parents=False)
    assert data.report.count("overlap") == 1
    assert data.report.count("gap") >= 1
    assert data.report.count("duplicate_code") == 1
    assert {u.code for u in data.units} == {f"15.71.11.1003.RW00{i}" for i in range(1, 5)}


def test_teams_csv_all_or_nothing(db, tmp_path):
    f = tmp_path / "teams.csv"
    f.write_text(
        "code,name,role,phone,vehicle,post_lon,post_lat,area_codes\n"
        "BHB-1,Bhabin Eka Jaya,bhabinkamtibmas,0812-1111-2222,motor,103.65,-1.61,15.71.11.1003\n"
        "SAT-1,TRC Satpol PP,satpol_pp,,mobil,103.64,-1.64,15.71.11\n")
    teams = read_teams(f)
    assert teams[0].phone == "+6281211112222"
    assert import_teams(db, teams)["inserted"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,role,phone,vehicle,post_lon,post_lat,area_codes\n"
        "L-1,Linmas,linmas,,motor,103.65,-1.61,15.71.11.1003.RW002\n"
        "X-1,Polisi hutan,polisi_hutan,,motor,103.65,-1.61,\n"
        "X-2,Jauh,linmas,,motor,nan,-1.61,\n")
    with pytest.raises(ImportFailed) as e:
        read_teams(bad)
    assert "baris 3" in e.value.message_id and "baris 4" in e.value.message_id
    assert _count(db, TeamRow) == 2


def test_incident_history_csv(db, tmp_path):
    poly = shapely.box(103.64, -1.62, 103.66, -1.60)
    f = tmp_path / "kel.geojson"
    _write(f, [_feat("15.71.11.1003", poly)])
    import_boundaries(db, read_boundaries(f))
    tf = tmp_path / "teams.csv"
    tf.write_text("code,name,role,phone,vehicle,post_lon,post_lat,area_codes\n"
                  "BHB-1,Bhabin,bhabinkamtibmas,,motor,103.65,-1.61,15.71.11.1003\n")
    import_teams(db, read_teams(tf))
    hist = tmp_path / "inc.csv"
    hist.write_text(
        "ticket,category,description,channel,lon,lat,reported_at,verified_at,dispatched_at,"
        "on_scene_at,resolved_at,lead_team\n"
        "H-1,keributan,ribut,hotline,103.65,-1.61,2025-03-04T21:15:00+07:00,"
        "2025-03-04T21:20:00+07:00,2025-03-04T21:25:00+07:00,2025-03-04T21:40:00+07:00,"
        "2025-03-05T08:00:00+07:00,BHB-1\n"
        "H-2,pkl,lapak,wa_group,103.90,-1.61,2025-03-04 10:00,,,,,\n")
    cats = load_categories()
    incs, links = read_incidents(hist, cats)
    summary = import_incidents(db, incs, links, placer_from_db(db))
    assert summary == {"inserted": 2, "skipped_existing": 0, "outside_coverage": 1}
    with db.session() as s:
        rows = {r.ticket: r for r in s.scalars(select(IncidentRow))}
        assert rows["H-1"].kelurahan_code == "15.71.11.1003"
        assert rows["H-1"].status == "selesai"
        assert rows["H-1"].assignments[0].team_code == "BHB-1"
        assert rows["H-2"].reported_at.hour == 3  # 10:00 WIB = 03:00 UTC
    # re-import is idempotent
    assert import_incidents(db, incs, links, placer_from_db(db))["inserted"] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("category,lon,lat,reported_at,verified_at\n"
                   "banjirr,103.65,-1.61,2025-03-04T21:15:00+07:00,\n"
                   "pkl,103.65,-1.61,2025-03-04T21:15:00+07:00,2025-03-04T20:00:00+07:00\n")
    with pytest.raises(ImportFailed) as e:
        read_incidents(bad, cats)
    assert "baris 2" in e.value.message_id and "baris 3" in e.value.message_id


def _history_csv(path, n, *, start=0, bad_line=None):
    lines = ["ticket,category,description,channel,lon,lat,reported_at,verified_at,"
             "dispatched_at,on_scene_at,resolved_at,lead_team,support_teams,status,priority"]
    for i in range(start, start + n):
        lon = 103.645 + (i % 100) * 0.0001
        lines.append(f"S-{i:06d},pkl,lapak {i},hotline,{lon:.6f},-1.61,"
                     f"2025-03-04T21:15:00+07:00,2025-03-04 21:20,,2025-03-04T21:40:00+07:00,"
                     f",{'BHB-1' if i % 2 else ''},,,")
    if bad_line is not None:
        lines[bad_line - 1] = lines[bad_line - 1].replace(",pkl,", ",banjirr,")
    path.write_text("\n".join(lines) + "\n")


def _incident_indexes(db) -> set[str]:
    from sqlalchemy import inspect

    with db.session() as s:
        insp = inspect(s.connection())
        return {f"{t}:{ix['name']}:{','.join(ix['column_names'])}"
                for t in ("incidents", "assignments") for ix in insp.get_indexes(t)}


def test_placement_columns_from_a_frame_equal_those_from_placements():
    """The bulk path writes each distinct placement's JSON once; the result must be the
    JSON of each row's own Placement (codes, names and flags in their places)."""
    from geo_sigap.importers.placement import placement_columns, placer_from_units

    a = shapely.box(103.60, -1.62, 103.62, -1.60)
    b = shapely.box(103.62, -1.62, 103.64, -1.60)
    units = [AdminUnit("15.71.11", AdminLevel.KECAMATAN, "Paal Merah", "15.71",
                       shapely.union_all([a, b])),
             AdminUnit("15.71.11.1001", AdminLevel.KELURAHAN, "Satu", "15.71.11", a),
             AdminUnit("15.71.11.1002", AdminLevel.KELURAHAN, "Dua", "15.71.11", b)]
    place = placer_from_units(units)
    lon = [103.61, 103.63, 103.61, 103.7, 103.62, 103.6301, -1.61]
    lat = [-1.61, -1.61, -1.615, -1.61, -1.61, -1.6101, 103.61]  # last: swapped
    import numpy as np

    fast = placement_columns(place.locate_many(np.array(lon), np.array(lat)))
    slow = placement_columns(place(np.array(lon), np.array(lat)))
    assert set(fast) == set(slow) == {"kecamatan_code", "kelurahan_code", "rw_code",
                                      "rt_code", "placement"}
    for k in fast:
        assert list(fast[k]) == list(slow[k]), k
    docs = [json.loads(d) for d in fast["placement"]]
    assert docs[0]["kelurahan_name"] == "Satu" and docs[1]["kelurahan_name"] == "Dua"
    assert docs[3]["kelurahan_code"] is None and fast["kelurahan_code"][3] is None
    assert any(d["flags"] for d in docs)  # flags carried (outside / border / swapped)


def test_streaming_import_equals_the_row_by_row_import(db, tmp_path):
    """import_incidents_csv (chunks, COPY/executemany) stores what read/import_incidents
    store, refuses a bad file whole, skips what is stored, and works across chunks."""
    from geo_sigap.importers.incidents import import_incidents_csv

    poly = shapely.Polygon([(103.64, -1.62), (103.66, -1.62), (103.66, -1.60), (103.64, -1.60)])
    from geo_sigap.storage.units import upsert_units
    with db.session() as s:
        upsert_units(s, [AdminUnit("15.71.11.1003", AdminLevel.KELURAHAN, "Eka Jaya",
                                   "15.71.11", poly)])
    tf = tmp_path / "teams.csv"
    tf.write_text("code,name,role,phone,vehicle,post_lon,post_lat,area_codes\n"
                  "BHB-1,Bhabin,bhabinkamtibmas,,motor,103.65,-1.61,15.71.11.1003\n")
    import_teams(db, read_teams(tf))
    cats = load_categories()
    indexes = _incident_indexes(db)
    assert {"incidents:ix_incidents_category_reported:category,reported_at,lon,lat",
            "incidents:ix_incidents_updated_at:updated_at"} <= indexes
    bad = tmp_path / "bad.csv"
    _history_csv(bad, 250, bad_line=180)
    with pytest.raises(ImportFailed) as e:
        import_incidents_csv(db, bad, cats, placer_from_db(db), chunk_rows=100)
    assert "baris 180" in e.value.message_id
    dup = tmp_path / "dup.csv"
    _history_csv(dup, 150)
    with open(dup, "a") as f:  # a ticket again, in another chunk
        f.write(dup.read_text().splitlines()[3] + "\n")
    with pytest.raises(ImportFailed) as e:
        import_incidents_csv(db, dup, cats, placer_from_db(db), chunk_rows=100)
    assert "baris 152" in e.value.message_id and "ganda" in e.value.message_id
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IncidentRow)) == 0

    good = tmp_path / "good.csv"
    _history_csv(good, 250)
    seen = []
    got = import_incidents_csv(db, good, cats, placer_from_db(db), chunk_rows=100,
                               progress=lambda step, done, total: seen.append((step, done)))
    assert got == {"inserted": 250, "skipped_existing": 0, "outside_coverage": 0}
    assert ("menyimpan", 250) in seen and ("menyimpan", 100) in seen
    # a load larger than the table rebuilt its secondary indexes: all there again
    assert ("menyusun indeks", 250) in seen
    assert _incident_indexes(db) == indexes
    again = import_incidents_csv(db, good, cats, placer_from_db(db), chunk_rows=100)
    assert again == {"inserted": 0, "skipped_existing": 250, "outside_coverage": 0}
    with db.session() as s:
        rows = {r.ticket: r for r in s.scalars(select(IncidentRow))}
        r = rows["S-000001"]
        assert r.kelurahan_code == "15.71.11.1003" and r.status == "di_lokasi"
        assert r.reported_at.hour == 14 and r.verified_at.hour == 14  # WIB → UTC
        assert r.assignments[0].team_code == "BHB-1" and r.assignments[0].kind == "lead"
        assert r.geom is not None and r.geom.x == pytest.approx(r.lon)
        assert r.placement["kelurahan_code"] == "15.71.11.1003"
        assert not rows["S-000000"].assignments
    # the same file through the row-by-row path gives the same stored rows
    other = tmp_path / "other.csv"
    _history_csv(other, 20, start=1000)
    incs, links = read_incidents(other, cats)
    import_incidents(db, incs, links, placer_from_db(db))
    with db.session() as s:
        a = s.scalar(select(IncidentRow).where(IncidentRow.ticket == "S-001001"))
        b = rows["S-000001"]
        for col in ("category", "status", "priority", "channel", "kelurahan_code", "rt_code",
                    "reported_at", "verified_at", "on_scene_at", "placement"):
            assert getattr(a, col) == getattr(b, col), col
