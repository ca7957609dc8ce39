"""Team members reach only their own team's cases, also through the side doors: route,
audit, suggestions, the event stream and another team's GPS position."""

from __future__ import annotations

from tests.conftest import IN_RT1
from tests.security._cases import assigned_case


def test_other_team_member_is_refused_everywhere(client, auth):
    op = auth["operator"]
    t, v = assigned_case(client, auth)
    other = auth["tim_bhb2"]
    for path in (f"/api/incidents/{t}", f"/api/incidents/{t}/route?team=BHB-1004",
                 f"/api/incidents/{t}/audit", f"/api/incidents/{t}/suggestions"):
        assert client.get(path, headers=other).status_code == 403, path
    for action in ("depart", "arrive", "handle", "resolve", "rework", "reject"):
        r = client.post(f"/api/incidents/{t}/transitions", headers=other,
                        json={"action": action, "version": v, "reason": "x"})
        # depart is the legal next step here: refused for not being the assigned team;
        # the others are refused by role or by state
        assert r.status_code == (403 if action == "depart" else r.status_code), action
        assert r.status_code in (403, 409), (action, r.status_code)
    r = client.post("/api/teams/BHB-1003/position", headers=other,
                    json={"lon": IN_RT1[0], "lat": IN_RT1[1]})
    assert r.status_code == 403
    # nothing changed
    now = client.get(f"/api/incidents/{t}", headers=op).json()
    assert now["version"] == v and now["status"] == "ditugaskan"
    # the event stream carries the case to its own team only
    mine = client.get("/api/events?after=0&follow=false", headers=auth["tim_bhb"]).text
    theirs = client.get("/api/events?after=0&follow=false", headers=other).text
    assert t in mine and t not in theirs
    assert client.get("/api/events?after=0&follow=false").status_code == 401
