"""Bulk loading of incident history: many rows inside one transaction, fast.

COPY on PostgreSQL, ``executemany`` batches on SQLite. Values are prepared column by
column (numpy) and handed to the driver as they are stored: UTC times as text, the
placement as JSON text, the point as WKB/EWKB; no per-value ORM processing.

A load that is larger than what the table holds (the first load of a history, above all)
drops the secondary, non-unique indexes of ``incidents`` and ``assignments`` first (not
those whose keys only grow during a load) and builds them again at
:meth:`BulkWriter.finish` — one sort per index instead of a random B-tree update per row
and index; on PostgreSQL the foreign keys too (one check of every row at the end instead
of a trigger per row). On SQLite the import holds the write lock from the
start anyway (readers keep reading the last commit: WAL); on PostgreSQL dropping an index
locks the table against readers until commit, so there it is done only when the table is
empty (a first load, before the service has anything to read).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo_sigap.storage.incidents import TIMESTAMPS
from geo_sigap.storage.tables import IncidentRow

_TABLES = ("incidents", "assignments")
# Indexes kept through a bulk load: their keys grow along it whatever the file's order
# (one updated_at for the whole load, no duplicate_of yet, new ids ascending), so each row
# lands at the right end of the B-tree; a rebuild would only sort them again.
_KEPT = frozenset({"ix_incidents_updated_at", "ix_incidents_duplicate_of_id",
                   "ix_assignments_incident_id"})


def utc_text(values, *, pg: bool) -> np.ndarray:
    """UTC timestamps (a pandas Series of ``datetime64[ns, UTC]``, NaT allowed) as the text
    the backend stores (SQLite: ``YYYY-MM-DD HH:MM:SS.ffffff``, SQLAlchemy's own format;
    PostgreSQL: ISO 8601 with ``+00:00``); ``None`` for NaT. Vectorised (numpy)."""
    arr = values.dt.tz_convert(UTC).dt.tz_localize(None).to_numpy("datetime64[us]")
    missing = np.isnat(arr)
    s = np.datetime_as_string(np.where(missing, np.datetime64(0, "us"), arr), unit="us")
    s = np.strings.add(s, "+00:00") if pg else np.strings.replace(s, "T", " ")
    out = s.astype(object)
    out[missing] = None
    return out


def point_wkb(lon: np.ndarray, lat: np.ndarray, *, srid: int | None = None,
              hex: bool = False) -> list:
    """Points (EPSG:4326 lon/lat) as little-endian WKB, built for the whole column at once
    (what ``shapely.to_wkb`` writes, ~10× faster): ``bytes`` of ISO WKB, or with ``srid``
    PostGIS EWKB (``hex=True``: its upper-case hex text, what COPY reads)."""
    n = len(lon)
    fields = [("order", "u1"), ("type", "<u4")] + ([("srid", "<u4")] if srid else []) \
        + [("x", "<f8"), ("y", "<f8")]
    rec = np.empty(n, dtype=fields)
    rec["order"] = 1
    rec["type"] = 0x20000001 if srid else 1  # Point, with the EWKB SRID flag
    if srid:
        rec["srid"] = srid
    rec["x"], rec["y"] = lon, lat
    size = rec.dtype.itemsize
    raw = rec.tobytes()
    if hex:
        text_ = raw.hex().upper()
        return [text_[i:i + 2 * size] for i in range(0, 2 * size * n, 2 * size)]
    return [raw[i:i + size] for i in range(0, size * n, size)]


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_field(values) -> list[str]:
    """One column as the fields of COPY's text format: ``\\N`` for ``None``, ``t``/``f``
    for booleans, ``repr`` of floats (the shortest text that reads back as the same
    double), text with backslash, tab, newline and carriage return escaped."""
    arr = np.asarray(values, dtype=object)
    none = np.equal(arr, None)
    present = arr[~none] if none.any() else arr
    out = np.empty(len(arr), dtype=object)
    if len(present):
        first = present[0]
        if isinstance(first, bool | np.bool_):
            vals = ["t" if v else "f" for v in present]
        elif isinstance(first, float | np.floating):
            vals = list(map(repr, map(float, present)))
        elif isinstance(first, int | np.integer):
            vals = list(map(str, map(int, present)))
        else:
            vals = list(map(str, present))
            joined = "".join(vals)
            if any(c in joined for c in _SPECIAL):
                vals = [v.translate(_ESCAPES) for v in vals]
        if none.any():
            out[~none] = vals
        else:
            out[:] = vals
    out[none] = "\\N"
    return out.tolist()


def copy_text(columns: list) -> bytes:
    """Rows of COPY ``FROM STDIN`` text format (tab-separated fields, one line per row,
    UTF-8) from whole columns: the fields of each column are made at once
    (:func:`_copy_field`) and joined in C, not written value by value."""
    fields = [_copy_field(c) for c in columns]
    if not fields or not fields[0]:
        return b""
    return ("\n".join(map("\t".join, zip(*fields, strict=True))) + "\n").encode("utf-8")


VACUUM_AFTER_ROWS = 50_000


def vacuum_after_load(db) -> None:
    """After a large load has committed, on PostgreSQL: ``VACUUM`` the two tables, which
    marks the new pages all-visible. Until then (autovacuum comes when it comes) an
    index-only read — the stored quarters' check on ``ix_incidents_reported_updated``,
    ``max(updated_at)`` — still visits every row it counts in the table (L: 24 quarter
    checks 0.89 s -> 0.28 s). Readers and writers go on meanwhile (no lock against
    them); nothing to do on SQLite. A failure is logged, never raised: the load is
    committed."""
    if not db.is_postgres:
        return
    import logging

    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM incidents, assignments"))
    except Exception as exc:  # noqa: BLE001 - an optimisation; the data is stored
        logging.getLogger(__name__).warning("VACUUM after the import failed: %s", exc)


class BulkWriter:
    """Stores many incidents (and their lead/support assignments) inside the session's
    transaction.

    Ids are taken before writing (the sequence on PostgreSQL; on SQLite the table is
    locked for writing first, so max(id) + 1 … is safe) so that assignments can point at
    their incidents without reading anything back.

    ``expected_rows``: how many rows the load will bring (an estimate is enough); when it
    is larger than the table (SQLite) or the table is empty (PostgreSQL), the secondary
    indexes are dropped now and rebuilt by :meth:`finish`.
    """

    LOOKUP = 5_000  # tickets per "already stored?" query (far below 65,535 parameters)
    BATCH = 5_000

    def __init__(self, session: Session, *, actor: str, now: datetime,
                 expected_rows: int | None = None):
        self.s = session
        self.actor = actor
        self.now = now
        self.pg = session.get_bind().dialect.name == "postgresql"
        self._dropped: list[tuple[str, str]] = []  # (name, CREATE INDEX …) to rebuild
        self._next_id: int | None = None
        if self.pg:
            session.execute(text("SET LOCAL synchronous_commit = off"))
            session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        else:
            # a larger page cache for this connection (64 MB) and temporary b-trees of
            # index builds in memory
            session.execute(text("PRAGMA cache_size = -65536"))
            session.execute(text("PRAGMA temp_store = MEMORY"))
            # take the write lock now: nobody else inserts until commit
            session.execute(IncidentRow.__table__.update().where(IncidentRow.id < 0)
                            .values(version=IncidentRow.version))
        self.stored = session.scalar(select(func.count()).select_from(IncidentRow)) or 0
        self.was_empty = self.stored == 0
        if expected_rows and (self.was_empty if self.pg else expected_rows > self.stored):
            self._drop_indexes()

    # ------------------------------------------------------------------ indexes
    def _drop_indexes(self) -> None:
        if self.pg:
            rows = self.s.execute(text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname = ANY(:tables) AND pg_table_is_visible(t.oid) "
                "AND NOT x.indisunique AND NOT x.indisprimary"),
                {"tables": list(_TABLES)}).all()
        else:
            rows = self.s.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('incidents', 'assignments') AND sql IS NOT NULL "
                "AND upper(sql) NOT LIKE 'CREATE UNIQUE%'")).all()
        for name, ddl in rows:
            if name in _KEPT:
                continue
            self.s.execute(text(f'DROP INDEX "{name}"'))
            self._dropped.append((name, ddl))
        if self.pg:
            # the foreign keys too: PostgreSQL checks them row by row (a trigger and an
            # index lookup per written row); finish() adds them again, which checks every
            # row in one pass (a row that breaks one fails the load whole)
            fks = self.s.execute(text(
                "SELECT c.conname, t.relname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE c.contype = 'f' AND t.relname = ANY(:tables) "
                "AND pg_table_is_visible(t.oid)"), {"tables": list(_TABLES)}).all()
            for name, table, ddl in fks:
                self.s.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
                self._dropped.append((name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" '
                                            f"{ddl}"))

    @property
    def dropped_indexes(self) -> list[str]:
        """Names of the indexes (and, on PostgreSQL, foreign keys) dropped until
        :meth:`finish`."""
        return [name for name, _ in self._dropped]

    def finish(self) -> None:
        """Build the dropped indexes (and foreign keys: one check of every row) again; on
        PostgreSQL refresh the planner's statistics (a table that grew from nothing to a
        million rows by COPY would otherwise be planned as empty until autovacuum gets to
        it: index reads turn into full scans)."""
        for _, ddl in self._dropped:
            self.s.execute(text(ddl))
        self._dropped = []
        if self.pg:
            self.s.execute(text("ANALYZE incidents"))
            self.s.execute(text("ANALYZE assignments"))
        else:
            self.s.execute(text("ANALYZE incidents"))

    # ------------------------------------------------------------------ lookups
    def existing(self, tickets) -> set[str]:
        """The tickets among ``tickets`` already stored: one array parameter on PostgreSQL
        (``= ANY``), chunks of :attr:`LOOKUP` on SQLite — never 65,535 parameters. Nothing
        is looked up when the table was empty at the start (the file's own duplicates are
        the importer's check)."""
        if self.was_empty:
            return set()
        tickets = [str(x) for x in tickets if x]
        if not tickets:
            return set()
        conn = self.s.connection().connection.driver_connection
        found: set[str] = set()
        cur = conn.cursor()
        try:
            if self.pg:
                cur.execute("SELECT ticket FROM incidents WHERE ticket = ANY(%s)", (tickets,))
                found.update(r[0] for r in cur.fetchall())
            else:
                for i in range(0, len(tickets), self.LOOKUP):
                    part = tickets[i:i + self.LOOKUP]
                    cur.execute("SELECT ticket FROM incidents WHERE ticket IN "
                                f"({','.join('?' * len(part))})", part)
                    found.update(r[0] for r in cur.fetchall())
        finally:
            cur.close()
        return found

    def _ids(self, n: int) -> list[int]:
        if self.pg and self._dropped:
            # the table is locked for this load (its indexes were dropped): nobody else
            # takes ids from the sequence meanwhile, so one block of n is taken at once
            last = self.s.scalar(text(
                "SELECT setval(s, nextval(s) + :n - 1) "
                "FROM pg_get_serial_sequence('incidents', 'id') AS s"), {"n": n})
            return list(range(last - n + 1, last + 1))
        if self.pg:
            conn = self.s.connection().connection.driver_connection
            with conn.cursor() as cur:
                cur.execute("SELECT nextval(pg_get_serial_sequence('incidents', 'id')) "
                            "FROM generate_series(1, %s)", (n,))
                return [r[0] for r in cur.fetchall()]
        if self._next_id is None:
            self._next_id = (self.s.scalar(select(func.max(IncidentRow.id))) or 0) + 1
        start = self._next_id
        self._next_id += n
        return list(range(start, start + n))

    # ------------------------------------------------------------------ writing
    def write(self, p: dict, keep, placed: dict, team_roles: dict) -> int:
        """Store the rows ``keep`` of a parsed chunk (see
        :func:`geo_sigap.importers.incidents.parse_chunk`).

        ``placed``: the placement columns of those rows (see
        :func:`geo_sigap.importers.placement.placement_columns`): ``kecamatan_code``,
        ``kelurahan_code``, ``rw_code``, ``rt_code`` and ``placement`` (JSON text)."""
        idx = np.flatnonzero(keep)
        n = len(idx)
        ids = self._ids(n)
        lon, lat = p["lon"][idx].astype(float), p["lat"][idx].astype(float)
        times = {k: utc_text(p["times"][k].iloc[idx], pg=self.pg) for k in TIMESTAMPS}
        geom = point_wkb(lon, lat, srid=4326, hex=True) if self.pg else point_wkb(lon, lat)
        fmt = "%Y-%m-%dT%H:%M:%S.%f+00:00" if self.pg else "%Y-%m-%d %H:%M:%S.%f"
        now = self.now.astimezone(UTC).strftime(fmt)

        def opt(col):
            v = p[col][idx]
            return np.where(v == "", None, v)

        columns = {
            "id": ids, "ticket": p["ticket"][idx], "category": p["category"][idx],
            "description": p["description"][idx], "channel": p["channel"][idx],
            "lon": lon.tolist(), "lat": lat.tolist(), "geom": geom,
            "address_text": opt("address_text"),
            "priority": [int(v) for v in p["priority"][idx]], "status": p["status"][idx],
            **{k: placed[k] for k in ("kecamatan_code", "kelurahan_code", "rw_code",
                                      "rt_code", "placement")},
            "rejection_reason": opt("rejection_reason"), "created_by": [self.actor] * n,
            "version": [1] * n, "updated_at": [now] * n, **times,
        }
        at = np.where(times["dispatched_at"] == None, times["reported_at"],  # noqa: E711
                      times["dispatched_at"])
        asg = self._assignment_columns(np.asarray(ids, dtype=np.int64), at,
                                       p["lead_team"][idx], p["support_teams"][idx],
                                       team_roles)
        if self.pg:
            self._copy_pg(columns, asg)
        else:
            self._executemany_sqlite(columns, asg)
        return n

    def _assignment_columns(self, ids: np.ndarray, at: np.ndarray, lead: np.ndarray,
                            support: np.ndarray, team_roles: dict) -> dict:
        """The assignments of the rows, column by column: one lead per row that names one,
        then the support teams (``;``-separated codes), each at ``at`` of its row."""
        j = np.flatnonzero(lead != "")
        inc, codes, kinds = [ids[j]], [lead[j]], [np.full(len(j), "lead", dtype=object)]
        times = [at[j]]
        sj = np.flatnonzero(support != "")
        if len(sj):
            pairs = [(k, c.strip()) for k in sj for c in support[k].split(";") if c.strip()]
            if pairs:
                rows = np.array([k for k, _ in pairs], dtype=np.int64)
                inc.append(ids[rows])
                codes.append(np.array([c for _, c in pairs], dtype=object))
                kinds.append(np.full(len(rows), "support", dtype=object))
                times.append(at[rows])
        code = np.concatenate(codes)
        m = len(code)
        return {"incident_id": np.concatenate(inc).tolist(), "team_code": code,
                "kind": np.concatenate(kinds),
                "role": pd.Series(code, dtype=object).map(team_roles).to_numpy(object),
                "assigned_at": np.concatenate(times), "assigned_by": [self.actor] * m,
                "active": [True if self.pg else 1] * m}

    _INC_COLS = ("id", "ticket", "category", "description", "channel", "lon", "lat", "geom",
                 "address_text", "priority", "status", "kecamatan_code", "kelurahan_code",
                 "rw_code", "rt_code", "placement", "rejection_reason", "created_by",
                 "version", "updated_at", *TIMESTAMPS)
    _ASG_COLS = ("incident_id", "team_code", "kind", "role", "assigned_at", "assigned_by",
                 "active")

    def _copy_pg(self, columns: dict, asg: dict) -> None:
        """COPY each table's rows as one block of COPY text (:func:`copy_text`)."""
        conn = self.s.connection().connection.driver_connection
        with conn.cursor() as cur:
            for table, cols, values in (("incidents", self._INC_COLS, columns),
                                        ("assignments", self._ASG_COLS, asg)):
                if not len(values[cols[0]]):
                    continue
                block = copy_text([values[c] for c in cols])
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                    cp.write(block)

    def _executemany_sqlite(self, columns: dict, asg: dict) -> None:
        from geo_sigap.storage.geometry import spatialite_loaded

        inc_rows = list(zip(*(columns[c] for c in self._INC_COLS), strict=True))
        asg_rows = list(zip(*(asg[c] for c in self._ASG_COLS), strict=True))
        conn = self.s.connection().connection.driver_connection
        marks = ["?"] * len(self._INC_COLS)
        if spatialite_loaded(self.s.get_bind().dialect):
            marks[self._INC_COLS.index("geom")] = "GeomFromWKB(?, 4326)"
        cur = conn.cursor()
        b = self.BATCH
        for k in range(0, len(inc_rows), b):
            cur.executemany(f"INSERT INTO incidents ({', '.join(self._INC_COLS)}) "
                            f"VALUES ({', '.join(marks)})", inc_rows[k:k + b])
        for k in range(0, len(asg_rows), b):
            cur.executemany(f"INSERT INTO assignments ({', '.join(self._ASG_COLS)}) "
                            f"VALUES ({', '.join('?' * len(self._ASG_COLS))})",
                            asg_rows[k:k + b])
        cur.close()

