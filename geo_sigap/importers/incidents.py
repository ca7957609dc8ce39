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
    errors: list[tuple[str, str]] = []  # (Indonesian, English)
    seen: set[str] = set()
    for i, row in df.iterrows():
        line = int(i) + 2
        if i % 1000 == 0:
            progress("memeriksa laporan", int(i), len(df))
        try:
            cat = categories.get(cell(row, "category") or "")
            p = check_lonlat(cell(row, "lon"), cell(row, "lat"))
            times = {k: _time(cell(row, k), timezone) for k in TIMES + ["rejected_at"]}
            if times["reported_at"] is None:  # the column is there, the value is not
                raise GeoSigapError("reported_at kosong", "reported_at is empty")
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
            errors.append((f"baris {line}: {exc.message_id}", f"row {line}: {exc.message_en}"))
        except (ValueError, TypeError) as exc:
            errors.append((f"baris {line}: {exc}", f"row {line}: {exc}"))
    if errors:
        raise refuse(path, errors)
    progress("memeriksa laporan", len(df), len(df))
    return out, teams


def _unknown_teams(codes) -> tuple[str, str]:
    shown = ", ".join(list(codes)[:20])
    return (f"kode tim tidak dikenal: {shown}", f"unknown team code(s): {shown}")


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
            raise refuse("incidents", [_unknown_teams(unknown)])
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
    """The column's values as text, stripped (``str.strip`` mapped in C: no Python frame
    per value; half the cost of a round trip through a numpy unicode array)."""
    if name not in df.columns:
        return pd.Series(np.full(len(df), "", dtype=object))
    return pd.Series(list(map(str.strip, map(str, df[name].to_numpy(object)))))


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


def _decimal(df: pd.DataFrame, name: str) -> np.ndarray:
    """A column of decimal numbers (a decimal comma read as a point; NaN where it is not a
    number). Vectorised: numpy string functions, no Python call per value."""
    if name not in df.columns:
        return np.full(len(df), np.nan)
    u = np.strings.strip(df[name].to_numpy(dtype="U"))
    if (np.strings.find(u, ",") >= 0).any():
        u = np.strings.replace(u, ",", ".")
    return pd.to_numeric(pd.Series(u.astype(object)), errors="coerce").to_numpy(float)


def _lonlat(df: pd.DataFrame, errors: list, line0: int):
    """Checked lon/lat arrays (swapped pairs corrected, as :func:`check_lonlat`) and the
    mask of rows refused."""
    from geo_sigap.domain.coordinates import INDONESIA_BBOX

    x, y = _decimal(df, "lon"), _decimal(df, "lat")
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
            errors.append((line0 + i, exc.message_id, exc.message_en))
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
            errors.extend((line0 + int(i), exc.message_id, exc.message_en) for i in rows)
        except (ValueError, TypeError) as exc:
            bad[rows] = True
            errors.extend((line0 + int(i), str(exc), str(exc)) for i in rows)
    return out, bad


def parse_chunk(df: pd.DataFrame, line0: int, categories: CategoryTable, tz: str) -> dict:
    """Check one chunk of a history CSV. Returns the parsed columns and ``errors``:
    ``[(line, message in Indonesian, in English)]`` (line numbers of the file)."""
    errors: list[tuple[int, str, str]] = []
    n = len(df)
    cats, _ = _mapped(_col(df, "category"), lambda v: categories.get(v), errors, line0)
    lon, lat, _ = _lonlat(df, errors, line0)
    times = {}
    for k in _ALL_TIMES:
        t, bad = _parse_times(_col(df, k), tz)
        for i in np.flatnonzero(bad):
            errors.append((line0 + int(i), f"waktu {k} tidak terbaca: {df[k].iat[i]!r}",
                           f"{k} is not a readable time: {df[k].iat[i]!r}"))
        times[k] = t
    missing_report = times["reported_at"].isna().to_numpy() & (_col(df, "reported_at") == "")\
        .to_numpy()
    for i in np.flatnonzero(missing_report):
        errors.append((line0 + int(i), "reported_at kosong", "reported_at is empty"))
    prev = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    prev_name = np.array([""] * n, dtype=object)
    order_bad = np.zeros(n, dtype=bool)
    for k in TIMES:
        t = times[k]
        late = (t.notna() & prev.notna() & (t < prev)).to_numpy() & ~order_bad
        for i in np.flatnonzero(late):
            errors.append((line0 + int(i), f"{k} lebih awal dari {prev_name[i]}",
                           f"{k} is earlier than {prev_name[i]}"))
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
        errors.append((line0 + int(i), f"tiket {tickets[i]} ganda",
                       f"duplicate ticket {tickets[i]}"))
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


def count_rows(path: str | Path) -> int:
    """Lines after the header (a quick estimate of the rows: a quoted value holding a line
    break counts twice). Read in 1 MB blocks."""
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            n += block.count(b"\n")
            last = block[-1:]
    return max(0, n - (last == b"\n"))


class _Checks:
    """What the checks found so far over the chunks of one file."""

    def __init__(self, team_roles: dict):
        self.team_roles = team_roles
        self.errors: list[tuple[int, str, str]] = []  # (line, Indonesian, English)
        self.unknown: set[str] = set()
        self.cross_dup = False
        self.seen: list[np.ndarray] = []  # sorted ticket hashes of each chunk before

    @property
    def ok(self) -> bool:
        return not (self.errors or self.unknown or self.cross_dup)

    def add(self, p: dict) -> None:
        self.errors.extend(p["errors"] if len(self.errors) < 1000 else p["errors"][:1])
        used = [p["lead_team"]]
        if (p["support_teams"] != "").any():
            used.append(np.array([c.strip() for v in p["support_teams"] if v
                                  for c in v.split(";")], dtype=object))
        for c in pd.unique(np.concatenate(used)):
            if c and c not in self.team_roles:
                self.unknown.add(c)
        given = p["ticket"][p["ticket"] != ""]
        h = np.sort(pd.util.hash_array(given.astype(object)).astype(np.uint64))
        for prev in self.seen:
            if len(prev) and len(h):
                pos = np.minimum(np.searchsorted(prev, h), len(prev) - 1)
                self.cross_dup |= bool((prev[pos] == h).any())
        self.seen.append(h)

    def duplicate_hashes(self) -> set:
        allh = np.sort(np.concatenate(self.seen)) if self.seen else np.empty(0, np.uint64)
        return set(allh[1:][allh[1:] == allh[:-1]].tolist())


def _prepared(path: Path, chunk_rows: int, categories: CategoryTable, tz: str, placer,
              checks: _Checks):
    """Parsed, checked chunks; while every row so far is right, each with its tickets
    filled in and its placement columns (``p["placed"]``)."""
    from geo_sigap.importers.placement import placement_columns

    frame_of = getattr(placer, "locate_many", None)
    docs: dict = {}  # placement JSON per combination of units, across the chunks
    for line0, df in _chunks(path, chunk_rows):
        p = parse_chunk(df, line0, categories, tz)
        checks.add(p)
        if checks.ok:
            tickets = p["ticket"].copy()
            for i in np.flatnonzero(tickets == ""):
                tickets[i] = new_ticket_code(p["times"]["reported_at"].iat[i].to_pydatetime())
            p["ticket"] = tickets
            p["placed"] = placement_columns(frame_of(p["lon"], p["lat"]) if frame_of
                                            else placer(p["lon"], p["lat"]), docs)
        yield p


def _read_ahead(items, depth: int = 2):
    """Iterate ``items`` in a background thread, at most ``depth`` items ahead: the next
    chunk is read, checked and placed while the database stores this one (the drivers
    release the GIL while SQLite writes or PostgreSQL answers). Exceptions of the thread
    are raised here; leaving the loop early stops the thread."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def run():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((True, item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((True, end))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put((False, exc))

    t = threading.Thread(target=run, name="import-read-ahead", daemon=True)
    t.start()
    try:
        while True:
            good, item = q.get()
            if not good:
                raise item
            if item is end:
                return
            yield item
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def import_incidents_csv(db, path: str | Path, categories: CategoryTable, placer: Placer, *,
                         timezone: str = "Asia/Jakarta", actor: str = "import",
                         progress: Progress = null_progress,
                         chunk_rows: int = CHUNK_ROWS) -> dict:
    """Check and store a history CSV of any size, streaming (bounded memory).

    One pass over the file, inside one transaction: each chunk is checked (the same rules
    as :func:`read_incidents`), placed in its units and stored (COPY on PostgreSQL,
    executemany batches on SQLite; a load larger than the table rebuilds the secondary
    indexes once at the end, see :mod:`geo_sigap.storage.bulk`); the next chunk is read
    and placed in a thread while this one is stored. At the first wrong row (a bad
    value, a ticket twice in the file, an unknown team code) writing stops, the rest of
    the file is still checked so that every error is reported, and the transaction is
    rolled back: nothing is written. Tickets already stored are skipped (looked up chunk
    by chunk). Progress: ``("menyimpan", rows done, rows in the file)``
    (``"memeriksa laporan"`` once writing stopped, ``"menyusun indeks"`` at the end).
    After a large load on PostgreSQL the tables are vacuumed once it has committed
    (:func:`geo_sigap.storage.bulk.vacuum_after_load`: index-only reads for the service).
    Returns ``{inserted, skipped_existing, outside_coverage}``.
    """
    from sqlalchemy import select

    from geo_sigap.storage.audit import append
    from geo_sigap.storage.bulk import VACUUM_AFTER_ROWS, BulkWriter, vacuum_after_load
    from geo_sigap.storage.tables import TeamRow

    path = Path(path)
    total = count_rows(path) if path.exists() else 0
    with db.session() as s:
        team_roles = dict(s.execute(select(TeamRow.code, TeamRow.role)).all())
    checks = _Checks(team_roles)
    inserted = outside = skipped = done = 0
    now = datetime.now(UTC)
    with db.session() as s:
        writer = BulkWriter(s, actor=actor, now=now, expected_rows=total)
        for p in _read_ahead(_prepared(path, chunk_rows, categories, timezone, placer,
                                       checks)):
            writing = "placed" in p and checks.ok
            if writing:
                found = writer.existing(p["ticket"])
                keep = ~np.isin(p["ticket"], list(found)) if found else np.ones(p["n"], bool)
                skipped += int((~keep).sum())
                if keep.any():
                    placed = {k: v[keep] for k, v in p["placed"].items()}
                    outside += int(sum(1 for c in placed["kelurahan_code"] if c is None))
                    inserted += writer.write(p, keep, placed, team_roles)
            done += p["n"]
            progress("menyimpan" if writing else "memeriksa laporan", done, max(total, done))
        errors = checks.errors
        if checks.cross_dup:  # the lines of a ticket met in an earlier chunk (exact)
            errors = errors + _cross_chunk_duplicates(path, chunk_rows,
                                                      checks.duplicate_hashes())
        if errors:
            errors = sorted(set(errors))
            raise refuse(path, [(f"baris {line}: {mid}", f"row {line}: {men}")
                                for line, mid, men in errors])
        if checks.unknown:
            raise refuse("incidents", [_unknown_teams(sorted(checks.unknown))])
        if checks.cross_dup:  # two tickets with one 64-bit hash and no real duplicate: redo
            s.rollback()
            return _import_exact(db, path, categories, placer, timezone=timezone,
                                 actor=actor, progress=progress)
        if inserted:
            progress("menyusun indeks", done, max(total, done))
            writer.finish()
        append(s, AuditEntry(at=now, actor=actor, actor_role="admin", action="import_incidents",
                             details={"count": inserted, "file": path.name}))
    if inserted >= VACUUM_AFTER_ROWS:
        vacuum_after_load(db)
    return {"inserted": inserted, "skipped_existing": skipped, "outside_coverage": outside}


def _import_exact(db, path, categories, placer, **kw) -> dict:  # pragma: no cover - 2**-64
    """The row-by-row reader and writer, for the file whose ticket hashes collided."""
    incidents, links = read_incidents(path, categories, timezone=kw["timezone"],
                                      progress=kw["progress"])
    return import_incidents(db, incidents, links, placer, actor=kw["actor"],
                            progress=kw["progress"])


def _cross_chunk_duplicates(path: Path, chunk_rows: int, dup_hashes: set) -> list:
    seen: dict[str, int] = {}
    out = []
    for line0, df in _chunks(path, chunk_rows):
        t = _col(df, "ticket").to_numpy(object)
        h = pd.util.hash_array(t.astype(object)).astype(np.uint64)
        for i in np.flatnonzero(np.isin(h, list(dup_hashes)) & (t != "")):
            if t[i] in seen:
                out.append((line0 + int(i), f"tiket {t[i]} ganda", f"duplicate ticket {t[i]}"))
            else:
                seen[t[i]] = line0 + int(i)
    return out
