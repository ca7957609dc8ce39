"""Forward geocoding on the synthetic area: abbreviations, typos, combined clues,
ambiguity (layout in conftest)."""

from __future__ import annotations

import shapely
from shapely.geometry import shape

from geo_sigap.geocoding.normalize import normalize, parse_address
from tests.geocoding.conftest import KEL, sbox

A, C = f"{KEL}.1001", f"{KEL}.1003"


def test_normalize_expands_abbreviations():
    assert normalize("Jl. Lingkar Sltn") == "jalan lingkar selatan"
    assert normalize("Jln.Lingkar") == "jalan lingkar"
    assert normalize("Gg. Mawar No.12") == "gang mawar nomor 12"
    assert normalize("Lrg Kenanga / Lr. Mawar") == "lorong kenanga lorong mawar"
    assert normalize("Kel. Eka Jaya, Kec. Paal Merah") == "kelurahan eka jaya kecamatan paal merah"
    assert normalize("Komp. Perum. Griya") == "kompleks perumahan griya"
    assert normalize("Mesjid Al-Ikhlâs") == "masjid al ikhlas"


def test_parse_rt_rw_forms():
    for text in ("RT 05 RW 02", "RT.005/RW.002", "rt5 rw2", "RT/RW 05/02", "RT 005/002",
                 "RW 02 RT 05", "Rt. 05, Rw. 02"):
        p = parse_address(text)
        assert (p.rt, p.rw) == (5, 2), text
    p = parse_address("di gang sebelah masjid Al-Ikhlas, RT 05 Eka Jaya")
    assert (p.rt, p.rw) == (5, None)
    kinds = [ph.kind for ph in p.phrases]
    assert kinds[:2] == ["alley", "landmark"] and p.phrases[1].text == "masjid al ikhlas"
    assert parse_address("Gg. Mawar No. 12").house_number == "12"


def test_rt_rw_kelurahan_reference(forward):
    top = forward.search("RT 001 RW 002 Kel. Talang Bakung")[0]
    assert (top.level, top.code) == ("rt", f"{A}.RW002.RT001")
    assert top.confidence >= 0.9 and not top.ambiguous
    assert top.placement.rt_code == f"{A}.RW002.RT001"
    assert shape(top.geometry).equals(sbox(0.5, 0, 1, 0.5))


def test_rt_without_rw_is_ambiguous_when_several_match(forward):
    found = forward.search("RT.001 Talang Bakung")
    rts = [c for c in found if c.level == "rt"]
    assert {c.code for c in rts} == {f"{A}.RW001.RT001", f"{A}.RW002.RT001"}
    assert all(c.ambiguous for c in rts)


def test_rt_missing_from_data_falls_back_to_kelurahan_with_a_note(forward):
    top = forward.search("RT 05 Eka Jaya")[0]
    assert (top.level, top.code) == ("kelurahan", C)
    assert top.notes and "tidak ada" in top.notes[0].id and "not in the area data" in top.notes[0].en


def test_kelurahan_with_typo(forward):
    for text in ("Kelurahan Talang Bakung", "kel talang bakng", "Talang Bakung"):
        top = forward.search(text)[0]
        assert (top.level, top.code) == ("kelurahan", A), text


def test_street_abbreviations_and_typos(forward):
    for text in ("Jl. Lingkar Selatan", "jln lingkar sltn", "jalan lingkr selatn"):
        top = forward.search(text)[0]
        assert top.level == "street" and top.label.startswith("Jalan Lingkar Selatan"), text
        assert top.confidence > 0.7


def test_street_plus_rt_gives_the_part_of_the_street_inside_that_rt(forward):
    top = forward.search("Jl. Lingkar Selatan RT 001 RW 002 Kel. Talang Bakung")[0]
    assert top.level == "street"
    part = shape(top.geometry)
    rt = sbox(0.5, 0, 1, 0.5)
    assert rt.buffer(1e-9).covers(part) and part.length > 0.9 * 0.005
    assert top.placement.rt_code == f"{A}.RW002.RT001"
    assert top.confidence > 0.85


def test_same_alley_name_in_two_places_is_ambiguous_until_a_kelurahan_is_given(forward):
    found = [c for c in forward.search("Gg. Mawar") if c.level == "gang"]
    assert len(found) == 2 and all(c.ambiguous for c in found)
    top = forward.search("Gg Mawar, Kel. Eka Jaya")[0]
    assert top.level == "gang" and top.placement.kelurahan_code == C and not top.ambiguous


def test_lorong(forward):
    top = forward.search("Lrg. Kenanga")[0]
    assert top.level == "gang" and top.label.startswith("Lorong Kenanga")


def test_landmark_ambiguous_without_area_and_ranked_by_area_with_it(forward):
    found = [c for c in forward.search("dekat Masjid Al-Ikhlas") if c.level == "landmark"]
    assert len(found) == 2 and all(c.ambiguous for c in found)
    text = "di gang sebelah masjid Al-Ikhlas, RT 05 Eka Jaya"
    found = forward.search(text, limit=8)
    landmarks = [c for c in found if c.level == "landmark"]
    assert landmarks[0].placement.kelurahan_code == C
    assert found[0].level == "landmark" and found[0].placement.kelurahan_code == C
    assert any(c.level == "gang" and c.label.startswith("Gang Melati") for c in found)


def test_landmark_typo_and_kind_only_with_area(forward):
    top = forward.search("msjid al iklas eka jaya")[0]
    assert top.level == "landmark" and top.placement.kelurahan_code == C
    top = forward.search("kantor lurah eka jaya")[0]
    assert top.label.startswith("Kantor Lurah Eka Jaya")
    top = forward.search("SDN 47")[0]
    assert top.label.startswith("SD Negeri 47")


def test_near_prefers_the_closer_of_equal_matches(forward):
    lon, lat = shapely.get_coordinates(sbox(1.2, 0.2, 1.4, 0.4).centroid)[0]
    top = forward.search("Masjid Al-Ikhlas", near=(lon, lat))[0]
    assert top.placement.kelurahan_code == f"{KEL}.1002"


def test_nothing_found_and_empty_text(forward):
    assert forward.search("") == []
    assert forward.search("   ,,, ") == []
    assert forward.search("qwzxv") == []


def test_candidates_are_json_ready(forward):
    import json

    for c in forward.search("Gg. Mawar"):
        d = c.to_dict()
        json.dumps(d)
        assert 0 <= d["confidence"] <= 1 and d["geometry"]["type"]


def test_candidate_notes_follow_the_locale():
    """A note reads in the operator's language: Bahasa Indonesia by default, English when asked."""
    from geo_sigap.geocoding.forward import Candidate, _NOTE_OUTSIDE

    c = Candidate("Masjid X", "landmark", 0.5, 103.6, -1.6, None, notes=(_NOTE_OUTSIDE,))
    assert c.to_dict()["notes"] == ["Tidak berada di wilayah yang disebut"]
    assert c.to_dict("en")["notes"] == ["Not inside the area named"]
