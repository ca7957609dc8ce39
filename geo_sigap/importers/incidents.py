"""Historical incidents from CSV (schema in docs/architecture.md).

Each incident is placed in its units on import (reverse geocoding), its SOP timestamps
are checked for order, and its lead/support teams become assignments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geo_sigap.domain.categories import CategoryTable, Priority
from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.domain.incidents import AuditEntry, Channel, Incident, Placement, new_ticket_code
from geo_sigap.domain.lifecycle import Status
from geo_sigap.errors import GeoSigapError
from geo_sigap.importers._csv import cell, read_csv, refuse
from geo_sigap.importers.progress import Progress, null_progress

REQUIRED = ["category", "lon", "lat", "reported_at"]
TIMES = ["reported_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at",
         "handled_at", "resolved_at"]

Placer = Callable[[np.ndarray, np.ndarray], Sequence[Placement]]


def _time(value: str | None, tz: str) -> datetime | None:
    if not value:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return ts.to_pydatetime().astimezone(UTC)


def read_incidents(
    path: str | Path,
    categories: CategoryTable,
    *,
    timezone: str = "Asia/Jakarta",
    progress: Progress = null_progress,
) -> tuple[list[Incident], dict[str, tuple[str | None, list[str]]]]:
    """Validate a history CSV. Returns incidents and ``ticket → (lead_team, support_teams)``.

    Times without an offset are taken as ``timezone`` (WIB by default).
    """
    df = read_csv(path, REQUIRED)
    out: list[Incident] = []
    teams: dict[str, tuple[str | None, list[str]]] = {}
    errors: list[str] = []
    seen: set[str] = set()
    for i, row in df.iterrows():
        line = int(i) + 2
        if i % 1000 == 0:
            progress("memeriksa laporan", int(i), len(df))
        try:
            cat = categories.get(cell(row, "category") or "")
            p = check_lonlat(cell(row, "lon"), cell(row, "lat"))
            times = {k: _time(cell(row, k), timezone) for k in TIMES + ["rejected_at"]}
            prev = None
            for k in TIMES:
                t = times[k]
                if t is not None:
                    if prev is not None and t < prev[1]:
                        raise GeoSigapError(f"{k} lebih awal dari {prev[0]}",
                                            f"{k} is earlier than {prev[0]}")
                    prev = (k, t)
            status = Status(cell(row, "status") or _status_from_times(times).value)
            ticket = cell(row, "ticket") or new_ticket_code(times["reported_at"])
            if ticket in seen:
                raise GeoSigapError(f"tiket {ticket} ganda", f"duplicate ticket {ticket}")
            seen.add(ticket)
            prio = cell(row, "priority")
            inc = Incident(
                ticket=ticket, category=cat.code, description=cell(row, "description") or "",
                channel=Channel.parse(cell(row, "channel") or "import"),
                location=(p.lon, p.lat), reported_at=times["reported_at"],
                priority=Priority.parse(prio) if prio else cat.default_priority,
                status=status, address_text=cell(row, "address_text"),
                rejection_reason=cell(row, "rejection_reason"),
                **{k: times[k] for k in TIMES[1:] + ["rejected_at"]},
            )
            out.append(inc)
            support = [s.strip() for s in (cell(row, "support_teams") or "").split(";")
                       if s.strip()]
            teams[ticket] = (cell(row, "lead_team"), support)
        except GeoSigapError as exc:
            errors.append(f"baris {line}: {exc.message_id}")
        except (ValueError, TypeError) as exc:
            errors.append(f"baris {line}: {exc}")
    if errors:
        raise refuse(path, errors)
    progress("memeriksa laporan", len(df), len(df))
    return out, teams


def _status_from_times(times: dict[str, datetime | None]) -> Status:
    if times.get("rejected_at"):
        return Status.DITOLAK
    for k, st in (("resolved_at", Status.SELESAI), ("handled_at", Status.DITANGANI),
                  ("on_scene_at", Status.DI_LOKASI), ("en_route_at", Status.MENUJU_LOKASI),
                  ("dispatched_at", Status.DITUGASKAN), ("verified_at", Status.TERVERIFIKASI)):
        if times.get(k):
            return st
    return Status.DITERIMA


def import_incidents(
    db,
    incidents: list[Incident],
    team_links: dict[str, tuple[str | None, list[str]]],
    placer: Placer,
    *,
    actor: str = "import",
    progress: Progress = null_progress,
    batch: int = 2000,
) -> dict:
    """Place and store incidents in one transaction; unknown team codes refuse the file."""
    from sqlalchemy import select

    from geo_sigap.storage.audit import append
    from geo_sigap.storage.incidents import new_row
    from geo_sigap.storage.tables import AssignmentRow, IncidentRow, TeamRow

    lons = np.array([i.location[0] for i in incidents], dtype=float)
    lats = np.array([i.location[1] for i in incidents], dtype=float)
    progress("menempatkan di wilayah", 0, len(incidents))
    placements = placer(lons, lats)
    progress("menempatkan di wilayah", len(incidents), len(incidents))
    outside = 0
    with db.session() as s:
        team_roles = dict(s.execute(select(TeamRow.code, TeamRow.role)).all())
        unknown = sorted({c for lead, sup in team_links.values() for c in [lead, *sup]
                          if c and c not in team_roles})
        if unknown:
            raise refuse("incidents", [f"kode tim tidak dikenal: {', '.join(unknown[:20])}"])
        existing = set(s.scalars(select(IncidentRow.ticket).where(
            IncidentRow.ticket.in_([i.ticket for i in incidents]))))
        now = datetime.now(UTC)
        added = 0
        for k, (inc, plc) in enumerate(zip(incidents, placements, strict=True)):
            if inc.ticket in existing:
                continue
            inc.placement = plc
            if plc.kelurahan_code is None:
                outside += 1
            row = new_row(inc, created_by=actor)
            lead, support = team_links.get(inc.ticket, (None, []))
            at = inc.dispatched_at or inc.reported_at
            for code, kind in [(lead, "lead")] + [(c, "support") for c in support]:
                if code:
                    row.assignments.append(AssignmentRow(
                        team_code=code, kind=kind, role=team_roles[code], assigned_at=at,
                        assigned_by=actor))
            s.add(row)
            added += 1
            if added % batch == 0:
                s.flush()
                progress("menyimpan", k + 1, len(incidents))
        s.flush()
        append(s, AuditEntry(at=now, actor=actor, actor_role="admin", action="import_incidents",
                             details={"count": added}))
    progress("menyimpan", len(incidents), len(incidents))
    return {"inserted": added, "skipped_existing": len(incidents) - added,
            "outside_coverage": outside}
