"""Chat messages → draft reports on the operator queue (SOP step 1).

A draft is an incident in status ``diterima`` (the operator's "menunggu verifikasi"
queue) with the channel set: the operator checks it, places or corrects the point and
verifies or rejects it as any other report. Rules:

* **Idempotent** on the channel's message id: a redelivered message stores nothing new
  (``channel_messages`` has one row per ``(channel, message_id)``).
* **Bursts**: a message from a sender whose previous message (same channel) came at most
  ``channel_burst_minutes`` earlier and whose draft is still unverified joins that
  draft — text appended, the first location pin placed, photos attached — instead of
  opening a new one. A burst starts from any message; a later message re-guesses the
  category while the draft still has the fallback one.
* **Place**: a shared location (or coordinates written in the text) is placed with the
  reverse geocoder; without one the draft has no point and is flagged ``no_location``.
* **Photos** are downloaded through the channel client (only when configured), checked
  like field photos (JPEG/PNG/WebP by content, ``max_upload_bytes``) and stored as
  attachments of a report entry written by ``kanal:<channel>``.
* **Privacy**: the sender's phone is kept as the reporter's phone (operators only); the
  message table holds a keyed hash of the sender, never the number.
* After a new draft is stored, the reporter gets the ticket and the status link through
  the channel client (a no-op unless configured; WhatsApp only within 24 hours).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError

from geo_sigap.channels.messages import InboundMessage, MessageKind, Parsed
from geo_sigap.channels.outbound import ChannelClient
from geo_sigap.dispatch import ports
from geo_sigap.dispatch._tx import write_session
from geo_sigap.dispatch.events import incident_event
from geo_sigap.dispatch.field import display_name, sniff_image
from geo_sigap.dispatch.intake import find_duplicate
from geo_sigap.dispatch.text import clean_text
from geo_sigap.dispatch.whatsapp import WIB, coordinates_in, guess_category
from geo_sigap.domain.incidents import AuditEntry, Channel, Incident, Placement, new_ticket_code
from geo_sigap.domain.lifecycle import Status, UserRole
from geo_sigap.errors import InvalidInput
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import new_row, set_location
from geo_sigap.storage.tables import (AttachmentRow, ChannelMessageRow, FieldReportRow,
                                      IncidentRow, utcnow)

log = logging.getLogger(__name__)

FALLBACK_CATEGORY = "lainnya"
_MAX_DESCRIPTION = 4000


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one message: ``created`` (a new draft), ``grouped`` (joined the
    sender's draft), ``duplicate`` (seen before), ``unsupported`` (logged only),
    ``ignored`` (group chatter not addressed to the bot: not stored)."""

    message_id: str
    outcome: str
    ticket: str | None = None
    replied: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "outcome": self.outcome,
                "ticket": self.ticket, "replied": self.replied}


@dataclass(slots=True)
class _Prepared:
    """A message with the slow parts done outside the write lock."""

    msg: InboundMessage
    located: ports.Located | None = None
    photo: tuple[bytes, str, str] | None = None  # data, content type, extension
    notes: tuple[str, ...] = ()


def sender_key(secret: str, channel: str, sender: str) -> str:
    """A keyed hash of the sender: groups messages without storing the number."""
    return hmac.new((secret or "geo-sigap").encode(), f"{channel}\x1f{sender}".encode(),
                    hashlib.sha256).hexdigest()


def status_link(settings: Any, ticket: str) -> str:
    base = (settings.public_base_url or "").rstrip("/")
    return f"{base}/status/{ticket}"


def reply_text(ticket: str, link: str) -> str:
    """The reply with the ticket (Bahasa Indonesia: the reporters' language)."""
    return (f"Terima kasih, laporan Anda sudah kami terima dengan nomor tiket {ticket}. "
            f"Petugas akan memeriksanya. Pantau statusnya di {link} . "
            "Kirim lokasi (bagikan lokasi) dan foto bila belum, dalam beberapa menit ini.")


def receive(services: Any, parsed: Parsed, client: ChannelClient, *,
            now: datetime | None = None) -> list[Received]:
    """Store every message of one delivery (oldest first); reply to new drafts."""
    out: list[Received] = []
    for msg in parsed.messages:
        out.append(receive_message(services, msg, client, now=now))
    return out


def receive_message(services: Any, msg: InboundMessage, client: ChannelClient, *,
                    now: datetime | None = None) -> Received:
    now = now or utcnow()
    key = sender_key(services.settings.secret_key, msg.channel, msg.sender)
    seen = _seen(services, msg)
    if seen is not None:
        return Received(msg.message_id, "duplicate", seen or None)
    if msg.kind == MessageKind.UNSUPPORTED and not msg.starts_draft:
        return Received(msg.message_id, "ignored")
    if msg.kind == MessageKind.UNSUPPORTED:
        log.info("%s: message %s of unsupported type %r acknowledged", msg.channel,
                 msg.message_id, msg.unsupported_type)
        stored = _store_unsupported(services, msg, key)
        return Received(msg.message_id, "unsupported" if stored else "duplicate")
    if not msg.starts_draft:  # nothing is downloaded for chatter that will be dropped
        with services.db.session() as s:
            if _open_draft(s, msg, key, services.settings.channel_burst_minutes,
                           lock=False) is None:
                return Received(msg.message_id, "ignored")
    prep = _prepare(services, msg, client)
    root = services.settings.attachments_dir
    written: list[Path] = []
    try:
        with write_session(services.db) as s:
            _lock_sender(s, key)
            if s.scalar(_SEEN.where(ChannelMessageRow.message_id == msg.message_id,
                                    ChannelMessageRow.channel == msg.channel)) is not None:
                return Received(msg.message_id, "duplicate")
            draft = _open_draft(s, msg, key, services.settings.channel_burst_minutes)
            if draft is None and not msg.starts_draft:
                return Received(msg.message_id, "ignored")
            if draft is None:
                row = _new_draft(s, services, prep, now)
                outcome = "created"
            else:
                row = draft
                _add_to_draft(s, services, row, prep, now)
                outcome = "grouped"
            if prep.photo is not None:
                written.append(_attach(s, row, prep, root, now))
            s.add(ChannelMessageRow(channel=msg.channel, message_id=msg.message_id,
                                    sender_key=key, incident_id=row.id, received_at=msg.at,
                                    kind=msg.kind.value))
            s.flush()
            incident_event(s, row, "report" if outcome == "created" else "channel_message",
                           teams=[])
            ticket = row.ticket
    except IntegrityError:  # the same message delivered twice at once
        for p in written:
            p.unlink(missing_ok=True)
        return Received(msg.message_id, "duplicate")
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    replied = False
    if outcome == "created":
        try:
            replied = client.reply(msg, reply_text(ticket, status_link(services.settings,
                                                                         ticket)), now=now)
        except Exception:  # noqa: BLE001 - the draft is stored; a reply is best effort
            log.exception("%s: reply for %s failed", msg.channel, ticket)
    return Received(msg.message_id, outcome, ticket, replied)


_SEEN = select(ChannelMessageRow.id)


def _lock_sender(s, key: str) -> None:
    """Serialise one sender's messages until commit, so that two workers receiving a
    burst at once still make one draft (SQLite: the write lock already does)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(sql_text("SELECT pg_advisory_xact_lock(:k)"),
                  {"k": int(key[:15], 16)})  # 60 bits: fits a signed bigint


def _seen(services: Any, msg: InboundMessage) -> str | None:
    """The ticket of an already stored message (``""`` for one without a draft), or
    ``None`` when the message is new."""
    with services.db.session() as s:
        row = s.execute(
            select(ChannelMessageRow.id, IncidentRow.ticket)
            .outerjoin(IncidentRow, IncidentRow.id == ChannelMessageRow.incident_id)
            .where(ChannelMessageRow.channel == msg.channel,
                   ChannelMessageRow.message_id == msg.message_id)).first()
    if row is None:
        return None
    return row[1] or ""


def _store_unsupported(services: Any, msg: InboundMessage, key: str) -> bool:
    try:
        with write_session(services.db) as s:
            s.add(ChannelMessageRow(channel=msg.channel, message_id=msg.message_id,
                                    sender_key=key, incident_id=None, received_at=msg.at,
                                    kind=MessageKind.UNSUPPORTED.value))
        return True
    except IntegrityError:
        return False


def _prepare(services: Any, msg: InboundMessage, client: ChannelClient) -> _Prepared:
    notes: list[str] = []
    located = None
    point = (msg.lon, msg.lat) if msg.lon is not None and msg.lat is not None else \
        coordinates_in(msg.text)
    if point is not None:
        try:
            located = ports.locate(services, *point)
        except InvalidInput:
            notes.append("Koordinat yang dikirim tidak sah; diabaikan")
    photo = None
    if msg.media is not None:
        limit = services.settings.max_upload_bytes
        try:
            data = client.fetch_photo(msg.media, limit)
        except Exception:  # noqa: BLE001 - the text still counts
            log.exception("%s: photo %s could not be downloaded", msg.channel,
                          msg.media.media_id)
            data = None
        kind = sniff_image(data) if data else None
        if data and len(data) <= limit and kind is not None:
            photo = (data, *kind)
        else:
            notes.append("Foto dari pelapor tidak dapat diambil"
                         if data is None else "Berkas dari pelapor bukan foto yang sah")
    return _Prepared(msg, located, photo, tuple(notes))


def _open_draft(s, msg: InboundMessage, key: str, burst_minutes: float, *,
                lock: bool = True) -> IncidentRow | None:
    """The sender's unverified draft whose last message is at most ``burst_minutes``
    before this one."""
    if burst_minutes <= 0:
        return None
    last = s.execute(
        select(ChannelMessageRow.incident_id, ChannelMessageRow.received_at)
        .where(ChannelMessageRow.channel == msg.channel,
               ChannelMessageRow.sender_key == key,
               ChannelMessageRow.incident_id.is_not(None),
               ChannelMessageRow.received_at <= msg.at + timedelta(minutes=1))
        .order_by(ChannelMessageRow.received_at.desc(), ChannelMessageRow.id.desc())
        .limit(1)).first()
    if last is None or msg.at - last[1] > timedelta(minutes=burst_minutes):
        return None
    q = select(IncidentRow).where(IncidentRow.id == last[0])
    if lock and s.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    row = s.scalar(q)
    if row is None or row.status != Status.DITERIMA.value:
        return None
    return row


def _category(services: Any, text: str) -> tuple[str, bool]:
    """(category code, guessed?) for ``text``."""
    guess, _ = guess_category(text, services.categories)
    if guess:
        return guess, True
    if FALLBACK_CATEGORY in services.categories:
        return FALLBACK_CATEGORY, False
    return next(iter(services.categories)).code, False


def _text(msg: InboundMessage) -> str:
    text = clean_text(msg.text or "").strip()
    if msg.kind == MessageKind.LOCATION:
        return ""  # the label goes to the address
    if msg.kind == MessageKind.IMAGE and not text:
        return ""
    return text


def _new_draft(s, services: Any, prep: _Prepared, now: datetime) -> IncidentRow:
    msg = prep.msg
    text = _text(msg)
    code, _ = _category(services, text)
    cat = services.categories.get(code)
    loc = prep.located
    placement = loc.placement if loc else Placement(flags=("no_location",))
    name = clean_text(msg.sender_name or "", single_line=True).strip()[:200] or None
    inc = Incident(
        ticket=new_ticket_code(now.astimezone(WIB)), category=code,
        description=(text or _placeholder(msg))[:_MAX_DESCRIPTION],
        channel=Channel.parse(msg.channel), location=(loc.lon, loc.lat) if loc else None,
        reported_at=min(msg.at, now), priority=cat.default_priority, status=Status.DITERIMA,
        address_text=msg.location_label, placement=placement, reporter_name=name,
        reporter_phone=msg.sender_phone)
    dup = None
    if loc is not None:
        st = services.settings
        dup = find_duplicate(s, code, (loc.lon, loc.lat), inc.reported_at,
                             radius_m=st.duplicate_radius_m,
                             window_min=st.duplicate_window_minutes)
    while s.scalar(select(IncidentRow.id).where(IncidentRow.ticket == inc.ticket)):
        inc.ticket = new_ticket_code(now.astimezone(WIB))  # a collision: draw again
    row = new_row(inc, created_by=f"kanal:{msg.channel}")
    if dup is not None:
        row.duplicate_of_id = dup.id
    s.add(row)
    s.flush()
    audit.append(s, AuditEntry(
        at=now, actor=f"kanal:{msg.channel}", actor_role=UserRole.CITIZEN.value,
        action="report", incident_ticket=row.ticket, to_status=row.status,
        details={"channel": msg.channel, "category": code, "priority": int(inc.priority),
                 "duplicate_of": dup.ticket if dup else None, "draft": True,
                 "message_kind": msg.kind.value, "forwarded": msg.forwarded,
                 "flags": list(placement.flags), "notes": list(prep.notes)}),
        incident_id=row.id)
    return row


def _placeholder(msg: InboundMessage) -> str:
    what = {MessageKind.LOCATION: "lokasi", MessageKind.IMAGE: "foto"}.get(msg.kind, "pesan")
    return f"(Laporan lewat {Channel.parse(msg.channel).label}: {what} tanpa keterangan)"


def _add_to_draft(s, services: Any, row: IncidentRow, prep: _Prepared, now: datetime
                  ) -> None:
    msg = prep.msg
    changed: list[str] = []
    text = _text(msg)
    if text:
        placeholder = row.description.startswith("(Laporan lewat ")
        desc = text if placeholder else f"{row.description}\n{text}"
        row.description = desc[:_MAX_DESCRIPTION]
        changed.append("description")
        guess, guessed = _category(services, row.description)
        if guessed and row.category == FALLBACK_CATEGORY and guess != row.category:
            row.category = guess
            row.priority = int(services.categories.get(guess).default_priority)
            changed.append("category")
    if prep.located is not None and row.lon is None:
        loc = prep.located
        set_location(row, (loc.lon, loc.lat), loc.placement)
        changed.append("location")
    if msg.location_label and not row.address_text:
        row.address_text = msg.location_label
    if prep.photo is not None:
        changed.append("photo")
    row.updated_at = now
    audit.append(s, AuditEntry(
        at=now, actor=f"kanal:{msg.channel}", actor_role=UserRole.CITIZEN.value,
        action="channel_message", incident_ticket=row.ticket, from_status=row.status,
        to_status=row.status,
        details={"channel": msg.channel, "message_kind": msg.kind.value,
                 "changed": changed, "notes": list(prep.notes)}), incident_id=row.id)


def _attach(s, row: IncidentRow, prep: _Prepared, root: Path, now: datetime) -> Path:
    """Write the photo under ``root`` and attach it to ``row`` (in session ``s``)."""
    data, ctype, ext = prep.photo
    msg = prep.msg
    key = f"{now:%Y/%m}/{secrets.token_hex(16)}.{ext}"
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o640)
    label = Channel.parse(msg.channel).label
    caption = clean_text(msg.text or "").strip()
    rep = FieldReportRow(team_code=msg.channel, created_at=now, author=f"kanal:{msg.channel}",
                         text=f"Foto dari pelapor lewat {label}"
                         + (f": {caption}" if caption else ""))
    rep.attachments.append(AttachmentRow(
        filename=display_name(None, f"foto-{msg.channel}.{ext}"), content_type=ctype,
        size=len(data), storage_key=key, sha256=hashlib.sha256(data).hexdigest()))
    row.reports.append(rep)
    return path
