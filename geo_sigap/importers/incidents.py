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
from geo_sigap.importers._csv import cell, check_columns, read_csv, refuse
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


# ====================================================================== streaming import
#
# The same checks as :func:`read_incidents`, made on whole columns of a chunk of rows at a
# time (pandas), in two passes over the file: the first checks every row (nothing is
# written when any row is wrong), the second places and stores chunk after chunk inside
# one transaction (COPY on PostgreSQL, executemany batches on SQLite). Memory stays
# bounded by the chunk size whatever the size of the file.

import re  # noqa: E402

CHUNK_ROWS = 20_000
_OFFSET = re.compile(r"(?:[zZ]|[+-]\d\d(?::?\d\d)?)$")
_STATUS_ORDER = (("rejected_at", Status.DITOLAK), ("resolved_at", Status.SELESAI),
                 ("handled_at", Status.DITANGANI), ("on_scene_at", Status.DI_LOKASI),
                 ("en_route_at", Status.MENUJU_LOKASI), ("dispatched_at", Status.DITUGASKAN),
                 ("verified_at", Status.TERVERIFIKASI))
_ALL_TIMES = TIMES + ["rejected_at"]


def _chunks(path: Path, chunk_rows: int):
    """(first line number, frame of str) per chunk; refuses a file without the columns."""
    from geo_sigap.errors import ImportFailed

    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"Berkas tidak ditemukan: {path}", f"File not found: {path}")
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                             chunksize=chunk_rows)
        first = True
        line = 2
        for df in reader:
            check_columns(df, path, REQUIRED if first else [])
            first = False
            yield line, df.reset_index(drop=True)
            line += len(df)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFailed(
            f"{path.name} bukan CSV yang dapat dibaca: {str(exc).splitlines()[0]}",
            f"{path.name} is not a readable CSV: {str(exc).splitlines()[0]}",
            file=str(path)) from exc


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """The column's values, stripped (numpy string ufuncs: no Python loop per value)."""
    if name not in df.columns:
        return pd.Series(np.full(len(df), "", dtype=object))
    u = np.strings.strip(df[name].to_numpy(dtype="U"))
    return pd.Series(u.astype(object))


def _has_offset(u: np.ndarray) -> np.ndarray:
    """Does each ISO 8601 text end with a UTC offset (``Z``, ``+07:00``, ``+0700``)?"""
    sl = np.strings.slice
    z = np.strings.endswith(u, "Z") | np.strings.endswith(u, "z")
    sign6 = np.isin(sl(u, -6, -5), ["+", "-"]) & (sl(u, -3, -2) == ":")
    sign5 = np.isin(sl(u, -5, -4), ["+", "-"]) & np.strings.isdigit(sl(u, -4, None))
    timed = np.strings.str_len(u) > 10  # a date alone ("2025-03-04") has no offset
    return (z | sign6 | sign5) & timed


def _parse_times(values: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """UTC timestamps (NaT where empty) and a mask of values that could not be read.
    Values without an offset are local time in ``tz``."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    present = values != ""
    if not present.any():
        return out, np.zeros(len(values), dtype=bool)
    v = values[present]
    aware = pd.Series(_has_offset(v.to_numpy(dtype="U")), index=v.index)
    if aware.any():
        out.loc[aware[aware].index] = pd.to_datetime(v[aware], format="ISO8601", utc=True,
                                                     errors="coerce")
    naive = v[~aware]
    if len(naive):
        t = pd.to_datetime(naive, format="ISO8601", errors="coerce")
        if isinstance(t.dtype, pd.DatetimeTZDtype):
            t = t.dt.tz_convert(UTC)
        else:
            t = t.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(UTC)
        out.loc[naive.index] = t
    bad = (present & out.isna()).to_numpy()
    for i in np.flatnonzero(bad):  # other spellings pd.Timestamp understands
        try:
            out.iat[i] = pd.Timestamp(_time(values.iat[i], tz))
            bad[i] = False
        except (ValueError, TypeError):
            pass
    return out, bad


def _lonlat(df: pd.DataFrame, errors: list, line0: int):
    """Checked lon/lat arrays (swapped pairs corrected, as :func:`check_lonlat`) and the
    mask of rows refused."""
    from geo_sigap.domain.coordinates import INDONESIA_BBOX

    raw_x = _col(df, "lon").str.replace(",", ".", regex=False)
    raw_y = _col(df, "lat").str.replace(",", ".", regex=False)
    x = pd.to_numeric(raw_x, errors="coerce").to_numpy(float)
    y = pd.to_numeric(raw_y, errors="coerce").to_numpy(float)
    w, s, e, n = INDONESIA_BBOX
    finite = np.isfinite(x) & np.isfinite(y)
    given = (np.abs(x) <= 180) & (np.abs(y) <= 90)
    swappable = (np.abs(y) <= 180) & (np.abs(x) <= 90)
    inside = (x >= w) & (x <= e) & (y >= s) & (y <= n)
    inside_sw = (y >= w) & (y <= e) & (x >= s) & (x <= n)
    swap = finite & swappable & inside_sw & (~given | ~inside)
    bad = ~finite | (~given & ~swap)
    for i in np.flatnonzero(bad):  # the scalar check words the message
        try:
            check_lonlat(df["lon"].iat[i], df["lat"].iat[i])
        except GeoSigapError as exc:
            errors.append((line0 + i, exc.message_id))
    lon = np.where(swap, y, x)
    lat = np.where(swap, x, y)
    return lon, lat, bad


def _mapped(values: pd.Series, parse, errors: list, line0: int, default=None):
    """``parse`` applied once per distinct value; errors per row."""
    out = np.empty(len(values), dtype=object)
    bad = np.zeros(len(values), dtype=bool)
    codes, uniq = pd.factorize(values)
    for j, u in enumerate(uniq):
        rows = np.flatnonzero(codes == j)
        try:
            out[rows] = parse(u) if u != "" or default is None else default
        except GeoSigapError as exc:
            bad[rows] = True
            errors.extend((line0 + int(i), exc.message_id) for i in rows)
        except (ValueError, TypeError) as exc:
            bad[rows] = True
            errors.extend((line0 + int(i), str(exc)) for i in rows)
    return out, bad


def parse_chunk(df: pd.DataFrame, line0: int, categories: CategoryTable, tz: str) -> dict:
    """Check one chunk of a history CSV. Returns the parsed columns and ``errors``:
    ``[(line, message)]`` (line numbers of the file)."""
    errors: list[tuple[int, str]] = []
    n = len(df)
    cats, _ = _mapped(_col(df, "category"), lambda v: categories.get(v), errors, line0)
    lon, lat, _ = _lonlat(df, errors, line0)
    times = {}
    for k in _ALL_TIMES:
        t, bad = _parse_times(_col(df, k), tz)
        for i in np.flatnonzero(bad):
            errors.append((line0 + int(i), f"waktu {k} tidak terbaca: {df[k].iat[i]!r}"))
        times[k] = t
    missing_report = times["reported_at"].isna().to_numpy() & (_col(df, "reported_at") == "")\
        .to_numpy()
    for i in np.flatnonzero(missing_report):
        errors.append((line0 + int(i), "reported_at kosong"))
    prev = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    prev_name = np.array([""] * n, dtype=object)
    order_bad = np.zeros(n, dtype=bool)
    for k in TIMES:
        t = times[k]
        late = (t.notna() & prev.notna() & (t < prev)).to_numpy() & ~order_bad
        for i in np.flatnonzero(late):
            errors.append((line0 + int(i), f"{k} lebih awal dari {prev_name[i]}"))
        order_bad |= late
        has = t.notna().to_numpy()
        prev = prev.where(~has, t)
        prev_name = np.where(has, k, prev_name)
    derived = np.full(n, Status.DITERIMA.value, dtype=object)
    for k, st in reversed(_STATUS_ORDER):
        derived = np.where(times[k].notna().to_numpy(), st.value, derived)
    status_raw = _col(df, "status").to_numpy(object)
    status_raw = np.where(status_raw == "", derived, status_raw)
    status, _ = _mapped(pd.Series(status_raw), lambda v: Status(v).value, errors, line0)
    default_prio = np.array([c.default_priority if c is not None else None for c in cats],
                            dtype=object)
    prio, _ = _mapped(_col(df, "priority"), lambda v: int(Priority.parse(v)), errors, line0,
                      default=-1)
    prio = np.where(prio == -1, [int(p) if p is not None else 3 for p in default_prio], prio)
    channel, _ = _mapped(_col(df, "channel"), lambda v: Channel.parse(v).value, errors, line0,
                         default=Channel.IMPORT.value)
    tickets = _col(df, "ticket").to_numpy(object)
    dup = pd.Series(tickets).duplicated(keep="first").to_numpy() & (tickets != "")
    for i in np.flatnonzero(dup):
        errors.append((line0 + int(i), f"tiket {tickets[i]} ganda"))
    return {
        "n": n, "errors": errors, "ticket": tickets,
        "category": np.array([c.code if c is not None else None for c in cats], dtype=object),
        "lon": lon, "lat": lat, "times": times, "status": status, "priority": prio,
        "channel": channel, "description": _col(df, "description").to_numpy(object),
        "address_text": _col(df, "address_text").to_numpy(object),
        "rejection_reason": _col(df, "rejection_reason").to_numpy(object),
        "lead_team": _col(df, "lead_team").to_numpy(object),
        "support_teams": _col(df, "support_teams").to_numpy(object),
    }


def import_incidents_csv(db, path: str | Path, categories: CategoryTable, placer: Placer, *,
                         timezone: str = "Asia/Jakarta", actor: str = "import",
                         progress: Progress = null_progress,
                         chunk_rows: int = CHUNK_ROWS) -> dict:
    """Check and store a history CSV of any size, streaming (bounded memory).

    Pass 1 checks every row (the same rules as :func:`read_incidents`; a ticket twice in
    the file, an unknown team code, any bad row: the file is refused, nothing written).
    Pass 2 places each chunk in its units and stores it, all in one transaction: COPY on
    PostgreSQL, executemany batches on SQLite. Tickets already stored are skipped (looked
    up chunk by chunk). Returns ``{inserted, skipped_existing, outside_coverage}``.
    """
    from sqlalchemy import select

    from geo_sigap.storage.tables import TeamRow

    path = Path(path)
    with db.session() as s:
        team_roles = dict(s.execute(select(TeamRow.code, TeamRow.role)).all())
    total = 0
    errors: list[tuple[int, str]] = []
    hashes: list[np.ndarray] = []
    unknown: set[str] = set()
    for line0, df in _chunks(path, chunk_rows):
        p = parse_chunk(df, line0, categories, timezone)
        if len(errors) < 1000:
            errors.extend(p["errors"])
        else:
            errors.extend(p["errors"][:1])
        given = p["ticket"][p["ticket"] != ""]
        hashes.append(pd.util.hash_array(given.astype(object)).astype(np.uint64))
        for lead, sup in zip(p["lead_team"], p["support_teams"]):
            for c in [lead, *sup.split(";")]:
                c = c.strip()
                if c and c not in team_roles:
                    unknown.add(c)
        total += p["n"]
        progress("memeriksa laporan", total, total)
    allh = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
    allh.sort()
    if len(allh) and (allh[1:] == allh[:-1]).any():  # a ticket in two chunks
        errors.extend(_cross_chunk_duplicates(path, chunk_rows, set(
            allh[1:][allh[1:] == allh[:-1]].tolist())))
    if errors:
        errors = sorted(set(errors))
        raise refuse(path, [f"baris {line}: {msg}" for line, msg in errors])
    if unknown:
        raise refuse("incidents", [f"kode tim tidak dikenal: {', '.join(sorted(unknown)[:20])}"])
    del hashes, allh

    from geo_sigap.storage.audit import append
    from geo_sigap.storage.incidents import BulkWriter

    inserted = outside = skipped = done = 0
    now = datetime.now(UTC)
    with db.session() as s:
        writer = BulkWriter(s, actor=actor, now=now)
        for line0, df in _chunks(path, chunk_rows):
            p = parse_chunk(df, line0, categories, timezone)
            tickets = p["ticket"].copy()
            for i in np.flatnonzero(tickets == ""):
                tickets[i] = new_ticket_code(p["times"]["reported_at"].iat[i].to_pydatetime())
            p["ticket"] = tickets
            keep = ~np.isin(tickets, list(writer.existing(tickets)))
            skipped += int((~keep).sum())
            if keep.any():
                plc = placer(p["lon"][keep], p["lat"][keep])
                outside += sum(1 for x in plc if x.kelurahan_code is None)
                inserted += writer.write(p, keep, plc, team_roles)
            done += p["n"]
            progress("menyimpan", done, total)
        append(s, AuditEntry(at=now, actor=actor, actor_role="admin", action="import_incidents",
                             details={"count": inserted, "file": path.name}))
        if inserted:
            writer.finish()
    return {"inserted": inserted, "skipped_existing": skipped, "outside_coverage": outside}


def _cross_chunk_duplicates(path: Path, chunk_rows: int, dup_hashes: set) -> list:
    seen: dict[str, int] = {}
    out = []
    for line0, df in _chunks(path, chunk_rows):
        t = _col(df, "ticket").to_numpy(object)
        h = pd.util.hash_array(t.astype(object)).astype(np.uint64)
        for i in np.flatnonzero(np.isin(h, list(dup_hashes)) & (t != "")):
            if t[i] in seen:
                out.append((line0 + int(i), f"tiket {t[i]} ganda"))
            else:
                seen[t[i]] = line0 + int(i)
    return out
