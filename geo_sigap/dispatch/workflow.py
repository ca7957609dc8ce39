"""SOP steps 2–7 — verify/reject, assign teams, field steps, resolve/rework.

One function, :func:`transition`, makes every state change of the lifecycle
(:data:`geo_sigap.domain.lifecycle.TRANSITIONS`); :func:`assign` is the dispatch step
with its WhatsApp messages. Both check the client's ``version`` (optimistic locking)
inside a transaction that locks the incident row, so of two dispatchers acting on the
same version the second gets :class:`ConcurrentEdit` with the current state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from geo_sigap.dispatch import ports
from geo_sigap.dispatch._tx import write_session
from geo_sigap.dispatch.actors import DISPATCHERS, STAFF, Actor
from geo_sigap.dispatch.events import incident_event, team_event
from geo_sigap.dispatch.text import clean_text
from geo_sigap.dispatch.views import assigned_teams, incident_view, placement_view
from geo_sigap.dispatch.whatsapp import citizen_message, wa_link, whatsapp_message
from geo_sigap.domain.categories import Priority
from geo_sigap.domain.incidents import AssignmentKind, AuditEntry, check_handled_evidence
from geo_sigap.domain.lifecycle import (STATUS_TIMESTAMP, TRANSITIONS, Status, UserRole,
                                        allowed_actions, check_transition)
from geo_sigap.domain.teams import TeamStatus
from geo_sigap.errors import ConcurrentEdit, InvalidInput, InvalidTransition, PermissionDenied
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import incident_row, placement_from_row
from geo_sigap.storage.tables import AssignmentRow, IncidentRow, TeamRow, utcnow
from geo_sigap.storage.teams import to_team

_FIELD_ACTIONS = frozenset({"depart", "arrive", "handle"})
_ACTIVE = (Status.DITUGASKAN, Status.MENUJU_LOKASI, Status.DI_LOKASI)


def _check_version(s, services, row: IncidentRow, version: int | None, actor: Actor,
                   now: datetime) -> None:
    if version is None:
        raise InvalidInput("Kolom 'version' wajib diisi (versi kasus yang Anda lihat)",
                           "Field 'version' is required (the version you are looking at)")
    if int(version) != row.version:
        raise ConcurrentEdit(
            f"Kasus {row.ticket} sudah diubah orang lain (versi {row.version}, Anda "
            f"mengirim {version}). Muat ulang dan periksa sebelum mengulang.",
            f"Case {row.ticket} was changed by someone else (version {row.version}, you "
            f"sent {version}). Reload and check before trying again.",
            current=incident_view(s, services.categories, row, actor, now, full=False))


def _lock(s, ticket: str) -> IncidentRow:
    return incident_row(s, ticket, for_update=s.get_bind().dialect.name == "postgresql")


def _set_teams_status(s, codes: set[str], status: TeamStatus) -> None:
    if codes:  # no version bump: team status is not edited concurrently by hand
        s.execute(update(TeamRow).where(TeamRow.code.in_(codes))
                  .values(status=status.value, updated_at=utcnow())
                  .execution_options(synchronize_session=False))


def _release_teams(s, row: IncidentRow) -> set[str]:
    """Teams of ``row`` with no other open assignment go back to available."""
    codes = assigned_teams(row)
    busy = set(s.scalars(
        select(AssignmentRow.team_code).join(IncidentRow)
        .where(AssignmentRow.team_code.in_(codes), AssignmentRow.active.is_(True),
               IncidentRow.id != row.id,
               IncidentRow.status.in_([x.value for x in _ACTIVE])))) if codes else set()
    free = codes - busy
    _set_teams_status(s, free, TeamStatus.TERSEDIA)
    return free


def scoped_key(actor: Actor, key: str | None) -> str | None:
    """The stored form of a client's ``Idempotency-Key``: a hash scoped to its sender."""
    key = clean_text(key or "").strip()[:100]
    if not key:
        return None
    return hashlib.sha256(f"user\x1f{actor.username}\x1f{key}".encode()).hexdigest()[:40]


def replayed(s, row: IncidentRow, key: str | None, actions: tuple[str, ...]) -> bool:
    """True when an audit entry of ``row`` already carries the scoped ``key``."""
    if not key:
        return False
    return any(e.details.get("idem") == key and e.action in actions
               for e in audit.entries(s, incident_id=row.id, limit=5000))


def last_rework_at(s, row: IncidentRow) -> datetime | None:
    """When the case was last sent back for rework (``None``: never)."""
    times = [e.at for e in audit.entries(s, incident_id=row.id, limit=5000)
             if e.action == "rework"]
    return max(times) if times else None


def transition(services, actor: Actor, ticket: str, action: str, *, version: int | None,
               reason: str | None = None, priority: int | str | None = None,
               note: str | None = None, public_note: str | None = None,
               idempotency_key: str | None = None,
               now: datetime | None = None) -> dict[str, Any]:
    """Make one lifecycle step: verify, reject, depart, arrive, handle, resolve, rework.

    ``reason`` is required for reject/rework; ``priority`` may be set on verify (default:
    the category's); ``note`` goes to the audit entry (and is the resolution note on
    resolve); ``public_note`` (resolve only) is the closing note citizens see on the
    status page. Team members act only on incidents their team is assigned to.
    *handle* needs the team's field report (a photo too for categories with
    ``report_photo_required``) sent since the last rework, or a ``reason`` (SOP step 6).
    A retry with the same ``idempotency_key`` (scoped to the actor) answers the case as
    it is now, without making the step twice.

    Raises :class:`InvalidTransition` (naming the allowed actions),
    :class:`PermissionDenied`, :class:`ConcurrentEdit` (stale ``version``),
    :class:`FieldReportRequired`, :class:`InvalidInput`.
    """
    now = now or utcnow()
    actor.require(STAFF, "mengubah status kasus", "change a case's status")
    action = (action or "").strip().lower()
    if action == "dispatch":
        raise InvalidInput("Penugasan tim memakai POST /api/incidents/{tiket}/assign",
                           "Assigning teams uses POST /api/incidents/{ticket}/assign")
    reason = clean_text(reason) if reason is not None else None
    note = clean_text(note) if note is not None else None
    public_note = (clean_text(public_note).strip() or None) if public_note else None
    if public_note and action != "resolve":
        raise InvalidInput("Catatan untuk warga hanya diisi saat menyelesaikan kasus",
                           "The note for citizens is given on resolve only")
    if public_note and len(public_note) > 1000:
        raise InvalidInput("Catatan untuk warga terlalu panjang (maks. 1000 karakter)",
                           "The note for citizens is too long (max 1000 characters)")
    key = scoped_key(actor, idempotency_key)
    try:
        with write_session(services.db) as s:
            row = _lock(s, ticket)
            if replayed(s, row, key, (action,)):
                return {**incident_view(s, services.categories, row, actor, now),
                        "replayed": True}
            status = Status(row.status)
            t = check_transition(status, action, actor.role)
            if actor.role == UserRole.TEAM_MEMBER and actor.team_code not in assigned_teams(row):
                raise PermissionDenied(
                    f"Tim Anda tidak ditugaskan pada kasus {ticket}",
                    f"Your team is not assigned to case {ticket}", ticket=ticket)
            _check_version(s, services, row, version, actor, now)
            reason = (reason or "").strip() or None
            if t.needs_reason and not reason:
                raise InvalidInput(f"Alasan wajib diisi untuk '{action}'",
                                   f"A reason is required for '{action}'", action=action)
            if action == "handle":
                check_handled_evidence(services.categories.get(row.category), row.reports,
                                       since=last_rework_at(s, row), reason=reason)
            details: dict[str, Any] = {}
            if key:
                details["idem"] = key
            if public_note:
                details["public_note"] = public_note
            if action == "verify" and priority not in (None, ""):
                p = Priority.parse(priority)
                details["priority"] = {"from": row.priority, "to": int(p)}
                row.priority = int(p)
            elif priority not in (None, ""):
                raise InvalidInput("Prioritas hanya dapat diubah saat verifikasi",
                                   "The priority can only be set on verify")
            ts_field = STATUS_TIMESTAMP[t.target]
            if getattr(row, ts_field) is None:
                setattr(row, ts_field, now)
            row.status = t.target.value
            if action == "reject":
                row.rejection_reason = reason
            if action == "resolve":
                row.resolution_note = (note or "").strip() or None
            if action in ("resolve", "reject"):
                details["teams_released"] = sorted(_release_teams(s, row))
                at = row.resolved_at if action == "resolve" else row.rejected_at
                cat = services.categories.get(row.category)
                row.citizen_message = citizen_message(
                    ticket=row.ticket, category_name=cat.name,
                    status_label=t.target.label, at=at,
                    place=placement_from_row(row).describe(), note=public_note)
            if reason:
                details["reason"] = reason
            if note:
                details["note"] = note.strip()
            s.flush()
            audit.append(s, AuditEntry(
                at=now, actor=actor.username, actor_role=actor.role.value, action=action,
                incident_ticket=row.ticket, from_status=status.value, to_status=row.status,
                details=details), incident_id=row.id)
            incident_event(s, row, action)
            return incident_view(s, services.categories, row, actor, now)
    except StaleDataError:
        raise ConcurrentEdit("Kasus sedang diubah orang lain; muat ulang dan coba lagi",
                             "The case is being changed by someone else; reload and retry"
                             ) from None


@dataclass(slots=True)
class TeamPick:
    team_code: str
    kind: str = "lead"


def assign(services, actor: Actor, ticket: str, picks: list[TeamPick], *,
           version: int | None, now: datetime | None = None) -> dict[str, Any]:
    """Step 3: assign teams (lead/support) and move a verified case to *ditugaskan*.

    On a case already dispatched (en route / on scene) the teams are added without a
    status change. Returns ``{incident, messages: [{team_code, text, wa_link}]}``: one
    ready WhatsApp message (Bahasa Indonesia) per newly assigned team.
    """
    now = now or utcnow()
    actor.require(DISPATCHERS, "menugaskan tim", "assign teams")
    if not picks:
        raise InvalidInput("Pilih minimal satu tim", "Choose at least one team")
    kinds = {}
    for p in picks:
        try:
            kinds[p.team_code] = AssignmentKind(str(p.kind).lower())
        except ValueError:
            raise InvalidInput(f"Jenis penugasan tidak dikenal: {p.kind!r} (lead/support)",
                               f"Unknown assignment kind: {p.kind!r} (lead/support)") from None
    if len(kinds) != len(picks):
        raise InvalidInput("Satu tim hanya boleh muncul sekali", "Each team may appear once")
    try:
        with write_session(services.db) as s:
            row = _lock(s, ticket)
            status = Status(row.status)
            first = status == Status.TERVERIFIKASI
            if first:
                check_transition(status, "dispatch", actor.role)
            elif status not in _ACTIVE:
                allowed = allowed_actions(status)
                raise InvalidTransition(
                    f"Tim tidak dapat ditugaskan pada status '{status.label}'. "
                    f"Yang diizinkan: {', '.join(allowed) or 'tidak ada'}",
                    f"Teams cannot be assigned in status '{status.label_for('en')}'. "
                    f"Allowed: {', '.join(allowed) or 'none'}",
                    status=status.value, action="assign", allowed=allowed)
            _check_version(s, services, row, version, actor, now)
            # a code with control characters names no team (and PostgreSQL refuses NUL)
            teams = {t.code: t for t in s.scalars(select(TeamRow).where(TeamRow.code.in_(
                [c for c in kinds if clean_text(c) == c])))}
            missing = sorted(set(kinds) - set(teams))
            if missing:
                from geo_sigap.errors import TeamNotFound

                raise TeamNotFound(f"Tim tidak ditemukan: {', '.join(missing)}",
                                   f"Team not found: {', '.join(missing)}", teams=missing)
            already = assigned_teams(row)
            dup = sorted(set(kinds) & already)
            if dup:
                raise InvalidInput(f"Tim sudah ditugaskan: {', '.join(dup)}",
                                   f"Team already assigned: {', '.join(dup)}", teams=dup)
            has_lead = any(a.kind == "lead" for a in row.assignments if a.active)
            n_lead = sum(k == AssignmentKind.LEAD for k in kinds.values())
            if n_lead + has_lead > 1:
                raise InvalidInput("Hanya satu tim utama (lead) per kasus",
                                   "Only one lead team per case")
            if first and n_lead == 0:
                raise InvalidInput("Penugasan pertama memerlukan satu tim utama (lead)",
                                   "The first assignment needs one lead team")
            lonlat = (row.lon, row.lat) if row.lon is not None else None
            new_rows = []
            for code, kind in kinds.items():
                team = to_team(teams[code])
                eta = dist = None
                if lonlat is not None:
                    try:
                        eta, dist = ports.team_eta(services, lonlat, team, now)
                    except Exception:  # noqa: BLE001 - an ETA is a courtesy here
                        eta = dist = None
                a = AssignmentRow(team_code=code, kind=kind.value, role=team.role.value,
                                  assigned_at=now, assigned_by=actor.username, eta_s=eta,
                                  distance_m=dist, active=True)
                row.assignments.append(a)
                new_rows.append(a)
            everyone = [(a.team_code, a.kind) for a in row.assignments if a.active]
            names = {c: t.name for c, t in teams.items()}
            if len(everyone) > len(new_rows):
                for c, n in s.execute(select(TeamRow.code, TeamRow.name).where(
                        TeamRow.code.in_([c for c, _ in everyone]))):
                    names[c] = n
            cat = services.categories.get(row.category)
            place = placement_from_row(row).describe()
            messages = []
            for a in new_rows:
                text = whatsapp_message(
                    ticket=row.ticket, category_name=cat.name, description=row.description,
                    place=place, address_text=row.address_text, lonlat=lonlat,
                    priority=Priority(row.priority), reported_at=row.reported_at,
                    team_name=names[a.team_code], kind=a.kind,
                    others=[(names[c], k) for c, k in everyone if c != a.team_code],
                    eta_s=a.eta_s)
                a.message = text
                messages.append({"team_code": a.team_code, "team_name": names[a.team_code],
                                 "kind": a.kind, "phone": teams[a.team_code].phone,
                                 "text": text,
                                 "wa_link": wa_link(teams[a.team_code].phone, text)})
            if first:
                row.status = Status.DITUGASKAN.value
                if row.dispatched_at is None:
                    row.dispatched_at = now
            _set_teams_status(s, set(kinds), TeamStatus.BERTUGAS)
            row.updated_at = now  # bumps the version even when only children changed
            s.flush()
            audit.append(s, AuditEntry(
                at=now, actor=actor.username, actor_role=actor.role.value,
                action="dispatch" if first else "assign", incident_ticket=row.ticket,
                from_status=status.value, to_status=row.status,
                details={"teams": [{"team_code": a.team_code, "kind": a.kind,
                                    "eta_s": a.eta_s} for a in new_rows]}),
                incident_id=row.id)
            incident_event(s, row, "dispatch" if first else "assign")
            for code in kinds:
                team_event(s, teams[code], "assigned", status=TeamStatus.BERTUGAS.value)
            return {"incident": incident_view(s, services.categories, row, actor, now),
                    "messages": messages}
    except StaleDataError:
        raise ConcurrentEdit("Kasus sedang diubah orang lain; muat ulang dan coba lagi",
                             "The case is being changed by someone else; reload and retry"
                             ) from None


def unassign(services, actor: Actor, ticket: str, team_code: str, *, version: int | None,
             reason: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Take a team off a dispatched case (to reassign it): its assignment becomes
    inactive, the team is free again when it has no other open case, and the team hears
    of it on its event stream (``action: unassign``, ``removed: [team]``). Assign the
    replacement with :func:`assign`. Only while dispatched, en route or on scene.
    """
    now = now or utcnow()
    actor.require(DISPATCHERS, "mengalihkan tim", "reassign teams")
    reason = (clean_text(reason or "").strip() or None)
    try:
        with write_session(services.db) as s:
            row = _lock(s, ticket)
            status = Status(row.status)
            if status not in _ACTIVE:
                raise InvalidTransition(
                    f"Tim tidak dapat dialihkan pada status '{status.label}'",
                    f"Teams cannot be reassigned in status '{status.label_for('en')}'",
                    status=status.value, action="unassign")
            _check_version(s, services, row, version, actor, now)
            mine = [a for a in row.assignments if a.active and a.team_code == team_code]
            if not mine:
                raise InvalidInput(f"Tim {team_code} tidak ditugaskan pada kasus {ticket}",
                                   f"Team {team_code} is not assigned to case {ticket}",
                                   team_code=team_code)
            for a in mine:
                a.active = False
            busy = set(s.scalars(
                select(AssignmentRow.team_code).join(IncidentRow)
                .where(AssignmentRow.team_code == team_code, AssignmentRow.active.is_(True),
                       IncidentRow.id != row.id,
                       IncidentRow.status.in_([x.value for x in _ACTIVE]))))
            if not busy:
                _set_teams_status(s, {team_code}, TeamStatus.TERSEDIA)
            row.updated_at = now
            s.flush()
            audit.append(s, AuditEntry(
                at=now, actor=actor.username, actor_role=actor.role.value, action="unassign",
                incident_ticket=row.ticket, from_status=status.value, to_status=row.status,
                details={"team_code": team_code, "kind": mine[0].kind,
                         **({"reason": reason} if reason else {})}), incident_id=row.id)
            incident_event(s, row, "unassign", removed=[team_code])
            return incident_view(s, services.categories, row, actor, now)
    except StaleDataError:
        raise ConcurrentEdit("Kasus sedang diubah orang lain; muat ulang dan coba lagi",
                             "The case is being changed by someone else; reload and retry"
                             ) from None


def suggestions_for_view(services, view: dict[str, Any], now: datetime
                         ) -> dict[str, Any] | None:
    """Suggestions for an incident view (``None`` without routing or location)."""
    if view.get("lon") is None:
        return None
    return ports.suggestions_for_placement(services, (view["lon"], view["lat"]),
                                           view["category"], view["placement"], now)


def suggestions(services, actor: Actor, ticket: str, *, now: datetime | None = None
                ) -> dict[str, Any]:
    """Per needed role: responsible and nearest available teams with road ETA."""
    now = now or utcnow()
    actor.require(DISPATCHERS, "melihat saran tim", "see team suggestions")
    with services.db.session() as s:  # only what the suggestion needs: one query
        row = incident_row(s, ticket, related=False)
        view = {"lon": row.lon, "lat": row.lat, "category": row.category,
                "placement": placement_view(placement_from_row(row))}
    out = suggestions_for_view(services, view, now)
    if out is None:
        from geo_sigap.errors import ConfigError

        raise ConfigError(
            "Saran tim memerlukan jaringan jalan (GEO_SIGAP_ROAD_NETWORK) dan lokasi kasus",
            "Team suggestions need a road network (GEO_SIGAP_ROAD_NETWORK) and a location")
    return {"ticket": ticket, **out}


TRANSITION_ACTIONS = [a for a in TRANSITIONS if a != "dispatch"]
