"""The SOP rule "prefer the responsible team when its ETA is within N minutes OF THE
NEAREST team's" — with ETAs longer than N, so that "within N minutes" (of nothing) would
give a different answer and fail here."""

from datetime import UTC, datetime, timedelta

import pytest

from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.teams import Role, Team, Vehicle
from geo_sigap.routing.suggest import suggest

from .conftest import NODES

NOW = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
KEL = "15.71.11.1003"


def _team(code: str, at: str, areas=()) -> Team:
    return Team(code=code, name=f"Tim {code}", role=Role.BHABINKAMTIBMAS, post=NODES[at],
                vehicle=Vehicle.MOTOR, area_codes=tuple(areas))


@pytest.fixture(scope="module")
def pekat():
    return load_categories().get("pekat")  # lead: bhabinkamtibmas


def _lead(engine, pekat, within: timedelta):
    # incident at A; B1 (not responsible) one block away at B, B2 (responsible for the
    # kelurahan) two blocks away at C: both ETAs are well above zero
    teams = [_team("B1", "B"), _team("B2", "C", areas=[KEL])]
    return suggest(engine, NODES["A"], pekat, [KEL], teams, NOW,
                   responsible_within=within).role("bhabinkamtibmas")


def test_responsible_team_within_n_of_the_nearest_is_preferred(tiny_engine, pekat):
    etas = {c.team_code: c.eta_s for c in _lead(tiny_engine, pekat, timedelta(0)).candidates}
    near, far = etas["B1"], etas["B2"]
    assert 0 < near < far
    # N is above the difference but BELOW the responsible team's own ETA: "within N of
    # the nearest" prefers it, a plain "ETA within N" would not
    n = (far - near) + near / 2
    assert n < far
    lead = _lead(tiny_engine, pekat, timedelta(seconds=n))
    assert lead.recommended.team_code == "B2"
    assert lead.recommended.is_responsible and lead.candidates[1].team_code == "B1"


def test_responsible_team_beyond_n_of_the_nearest_gives_way(tiny_engine, pekat):
    etas = {c.team_code: c.eta_s for c in _lead(tiny_engine, pekat, timedelta(0)).candidates}
    near, far = etas["B1"], etas["B2"]
    lead = _lead(tiny_engine, pekat, timedelta(seconds=(far - near) * 0.8))
    assert lead.recommended.team_code == "B1"
    assert "melebihi batas" in lead.recommended.reason


def test_the_limit_counts_from_the_nearest_not_from_zero(tiny_engine, pekat):
    """Sweep N across the responsible team's ETA: the choice flips exactly where N
    passes far − near, nowhere else."""
    etas = {c.team_code: c.eta_s for c in _lead(tiny_engine, pekat, timedelta(0)).candidates}
    near, far = etas["B1"], etas["B2"]
    for n in (0.5 * (far - near), 0.99 * (far - near), 1.01 * (far - near),
              (far - near) + 0.9 * near, far * 1.5):
        pick = _lead(tiny_engine, pekat, timedelta(seconds=n)).recommended.team_code
        assert pick == ("B2" if n >= far - near else "B1"), (n, near, far)
