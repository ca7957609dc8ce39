"""Forward geocoding keeps the most precise level that exists, and reads unit names
with landmark words ("Pasar Jambi", "Sungai Putri", "Simpang III Sipin") as the unit.

Synthetic layout in conftest; the real-data part uses all 68 Kota Jambi kelurahan with
the 443 Kota Jambi POIs as the gazetteer (many named after the kelurahan they are in).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from geo_sigap.geocoding import ForwardGeocoder, load_gazetteer
from geo_sigap.geocoding.normalize import parse_address
from tests.geocoding.conftest import KEL, synthetic_units
from tests.paths import JAMBI, require_shared_data

A = f"{KEL}.1001"


@pytest.fixture(scope="module")
def rw_only():
    """Kelurahan and RW polygons, no RT layer (what most kelurahan have)."""
    u = synthetic_units()
    return ForwardGeocoder(u[u["level"] != "rt"])


@pytest.mark.parametrize("text", ["RT 09 RW 02 Kel. Talang Bakung", "RT.009/RW.002 Talang Bakung",
                                  "rt 9 rw 2 kel talang bakung"])
def test_rt_without_an_rt_layer_gives_the_rw(rw_only, text):
    top = rw_only.search(text)[0]
    assert (top.level, top.code) == ("rw", f"{A}.RW002")
    assert top.placement.rw_code == f"{A}.RW002"
    assert any("RT 009" in n.id for n in top.notes)
    # the same answer as asking for the RW alone, a little less sure
    rw = rw_only.search("RW 02 Kel. Talang Bakung")[0]
    assert rw.code == top.code and rw.confidence > top.confidence


def test_rt_missing_from_an_rt_layer_gives_the_rw(forward):
    top = forward.search("RT 09 RW 02 Kel. Talang Bakung")[0]
    assert (top.level, top.code) == ("rw", f"{A}.RW002")
    top = forward.search("RT 01 RW 02 Kel. Talang Bakung")[0]  # it exists: the RT
    assert (top.level, top.code) == ("rt", f"{A}.RW002.RT001")


def test_neither_rt_nor_rw_exists_gives_the_kelurahan_and_says_so(rw_only):
    top = rw_only.search("RT 09 RW 04 Kel. Talang Bakung")[0]
    assert (top.level, top.code) == ("kelurahan", A)
    assert "RT 009 / RW 004" in top.notes[0].id


def test_parser_reads_a_name_after_kelurahan_even_with_a_landmark_word():
    p = parse_address("Kelurahan Pasar Jambi")
    assert [(ph.kind, ph.text) for ph in p.phrases] == [("kelurahan", "pasar jambi")]
    areas = {("pasar", "jambi"): "area", ("sungai", "putri"): "kelurahan"}
    p = parse_address("dekat masjid raya sungai putri", areas)
    assert [(ph.kind, ph.text, ph.known) for ph in p.phrases] == [
        ("landmark", "masjid raya", False), ("kelurahan", "sungai putri", True)]
    p = parse_address("Jl. Sungai Putri", areas)  # a street named after it stays a street
    assert [(ph.kind, ph.text) for ph in p.phrases] == [("street", "sungai putri")]


# ---------------------------------------------------------------- Kota Jambi (real data)

def _jambi(with_kecamatan: bool) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    require_shared_data()
    g = gpd.read_file(JAMBI / "kelurahan_kota_jambi.geojson")
    kec_code = g["KDEPUM"].str.rsplit(".", n=1).str[0]
    kel = gpd.GeoDataFrame({"code": g["KDEPUM"], "name": g["NAMOBJ"], "level": "kelurahan",
                            "parent_code": kec_code}, geometry=g.geometry, crs=4326)
    kec_name = dict(zip(kec_code, g["WADMKC"]))
    if not with_kecamatan:
        return kel, kec_name
    kec = kel.dissolve("parent_code").reset_index()
    kec = gpd.GeoDataFrame({"code": kec["parent_code"], "name": kec["parent_code"].map(kec_name),
                            "level": "kecamatan", "parent_code": "15.71"},
                           geometry=kec.geometry.values, crs=4326)
    return gpd.GeoDataFrame(pd.concat([kec, kel], ignore_index=True), crs=4326), kec_name


def _queries(name: str, kecamatan: str) -> list[str]:
    return [name, name.upper(), f"Kel. {name}", f"Kelurahan {name}", f"kel {name.lower()}",
            f"Kel. {name} {kecamatan}", f"{name}, Kec. {kecamatan}",
            f"Kelurahan {name} Kecamatan {kecamatan}"]


@pytest.mark.realdata
@pytest.mark.parametrize("with_kecamatan", [True, False], ids=["with-kecamatan", "kelurahan-only"])
def test_every_kota_jambi_kelurahan_is_found_first_by_its_name(with_kecamatan):
    units, kec_name = _jambi(with_kecamatan)
    fg = ForwardGeocoder(units, None, load_gazetteer(JAMBI / "poi_kota_jambi.geojson"))
    kel = units[units["level"] == "kelurahan"]
    assert len(kel) == 68
    wrong = []
    for code, name in zip(kel["code"], kel["name"]):
        for q in _queries(name, kec_name[code.rsplit(".", 1)[0]]):
            found = fg.search(q)
            if not found or (found[0].level, found[0].code) != ("kelurahan", code):
                wrong.append((q, found[0].label if found else None))
    assert wrong == []


@pytest.mark.realdata
def test_landmark_word_kelurahan_of_the_issue():
    units, _ = _jambi(True)
    fg = ForwardGeocoder(units, None, load_gazetteer(JAMBI / "poi_kota_jambi.geojson"))
    code = {n: c for c, n in zip(units["code"], units["name"]) if c.count(".") == 3}
    for q, name in [("Pasar Jambi", "Pasar Jambi"), ("Kelurahan Pasar Jambi", "Pasar Jambi"),
                    ("Simpang III Sipin", "Simpang III Sipin"),
                    ("Simpang Rimbo", "Simpang Rimbo"), ("Sungai Putri", "Sungai Putri"),
                    ("Kel. Payo Selincah Paal Merah", "Payo Selincah"),
                    ("Kel. Talang Bakung Paal Merah", "Talang Bakung")]:
        top = fg.search(q)[0]
        assert (top.level, top.code) == ("kelurahan", code[name]), (q, top.label)
    # landmarks are still landmarks, also inside a landmark-word kelurahan
    top = fg.search("RS Rimbo Medika")[0]
    assert (top.level, top.label.split(" — ")[0]) == ("landmark", "RS Rimbo Medika")
    top = fg.search("pasar, Kel. Pasar Jambi")[0]
    assert (top.level, top.placement.kelurahan_code) == ("landmark", code["Pasar Jambi"])
