"""OSRM adapter with a fake transport (no network)."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest

from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.teams import Role, Team
from geo_sigap.errors import NoRoute
from geo_sigap.routing.osrm import OsrmEngine
from geo_sigap.routing.suggest import suggest


class FakeOsrm:
    def __init__(self):
        self.urls = []

    def __call__(self, url, timeout):
        self.urls.append(url)
        path = urlparse(url).path
        if path.startswith("/table/"):
            q = parse_qs(urlparse(url).query)
            n = len(q["sources"][0].split(";"))
            durations = [[100.0 * (i + 1)] for i in range(n)]
            durations[-1] = [None]  # the last team cannot reach
            return {"code": "Ok", "durations": durations,
                    "distances": [[1000.0 * (i + 1)] for i in range(n)],
                    "sources": [{"distance": 5.0} for _ in range(n)],
                    "destinations": [{"distance": 0.0}]}
        if path.startswith("/route/"):
            return {"code": "Ok", "routes": [{"distance": 1234.0, "duration": 321.0,
                    "geometry": {"type": "LineString",
                                 "coordinates": [[103.60, -1.62], [103.61, -1.62]]}}]}
        return {"code": "InvalidService", "message": "nope"}


def test_table_request_and_results():
    fake = FakeOsrm()
    eng = OsrmEngine("http://osrm.test:5000/", transport=fake)
    res = eng.eta_from_teams((103.6, -1.62), [(103.61, -1.62), (103.62, -1.63)], "motor")
    url = fake.urls[0]
    assert url.startswith("http://osrm.test:5000/table/v1/motorcycle/103.6000000,-1.6200000;")
    assert "sources=1;2" in url and "destinations=0" in url
    assert res.status.tolist() == ["road", "unreachable"]
    assert res.eta_s[0] == pytest.approx(100.0 + 5.0 / eng.config.access_speed_ms)
    assert res.is_estimate.tolist() == [False, True]
    r = res.route(0)
    assert r.distance_m == 1234.0 and "/route/v1/motorcycle/" in fake.urls[-1]


def test_errors_become_no_route():
    def broken(url, timeout):
        raise OSError("connection refused")

    with pytest.raises(NoRoute) as err:
        OsrmEngine("http://osrm.test", transport=broken).route((1, 1), (2, 2), "mobil")
    assert "tidak dapat dihubungi" in err.value.message_id


def test_suggest_works_with_osrm():
    fake = FakeOsrm()
    eng = OsrmEngine("http://osrm.test", transport=fake)
    teams = [Team("A", "Tim A", Role.SATPOL_PP, (103.61, -1.62)),
             Team("B", "Tim B", Role.SATPOL_PP, (103.62, -1.62), area_codes=("15.71.11.1003",)),
             Team("C", "Tim C", Role.SATPOL_PP, (103.63, -1.62))]
    out = suggest(eng, (103.6, -1.62), load_categories().get("pkl"), ["15.71.11.1003"], teams,
                  datetime(2025, 1, 1, tzinfo=UTC))
    role = out.role("satpol_pp")
    assert role.recommended.team_code == "B"  # responsible, 100 s slower: within 5 min
    assert role.candidates[-1].team_code == "C" and role.candidates[-1].is_estimate
