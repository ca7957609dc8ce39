"""The SOP lifecycle, exhaustively: every status × every action × every role is either
allowed (leading to the SOP's next status) or refused — 409 ``invalid_transition`` for a
step the status does not allow, 403 for a role that may not take it. The expected table
is written out here from the SOP (BRIEF.md), independent of ``TRANSITIONS``, so that a
step slipped into the code (e.g. ``resolve`` from ``di_lokasi``) fails."""

from __future__ import annotations

import itertools

import pytest

from geo_sigap.domain.lifecycle import (
    TRANSITIONS,
    Status,
    UserRole,
    allowed_actions,
    check_transition,
)
from geo_sigap.errors import InvalidTransition, PermissionDenied
from tests.conftest import IN_RT1

S, R = Status, UserRole
OPS = {R.OPERATOR, R.COORDINATOR, R.ADMIN}  # step 2: take and verify reports
DISPATCH = {R.DISPATCHER, R.COORDINATOR, R.ADMIN}  # step 3
FIELD = {R.TEAM_MEMBER, R.DISPATCHER, R.COORDINATOR, R.ADMIN}  # steps 4-6
CLOSE = {R.COORDINATOR, R.ADMIN}  # step 7
# action: (statuses it may start from, status it leads to, roles allowed)
SOP = {
    "verify": ({S.DITERIMA}, S.TERVERIFIKASI, OPS),
    "reject": ({S.DITERIMA, S.TERVERIFIKASI}, S.DITOLAK, OPS),
    "dispatch": ({S.TERVERIFIKASI}, S.DITUGASKAN, DISPATCH),
    "depart": ({S.DITUGASKAN}, S.MENUJU_LOKASI, FIELD),
    "arrive": ({S.DITUGASKAN, S.MENUJU_LOKASI}, S.DI_LOKASI, FIELD),
    "handle": ({S.DI_LOKASI}, S.DITANGANI, FIELD),
    "resolve": ({S.DITANGANI}, S.SELESAI, CLOSE),
    "rework": ({S.DITANGANI}, S.DITUGASKAN, CLOSE),
}
ACTIONS = [*SOP, "close", "reopen", ""]  # plus actions that do not exist


def test_the_code_has_exactly_the_sop_steps():
    assert set(TRANSITIONS) == set(SOP)


@pytest.mark.parametrize("status,action,role",
                         list(itertools.product(list(S), ACTIONS, list(R))))
def test_every_status_action_role(status, action, role):
    expected = SOP.get(action)
    if expected is None or status not in expected[0]:
        with pytest.raises(InvalidTransition) as err:
            check_transition(status, action, role)
        assert err.value.details["allowed"] == allowed_actions(status)
        return
    sources, target, roles = expected
    if role not in roles:
        with pytest.raises(PermissionDenied):
            check_transition(status, action, role)
        return
    t = check_transition(status, action, role)
    assert t.target == target


@pytest.mark.parametrize("status", list(S))
def test_what_each_status_allows_and_forbids(status):
    want = sorted(a for a, (sources, _, _) in SOP.items() if status in sources)
    assert sorted(allowed_actions(status)) == want
    for role in R:
        mine = sorted(a for a in want if role in SOP[a][2])
        assert sorted(allowed_actions(status, role)) == mine, role
    if status in (S.SELESAI, S.DITOLAK):
        assert allowed_actions(status) == []  # closed cases allow nothing


def test_reasons_are_required_where_the_sop_asks():
    assert {a for a, t in TRANSITIONS.items() if t.needs_reason} == {"reject", "rework"}


# -- through the API: a forbidden step changes nothing -----------------------------------


def _to(client, auth, status: Status) -> tuple[str, int]:
    """A case brought along the SOP to ``status`` (lead BHB-1003)."""
    op, co = auth["operator"], auth["coordinator"]
    inc = client.post("/api/incidents", headers=op, json={
        "category": "pkl", "description": "lapak", "lon": IN_RT1[0],
        "lat": IN_RT1[1]}).json()
    t, v = inc["ticket"], inc["version"]
    path = {S.TERVERIFIKASI: ["verify"], S.DITOLAK: ["reject"],
            S.DITUGASKAN: ["verify", "assign"],
            S.MENUJU_LOKASI: ["verify", "assign", "depart"],
            S.DI_LOKASI: ["verify", "assign", "arrive"],
            S.DITANGANI: ["verify", "assign", "arrive", "handle"],
            S.SELESAI: ["verify", "assign", "arrive", "handle", "resolve"]}.get(status, [])
    for step in path:
        if step == "assign":
            r = client.post(f"/api/incidents/{t}/assign", headers=co, json={
                "version": v, "assignments": [{"team_code": "SPP-01", "kind": "lead"}]})
            v = r.json()["incident"]["version"]
            continue
        r = client.post(f"/api/incidents/{t}/transitions", headers=co, json={
            "action": step, "version": v, "reason": "Tidak ada laporan lapangan: uji"})
        assert r.status_code == 200, (step, r.text)
        v = r.json()["version"]
    assert client.get(f"/api/incidents/{t}", headers=op).json()["status"] == status.value
    return t, v


@pytest.mark.parametrize("status", [s for s in S if s != S.DITERIMA] + [S.DITERIMA])
def test_forbidden_steps_are_refused_by_the_api(client, auth, status):
    t, v = _to(client, auth, status)
    for action in SOP:
        if status in SOP[action][0] or action == "dispatch":
            continue  # allowed here ("dispatch" is the assign endpoint's own step)
        r = client.post(f"/api/incidents/{t}/transitions", headers=auth["admin"],
                        json={"action": action, "version": v, "reason": "uji"})
        assert r.status_code == 409, (status, action, r.text)
        assert r.json()["error"]["code"] == "invalid_transition"
    now = client.get(f"/api/incidents/{t}", headers=auth["operator"]).json()
    assert now["status"] == status.value and now["version"] == v


def test_rejected_reports_are_not_duplicate_originals(client, auth):
    """A rejected report (hoax, wrong place) never becomes the original that a new
    report of the same category and place is linked to; an open one does."""
    op = auth["operator"]
    body = {"category": "keributan", "description": "ribut", "lon": IN_RT1[0],
            "lat": IN_RT1[1]}
    first = client.post("/api/incidents", headers=op, json=body).json()
    second = client.post("/api/incidents", headers=op, json=body).json()
    assert second["duplicate_of"] == first["ticket"]  # the rule is on
    for inc in (first, second):
        r = client.post(f"/api/incidents/{inc['ticket']}/transitions", headers=op, json={
            "action": "reject", "version": inc["version"], "reason": "hoaks"})
        assert r.status_code == 200, r.text
    third = client.post("/api/incidents", headers=op, json=body).json()
    assert third["duplicate_of"] is None
    fourth = client.post("/api/incidents", headers=op, json=body).json()
    assert fourth["duplicate_of"] == third["ticket"]
