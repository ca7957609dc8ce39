"""Who is acting, and the role sets that decide what each part of the service allows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from geo_sigap.domain.lifecycle import UserRole
from geo_sigap.errors import NotAuthenticated, PermissionDenied

R = UserRole
STAFF = frozenset({R.OPERATOR, R.DISPATCHER, R.TEAM_MEMBER, R.COORDINATOR, R.PLANNER, R.ADMIN})
INTAKE = frozenset({R.OPERATOR, R.DISPATCHER, R.COORDINATOR, R.ADMIN, R.TEAM_MEMBER})
SEES_CONTACT = frozenset({R.OPERATOR, R.DISPATCHER, R.COORDINATOR, R.ADMIN})
DISPATCHERS = frozenset({R.DISPATCHER, R.COORDINATOR, R.ADMIN})
AUDITORS = frozenset({R.COORDINATOR, R.PLANNER, R.ADMIN})
SEES_PHOTOS = frozenset({R.OPERATOR, R.DISPATCHER, R.COORDINATOR, R.ADMIN, R.TEAM_MEMBER})
FIELD_REPORTERS = frozenset({R.TEAM_MEMBER, R.COORDINATOR, R.ADMIN})
POSITION_SENDERS = frozenset({R.TEAM_MEMBER, R.DISPATCHER, R.COORDINATOR, R.ADMIN})


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in user (or the anonymous citizen) making a request.

    ``team_code`` is set for team members: the team whose assignments they work on.
    """

    username: str
    role: UserRole
    team_code: str | None = None

    @classmethod
    def citizen(cls) -> Actor:
        return cls("warga", UserRole.CITIZEN)

    @property
    def sees_contact(self) -> bool:
        return self.role in SEES_CONTACT

    def require(self, roles: Iterable[UserRole], what_id: str, what_en: str) -> None:
        """Raise :class:`PermissionDenied` (or :class:`NotAuthenticated` for a citizen)
        unless the actor's role is in ``roles``."""
        roles = frozenset(roles)
        if self.role in roles:
            return
        allowed = sorted(r.value for r in roles)
        if self.role == UserRole.CITIZEN:
            raise NotAuthenticated(
                f"Perlu masuk (login) untuk {what_id}",
                f"Sign-in required to {what_en}", roles=allowed)
        raise PermissionDenied(
            f"Peran {self.role.label} tidak boleh {what_id}",
            f"Role {self.role.value} may not {what_en}", roles=allowed)
