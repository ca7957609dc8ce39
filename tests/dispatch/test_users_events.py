"""Accounts, tokens, demo users, overdue cases and the event outbox (both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from geo_sigap.dispatch import users
from geo_sigap.dispatch.actors import Actor
from geo_sigap.dispatch.events import EventHub
from geo_sigap.dispatch.intake import ReportInput, report_incident
from geo_sigap.dispatch.queries import overdue_incidents
from geo_sigap.domain.lifecycle import UserRole
from geo_sigap.errors import InvalidInput, NotAuthenticated
from geo_sigap.storage.tables import UserRow, utcnow
from tests.conftest import IN_RT1


def test_create_user_login_and_token_storage(services):
    db = services.db
    info = users.create_admin(db, "kepala", "sandi-rahasia-1")
    assert info.role == UserRole.ADMIN
    with pytest.raises(InvalidInput):
        users.create_admin(db, "kepala", "sandi-rahasia-2")  # taken
    with pytest.raises(InvalidInput):
        users.create_user(db, "pendek", "123", "operator")
    with pytest.raises(InvalidInput):
        users.create_user(db, "anggota", "password-ok", "team_member")  # no team
    with pytest.raises(InvalidInput):
        users.create_user(db, "warga1", "password-ok", "citizen")
    with pytest.raises(NotAuthenticated):
        users.login(db, "kepala", "salah-sandi")
    with pytest.raises(NotAuthenticated):
        users.login(db, "tidak-ada", "salah-sandi")
    token, user, _ = users.login(db, "kepala", "sandi-rahasia-1")
    assert users.user_for_token(db, token).username == "kepala"
    with db.session() as s:
        row = s.query(UserRow).filter_by(username="kepala").one()
        assert row.password_hash.startswith("$argon2id$")
        from geo_sigap.storage.tables import TokenRow

        stored = [t.token_hash for t in s.query(TokenRow)]
    assert token not in stored and users.hash_token(token) in stored
    with pytest.raises(NotAuthenticated):
        users.user_for_token(db, token, now=utcnow() + timedelta(hours=13))  # expired
    assert users.logout(db, token)
    with pytest.raises(NotAuthenticated):
        users.user_for_token(db, token)


def test_demo_users_one_per_team_group(services):
    # the fixture area already has operator … admin: only the missing accounts are made,
    # one team member per team role present, attached to that role's first team
    created = users.ensure_demo_users(services.db)
    assert sorted(created) == ["tim_babinsa", "tim_bhabinkamtibmas", "tim_linmas",
                               "tim_satpol_pp"]
    members = {u.username: u for u in users.list_users(services.db)}
    assert {"operator", "dispatcher", "coordinator", "planner", "admin"} <= set(members)
    assert members["tim_satpol_pp"].team_code == "SPP-01"
    assert members["tim_babinsa"].role == UserRole.TEAM_MEMBER
    token, user, _ = users.login(services.db, "tim_bhabinkamtibmas", "tim_bhabinkamtibmas123")
    assert user.team_code == "BHB-1003"
    assert users.ensure_demo_users(services.db) == []  # idempotent


def test_overdue_flagged_and_listed(services):
    op = Actor("operator", UserRole.OPERATOR)
    now = utcnow()
    old = report_incident(services, op, ReportInput(
        "keributan", "tawuran", IN_RT1[0], IN_RT1[1],
        reported_at=now - timedelta(minutes=40)), now=now).incident
    fresh = report_incident(services, op, ReportInput(
        "pkl", "lapak", IN_RT1[0], IN_RT1[1]), now=now).incident
    assert old["overdue"] is True and old["target_minutes"] == 15
    assert fresh["overdue"] is False
    listed = overdue_incidents(services, op, now=now)
    assert [x["ticket"] for x in listed] == [old["ticket"]]


def test_event_backlog_resume_and_filter(services):
    op = Actor("operator", UserRole.OPERATOR)
    hub = EventHub(services.db, poll_s=0.05)
    a = report_incident(services, op, ReportInput("pkl", "a", *IN_RT1)).incident

    async def collect(after, **kw):
        return [c async for c in hub.stream(after, follow=False, **kw)]

    chunks = asyncio.run(collect(0))
    events = [c for c in chunks if c.startswith("id:")]
    assert len(events) == 1 and a["ticket"] in events[0]
    first_id = int(events[0].split("\n")[0][4:])
    b = report_incident(services, op, ReportInput("gepeng", "b", *IN_RT1)).incident
    later = [c for c in asyncio.run(collect(first_id)) if c.startswith("id:")]
    assert len(later) == 1 and b["ticket"] in later[0] and "event: incident" in later[0]
    assert [c for c in asyncio.run(collect(0, accept=lambda e: False))
            if c.startswith("id:")] == []
