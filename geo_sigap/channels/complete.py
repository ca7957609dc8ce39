"""The operator completes a draft before verifying it: place the point, fix the category,
tidy the description.

A chat message often arrives without a location (or with the wrong category guess); a
draft stays in status ``diterima`` until the operator verifies it, and only then may it
be completed here. Every change is audited (``complete_draft``) and announced on the
event stream, in one transaction; a stale ``version`` is refused (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geo_sigap.dispatch import ports
from geo_sigap.dispatch._tx import write_session
from geo_sigap.dispatch.actors import INTAKE, Actor
from geo_sigap.dispatch.events import incident_event
from geo_sigap.dispatch.intake import find_duplicate
from geo_sigap.dispatch.text import clean_text
from geo_sigap.dispatch.views import incident_view
from geo_sigap.domain.categories import Priority
from geo_sigap.domain.incidents import AuditEntry
from geo_sigap.domain.lifecycle import Status, UserRole
from geo_sigap.errors import ConcurrentEdit, InvalidInput, InvalidTransition
from geo_sigap.storage import audit
from geo_sigap.storage.incidents import incident_row, set_location
from geo_sigap.storage.tables import utcnow

EDITORS = INTAKE - {UserRole.TEAM_MEMBER}


def complete_draft(services: Any, actor: Actor, ticket: str, *, version: int | None,
                   lon: Any = None, lat: Any = None, category: str | None = None,
                   description: str | None = None, address_text: str | None = None,
                   priority: int | str | None = None, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Change what is given of an unverified report. ``lon, lat`` EPSG:4326 (both or
    neither), placed with the reverse geocoder. Raises :class:`InvalidTransition` once
    the report is verified or rejected, :class:`ConcurrentEdit` for a stale
    ``version``."""
    now = now or utcnow()
    actor.require(EDITORS, "melengkapi draf laporan", "complete draft reports")
    if (lon is None) != (lat is None):
        raise InvalidInput("Isi lon dan lat bersama-sama", "Give lon and lat together")
    if version is None:
        raise InvalidInput("Kolom 'version' wajib diisi", "Field 'version' is required")
    loc = ports.locate(services, lon, lat) if lon is not None else None
    cat = services.categories.get(category.strip()) if category else None
    prio = Priority.parse(priority) if priority not in (None, "") else None
    text = clean_text(description).strip() if description is not None else None
    if text is not None and not 0 < len(text) <= 4000:
        raise InvalidInput("Uraian wajib diisi (maks. 4000 karakter)",
                           "A description is required (max 4000 characters)")
    with write_session(services.db) as s:
        row = incident_row(s, ticket, for_update=s.get_bind().dialect.name == "postgresql")
        if row.status != Status.DITERIMA.value:
            raise InvalidTransition(
                "Hanya laporan yang menunggu verifikasi yang dapat dilengkapi",
                "Only reports waiting for verification can be completed",
                status=row.status)
        if int(version) != row.version:
            raise ConcurrentEdit(
                f"Kasus {row.ticket} sudah diubah (versi {row.version}); muat ulang",
                f"Case {row.ticket} has changed (version {row.version}); reload",
                current=incident_view(s, services.categories, row, actor, now, full=False))
        changed: list[str] = []
        row.updated_at = now
        if cat is not None and cat.code != row.category:
            row.category = cat.code
            row.priority = int(cat.default_priority)
            changed.append("category")
        if prio is not None and int(prio) != row.priority:
            row.priority = int(prio)
            changed.append("priority")
        if text is not None and text != row.description:
            row.description = text
            changed.append("description")
        if address_text is not None:
            row.address_text = clean_text(address_text).strip()[:500] or None
            changed.append("address_text")
        if loc is not None:
            set_location(row, (loc.lon, loc.lat), loc.placement)
            changed.append("location")
        if loc is not None or "category" in changed:
            if row.lon is not None and row.duplicate_of_id is None:
                st = services.settings
                with s.no_autoflush:  # one UPDATE, one version step
                    dup = find_duplicate(s, row.category, (row.lon, row.lat), row.reported_at,
                                         radius_m=st.duplicate_radius_m,
                                         window_min=st.duplicate_window_minutes)
                if dup is not None and dup.id != row.id:
                    row.duplicate_of_id = dup.id
        s.flush()
        audit.append(s, AuditEntry(
            at=now, actor=actor.username, actor_role=actor.role.value,
            action="complete_draft", incident_ticket=row.ticket, from_status=row.status,
            to_status=row.status,
            details={"changed": changed,
                     "flags": list(loc.flags) if loc is not None else []}),
            incident_id=row.id)
        incident_event(s, row, "complete_draft", teams=[])
        view = incident_view(s, services.categories, row, actor, now)
        view["warnings"] = list(loc.warnings) if loc is not None else []
        return view
