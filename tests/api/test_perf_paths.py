"""The intake fast paths answer exactly like the plain ones, on SQLite and PostGIS:
cached token lookups, the cached team list behind suggestions, one transaction per
intake attempt."""

from __future__ import annotations

from sqlalchemy import update

from geo_sigap.storage.tables import UserRow
from geo_sigap.storage.teams import team_row
from tests.conftest import IN_RT1, IN_RT2


def _report(client, headers, *, lonlat=IN_RT1, category="keributan", key=None,
            suggest=True):
    h = dict(headers)
    if key:
        h["Idempotency-Key"] = key
    return client.post("/api/incidents", headers=h, params={"suggest": str(suggest).lower()},
                       json={"category": category, "description": "Keributan pemuda",
                             "channel": "hotline", "lon": lonlat[0], "lat": lonlat[1]})


def _without_timing(s: dict) -> dict:
    return {k: v for k, v in s.items() if k not in ("computed_ms", "ticket")}


def _candidates(suggestions: dict) -> dict[str, dict]:
    return {c["team_code"]: c for r in suggestions["roles"] for c in r["candidates"]}


def test_intake_suggestions_equal_the_suggestions_endpoint(client, auth):
    r = _report(client, auth["dispatcher"])
    assert r.status_code == 201
    inc = r.json()
    got = client.get(f"/api/incidents/{inc['ticket']}/suggestions", headers=auth["dispatcher"])
    assert got.status_code == 200
    assert _without_timing(inc["suggestions"]) == _without_timing(got.json())
    assert inc["suggestions"]["roles"] and all(
        c["route"] is None for c in _candidates(inc["suggestions"]).values())


def test_team_changes_reach_the_next_suggestions_at_once(client, auth, services):
    before = _candidates(_report(client, auth["dispatcher"]).json()["suggestions"])
    assert "BHB-1003" in before and before["BHB-1003"]["position"] != [103.6004, -1.6192]
    r = client.post("/api/teams/BHB-1003/position", headers=auth["dispatcher"],
                    json={"lon": IN_RT2[0], "lat": IN_RT2[1]})
    assert r.status_code == 200
    moved = _candidates(_report(client, auth["dispatcher"], lonlat=IN_RT2).json()["suggestions"])
    assert moved["BHB-1003"]["position"] == [IN_RT2[0], IN_RT2[1]]
    with services.db.session() as s:  # a write outside the API, through the ORM
        team_row(s, "BHB-1003").status = "lepas"
    off = _candidates(_report(client, auth["dispatcher"]).json()["suggestions"])
    assert "BHB-1003" not in off


def test_cached_token_is_not_looked_up_again(client, auth, monkeypatch):
    from geo_sigap.web import auth as web_auth

    headers = auth["operator"]
    assert _report(client, headers, suggest=False).status_code == 201
    calls = []
    real = web_auth.user_for_token
    monkeypatch.setattr(web_auth, "user_for_token",
                        lambda db, token: calls.append(token) or real(db, token))
    for _ in range(3):
        assert _report(client, headers, suggest=False).status_code == 201
    assert calls == []


def test_deactivated_user_and_changed_role_apply_at_once(client, auth, services):
    headers = auth["planner"]
    assert client.get("/api/auth/me", headers=headers).json()["role"] == "planner"
    with services.db.session() as s:
        s.execute(update(UserRow).where(UserRow.username == "planner").values(role="operator"))
    assert client.get("/api/auth/me", headers=headers).json()["role"] == "operator"
    assert _report(client, headers, suggest=False).status_code == 201  # operators report
    with services.db.session() as s:
        s.execute(update(UserRow).where(UserRow.username == "planner").values(active=False))
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert _report(client, headers, suggest=False).status_code == 401


def test_retry_with_the_same_key_is_answered_before_the_checks(client, auth):
    first = _report(client, auth["operator"], key="perf-k1", suggest=False)
    assert first.status_code == 201
    retry = _report(client, auth["operator"], key="perf-k1", suggest=False)
    assert retry.status_code == 200 and retry.json()["created"] is False
    assert retry.json()["ticket"] == first.json()["ticket"]
    # the key is looked up before the checks: a reuse with another (here invalid) body is
    # refused as a reused key, not as an unknown category (issue 11: never the first case)
    reused = _report(client, auth["operator"], key="perf-k1", category="tidak-ada")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    bad = _report(client, auth["operator"], key="perf-k2", category="tidak-ada")
    assert bad.status_code == 422
    assert _report(client, auth["operator"], key="perf-k2").status_code == 201


def test_a_report_is_written_without_reading_its_row_back(client, auth, services):
    # one transaction: the key lookup, the duplicate search, then only writes; the answer
    # is made from the row as written (a lazy SELECT of two unset columns after the INSERT
    # cost a tenth of a report's write)
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split())[:300])

    first = _report(client, auth["operator"], key="perf-rows-0", suggest=False).json()
    event.listen(services.db.engine, "before_cursor_execute", seen)
    try:  # the same place and category: a duplicate, whose ticket the answer names
        r = _report(client, auth["operator"], key="perf-rows-1", suggest=False)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", seen)
    assert r.status_code == 201
    body = r.json()
    assert body["duplicate_of"] == first["ticket"]
    assert body["resolution_note"] is None and body["rejection_reason"] is None
    after = statements[next(i for i, s in enumerate(statements)
                            if s.startswith("INSERT INTO incidents")):]
    assert [s.split(" (")[0] for s in after[:2]] == ["INSERT INTO incidents",
                                                     "INSERT INTO audit_log"], statements
    assert any("INSERT INTO events" in s for s in after), statements  # the outbox event
    assert not [s for s in after if s.startswith("SELECT")], statements


def test_big_answers_are_the_json_fastapi_would_send(client, auth, services):
    """The live map's feed, the case list and a case are encoded by orjson
    (web.responses): the same JSON as FastAPI's own encoder of the same values."""
    from fastapi.encoders import jsonable_encoder

    from geo_sigap.dispatch import queries
    from geo_sigap.dispatch.actors import Actor
    from geo_sigap.domain.lifecycle import UserRole
    from geo_sigap.maps.feed import open_incidents_feed

    tickets = [_report(client, auth["operator"], key=f"json-{i}", category=cat,
                       lonlat=where).json()["ticket"]
               for i, (cat, where) in enumerate([("keributan", IN_RT1), ("pkl", IN_RT2),
                                                 ("keributan", IN_RT1)])]
    feed = client.get("/api/map/incidents", headers=auth["coordinator"])
    assert feed.status_code == 200 and feed.headers["content-type"] == "application/json"
    with services.db.session() as s:
        want = jsonable_encoder(open_incidents_feed(s, services.categories))
    assert feed.json() == want and len(want["rows"]) >= 3
    assert {r[0] for r in want["rows"]} >= set(tickets)

    who = Actor("operator", UserRole.OPERATOR)
    listed = client.get("/api/incidents", headers=auth["operator"])
    want = jsonable_encoder(queries.list_incidents(services, who, limit=200))
    got = listed.json()
    assert got == {"count": len(want), "items": want}
    one = client.get(f"/api/incidents/{tickets[2]}", headers=auth["operator"])
    assert one.json() == jsonable_encoder(queries.get_incident(services, who, tickets[2]))
    assert one.json()["duplicate_of"] == tickets[0]  # the third report repeats the first
