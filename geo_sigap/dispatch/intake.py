"""SOP step 1 — a report from any channel becomes an incident.

Every report is checked (category, channel, coordinates), geocoded to RT/RW/kelurahan,
linked to a likely duplicate (same category within ``duplicate_radius_m`` metres and
``duplicate_window_minutes``), audited and announced on the event stream — all in one
transaction. A retried submission with the same idempotency key returns the incident
created the first time; the same key with a different report is refused
(:class:`~geo_sigap.errors.IdempotencyKeyReused`, 422) instead of silently answered
with the first case.

Stored keys and request fingerprints are HMAC-SHA256 under ``GEO_SIGAP_SECRET_KEY``:
they are derived from what the sender wrote (for citizens the whole report, reporter
name and phone included), and without the secret nobody holding a copy of the database
can test a guess of a phone number or a text against them. Rotating the secret only
means that a retry sent across the rotation is recorded as a new report.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from geo_sigap.dispatch import ports
from geo_sigap.dispatch._tx import grouped_write
from geo_sigap.dispatch.actors import INTAKE, Actor
from geo_sigap.dispatch.events import incident_event
from geo_sigap.dispatch.text import clean_text
from geo_sigap.dispatch.views import incident_view
from geo_sigap.dispatch.whatsapp import WIB, coordinates_in, guess_category, parse_messages
from geo_sigap.domain.categories import Priority
from geo_sigap.domain.incidents import AuditEntry, Channel, Incident, new_ticket_code
from geo_sigap.domain.lifecycle import Status, UserRole
from geo_sigap.errors import IdempotencyKeyReused, InvalidInput, OutsideCoverage
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import insert_new, new_row
from geo_sigap.storage.prepared import Prepared
from geo_sigap.storage.tables import IncidentRow, UTCDateTime, utcnow

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,24}$")
_M_PER_DEG = 111_320.0


@dataclass(slots=True)
class ReportInput:
    """A report as submitted. ``lon, lat`` EPSG:4326 (strings with a decimal comma are
    accepted); ``reported_at`` aware, or naive meaning WIB; ``None``: now."""

    category: str
    description: str
    lon: Any
    lat: Any
    channel: str = "hotline"
    address_text: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    reported_at: datetime | None = None
    priority: int | str | None = None


@dataclass(slots=True)
class IntakeResult:
    incident: dict[str, Any]
    created: bool
    warnings: tuple[str, ...] = ()
    warnings_en: tuple[str, ...] = ()  # the same, in English

    def warnings_in(self, locale: str) -> list[str]:
        return list(self.warnings_en if locale == "en" and self.warnings_en
                    else self.warnings)


def _text(value: str | None, limit: int, name_id: str, name_en: str, *,
          single_line: bool = False) -> str | None:
    """``value`` without control/bidi characters (:func:`clean_text`), stripped, at most
    ``limit`` characters (else :class:`InvalidInput`); ``None`` when empty."""
    if value is None:
        return None
    value = clean_text(value, single_line=single_line).strip()
    if len(value) > limit:
        raise InvalidInput(f"{name_id} terlalu panjang (maks. {limit} karakter)",
                           f"{name_en} is too long (max {limit} characters)")
    return value or None


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance in metres between two (lon, lat) points (fine < 10 km)."""
    kx = _M_PER_DEG * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * _M_PER_DEG)


# Built once on the table's columns (plain Core: no ORM entity loading); SQLAlchemy
# reuses the compiled SQL, only the parameters change.
_T = IncidentRow.__table__.c
_ORIGINAL = IncidentRow.__table__.alias("original")
_DUPLICATE_CANDIDATES = select(_T.id, _T.ticket, _T.lon, _T.lat, _ORIGINAL.c.id,
                               _ORIGINAL.c.ticket).where(
    _T.category == bindparam("category"),
    _T.status.not_in([Status.DITOLAK.value]),
    _T.reported_at >= bindparam("t0"), _T.reported_at <= bindparam("t1"),
    _T.lon.between(bindparam("lon0"), bindparam("lon1")),
    _T.lat.between(bindparam("lat0"), bindparam("lat1")),
).outerjoin_from(IncidentRow.__table__, _ORIGINAL, _ORIGINAL.c.id == _T.duplicate_of_id) \
    .order_by(_T.reported_at, _T.id)
# SQLite: the same with the index named. Its planner (3.51, no statistics) otherwise
# takes ix_incidents_reported_updated for the time window and reads every report of the
# window, of every category, from the table: 1.84 ms against 0.11 ms after 7,500
# reports in the window (benchmarks.api), growing with every report.
_DUPLICATE_CANDIDATES_SQLITE = text(
    "SELECT i.id, i.ticket, i.lon, i.lat, o.id, o.ticket FROM incidents AS i "
    "INDEXED BY ix_incidents_category_reported "
    "LEFT OUTER JOIN incidents AS o ON o.id = i.duplicate_of_id "
    "WHERE i.category = :category AND i.status NOT IN "
    f"('{Status.DITOLAK.value}') "
    "AND i.reported_at >= :t0 AND i.reported_at <= :t1 "
    "AND i.lon BETWEEN :lon0 AND :lon1 AND i.lat BETWEEN :lat0 AND :lat1 "
    "ORDER BY i.reported_at, i.id").bindparams(bindparam("t0", type_=UTCDateTime()),
                                             bindparam("t1", type_=UTCDateTime()))


def duplicate_candidates(dialect_name: str):
    """The duplicate search's statement for a database dialect."""
    return _DUPLICATE_CANDIDATES_SQLITE if dialect_name == "sqlite" else _DUPLICATE_CANDIDATES


_DUPLICATES = {"sqlite": Prepared(_DUPLICATE_CANDIDATES_SQLITE)}
_DUPLICATES_OTHER = Prepared(_DUPLICATE_CANDIDATES)  # run by Session.execute (its NOT IN)
_ID_BY_KEY = Prepared(select(_T.id, _T.idempotency_fingerprint).where(
    _T.idempotency_key == bindparam("key")))


class Duplicate(NamedTuple):
    """The incident a report is linked to as a likely duplicate."""

    id: int
    ticket: str


_DUPLICATE_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")
_DUPLICATE_SPACE = 0x5349_4744  # "SIGD"


def hold_duplicate_lock(session, category: str) -> None:
    """PostgreSQL: hold, until commit, the lock of ``category``'s duplicate search, so
    that two reports of the same event sent at the same moment see each other (each
    would otherwise search before the other has committed, and both be first). Reports
    of other categories do not wait for it. SQLite: nothing to do (one writer at a
    time)."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(category.encode()) & 0x7FFF_FFFF
        session.execute(_DUPLICATE_LOCK, {"space": _DUPLICATE_SPACE, "key": key})


def find_duplicate(session, category: str, lonlat: tuple[float, float], at: datetime, *,
                   radius_m: float, window_min: float) -> Duplicate | None:
    """The first open report of ``category`` within ``radius_m`` metres and
    ``window_min`` minutes of (lonlat, at); a duplicate's own original wins. One query
    (index ``ix_incidents_category_reported``; the original joined by its id): no
    incident is loaded."""
    if radius_m <= 0 or window_min <= 0:
        return None
    dlat = radius_m / _M_PER_DEG
    dlon = dlat / max(0.01, math.cos(math.radians(lonlat[1])))
    win = timedelta(minutes=window_min)
    query = _DUPLICATES.get(session.get_bind().dialect.name, _DUPLICATES_OTHER)
    rows = query.execute(session, {
        "category": category, "t0": at - win, "t1": at + win,
        "lon0": lonlat[0] - dlon, "lon1": lonlat[0] + dlon,
        "lat0": lonlat[1] - dlat, "lat1": lonlat[1] + dlat}).all()
    for id_, ticket, lon, lat, original_id, original_ticket in rows:
        if _metres((lon, lat), lonlat) <= radius_m:
            if original_id is not None:
                return Duplicate(original_id, original_ticket)
            return Duplicate(id_, ticket)
    return None


def _reported_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    if value > now + timedelta(minutes=5):
        raise InvalidInput("Waktu laporan tidak boleh di masa depan",
                           "The report time cannot be in the future")
    if value < now - timedelta(days=366):
        raise InvalidInput("Waktu laporan lebih dari setahun yang lalu",
                           "The report time is more than a year ago")
    return value


def report_incident(services, actor: Actor, data: ReportInput, *,
                    idempotency_key: str | None = None, now: datetime | None = None,
                    with_suggestions: bool = False, photos: list | None = None
                    ) -> IntakeResult:
    """Record a report (step 1). Citizens report through the web channel only.

    Raises :class:`InvalidInput` subclasses (``unknown_category``,
    ``invalid_coordinates``, ``outside_coverage`` for a citizen outside the area …),
    :class:`PermissionDenied` for a role that may not take reports. Nothing is written
    when it raises.
    """
    from geo_sigap.dispatch import field

    now = now or utcnow()
    if actor.role != UserRole.CITIZEN:
        actor.require(INTAKE, "mencatat laporan", "record reports")
    # photos (citizen reports): the same limits and checks as the field team's
    checked_photos = field.check_photos(photos or [], services.settings.max_upload_bytes)
    written: list = []
    secret = _secret(services)
    key = _scoped_key(actor, _text(idempotency_key, 100, "Idempotency-Key",
                                   "Idempotency-Key"), data, secret)
    fingerprint = request_fingerprint(data, secret) if key else None
    checked: tuple[Incident, ports.Located] | None = None
    # One transaction per attempt: the idempotency-key lookup (before any check, so a
    # retry is answered even if the rules changed since), then checks and geocoding
    # (first attempt only), duplicate search, incident row, audit entry, outbox event.
    # The transaction may be shared with reports arriving at the same moment (group
    # commit on SQLite, see grouped_write): this report's part is one unit of it.
    def unit(s) -> tuple[bool, dict[str, Any]]:
        nonlocal checked
        if key:
            existing = _by_key(s, services, actor, key, fingerprint, now)
            if existing is not None:  # a retry, or the same key won a race
                return False, existing
        if checked is None:
            checked = _checked(services, actor, data, now)
        else:  # ticket code collision
            checked[0].ticket = new_ticket_code(now.astimezone(WIB))
        return True, _insert(s, services, actor, checked[0], key, fingerprint, checked[1],
                             now, checked_photos, written)

    for attempt in range(5):
        try:
            created, view = grouped_write(services.db, unit)
            if not created:
                return IntakeResult(view, False)
            break
        except IntegrityError:
            _unlink(written)
            if attempt == 4:
                raise
        except BaseException:
            _unlink(written)
            raise
    loc = checked[1]
    view.update(assignments=[], reports=[], duplicates=[])
    if with_suggestions:
        view["suggestions"] = ports.suggestions_for_placement(
            services, (view["lon"], view["lat"]), view["category"], view["placement"], now)
    extra = coverage_warning(services, loc)
    warnings = tuple(loc.warnings) + tuple(w[0] for w in extra)
    return IntakeResult(view, True, warnings,
                        tuple(loc.warnings) + tuple(w[1] for w in extra))


def coverage_warning(services, loc: ports.Located) -> list[tuple[str, str]]:
    """Words for a staff report kept outside the service area: (Indonesian, English)."""
    if "outside_coverage" not in loc.flags:
        return []
    if abs(loc.lon) < 1e-6 and abs(loc.lat) < 1e-6:
        return [("Koordinat 0, 0 (di laut lepas pantai Afrika) hampir pasti salah: GPS "
                 "belum mendapat posisi. Periksa titik pada peta sebelum menugaskan tim.",
                 "Coordinates 0, 0 (in the sea off Africa) are almost certainly wrong: the "
                 "GPS had no fix. Check the point on the map before dispatching a team.")]
    bbox = getattr(services, "coverage_bbox", None)
    km = None
    if bbox:
        x0, y0, x1, y1 = bbox
        nearest = (min(max(loc.lon, x0), x1), min(max(loc.lat, y0), y1))
        km = _metres((loc.lon, loc.lat), nearest) / 1000 if abs(loc.lat) < 80 else None
    if km is not None and km < 10_000:
        dist_id = f"{km:,.1f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return [(f"Lokasi berada di luar wilayah layanan, sekitar {dist_id} km dari "
                 "batasnya (kota lain?). Laporan tetap dicatat: periksa titik pada peta, "
                 "perbaiki atau tolak laporan.",
                 f"The location is outside the service area, about {km:,.1f} km from its "
                 "edge (another city?). The report was kept: check the point on the map, "
                 "then correct or reject it.")]
    return [("Lokasi berada di luar wilayah layanan. Laporan tetap dicatat: periksa titik "
             "pada peta, perbaiki atau tolak laporan.",
             "The location is outside the service area. The report was kept: check the "
             "point on the map, then correct or reject it.")]


def _secret(services) -> bytes:
    """The HMAC key: ``GEO_SIGAP_SECRET_KEY`` (required outside demo mode)."""
    return (services.settings.secret_key or "geo-sigap-demo").encode()


def _hmac(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def request_fingerprint(data: ReportInput, secret: bytes) -> str:
    """HMAC of everything the report says (a retry sends exactly the same)."""
    fields = {name: getattr(data, name) for name in ReportInput.__slots__}
    at = fields.get("reported_at")
    fields["reported_at"] = at.isoformat() if isinstance(at, datetime) else at
    canonical = json.dumps({k: (v if v is None or isinstance(v, (int, float)) else str(v))
                            for k, v in fields.items()}, sort_keys=True, ensure_ascii=False)
    return _hmac(secret, "report\x1f" + canonical)


def _scoped_key(actor: Actor, key: str | None, data: ReportInput,
                secret: bytes) -> str | None:
    """The stored form of an ``Idempotency-Key``: HMAC of the key and its scope.

    A key belongs to the user who sent it, so another user sending the same key creates
    their own incident instead of receiving someone else's. Citizens share one anonymous
    actor: their scope is the report itself, so a retry of the same report is answered
    with the first ticket, while a different report with a colliding key is recorded.
    """
    if not key:
        return None
    if actor.role == UserRole.CITIZEN:
        scope = "\x1f".join(["warga", *(str(v) for v in (
            data.category, data.description, data.lon, data.lat, data.address_text,
            data.reporter_name, data.reporter_phone))])
    else:
        scope = "user\x1f" + actor.username
    return _hmac(secret, f"{scope}\x1f{key}")


def _checked(services, actor: Actor, data: ReportInput, now: datetime
             ) -> tuple[Incident, ports.Located]:
    """The report checked and geocoded, as an :class:`Incident` (not stored yet)."""
    cat = services.categories.get(str(data.category).strip())
    channel = Channel.parse(data.channel or "hotline")
    if actor.role == UserRole.CITIZEN:
        channel = Channel.WEB
    elif actor.role == UserRole.TEAM_MEMBER:
        channel = Channel.OFFICER
    if channel == Channel.IMPORT:
        raise InvalidInput("Saluran 'import' hanya untuk impor berkas",
                           "Channel 'import' is for file imports only")
    description = _text(data.description, 4000, "Uraian", "Description") or ""
    if not description and actor.role == UserRole.CITIZEN:
        raise InvalidInput("Uraian kejadian wajib diisi", "A description is required")
    address = _text(data.address_text, 500, "Alamat", "Address")
    name = _text(data.reporter_name, 200, "Nama pelapor", "Reporter name", single_line=True)
    phone = _text(data.reporter_phone, 40, "Nomor pelapor", "Reporter phone",
                  single_line=True)
    if phone and not _PHONE.match(phone):
        raise InvalidInput("Nomor telepon pelapor tidak sah (contoh: 0812-3456-7890)",
                           "Invalid reporter phone number (e.g. 0812-3456-7890)",
                           field="reporter_phone")
    priority = (Priority.parse(data.priority) if data.priority not in (None, "")
                else cat.default_priority)
    if actor.role == UserRole.CITIZEN:
        priority = cat.default_priority
    reported_at = _reported_at(data.reported_at, now)
    loc = ports.locate(services, data.lon, data.lat)
    if actor.role == UserRole.CITIZEN and "outside_coverage" in loc.flags:
        raise OutsideCoverage(
            "Lokasi berada di luar wilayah layanan; periksa titik pada peta",
            "The location is outside the service area; check the point on the map",
            lon=loc.lon, lat=loc.lat)
    inc = Incident(
        ticket=new_ticket_code(now.astimezone(WIB)), category=cat.code,
        description=description, channel=channel, location=(loc.lon, loc.lat),
        reported_at=reported_at, priority=priority, status=Status.DITERIMA,
        address_text=address, placement=loc.placement, reporter_name=name,
        reporter_phone=phone)
    return inc, loc


def _by_key(session, services, actor: Actor, key: str, fingerprint: str | None,
            now: datetime) -> dict[str, Any] | None:
    found = _ID_BY_KEY.execute(session, {"key": key}).first()
    if found is None:
        return None
    found_id, found_fingerprint = found
    if found_fingerprint is not None and found_fingerprint != fingerprint:
        row = session.get(IncidentRow, found_id)
        raise IdempotencyKeyReused(
            f"Idempotency-Key ini sudah dipakai untuk laporan lain ({row.ticket}) dengan isi "
            "berbeda; laporan ini TIDAK dicatat. Kirim laporan baru dengan kunci baru.",
            f"This Idempotency-Key was already used for another report ({row.ticket}) with "
            "a different body; this report was NOT recorded. Send it with a new key.",
            field="Idempotency-Key", ticket=row.ticket)
    return incident_view(session, services.categories, session.get(IncidentRow, found_id),
                         actor, now)


def _unlink(paths: list) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
    paths.clear()


def _insert(s, services, actor: Actor, inc: Incident, key: str | None,
            fingerprint: str | None, loc: ports.Located, now: datetime, photos=(),
            written: list | None = None) -> dict[str, Any]:
    """Inside the write transaction ``s``: duplicate search, incident row, audit entry,
    outbox event."""
    st = services.settings
    hold_duplicate_lock(s, inc.category)
    dup = find_duplicate(s, inc.category, (loc.lon, loc.lat), inc.reported_at,
                         radius_m=st.duplicate_radius_m,
                         window_min=st.duplicate_window_minutes)
    if photos:
        from geo_sigap.dispatch.field import add_citizen_photos

        row = new_row(inc, idempotency_key=key, idempotency_fingerprint=fingerprint,
                      created_by=actor.username)
        if dup is not None:
            row.duplicate_of_id = dup.id
        s.add(row)
        add_citizen_photos(s, st, row, photos, now, written if written is not None else [])
        s.flush()
    else:
        row = insert_new(s, inc, duplicate_of_id=dup.id if dup is not None else None,
                         idempotency_key=key, idempotency_fingerprint=fingerprint,
                         created_by=actor.username)
    if dup is not None:
        row.duplicate_of_ticket = dup.ticket  # the answer names it (not asked for again)
    audit.append(s, AuditEntry(
        at=now, actor=actor.username, actor_role=actor.role.value, action="report",
        incident_ticket=row.ticket, to_status=row.status,
        details={"channel": inc.channel.value, "category": inc.category,
                 "priority": int(inc.priority), "duplicate_of": dup.ticket if dup else None,
                 "flags": list(loc.flags),
                 **({"photos": len(photos)} if photos else {})}), incident_id=row.id)
    incident_event(s, row, "report", teams=[])
    return incident_view(s, services.categories, row, actor, now, full=False)


def draft_from_whatsapp(services, actor: Actor, text: str) -> dict[str, Any]:
    """Turn a pasted WhatsApp group message into a draft report for the operator.

    Returns ``{reported_at, sender, description, category_guess, category_keywords,
    candidates, lon, lat, placement, messages, channel}``: the first message is the
    report; location from coordinates in the text when present, otherwise the best
    forward-geocoding candidate of the text; nothing is stored.
    """
    actor.require(INTAKE - {UserRole.TEAM_MEMBER}, "membuat draf dari pesan WhatsApp",
                  "draft reports from WhatsApp messages")
    if len(text or "") > 20_000:
        raise InvalidInput("Teks terlalu panjang (maks. 20.000 karakter)",
                           "Text too long (max 20,000 characters)")
    messages = parse_messages(text)
    first = messages[0]
    cat, words = guess_category(first.text, services.categories)
    if cat is None:
        cat, words = guess_category(" ".join(m.text for m in messages), services.categories)
    draft: dict[str, Any] = {
        "channel": Channel.WA_GROUP.value, "reported_at": first.at.isoformat(),
        "sender": first.sender, "reporter_name": first.sender, "description": first.text,
        "category_guess": cat, "category_keywords": words, "candidates": [],
        "lon": None, "lat": None, "placement": None, "location_source": None,
        "warnings": [], "messages": [m.to_dict() for m in messages],
    }
    pair = coordinates_in(first.text)
    if pair is not None:
        try:
            loc = ports.locate(services, *pair)
            draft.update(lon=loc.lon, lat=loc.lat, location_source="koordinat_pesan",
                         placement={"description": loc.placement.describe(),
                                    "codes": loc.placement.unit_codes,
                                    "flags": list(loc.flags)})
            draft["warnings"] += list(loc.warnings)
        except InvalidInput:
            draft["warnings"].append("Koordinat dalam pesan tidak sah; diabaikan")
    cands = ports.search_places(services, first.text, limit=5)
    if not cands:
        cands = ports.search_places(services, f"{first.text} {first.sender}", limit=5)
    draft["candidates"] = cands
    if draft["lon"] is None and cands:
        best = cands[0]
        draft.update(lon=best["lon"], lat=best["lat"], location_source="geocoder",
                     placement=best.get("placement"), address_text=best.get("label"))
        if best.get("ambiguous"):
            draft["warnings"].append("Lokasi ambigu: periksa kandidat sebelum menyimpan")
    if draft["lon"] is None:
        draft["warnings"].append("Lokasi tidak ditemukan dalam pesan: tandai di peta")
    return draft
