"""The SOP SIGAP KETIMUN as an explicit state machine.

Steps (BRIEF.md): 1 deteksi & informasi → 2 penerimaan & verifikasi → 3 koordinasi &
tindak lanjut → 4 respon cepat → 5 penanganan di lapangan → 6 pelaporan →
7 tindak lanjut & penyelesaian → 8 evaluasi (periodic, over closed cases).

Each :class:`Transition` names the states it may start from, the state it leads to,
the roles that may make it and the timestamp it sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from geo_sigap.errors import InvalidTransition, PermissionDenied


class Status(StrEnum):
    DITERIMA = "diterima"  # step 1: received
    TERVERIFIKASI = "terverifikasi"  # step 2: verified, priority set
    DITOLAK = "ditolak"  # step 2: rejected (hoax, duplicate, outside the area)
    DITUGASKAN = "ditugaskan"  # step 3: team(s) assigned
    MENUJU_LOKASI = "menuju_lokasi"  # step 4: en route
    DI_LOKASI = "di_lokasi"  # step 5: on scene, handling
    DITANGANI = "ditangani"  # step 6: handled, outcome reported
    SELESAI = "selesai"  # step 7: resolution confirmed

    @property
    def label(self) -> str:
        return STATUS_LABELS[self][0]

    def label_for(self, locale: str = "id") -> str:
        return STATUS_LABELS[self][1 if locale.startswith("en") else 0]

    @property
    def step(self) -> int:
        return STATUS_STEP[self]

    @property
    def is_open(self) -> bool:
        return self not in (Status.SELESAI, Status.DITOLAK)


STATUS_LABELS = {
    Status.DITERIMA: ("Diterima", "Received"),
    Status.TERVERIFIKASI: ("Terverifikasi", "Verified"),
    Status.DITOLAK: ("Ditolak", "Rejected"),
    Status.DITUGASKAN: ("Ditugaskan", "Dispatched"),
    Status.MENUJU_LOKASI: ("Menuju lokasi", "En route"),
    Status.DI_LOKASI: ("Di lokasi", "On scene"),
    Status.DITANGANI: ("Ditangani", "Handled"),
    Status.SELESAI: ("Selesai", "Resolved"),
}
STATUS_STEP = {
    Status.DITERIMA: 1, Status.TERVERIFIKASI: 2, Status.DITOLAK: 2, Status.DITUGASKAN: 3,
    Status.MENUJU_LOKASI: 4, Status.DI_LOKASI: 5, Status.DITANGANI: 6, Status.SELESAI: 7,
}

# Timestamp field set when a status is entered (first time; rework keeps history in audit).
STATUS_TIMESTAMP = {
    Status.DITERIMA: "reported_at",
    Status.TERVERIFIKASI: "verified_at",
    Status.DITOLAK: "rejected_at",
    Status.DITUGASKAN: "dispatched_at",
    Status.MENUJU_LOKASI: "en_route_at",
    Status.DI_LOKASI: "on_scene_at",
    Status.DITANGANI: "handled_at",
    Status.SELESAI: "resolved_at",
}


class UserRole(StrEnum):
    """Who a user is in the system (not a field team's role)."""

    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    TEAM_MEMBER = "team_member"
    COORDINATOR = "coordinator"
    PLANNER = "planner"
    ADMIN = "admin"
    CITIZEN = "citizen"  # anonymous

    @property
    def label(self) -> str:
        return {
            "operator": "Operator", "dispatcher": "Dispatcher", "team_member": "Anggota tim",
            "coordinator": "Koordinator", "planner": "Perencana", "admin": "Admin",
            "citizen": "Warga",
        }[self.value]


_OPS = frozenset({UserRole.OPERATOR, UserRole.COORDINATOR, UserRole.ADMIN})
_DISPATCH = frozenset({UserRole.DISPATCHER, UserRole.COORDINATOR, UserRole.ADMIN})
_FIELD = frozenset({UserRole.TEAM_MEMBER, UserRole.DISPATCHER, UserRole.COORDINATOR,
                    UserRole.ADMIN})
_CLOSE = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    sources: frozenset[Status]
    target: Status
    roles: frozenset[UserRole]
    label: str
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("verify", frozenset({Status.DITERIMA}), Status.TERVERIFIKASI, _OPS,
                   "Verifikasi"),
        Transition("reject", frozenset({Status.DITERIMA, Status.TERVERIFIKASI}),
                   Status.DITOLAK, _OPS, "Tolak", needs_reason=True),
        Transition("dispatch", frozenset({Status.TERVERIFIKASI}), Status.DITUGASKAN, _DISPATCH,
                   "Tugaskan tim"),
        Transition("depart", frozenset({Status.DITUGASKAN}), Status.MENUJU_LOKASI, _FIELD,
                   "Menuju lokasi"),
        Transition("arrive", frozenset({Status.DITUGASKAN, Status.MENUJU_LOKASI}),
                   Status.DI_LOKASI, _FIELD, "Tiba di lokasi"),
        Transition("handle", frozenset({Status.DI_LOKASI}), Status.DITANGANI, _FIELD,
                   "Selesai ditangani"),
        Transition("resolve", frozenset({Status.DITANGANI}), Status.SELESAI, _CLOSE,
                   "Konfirmasi selesai"),
        Transition("rework", frozenset({Status.DITANGANI}), Status.DITUGASKAN, _CLOSE,
                   "Kembalikan untuk ditindaklanjuti", needs_reason=True),
    )
}


def allowed_actions(status: Status, role: UserRole | None = None) -> list[str]:
    """Actions possible from ``status`` (for ``role``, when given); a new list each call
    (the table is fixed: answers are kept per (status, role) — every listed case asks)."""
    return list(_allowed(status, role))


@lru_cache(maxsize=256)
def _allowed(status: Status, role: UserRole | None) -> tuple[str, ...]:
    return tuple(t.action for t in TRANSITIONS.values()
                 if status in t.sources and (role is None or role in t.roles))


def check_transition(status: Status, action: str, role: UserRole) -> Transition:
    """Return the transition, or raise naming what is allowed instead.

    :class:`InvalidTransition` when ``action`` is unknown or not possible from
    ``status``; :class:`PermissionDenied` when ``role`` may not make it.
    """
    t = TRANSITIONS.get(action)
    allowed = allowed_actions(status)
    if t is None or status not in t.sources:
        raise InvalidTransition(
            f"Tindakan '{action}' tidak dapat dilakukan pada status '{status.label}'. "
            f"Yang diizinkan: {', '.join(allowed) or 'tidak ada (kasus sudah ditutup)'}",
            f"Action '{action}' is not possible in status '{status.label_for('en')}'. "
            f"Allowed: {', '.join(allowed) or 'none (case closed)'}",
            status=status.value,
            action=action,
            allowed=allowed,
        )
    if role not in t.roles:
        raise PermissionDenied(
            f"Peran {role.label} tidak boleh melakukan '{action}'",
            f"Role {role.value} may not perform '{action}'",
            action=action,
            roles=sorted(r.value for r in t.roles),
        )
    return t
