"""User accounts, passwords (argon2id via argon2-cffi) and API tokens.

Tokens are random 256-bit strings handed to the client once; only their SHA-256 hash
is stored, so a database leak does not leak usable tokens. There is no default
password: the first admin comes from ``geo-sigap user create-admin``; the demo
accounts (password = username + ``"123"``) are created by :func:`ensure_demo_users`,
called only by ``geo-sigap serve --demo``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo_sigap.dispatch.actors import Actor
from geo_sigap.dispatch.text import has_controls
from geo_sigap.domain.lifecycle import UserRole
from geo_sigap.errors import InvalidInput, NotAuthenticated
from geo_sigap.storage import users as store
from geo_sigap.storage.tables import TeamRow, utcnow

_hasher = PasswordHasher()
# Demo accounts have published passwords (username + "123"): a slow hash protects nothing
# there, and a dozen of them cost ~3 s of CPU on the demo's first start. They are made
# with a light hash; the first sign-in rehashes with the full parameters (see login).
_demo_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MIN_PASSWORD = 8
DEMO_ROLES = ("operator", "dispatcher", "coordinator", "planner", "admin")


@functools.cache
def dummy_password_hash() -> str:
    """A real hash of a random password: login of an unknown user costs the same time.

    Made on first use (≈ 1 s of CPU on a busy machine), not when the service imports
    this module at start-up."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    role: UserRole
    team_code: str | None
    full_name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role.value,
                "role_label": self.role.label, "team_code": self.team_code,
                "full_name": self.full_name}

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.team_code)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row) -> UserInfo:
    return UserInfo(row.username, UserRole(row.role), row.team_code, row.full_name)


def _parse_role(role: str | UserRole) -> UserRole:
    try:
        r = UserRole(str(role).strip().lower())
    except ValueError:
        r = None
    if r is None or r == UserRole.CITIZEN:
        choices = ", ".join(x.value for x in UserRole if x != UserRole.CITIZEN)
        raise InvalidInput(f"Peran pengguna tidak dikenal: {role!r}. Pilihan: {choices}",
                           f"Unknown user role: {role!r}. Choices: {choices}")
    return r


def create_user(db, username: str, password: str, role: str | UserRole,
                team_code: str | None = None, full_name: str | None = None) -> UserInfo:
    """Create an account. ``team_code`` is required for (and only for) team members.

    Raises :class:`InvalidInput` for a bad username, a short password (< 8), an unknown
    role, an unknown team or a username already taken.
    """
    return _create_user(db, username, password, role, team_code, full_name, _hasher)


def _create_user(db, username: str, password: str, role: str | UserRole,
                 team_code: str | None, full_name: str | None,
                 hasher: PasswordHasher) -> UserInfo:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "Nama pengguna 3–64 karakter: huruf kecil, angka, titik, garis bawah, tanda hubung",
            "Username: 3–64 characters of lowercase letters, digits, dot, underscore, hyphen")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Kata sandi minimal {MIN_PASSWORD} karakter",
                           f"Password needs at least {MIN_PASSWORD} characters")
    r = _parse_role(role)
    if (r == UserRole.TEAM_MEMBER) != bool(team_code):
        raise InvalidInput("Anggota tim wajib punya kode tim (dan hanya anggota tim)",
                           "A team member needs a team code (and only a team member)")
    with db.session() as s:
        if team_code:
            from sqlalchemy import select

            if s.scalar(select(TeamRow.id).where(TeamRow.code == team_code)) is None:
                raise InvalidInput(f"Tim tidak dikenal: {team_code}",
                                   f"Unknown team: {team_code}", team=team_code)
        if store.user_by_name(s, username) is not None:
            raise InvalidInput(f"Nama pengguna sudah dipakai: {username}",
                               f"Username already exists: {username}", username=username)
        row = store.add_user(s, username=username, password_hash=hasher.hash(password),
                             role=r.value, team_code=team_code, full_name=full_name)
        return _info(row)


def create_admin(db, username: str, password: str) -> UserInfo:
    """``geo-sigap user create-admin``: the first (or another) admin account."""
    return create_user(db, username, password, UserRole.ADMIN)


def list_users(db) -> list[UserInfo]:
    with db.session() as s:
        return [_info(r) for r in store.list_users(s)]


def login(db, username: str, password: str, *, ttl_hours: float = 12.0
          ) -> tuple[str, UserInfo, datetime]:
    """Check the password; return ``(token, user, expires_at)``.

    Raises :class:`NotAuthenticated` with one message for an unknown user and a wrong
    password (no user enumeration).
    """
    username = (username or "").strip().lower()
    # no account name has control characters (and PostgreSQL refuses NUL): no lookup
    lookup = username if not has_controls(username) else None
    with db.session() as s:
        row = store.user_by_name(s, lookup) if lookup else None
        ok = False
        try:
            stored = row.password_hash if row and row.active else dummy_password_hash()
            ok = _hasher.verify(stored, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None or not row.active:
            raise NotAuthenticated("Nama pengguna atau kata sandi salah",
                                   "Wrong username or password")
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        token = secrets.token_urlsafe(32)
        expires = utcnow() + timedelta(hours=ttl_hours)
        store.add_token(s, row.id, hash_token(token), expires)
        return token, _info(row), expires


def user_for_token(db, token: str, *, now: datetime | None = None) -> UserInfo:
    """The user behind a bearer token; :class:`NotAuthenticated` if unknown/expired."""
    if not token:
        raise NotAuthenticated("Perlu masuk (login) terlebih dahulu", "Authentication required")
    with db.session() as s:
        row = store.user_for_token_hash(s, hash_token(token), now or utcnow())
        if row is None:
            raise NotAuthenticated("Sesi tidak sah atau kedaluwarsa; silakan masuk lagi",
                                   "Invalid or expired session; please sign in again")
        return _info(row)


def logout(db, token: str) -> bool:
    with db.session() as s:
        return store.revoke_token_hash(s, hash_token(token)) > 0


def ensure_demo_users(db) -> list[str]:
    """Demo accounts with known passwords (username + ``"123"``). Demo mode only.

    operator, dispatcher, coordinator, planner, admin, and one team member per team
    group (team role) present, named ``tim_<role>`` and attached to the first team of
    that role. Existing accounts are left alone. Returns the usernames created.
    """
    from sqlalchemy import select

    created = []
    with db.session() as s:
        existing = {u.username for u in store.list_users(s)}
        first_team: dict[str, str] = {}
        for code, role in s.execute(select(TeamRow.code, TeamRow.role).order_by(TeamRow.code)):
            first_team.setdefault(role, code)
    wanted = [(r, r, None) for r in DEMO_ROLES]
    wanted += [(f"tim_{role}", "team_member", code) for role, code in sorted(first_team.items())]
    for username, role, team in wanted:
        if username not in existing:
            _create_user(db, username, username + "123", role, team, None, _demo_hasher)
            created.append(username)
    return created
