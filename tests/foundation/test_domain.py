from datetime import UTC, datetime, timedelta

import pytest

from geo_sigap.domain.admin import AdminLevel, ancestors, level_of, normalize_kemendagri, rt_code
from geo_sigap.domain.categories import Priority, load_categories
from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.domain.lifecycle import Status, UserRole, allowed_actions, check_transition
from geo_sigap.domain.teams import Role, Team, Vehicle
from geo_sigap.errors import (
    ConfigError,
    InvalidCoordinates,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    UnknownCategory,
)


def test_codes_and_levels():
    assert normalize_kemendagri("1571111003") == "15.71.11.1003"
    assert normalize_kemendagri(1571111003.0) == "15.71.11.1003"
    assert level_of("15.71.11") == AdminLevel.KECAMATAN
    assert rt_code("15.71.11.1003", 2, "05") == "15.71.11.1003.RW002.RT005"
    assert rt_code("15.71.11.1003", None, 5) == "15.71.11.1003.RT005"
    assert ancestors("15.71.11.1003.RW002") == [
        "15", "15.71", "15.71.11", "15.71.11.1003", "15.71.11.1003.RW002"]
    with pytest.raises(InvalidInput) as e:
        normalize_kemendagri("15.7.11")
    assert "Kode Kemendagri tidak sah" in e.value.message_id
    assert "Invalid Kemendagri code" in e.value.message("en")
    with pytest.raises(InvalidInput):
        rt_code("15.71.11.1003", 2, 0)


def test_category_table_seeded_from_brief():
    t = load_categories()
    assert {c.code for c in t if c.sk4_sop} == {"pkl", "gepeng", "ternak", "pekat", "odgj"}
    assert t.get("pekat").lead == Role.BHABINKAMTIBMAS
    assert t.get("pekat").support == (Role.SATPOL_PP, Role.BABINSA)
    assert t.get("bencana").lead == Role.BABINSA
    assert t.get("lainnya").lead is None  # the operator decides
    # priority 1 makes the PKL target (120 min) stricter
    assert t.target_minutes("pkl", Priority.DARURAT) == 15
    with pytest.raises(UnknownCategory) as e:
        t.get("banjirr")
    assert "Pilihan" in e.value.message_id


def test_category_file_errors(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[category.x]\nname = "X"\nlead = "polisi_hutan"\n')
    with pytest.raises(ConfigError, match="Category 'x'"):
        load_categories(bad)
    bad.write_text("not = [toml")
    with pytest.raises(ConfigError) as e:
        load_categories(bad)
    assert "bukan TOML" in e.value.message_id
    own = tmp_path / "own.toml"
    own.write_text('[category.banjir]\nname = "Banjir"\nlead = "bpbd"\ntarget_response_min = 10\n')
    assert load_categories(own).get("banjir").target_response_min == 10


@pytest.mark.parametrize("lon,lat", [(float("nan"), -1.6), (103.6, float("inf")),
                                     ("abc", 1), (500, 10), (103.6, -95)])
def test_bad_coordinates_refused(lon, lat):
    with pytest.raises(InvalidCoordinates):
        check_lonlat(lon, lat)


def test_swapped_coordinates_detected():
    p = check_lonlat(-1.62, 103.65)
    assert (p.lon, p.lat, p.swapped) == (103.65, -1.62, True)
    assert "tertukar" in p.warning
    with pytest.raises(InvalidCoordinates, match="swapped"):
        check_lonlat(-1.62, 103.65, swap="refuse")
    assert check_lonlat("103,65", "-1,62").lon == 103.65  # decimal comma
    assert not check_lonlat(103.65, -1.62).swapped


def test_state_machine_names_allowed_actions():
    assert check_transition(Status.DITERIMA, "verify", UserRole.OPERATOR).target == \
        Status.TERVERIFIKASI
    with pytest.raises(InvalidTransition) as e:
        check_transition(Status.DITERIMA, "resolve", UserRole.COORDINATOR)
    assert e.value.details["allowed"] == ["verify", "reject"]
    with pytest.raises(PermissionDenied):
        check_transition(Status.DITANGANI, "resolve", UserRole.TEAM_MEMBER)
    assert allowed_actions(Status.SELESAI) == []
    assert set(allowed_actions(Status.DITANGANI, UserRole.COORDINATOR)) == {"resolve", "rework"}


def test_team_responsibility_and_stale_position():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    t = Team(code="B1", name="Bhabin", role=Role.BHABINKAMTIBMAS, post=(103.6, -1.6),
             area_codes=("15.71.11.1003",), last_position=(103.7, -1.7),
             last_position_at=now - timedelta(minutes=30))
    assert t.covers(["15.71.11.1003.RW002.RT005"])
    assert not t.covers(["15.71.11.1004"])
    assert t.position_at(now, timedelta(minutes=15)) == ((103.6, -1.6), True)
    assert t.position_at(now, timedelta(hours=1)) == ((103.7, -1.7), False)
    assert Vehicle.parse("car") == Vehicle.MOBIL
    assert Role.parse("Satpol PP") == Role.SATPOL_PP
