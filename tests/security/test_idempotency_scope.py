"""An ``Idempotency-Key`` belongs to whoever sent it: the same key from another user (or
another citizen's different report) creates a new incident and never answers with the
first sender's case."""

from __future__ import annotations

from tests.conftest import IN_KEL_B, IN_RT1, IN_RT2

NAME, PHONE = "Sukarti Kuncirahasia", "0812-5353-1414"


def _report(point, **extra):
    return {"category": "pekat", "description": "Ada judi", "lon": point[0], "lat": point[1],
            **extra}


def test_key_reused_by_another_user_does_not_return_the_first_case(client, auth):
    key = {"Idempotency-Key": "form-1"}
    first = client.post("/api/incidents", headers={**auth["operator"], **key},
                        json=_report(IN_RT1, reporter_name=NAME, reporter_phone=PHONE))
    assert first.status_code == 201
    again = client.post("/api/incidents", headers={**auth["operator"], **key},
                        json=_report(IN_RT1, reporter_name=NAME, reporter_phone=PHONE))
    assert again.status_code == 200 and again.json()["ticket"] == first.json()["ticket"]

    # a team member (channel officer) guessing/reusing the key gets their own case,
    # not the operator's (which is not assigned to their team, and has contact data)
    other = client.post("/api/incidents", headers={**auth["tim_bhb2"], **key},
                        json=_report(IN_KEL_B))
    assert other.status_code == 201, other.text
    assert other.json()["ticket"] != first.json()["ticket"]
    assert other.json()["created"] is True and other.json()["channel"] == "officer"
    assert NAME not in other.text and PHONE not in other.text
    # and the other user's retry is idempotent for them
    retry = client.post("/api/incidents", headers={**auth["tim_bhb2"], **key},
                        json=_report(IN_KEL_B))
    assert retry.status_code == 200 and retry.json()["ticket"] == other.json()["ticket"]

    disp = client.post("/api/incidents", headers={**auth["dispatcher"], **key},
                       json=_report(IN_RT2))
    assert disp.status_code == 201
    assert disp.json()["ticket"] not in (first.json()["ticket"], other.json()["ticket"])


def test_citizens_sharing_a_key_keep_their_own_reports(client):
    key = {"Idempotency-Key": "1"}
    a = client.post("/api/public/reports", headers=key, json={
        "category": "ternak", "description": "Sapi lepas di jalan", "lon": IN_RT1[0],
        "lat": IN_RT1[1], "reporter_phone": PHONE})
    assert a.status_code == 201
    # the same citizen retrying the same report gets the same ticket
    a2 = client.post("/api/public/reports", headers=key, json={
        "category": "ternak", "description": "Sapi lepas di jalan", "lon": IN_RT1[0],
        "lat": IN_RT1[1], "reporter_phone": PHONE})
    assert a2.status_code == 200 and a2.json()["ticket"] == a.json()["ticket"]
    # another citizen's different report with the same (trivial) key is not lost
    b = client.post("/api/public/reports", headers=key, json={
        "category": "pkl", "description": "Lapak di trotoar", "lon": IN_RT2[0],
        "lat": IN_RT2[1]})
    assert b.status_code == 201, b.text
    assert b.json()["ticket"] != a.json()["ticket"]
    assert client.get(f"/api/public/status/{b.json()['ticket']}").json()["category"] == "pkl"


def test_overlong_key_is_refused(client, auth):
    r = client.post("/api/incidents", headers={**auth["operator"], "Idempotency-Key": "k" * 101},
                    json=_report(IN_RT1))
    assert r.status_code == 422
    assert "idempotency-key" in r.json()["error"]["message"].lower()


def test_key_reused_with_another_body_is_refused(client, auth, services):
    """A PKL report, then a priority-1 brawl with the same key: the brawl must not be
    silently dropped by answering with the PKL case."""
    key = {**auth["operator"], "Idempotency-Key": "form-7"}
    pkl = {"category": "pkl", "description": "Lapak di trotoar", "lon": IN_RT1[0],
           "lat": IN_RT1[1]}
    first = client.post("/api/incidents", headers=key, json=pkl)
    assert first.status_code == 201
    brawl = {"category": "keributan", "description": "Tawuran pelajar", "priority": 1,
             "lon": IN_RT2[0], "lat": IN_RT2[1]}
    r = client.post("/api/incidents", headers=key, json=brawl)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "idempotency_key_reused"
    assert "sudah dipakai" in err["message"] and "TIDAK dicatat" in err["message"]
    assert err["details"]["ticket"] == first.json()["ticket"]
    listed = client.get("/api/incidents", headers=auth["operator"]).json()
    assert [i["category"] for i in listed["items"]] == ["pkl"]  # nothing else stored
    # a retry of the first body is still answered with the first case
    again = client.post("/api/incidents", headers=key, json=pkl)
    assert again.status_code == 200 and again.json()["ticket"] == first.json()["ticket"]
    r = client.post("/api/incidents?lang=en", headers=key, json={**pkl, "priority": 2})
    assert r.status_code == 422 and "different body" in r.json()["error"]["message"]


def test_keys_and_fingerprints_are_keyed_by_the_secret(client, auth, services):
    """What is stored is an HMAC under GEO_SIGAP_SECRET_KEY, not a plain hash anyone can
    recompute from a guessed phone number or text."""
    import hashlib

    from geo_sigap.dispatch.intake import ReportInput, request_fingerprint
    from geo_sigap.storage.tables import IncidentRow

    body = _report(IN_RT1, reporter_phone=PHONE)
    r = client.post("/api/incidents", headers={**auth["operator"], "Idempotency-Key": "k9"},
                    json=body)
    assert r.status_code == 201
    with services.db.session() as s:
        row = s.query(IncidentRow).filter_by(ticket=r.json()["ticket"]).one()
        stored_key, stored_fp = row.idempotency_key, row.idempotency_fingerprint
    data = ReportInput(category="pekat", description="Ada judi", lon=IN_RT1[0],
                       lat=IN_RT1[1], channel="hotline", reporter_phone=PHONE)
    secret = services.settings.secret_key.encode()
    assert stored_fp == request_fingerprint(data, secret)
    assert stored_fp != request_fingerprint(data, b"another-secret")
    assert stored_key != hashlib.sha256(b"user\x1foperator\x1fk9").hexdigest()
