"""Suggestions on the tiny network: responsible vs nearest, stale positions, roles."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.teams import Role, Team, TeamStatus, Vehicle
from geo_sigap.routing.suggest import suggest

from .conftest import GANG, MOTOR_RES, NODES, leg

NOW = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
KEL = "15.71.11.1003"
RW = KEL + ".RW002"


def team(code, role, at, *, vehicle=Vehicle.MOTOR, areas=(), last=None, age_min=None,
         status=TeamStatus.TERSEDIA):
    return Team(code=code, name=f"Tim {code}", role=Role.parse(role), post=NODES[at],
                vehicle=vehicle, area_codes=tuple(areas), status=status,
                last_position=NODES[last] if last else None,
                last_position_at=NOW - timedelta(minutes=age_min) if age_min is not None else None)


@pytest.fixture(scope="module")
def cats():
    return load_categories()


def test_responsible_preferred_within_limit(tiny_engine, cats):
    pekat = cats.get("pekat")  # lead bhabinkamtibmas, support satpol_pp + babinsa
    teams = [
        team("B1", "bhabinkamtibmas", "B"),                # nearest (at the incident)
        team("B2", "bhabinkamtibmas", "D", areas=[RW]),    # responsible, a bit farther
        team("S1", "satpol_pp", "F"),
        team("X", "linmas", "B"),                          # role not needed: ignored
        team("B3", "bhabinkamtibmas", "A", status=TeamStatus.LEPAS),  # off duty
    ]
    out = suggest(tiny_engine, NODES["B"], pekat, [KEL, RW], teams, NOW,
                  responsible_within=timedelta(minutes=5))
    assert [r.role for r in out.roles] == [Role.BHABINKAMTIBMAS, Role.SATPOL_PP, Role.BABINSA]
    lead = out.role("bhabinkamtibmas")
    assert lead.kind == "lead"
    assert lead.recommended.team_code == "B2"
    assert [c.team_code for c in lead.candidates] == ["B2", "B1"]
    b2, b1 = lead.candidates
    assert b2.is_responsible and b2.responsible_for == (RW,)
    assert b2.eta_s == pytest.approx((leg("D", "A") + leg("A", "B")) / MOTOR_RES, rel=1e-6)
    assert b1.eta_s == pytest.approx(0.0, abs=1e-9)
    assert "penanggung jawab wilayah" in b2.reason and "Disarankan" in b2.reason
    assert "terdekat" in b1.reason and b1.rank == 2
    assert b2.route is not None and not b2.route.is_estimate
    assert out.role("babinsa").recommended is None
    assert "Babinsa" in out.role("babinsa").note
    assert out.role("babinsa").note_en == "No Babinsa team is available."
    json.dumps(out.to_dict())  # serialisable


def test_nearest_wins_beyond_limit(tiny_engine, cats):
    pekat = cats.get("pekat")
    teams = [team("B1", "bhabinkamtibmas", "B"), team("B2", "bhabinkamtibmas", "D", areas=[KEL])]
    out = suggest(tiny_engine, NODES["B"], pekat, [KEL, RW], teams, NOW,
                  responsible_within=timedelta(seconds=10))
    lead = out.role("bhabinkamtibmas")
    assert lead.recommended.team_code == "B1"
    assert "melebihi batas" in lead.recommended.reason
    assert lead.candidates[1].is_responsible


def test_stale_position_falls_back_to_post(tiny_engine, cats):
    pkl = cats.get("pkl")  # lead satpol_pp
    fresh = team("S1", "satpol_pp", "F", last="E", age_min=5)   # at E now
    stale = team("S2", "satpol_pp", "F", last="B", age_min=60)  # "at B" an hour ago
    out = suggest(tiny_engine, NODES["B"], pkl, [KEL], [fresh, stale], NOW,
                  stale_after=timedelta(minutes=15))
    by = {c.team_code: c for c in out.role("satpol_pp").candidates}
    assert by["S1"].position == NODES["E"] and not by["S1"].stale_position
    assert by["S1"].eta_s == pytest.approx(leg("E", "B") / GANG, rel=1e-6)
    assert by["S2"].stale_position and by["S2"].position == NODES["F"]
    assert by["S2"].position_source == "pos"
    assert "dihitung dari pos" in by["S2"].reason
    assert by["S2"].eta_s == pytest.approx((leg("F", "C") + leg("C", "B")) / MOTOR_RES, rel=1e-6)


def test_car_team_cannot_take_the_gang(tiny_engine, cats):
    pkl = cats.get("pkl")
    moto = team("M", "satpol_pp", "E")
    car = team("C", "satpol_pp", "E", vehicle=Vehicle.MOBIL)
    out = suggest(tiny_engine, NODES["B"], pkl, [KEL], [moto, car], NOW)
    by = {c.team_code: c for c in out.role("satpol_pp").candidates}
    assert by["M"].profile == "motor" and by["C"].profile == "mobil"
    assert by["C"].eta_s > by["M"].eta_s
    assert out.role("satpol_pp").recommended.team_code == "M"
    route = out.route("C")
    assert max(x for x, _ in route.geometry.coords) == pytest.approx(NODES["F"][0])


def test_unreachable_team_ranked_after_road_teams_with_flag(tiny_engine, cats):
    pkl = cats.get("pkl")
    island = team("I", "satpol_pp", "G", areas=[KEL])  # responsible, but on the island
    road = team("R", "satpol_pp", "F")
    out = suggest(tiny_engine, NODES["B"], pkl, [KEL], [island, road], NOW)
    role = out.role("satpol_pp")
    assert [c.team_code for c in role.candidates] == ["R", "I"]
    i = role.candidates[1]
    assert i.is_estimate and i.status == "unreachable"
    assert "BUKAN rute jalan" in i.reason and "NOT a road route" in i.reason_en
    assert role.recommended.team_code == "R"


def test_not_ranked_beyond_k(tiny_engine, cats):
    pkl = cats.get("pkl")
    teams = [team(f"S{i}", "satpol_pp", at) for i, at in enumerate("BADF")]
    out = suggest(tiny_engine, NODES["B"], pkl, [KEL], teams, NOW, top_k=2)
    role = out.role("satpol_pp")
    assert len(role.candidates) == 2 and len(role.not_ranked) == 2
    assert role.candidates[0].team_code == "S0"
    assert role.note == "2 tim lain lebih jauh dari 2 tim terdekat (tidak diurutkan)."
    assert role.note_en == "2 more teams are farther than the 2 nearest (not ranked)."
    assert role.to_dict()["note_en"] == role.note_en
    assert role.not_ranked_min_eta_s is not None
    assert role.not_ranked_min_eta_s <= min(
        (leg("D", "A") + leg("A", "B")) / MOTOR_RES, (leg("F", "C") + leg("C", "B")) / MOTOR_RES)
