"""Reassigning a case: the team taken off is told on its own event stream and can no
longer act on the case; the new team takes over."""

from __future__ import annotations

import json

from tests.api.test_field_step6 import _case


def test_unassign_then_assign_another_team(client, auth):
    disp, team, other = auth["dispatcher"], auth["tim_bhb"], auth["tim_bhb2"]
    t, inc = _case(client, auth)
    mine = client.get("/api/me/assignments", headers=team).json()["items"]
    (item,) = [i for i in mine if i["ticket"] == t]
    assert item["my_reports"] == 0 and item["report_photo_required"] is False
    r = client.post(f"/api/incidents/{t}/unassign", headers=team,
                    json={"version": inc["version"], "team_code": "BHB-1003"})
    assert r.status_code == 403  # a team member cannot reassign
    r = client.post(f"/api/incidents/{t}/unassign", headers=disp,
                    json={"version": inc["version"], "team_code": "BHB-1003",
                          "reason": "Tim lain lebih dekat"})
    assert r.status_code == 200, r.text
    inc = r.json()
    assert [a["team_code"] for a in inc["assignments"]] == []
    r = client.post(f"/api/incidents/{t}/assign", headers=disp, json={
        "version": inc["version"], "assignments": [{"team_code": "BHB-1004", "kind": "lead"}]})
    assert r.status_code == 200, r.text
    # the old team: refused on the case, gone from its list, told on its stream
    r = client.post(f"/api/incidents/{t}/transitions", headers=team,
                    json={"action": "handle", "version": r.json()["incident"]["version"],
                          "reason": "x"})
    assert r.status_code == 403
    assert t not in [i["ticket"] for i in
                     client.get("/api/me/assignments", headers=team).json()["items"]]
    stream = client.get("/api/events?after=0&follow=false", headers=team).text
    events = [json.loads(line[5:]) for line in stream.splitlines() if line.startswith("data:")]
    gone = [e for e in events if e.get("action") == "unassign" and e["ticket"] == t]
    assert gone and gone[0]["removed"] == ["BHB-1003"]
    assert t in [i["ticket"] for i in
                 client.get("/api/me/assignments", headers=other).json()["items"]]
    teams = {x["code"]: x["status"] for x in
             client.get("/api/teams", headers=disp).json()["items"]}
    assert teams["BHB-1003"] == "tersedia" and teams["BHB-1004"] == "bertugas"
    audit = client.get(f"/api/incidents/{t}/audit", headers=auth["coordinator"]).json()
    un = [e for e in audit["entries"] if e["action"] == "unassign"]
    assert un[0]["details"]["reason"] == "Tim lain lebih dekat"
