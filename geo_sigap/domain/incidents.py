"""Incidents, assignments, field reports and the audit log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from geo_sigap.domain.categories import Priority
from geo_sigap.domain.lifecycle import Status
from geo_sigap.domain.teams import Role
from geo_sigap.errors import InvalidInput


class Channel(StrEnum):
    WA_GROUP = "wa_group"
    HOTLINE = "hotline"
    LANGSUNG = "langsung"  # walk-in to the posko / an officer
    WEB = "web"
    OFFICER = "officer"
    API = "api"
    IMPORT = "import"
    WHATSAPP = "whatsapp"  # the posko's WhatsApp Business hotline (Cloud API webhook)
    TELEGRAM = "telegram"  # a Telegram group or chat with the bot
    SMS = "sms"  # an SMS gateway

    @property
    def label(self) -> str:
        return {
            "wa_group": "Grup WhatsApp", "hotline": "Hotline", "langsung": "Laporan langsung",
            "web": "Formulir web", "officer": "Petugas lapangan", "api": "API",
            "import": "Impor data", "whatsapp": "Hotline WhatsApp", "telegram": "Telegram",
            "sms": "SMS",
        }[self.value]

    @classmethod
    def parse(cls, value: str | Channel) -> Channel:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidInput(
                f"Saluran laporan tidak dikenal: {value!r}. Pilihan: "
                + ", ".join(c.value for c in cls),
                f"Unknown channel: {value!r}. Choices: " + ", ".join(c.value for c in cls),
            ) from None


class AssignmentKind(StrEnum):
    LEAD = "lead"
    SUPPORT = "support"


# Crockford-like alphabet: no 0/O, 1/I/L confusion when read over the phone.
_TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_ticket_code(at: datetime, prefix: str = "SGP") -> str:
    """A ticket code a citizen can read out: ``SGP-261123-7KQ4``."""
    suffix = "".join(secrets.choice(_TICKET_ALPHABET) for _ in range(4))
    return f"{prefix}-{at:%y%m%d}-{suffix}"


@dataclass(slots=True)
class Placement:
    """Where a point falls in the administrative hierarchy (from reverse geocoding)."""

    kelurahan_code: str | None = None
    kelurahan_name: str | None = None
    kecamatan_code: str | None = None
    kecamatan_name: str | None = None
    kabkota_code: str | None = None
    kabkota_name: str | None = None
    rw_code: str | None = None
    rw_name: str | None = None
    rt_code: str | None = None
    rt_name: str | None = None
    flags: tuple[str, ...] = ()

    @property
    def unit_codes(self) -> list[str]:
        """Deepest first."""
        return [c for c in (self.rt_code, self.rw_code, self.kelurahan_code,
                            self.kecamatan_code, self.kabkota_code) if c]

    def describe(self) -> str:
        """``RT 005 / RW 002, Kel. Eka Jaya, Kec. Paal Merah``."""
        parts = []
        rtrw = " / ".join(x for x in (self.rt_name, self.rw_name) if x)
        if rtrw:
            parts.append(rtrw)
        if self.kelurahan_name:
            parts.append(f"Kel. {self.kelurahan_name}")
        if self.kecamatan_name:
            parts.append(f"Kec. {self.kecamatan_name}")
        return ", ".join(parts) or "di luar wilayah"


@dataclass(slots=True)
class Assignment:
    team_code: str
    kind: AssignmentKind
    role: Role
    assigned_at: datetime
    assigned_by: str
    eta_s: float | None = None
    distance_m: float | None = None
    message: str | None = None
    id: int | None = None


@dataclass(slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    storage_key: str  # path relative to the attachments directory (outside the web root)
    sha256: str
    id: int | None = None


@dataclass(slots=True)
class FieldReport:
    team_code: str
    text: str
    created_at: datetime
    author: str
    attachments: list[Attachment] = field(default_factory=list)
    id: int | None = None


@dataclass(slots=True)
class Incident:
    """One report and its life through the SOP.

    ``location`` is (lon, lat) EPSG:4326. ``reporter_name`` / ``reporter_phone`` are
    private: they never appear in a public view.
    """

    ticket: str
    category: str
    description: str
    channel: Channel
    location: tuple[float, float] | None
    reported_at: datetime
    priority: Priority = Priority.SEDANG
    status: Status = Status.DITERIMA
    address_text: str | None = None
    placement: Placement = field(default_factory=Placement)
    reporter_name: str | None = None
    reporter_phone: str | None = None
    verified_at: datetime | None = None
    rejected_at: datetime | None = None
    dispatched_at: datetime | None = None
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None
    handled_at: datetime | None = None
    resolved_at: datetime | None = None
    rejection_reason: str | None = None
    duplicate_of: str | None = None
    assignments: list[Assignment] = field(default_factory=list)
    reports: list[FieldReport] = field(default_factory=list)
    version: int = 1
    id: int | None = None

    def step_durations(self) -> dict[str, float | None]:
        """Seconds between SOP steps (``None`` where a step has not happened)."""
        def d(a: datetime | None, b: datetime | None) -> float | None:
            return (b - a).total_seconds() if a and b else None

        return {
            "report_to_verify_s": d(self.reported_at, self.verified_at),
            "verify_to_dispatch_s": d(self.verified_at, self.dispatched_at),
            "dispatch_to_on_scene_s": d(self.dispatched_at, self.on_scene_at),
            "on_scene_to_handled_s": d(self.on_scene_at, self.handled_at),
            "report_to_on_scene_s": d(self.reported_at, self.on_scene_at),
            "report_to_resolved_s": d(self.reported_at, self.resolved_at),
        }


@dataclass(slots=True, frozen=True)
class AuditEntry:
    """One line of the append-only audit log."""

    at: datetime
    actor: str
    actor_role: str
    action: str
    incident_ticket: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


CITIZEN_REPORT_TEAM = "WARGA"  # team code of the photos a citizen sent with a report


def check_handled_evidence(category, reports, *, since: datetime | None = None,
                           reason: str | None = None) -> None:
    """SOP step 6: a case may become *ditangani* only with the field team's report.

    ``reports`` are :class:`FieldReport` (or rows with ``team_code``, ``created_at`` and
    ``attachments``); those by the citizen (:data:`CITIZEN_REPORT_TEAM`) and those older
    than ``since`` (the last time the case was sent back for rework) do not count. When
    ``category.report_photo_required`` is set, one of the counted reports needs a photo.
    A ``reason`` (why there is no report, e.g. "kamera rusak") replaces the report.

    Raises :class:`~geo_sigap.errors.FieldReportRequired` naming what is missing.
    """
    from geo_sigap.errors import FieldReportRequired

    if reason and reason.strip():
        return
    counted = [r for r in reports
               if r.team_code != CITIZEN_REPORT_TEAM and (since is None or r.created_at >= since)]
    if not counted:
        raise FieldReportRequired(
            "Kirim laporan lapangan (apa yang dilakukan) sebelum menandai \"Ditangani\", "
            "atau tulis alasan mengapa tidak ada laporan",
            "Send the field report (what was done) before marking it \"Handled\", "
            "or give a reason why there is none", missing="report")
    if getattr(category, "report_photo_required", False) and not any(
            len(r.attachments) for r in counted):
        raise FieldReportRequired(
            f"Kategori {category.name} memerlukan foto dalam laporan lapangan sebelum "
            "\"Ditangani\", atau tulis alasan mengapa tidak ada foto",
            f"Category {category.name_en} needs a photo in the field report before "
            "\"Handled\", or give a reason why there is none", missing="photo")
