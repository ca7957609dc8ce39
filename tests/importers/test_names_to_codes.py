"""Kemendagri codes from names: normalisation, abbreviations, fuzzy, parent scope."""

import geopandas as gpd
import pytest
import shapely

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.errors import ImportFailed
from geo_sigap.importers.boundaries import (
    FieldMapping,
    existing_units,
    import_boundaries,
    read_boundaries,
)
from geo_sigap.importers.wilayah import BUNDLED_LIST, core_name, load_code_list, normalize_name


@pytest.fixture(scope="module")
def codes():
    return load_code_list()


def test_bundled_list_is_the_whole_country_with_its_licence(codes):
    assert len(codes.places) == 91_599
    levels = {lv: sum(1 for p in codes.places.values() if p.level == lv) for lv in AdminLevel
              if lv <= AdminLevel.KELURAHAN}
    assert levels == {AdminLevel.PROVINSI: 38, AdminLevel.KABKOTA: 514,
                      AdminLevel.KECAMATAN: 7_285, AdminLevel.KELURAHAN: 83_762}
    licence = BUNDLED_LIST.parent / "LICENSE-cahyadsn-wilayah.txt"
    assert "MIT License" in licence.read_text() and "Cahya DSN" in licence.read_text()
    assert BUNDLED_LIST.stat().st_size < 1_000_000  # compressed


@pytest.mark.parametrize("text, level, core, kind", [
    ("KOTA JAMBI", AdminLevel.KABKOTA, "jambi", "kota"),
    ("Kota Adm. Jakarta Utara", AdminLevel.KABKOTA, "jakarta utara", "kota"),
    ("Kab. Sarolangun", AdminLevel.KABKOTA, "sarolangun", "kabupaten"),
    ("KEC. PAAL MERAH", AdminLevel.KECAMATAN, "paal merah", "kecamatan"),
    ("Kel.Talang  Bakung", AdminLevel.KELURAHAN, "talang bakung", "kelurahan"),
    ("Desa Pelawan", AdminLevel.KELURAHAN, "pelawan", "desa"),
    ("Simpang III Sipin", AdminLevel.KELURAHAN, "simpang 3 sipin", None),
])
def test_prefixes_and_spelling_are_normalised(text, level, core, kind):
    assert core_name(text, level) == (core, kind)
    assert normalize_name("Dr. Soetomo") == normalize_name("DR SUTOMO")
    assert normalize_name("Pasi Kuala Ba'u") == "pasi kuala bau"


def test_kota_names_and_parent_scope(codes):
    kota = [codes.match(n, AdminLevel.KABKOTA).code
            for n in ("KOTA JAMBI", "Kota Jambi", "Jambi")]
    assert kota == ["15.71"] * 3
    bekasi = codes.match("Bekasi", AdminLevel.KABKOTA)  # a kota and a kabupaten
    assert bekasi.status == "ambiguous" and set(bekasi.candidates) == {"32.16", "32.75"}
    assert codes.match("Kab. Bekasi", AdminLevel.KABKOTA).code == "32.16"
    kec = codes.descendants("15.71", AdminLevel.KECAMATAN)
    assert codes.match("KEC. PAAL MERAH", AdminLevel.KECAMATAN, kec).code == "15.71.11"
    assert codes.match("Kota Baru", AdminLevel.KECAMATAN, kec).code == "15.71.07"
    fuzzy = codes.match("Talang Bakunk", AdminLevel.KELURAHAN,
                        codes.descendants("15.71.11", AdminLevel.KELURAHAN))
    assert (fuzzy.status, fuzzy.code) == ("fuzzy", "15.71.11.1001")
    # "Wonorejo" is a kelurahan in two kecamatan of Surabaya: the scope decides
    assert codes.match("Wonorejo", AdminLevel.KELURAHAN,
                       codes.descendants("35.78", AdminLevel.KELURAHAN)).status == "ambiguous"
    assert codes.match("Wonorejo", AdminLevel.KELURAHAN,
                       codes.descendants("35.78.05", AdminLevel.KELURAHAN)).code == \
        "35.78.05.1005"


def _kelurahan_file(tmp_path, rows, name="kel.gpkg"):
    """A tiny GeoPackage of boxes with the given attribute rows (EPSG:4326)."""
    geoms = [shapely.box(103.60 + 0.01 * i, -1.64, 103.61 + 0.01 * i, -1.62)
             for i in range(len(rows))]
    f = tmp_path / name
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_file(f)
    return f


def test_same_name_in_two_kecamatan_gets_two_codes(tmp_path):
    f = _kelurahan_file(tmp_path, [
        {"KODE": "112", "Nama_Kel": "WONOREJO", "nama_kec": "KEC. RUNGKUT", "KOTA": "KOTA SURABAYA"},
        {"KODE": "113", "Nama_Kel": "Wonorejo", "nama_kec": "Tegalsari", "KOTA": "Surabaya"},
        {"KODE": "114", "Nama_Kel": "Kel. Dr. Sutomo", "nama_kec": "TEGALSARI", "KOTA": "Surabaya"},
    ])
    m = FieldMapping.from_options(["name=NAMA_KEL", "parent.kecamatan=NAMA_KEC",
                                   "parent.kabupaten_kota=kota"])
    data = read_boundaries(f, level="kelurahan", mapping=m, derive_parents=False)
    got = {u.code: u.name for u in data.units}
    assert got == {"35.78.03.1005": "Wonorejo", "35.78.05.1005": "Wonorejo",
                   "35.78.05.1002": "Dr. Soetomo"}
    # the local ids are not Kemendagri codes: ignored (not refused) and said so
    assert data.report.count("local_id_ignored") == 1
    assert [m["status"] for m in data.report.matches] == ["exact", "exact", "exact"]
    assert {p["name"]: p["code"] for p in data.report.parent_matches} == {
        "KOTA SURABAYA": "35.78", "Surabaya": "35.78", "KEC. RUNGKUT": "35.78.03",
        "Tegalsari": "35.78.05", "TEGALSARI": "35.78.05"}


def test_misses_and_fuzzy_matches_are_listed(tmp_path):
    f = _kelurahan_file(tmp_path, [
        {"nama": "Talang Bakung", "kecamatan": "Paal Merah"},
        {"nama": "Payo Selincahh", "kecamatan": "Paal Merah"},
        {"nama": "Eka Jaya", "kecamatan": "Paal Merah"},
        {"nama": "Kampung Tidak Ada", "kecamatan": "Paal Merah"},
    ])
    data = read_boundaries(f, level="kelurahan", derive_parents=False)
    assert [u.code for u in data.units] == ["15.71.11.1001", "15.71.11.1002", "15.71.11.1003"]
    assert data.report.match_summary() == {"exact": 2, "fuzzy": 1, "missing": 1}
    [miss] = [i for i in data.report.issues if i.kind == "unmatched_name"]
    assert "Kampung Tidak Ada" in miss.message and "fitur #4" in miss.message
    assert data.report.count("fuzzy_match") == 1


def test_no_parent_columns_kota_inferred_from_the_names(tmp_path):
    names = ["Talang Bakung", "Payo Selincah", "Eka Jaya", "Lingkar Selatan", "Bakung Jaya"]
    f = _kelurahan_file(tmp_path, [{"NAMOBJ": n} for n in names])
    data = read_boundaries(f, level="kelurahan")
    assert sorted(u.code for u in data.units) == [f"15.71.11.100{i}" for i in (1, 2, 3, 4, 6)]
    assert {u.kind for u in data.units} == {"kelurahan"}  # 4th segment 1xxx
    assert data.report.count("inferred_parent") == 1
    # derived parents get their official names from the list
    assert {u.code: u.name for u in data.derived} == {
        "15.71.11": "Paal Merah", "15.71": "Kota Jambi", "15": "Jambi"}


def test_wrong_name_column_is_refused_with_nothing_stored(db, tmp_path):
    f = _kelurahan_file(tmp_path, [{"NAMA": f"Blok {i}", "KET": "x"} for i in range(6)])
    with pytest.raises(ImportFailed) as e:
        read_boundaries(f, level="kelurahan")
    assert "ditolak" in e.value.message_id and "Blok 0" in e.value.message_id
    assert existing_units(db) == []


def test_parents_matched_to_units_already_imported_first(db, tmp_path):
    """A kelurahan imported under a local spelling is found by that spelling later."""
    first = _kelurahan_file(tmp_path, [{"nama": "Talang Bakung", "kecamatan": "Paal Merah",
                                        "kota": "Kota Jambi"}], "first.gpkg")
    import_boundaries(db, read_boundaries(first, level="kelurahan"))
    rw = tmp_path / "rw.gpkg"
    gpd.GeoDataFrame({"RW": ["RW 01", "RW.002"], "KELURAHAN": ["TALANG BAKUNG"] * 2},
                     geometry=[shapely.box(103.60, -1.64, 103.605, -1.62),
                               shapely.box(103.605, -1.64, 103.61, -1.62)],
                     crs="EPSG:4326").to_file(rw)
    data = read_boundaries(rw, level="rw", context=existing_units(db))
    assert [u.code for u in data.units] == ["15.71.11.1001.RW001", "15.71.11.1001.RW002"]
    assert import_boundaries(db, data)["inserted"] == 2


def test_level_guessed_from_columns_and_ambiguous_kota_resolved_by_kelurahan(tmp_path):
    # "Bekasi" is a kota and a kabupaten; its kelurahan names say which. No --level:
    # the NAMA_KEL column says these are kelurahan (and the report says it was guessed).
    f = _kelurahan_file(tmp_path, [
        {"NAMA_KEL": "Bekasijaya", "KOTA": "Bekasi"},
        {"NAMA_KEL": "Margahayu", "KOTA": "Bekasi"},
        {"NAMA_KEL": "Bintara", "KOTA": "Bekasi"}])
    data = read_boundaries(f, derive_parents=False)
    assert [u.code for u in data.units] == ["32.75.01.1001", "32.75.01.1002", "32.75.02.1001"]
    assert data.report.count("inferred_level") == 1


def test_any_kabupaten_kota_in_the_country_never_a_wrong_code(codes):
    """40 kabupaten/kota drawn with a fixed seed from the whole list, names upper-cased and
    prefixed as files write them: with kecamatan + kota columns, and with kota only."""
    import random

    from geo_sigap.importers.coding import Item, Resolver
    from geo_sigap.importers.quality import QualityReport

    kotas = sorted(c for c, p in codes.places.items() if p.level == AdminLevel.KABKOTA)
    total, right, wrong = {True: 0, False: 0}, {True: 0, False: 0}, 0
    for kota in random.Random(10).sample(kotas, 40):
        kel = codes.descendants(kota, AdminLevel.KELURAHAN)
        for with_kec in (True, False):
            items = [Item(i, AdminLevel.KELURAHAN, codes.name(c).upper(),
                          shapely.box(i * 0.01, 0, i * 0.01 + 0.01, 0.01),
                          {AdminLevel.KABKOTA: codes.name(kota).upper(),
                           **({AdminLevel.KECAMATAN: "Kec. " + codes.name(c[:8])}
                              if with_kec else {})})
                     for i, c in enumerate(kel)]
            Resolver(codes, QualityReport()).resolve(items)
            for c, it in zip(kel, items, strict=True):
                total[with_kec] += 1
                right[with_kec] += it.code == c
                wrong += it.code is not None and it.code != c
    assert wrong == 0  # a unit is coded right or listed, never coded wrong
    # with the kecamatan named, only a desa and a kelurahan of one name in one kecamatan
    # stay ambiguous; with the kota only, same-named villages of different kecamatan too
    # (these boxes in a row give no useful neighbours)
    assert right[True] >= 0.995 * total[True]
    assert right[False] >= 0.97 * total[False]


def test_given_code_list_checks_the_codes_a_file_holds(tmp_path):
    f = _kelurahan_file(tmp_path, [
        {"KDEPUM": "15.71.11.1001", "NAMOBJ": "Talang Bakung"},
        {"KDEPUM": "15.71.11.1002", "NAMOBJ": "Eka Jaya"},  # 1002 is Payo Selincah
        {"KDEPUM": "15.71.11.1099", "NAMOBJ": "Kampung Baru"}])
    data = read_boundaries(f, codes=BUNDLED_LIST, derive_parents=False)
    assert [u.code for u in data.units] == ["15.71.11.1001", "15.71.11.1002", "15.71.11.1099"]
    [mismatch] = [i for i in data.report.issues if i.kind == "code_name_mismatch"]
    assert "Payo Selincah" in mismatch.message and "Eka Jaya" in mismatch.message
    assert data.report.count("unknown_code") == 1
