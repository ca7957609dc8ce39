"""SOP steps 4–6 in the field: photos with the team's report, GPS positions.

Photos are checked by their first bytes (JPEG, PNG or WebP — the file name and the
browser's content type are not trusted), limited to ``settings.max_upload_bytes``,
stored under ``settings.attachments_dir`` (outside the web root) with random names, and
served only to roles allowed to see the incident.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from geo_sigap.dispatch._tx import write_session
from geo_sigap.dispatch.actors import FIELD_REPORTERS, POSITION_SENDERS, SEES_PHOTOS, Actor
from geo_sigap.dispatch.events import incident_event, team_event
from geo_sigap.dispatch.text import clean_text
from geo_sigap.dispatch.views import assigned_teams, incident_view
from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.domain.incidents import AuditEntry
from geo_sigap.domain.lifecycle import Status, UserRole
from geo_sigap.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
    megabytes,
)
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import incident_row
from geo_sigap.storage.tables import (AttachmentRow, FieldReportRow, IncidentRow,
                                      TeamPositionRow, TeamRow, utcnow)
from geo_sigap.storage.teams import team_row

MAX_PHOTOS = 6
_REPORT_STATES = frozenset({Status.DITUGASKAN, Status.MENUJU_LOKASI, Status.DI_LOKASI,
                            Status.DITANGANI})


@dataclass(slots=True)
class Upload:
    filename: str
    data: bytes


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the magic bytes, or ``None``."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg", "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png", "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def display_name(filename: str | None, default: str = "foto") -> str:
    """The name shown for an upload: its last path part (``/`` or ``\\`` separated),
    without control/bidi characters, at most 200 characters. Only shown, never used as
    a storage path (files are stored under random names)."""
    name = clean_text(filename or "", single_line=True).replace("\\", "/")
    name = name.rsplit("/", 1)[-1].strip().strip(".")
    return name[:200] or default


def _check_photos(photos: list[Upload], max_bytes: int) -> list[tuple[Upload, str, str]]:
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"Maksimal {MAX_PHOTOS} foto per laporan",
                           f"At most {MAX_PHOTOS} photos per report")
    out = []
    for p in photos:
        name = display_name(p.filename)
        if len(p.data) > max_bytes:
            raise PayloadTooLarge(
                f"Foto {name} terlalu besar ({megabytes(len(p.data))[0]}; maks. "
                f"{megabytes(max_bytes)[0]})",
                f"Photo {name} is too large ({megabytes(len(p.data))[1]}; max "
                f"{megabytes(max_bytes)[1]})", filename=name, max_bytes=max_bytes)
        kind = sniff_image(p.data)
        if kind is None:
            raise UnsupportedMediaType(
                f"Berkas {name} bukan foto JPEG, PNG atau WebP",
                f"File {name} is not a JPEG, PNG or WebP photo", filename=name)
        out.append((p, *kind))
    return out


check_photos = _check_photos


def store_photos(session, settings, report: FieldReportRow, checked, now: datetime,
                 written: list[Path]) -> None:
    """Write checked photos under ``settings.attachments_dir`` (random names, 0640) and
    add them to ``report``; every file written is appended to ``written`` so the caller
    can remove them again when its transaction fails."""
    root = settings.attachments_dir
    for up, ctype, ext in checked:
        key = f"{now:%Y/%m}/{secrets.token_hex(16)}.{ext}"
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(up.data)
        path.chmod(0o640)
        written.append(path)
        report.attachments.append(AttachmentRow(
            filename=display_name(up.filename, f"foto.{ext}"), content_type=ctype,
            size=len(up.data), storage_key=key, sha256=hashlib.sha256(up.data).hexdigest()))


def add_citizen_photos(session, settings, row: IncidentRow, checked, now: datetime,
                       written: list[Path]) -> FieldReportRow | None:
    """The photos a citizen sent with a report, kept as a report of the pseudo-team
    :data:`~geo_sigap.domain.incidents.CITIZEN_REPORT_TEAM` (seen by staff only; it
    never counts as the field team's report)."""
    from geo_sigap.domain.incidents import CITIZEN_REPORT_TEAM

    if not checked:
        return None
    rep = FieldReportRow(team_code=CITIZEN_REPORT_TEAM, text="Foto dari pelapor (warga)",
                         created_at=now, author="warga")
    row.reports.append(rep)
    store_photos(session, settings, rep, checked, now, written)
    return rep


def add_field_report(services, actor: Actor, ticket: str, text: str,
                     photos: list[Upload] | None = None, *, idempotency_key: str | None = None,
                     now: datetime | None = None) -> dict[str, Any]:
    """Step 6: the team's report with text and photos. Team members report only on
    their own assignments. Files are written first and removed again if the database
    transaction fails, so nothing is half-written. A retry with the same
    ``idempotency_key`` (scoped to the actor) answers the case without a second report."""
    from geo_sigap.dispatch.workflow import replayed, scoped_key

    now = now or utcnow()
    idem = scoped_key(actor, idempotency_key)
    actor.require(FIELD_REPORTERS, "mengirim laporan lapangan", "send field reports")
    text = clean_text(text or "").strip()
    if not text:
        raise InvalidInput("Isi laporan wajib diisi", "The report text is required")
    if len(text) > 8000:
        raise InvalidInput("Laporan terlalu panjang (maks. 8000 karakter)",
                           "Report too long (max 8000 characters)")
    checked = _check_photos(photos or [], services.settings.max_upload_bytes)
    written: list[Path] = []
    try:
        with write_session(services.db) as s:
            row = incident_row(s, ticket)
            teams = assigned_teams(row)
            if actor.role == UserRole.TEAM_MEMBER and actor.team_code not in teams:
                raise PermissionDenied(f"Tim Anda tidak ditugaskan pada kasus {ticket}",
                                       f"Your team is not assigned to case {ticket}")
            if replayed(s, row, idem, ("report_field",)):
                return {**incident_view(s, services.categories, row, actor, now),
                        "replayed": True}
            if Status(row.status) not in _REPORT_STATES:
                raise InvalidInput(
                    f"Laporan lapangan tidak dapat dikirim pada status "
                    f"'{Status(row.status).label}'",
                    f"Field reports cannot be sent in status "
                    f"'{Status(row.status).label_for('en')}'", status=row.status)
            team = actor.team_code or next(
                (a.team_code for a in row.assignments if a.active and a.kind == "lead"), "-")
            rep = FieldReportRow(team_code=team, text=text, created_at=now,
                                 author=actor.username)
            row.reports.append(rep)
            store_photos(s, services.settings, rep, checked, now, written)
            row.updated_at = now
            s.flush()
            audit.append(s, AuditEntry(
                at=now, actor=actor.username, actor_role=actor.role.value, action="report_field",
                incident_ticket=row.ticket, from_status=row.status, to_status=row.status,
                details={"team": team, "photos": len(checked), "report_id": rep.id,
                         **({"idem": idem} if idem else {})}),
                incident_id=row.id)
            incident_event(s, row, "field_report")
            return incident_view(s, services.categories, row, actor, now)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise


def open_attachment(services, actor: Actor, attachment_id: int) -> tuple[Path, str, str]:
    """``(path, content_type, filename)`` of a photo the actor may see."""
    actor.require(SEES_PHOTOS, "melihat foto laporan", "see report photos")
    with services.db.session() as s:
        att = s.get(AttachmentRow, attachment_id)
        if att is None:
            raise NotFound("Lampiran tidak ditemukan", "Attachment not found")
        inc = s.get(IncidentRow, att.report.incident_id)
        if actor.role == UserRole.TEAM_MEMBER and actor.team_code not in assigned_teams(inc):
            raise PermissionDenied("Foto ini bukan dari kasus tim Anda",
                                   "This photo is not from your team's case")
        root = services.settings.attachments_dir.resolve()
        path = (root / att.storage_key).resolve()
        if root not in path.parents or not path.is_file():
            raise NotFound("Berkas lampiran hilang dari penyimpanan",
                           "Attachment file missing from storage")
        return path, att.content_type, att.filename


def record_team_position(services, actor: Actor, team_code: str, lon: Any, lat: Any, *,
                         accuracy_m: float | None = None, at: datetime | None = None
                         ) -> dict[str, Any]:
    """A GPS update from the team's phone (or set by a dispatcher). (lon, lat)
    EPSG:4326; ``accuracy_m`` metres. An update older than the stored one is kept in
    the track but does not move the team; a fix with the same recorded ``at`` as one
    already stored (a queued position sent twice) is kept once."""
    now = utcnow()
    at = at or now
    actor.require(POSITION_SENDERS, "mengirim posisi tim", "send team positions")
    if actor.role == UserRole.TEAM_MEMBER and actor.team_code != team_code:
        raise PermissionDenied("Anda hanya dapat mengirim posisi tim Anda sendiri",
                               "You can only send your own team's position")
    if at.tzinfo is None or at > now + timedelta(minutes=5):
        raise InvalidInput("Waktu posisi tidak sah (harus berzona waktu, tidak di masa depan)",
                           "Invalid position time (timezone-aware, not in the future)")
    if accuracy_m is not None and not (0 <= float(accuracy_m) <= 100_000):
        raise InvalidInput("Akurasi GPS tidak sah", "Invalid GPS accuracy")
    cp = check_lonlat(lon, lat, coverage_bbox=getattr(services, "coverage_bbox", None))
    with write_session(services.db) as s:
        row = team_row(s, team_code)
        if s.scalar(select(TeamPositionRow.id).where(TeamPositionRow.team_id == row.id,
                                                     TeamPositionRow.at == at).limit(1)):
            # a queued fix sent again (its own recorded time): kept once
            return {"team_code": team_code, "lon": cp.lon, "lat": cp.lat,
                    "at": at.isoformat(), "moved": False, "duplicate": True, "warnings": []}
        moved = row.last_position_at is None or at >= row.last_position_at
        s.add(TeamPositionRow(team_id=row.id, at=at, lon=cp.lon, lat=cp.lat,
                              accuracy_m=accuracy_m))
        if moved:
            s.execute(update(TeamRow).where(TeamRow.id == row.id)
                      .values(last_lon=cp.lon, last_lat=cp.lat, last_position_at=at,
                              updated_at=now)
                      .execution_options(synchronize_session=False))
            row = s.scalar(select(TeamRow).where(TeamRow.id == row.id)
                           .execution_options(populate_existing=True))
            team_event(s, row, "position")
        return {"team_code": team_code, "lon": cp.lon, "lat": cp.lat,
                "at": at.isoformat(), "moved": moved,
                "warnings": [cp.warning] if cp.warning else []}
