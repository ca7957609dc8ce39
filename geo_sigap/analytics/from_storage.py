"""Analytics data read from the database (the service's and the CLI's source).

- :func:`load_from_storage`: the analytics frames (:class:`AnalyticsData`) of a time range
  only; :func:`load_report_data`: what the rakor report reads — the quarters it compares,
  never the whole history, and of the older six only the columns of the patterns.
- :class:`StorageHistory`: a :class:`~geo_sigap.analytics.incremental.HistoryStore` kept
  equal to the ``incidents`` table. Built once, quarter by quarter; afterwards every
  refresh reads only the rows changed since a watermark on ``updated_at`` (index
  ``ix_incidents_updated_at``). The check "did anything change?" is one cheap query
  (:func:`geo_sigap.storage.incidents.change_stamp`: index reads of max(updated_at) and
  max(id)); readers do not wait on a lock while nothing changed.

Same shapes as :func:`geo_sigap.analytics.loaders.load_demo_incidents`; no personal data
leaves storage (the incidents frame has no reporter columns).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pandas as pd

from geo_sigap.analytics.frames import Quarter, normalise_incidents
from geo_sigap.analytics.incremental import HistoryStore, key_quarter, quarter_key
from geo_sigap.analytics.loaders import AnalyticsData
from geo_sigap.domain.admin import AdminLevel

log = logging.getLogger(__name__)

# A write transaction sets updated_at before it commits; one that commits later than a
# refresh with an earlier updated_at than the watermark is still found as long as it takes
# less than this long (rows of this window are read again; unchanged ones change nothing).
OVERLAP_S = 10.0


def data_version(db) -> str:
    """Changes whenever an incident or a unit is added or changed (cheap: index reads)."""
    from geo_sigap.storage.incidents import change_stamp

    with db.session() as s:
        last, n, units, umax = change_stamp(s)
    return f"db-{n}-{last.isoformat() if last else 0}-{units}-{umax}"


def load_from_storage(db, categories, *, start=None, end=None) -> AnalyticsData:
    """Incidents with ``start <= reported_at < end`` (all when not given), units, teams."""
    from geo_sigap.storage.incidents import incidents_frame
    from geo_sigap.storage.teams import list_teams
    from geo_sigap.storage.units import units_frame

    version = data_version(db)
    with db.session() as s:
        incidents = incidents_frame(s, start=_utc(start), end=_utc(end))
        units = units_frame(s, [AdminLevel.KELURAHAN, AdminLevel.RW, AdminLevel.RT])
        teams = pd.DataFrame(
            [{"code": t.code, "name": t.name, "role": t.role.value} for t in list_teams(s)],
            columns=["code", "name", "role"])
    units = units[["code", "name", "level", "parent_code", "population", "geometry"]]
    units["population"] = pd.to_numeric(units["population"], errors="coerce")
    return AnalyticsData(incidents=normalise_incidents(incidents), units=units, teams=teams,
                         categories=categories, version=version,
                         meta={"source": "database", "start": start, "end": end})


#: What the rakor report reads of the quarters before the two it compares (hotspot
#: patterns, monthly trend): the category, the place, the report time and the status.
PATTERN_COLUMNS = ("category", "lon", "lat", "status", "kecamatan_code", "kelurahan_code",
                   "reported_at")


def load_report_data(db, categories, quarter) -> AnalyticsData:
    """The frames the rakor report of ``quarter`` reads, and no more: every column of the
    quarter and the one before (performance, comparisons, near-repeat, the scored
    forecast), :data:`PATTERN_COLUMNS` of the six quarters before them (the eight-quarter
    hotspot patterns and the monthly trend); units and teams."""
    from geo_sigap.storage.incidents import incidents_frame
    from geo_sigap.storage.teams import list_teams
    from geo_sigap.storage.units import units_frame

    q = Quarter.parse(quarter)
    start, end = report_range(q)
    recent = q.previous().start
    version = data_version(db)
    with db.session() as s:
        older = incidents_frame(s, start=_utc(start), end=_utc(recent), columns=PATTERN_COLUMNS)
        full = incidents_frame(s, start=_utc(recent), end=_utc(end))
        units = units_frame(s, [AdminLevel.KELURAHAN, AdminLevel.RW, AdminLevel.RT])
        teams = pd.DataFrame(
            [{"code": t.code, "name": t.name, "role": t.role.value} for t in list_teams(s)],
            columns=["code", "name", "role"])
    incidents = pd.concat([older, full], ignore_index=True) if len(older) else full
    del older, full
    units = units[["code", "name", "level", "parent_code", "population", "geometry"]]
    units["population"] = pd.to_numeric(units["population"], errors="coerce")
    return AnalyticsData(incidents=normalise_incidents(incidents, copy=False), units=units,
                         teams=teams,
                         categories=categories, version=version,
                         meta={"source": "database", "start": start, "end": end})


def report_range(quarter) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The report times a rakor report of ``quarter`` reads: the eight quarters ending with
    it (emerging hotspots, monthly trend; the previous quarter is among them)."""
    q = Quarter.parse(quarter)
    return Quarter(q.year - 2, q.q).next().start, q.end


def _utc(value):
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize("Asia/Jakarta") if ts.tzinfo is None else ts).tz_convert(UTC) \
        .to_pydatetime()


class StorageHistory:
    """A :class:`HistoryStore` that follows the ``incidents`` table.

    :meth:`store` returns the store brought up to date: nothing is read when the change
    stamp is unchanged; otherwise the rows with ``updated_at`` at or after the watermark
    (less :data:`OVERLAP_S`) are applied with :meth:`HistoryStore.upsert`. Deleted rows are
    noticed by :meth:`reconcile` (ids per quarter compared). Rows with an id above the
    highest seen are read too, whatever their ``updated_at`` (a long import)., run by :meth:`store` in the
    background at most every ``reconcile_every_s`` seconds.
    """

    def __init__(self, db, *, reconcile_every_s: float = 600.0,
                 snapshot_dir=None, units_of=None) -> None:
        self.db = db
        # ``units_of(token)``: the stored units (AdminUnit objects) of that units stamp when
        # the caller already holds them (the service's), else None: read from the table
        self._units_of = units_of
        self.snapshot_dir = snapshot_dir  # closed quarters kept on disk (a fast restart)
        self.history = HistoryStore()
        self.reconcile_every_s = reconcile_every_s
        self._lock = threading.Lock()  # one refresher at a time; readers do not take it
        self._built = False
        self._stamp = None
        self._watermark: datetime | None = None
        self._max_id = 0
        self._settled_at: float = 0.0  # wall time after which no late commit can appear
        self._last_reconcile = time.monotonic()
        self._reconciling = False
        self._units = None
        self.stats = {"builds": 0, "refreshes": 0, "rows_applied": 0, "reconciles": 0}

    # -- the first build -------------------------------------------------------------------

    def _build(self) -> None:
        from sqlalchemy import func, select

        from geo_sigap.storage.incidents import change_stamp
        from geo_sigap.storage.tables import AdminUnitRow, IncidentRow

        t0 = time.perf_counter()
        started = datetime.now(UTC)
        with self.db.session() as s:
            stamp = change_stamp(s)
            lo = s.scalar(select(func.min(IncidentRow.reported_at)))
            hi = s.scalar(select(func.max(IncidentRow.reported_at)))
            # the strings the partitions repeat, read together (see share_strings)
            self.history.share_strings(s.scalars(select(AdminUnitRow.code)).all())
        n = 0
        snap = self._snapshot()
        current = Quarter.of(pd.Timestamp.now(tz="UTC"))
        if lo is not None:
            q, last = Quarter.of(pd.Timestamp(lo)), Quarter.of(pd.Timestamp(hi))
            while q <= last:  # one quarter at a time: bounded memory while reading
                n += self._build_quarter(q, snap if q < current else None)
                q = q.next()
        if snap is not None:  # quarters stored once but no longer in the table
            held = {quarter_key(q) for q in self.history.quarters()}
            for k in snap.keys():
                if k not in held:
                    snap.forget(k)
        self._stamp = stamp
        self._watermark = min(stamp[0] or started, started)
        self._max_id = stamp[1]
        self._settled_at = self._watermark.timestamp() + OVERLAP_S
        self._built = True
        self.stats["builds"] += 1
        self.stats["build_s"] = time.perf_counter() - t0
        from geo_sigap._malloc import release_free_memory

        # the rows read per quarter (driver tuples, frames) are freed, but their pages stay
        # resident in the allocator's arenas: at 1M incidents read from the table about
        # 130 MB of a worker (benchmarks.scale, L) until handed back here
        release_free_memory()
        log.info("analytics history built: %d incidents in %.1f s", n,
                 time.perf_counter() - t0)

    def _snapshot(self):
        if self.snapshot_dir is None:
            return None
        from geo_sigap.analytics.incremental import _empty
        from geo_sigap.analytics.snapshot import Snapshot

        url = self.db.engine.url.render_as_string(hide_password=True)
        return Snapshot(self.snapshot_dir, url, _empty())

    def _build_quarter(self, q: Quarter, snap) -> int:
        """Set one quarter's partition: from the stored one when ``snap`` holds it and its
        check equals the table's, else from the table (and then stored in ``snap``)."""
        from geo_sigap.analytics.snapshot import rows_check
        from geo_sigap.storage.incidents import analytics_rows, quarter_check

        k = quarter_key(q)
        if snap is not None and snap.check(k) is not None:
            with self.db.session() as s:
                check = quarter_check(s, _utc(q.start), _utc(q.end))
            if check == snap.check(k):
                frame = snap.load(k)
                if frame is not None and len(frame) == check[0]:
                    self.history.replace_quarter(q, frame)
                    self.stats["quarters_stored"] = self.stats.get("quarters_stored", 0) + 1
                    return len(frame)
        with self.db.session() as s:
            rows = analytics_rows(s, start=_utc(q.start), end=_utc(q.end))
        self.history.replace_quarter(q, rows)
        if len(rows):  # quarters with incidents read from the table
            self.stats["quarters_read"] = self.stats.get("quarters_read", 0) + 1
        if snap is not None:
            if len(rows):
                snap.save(k, self.history.frame(q), rows_check(rows))
            else:
                snap.forget(k)
        return len(rows)

    # -- catching up -----------------------------------------------------------------------

    def _catch_up(self, stamp) -> None:
        from geo_sigap.storage.incidents import analytics_rows

        since = self._watermark - timedelta(seconds=OVERLAP_S) if self._watermark else None
        read_at = time.time()
        with self.db.session() as s:
            rows = analytics_rows(s, updated_since=since)
            # new rows whatever their updated_at: an import's long transaction stamps its
            # rows with its start time, long before they become visible
            fresh = analytics_rows(s, after_id=self._max_id)
        if len(fresh):
            rows = pd.concat([rows, fresh], ignore_index=True) if len(rows) else fresh
            self._max_id = max(self._max_id, int(fresh["id"].max()))
        if len(rows):
            self.history.upsert(rows)
            newest = rows["updated_at"].max().to_pydatetime()
            self._watermark = max(self._watermark or newest, newest)
        if stamp[0] is not None:
            self._watermark = max(self._watermark or stamp[0], stamp[0])
        self._stamp = stamp
        # until the watermark is OVERLAP_S old a late commit may still appear: look again
        self._settled_at = (self._watermark.timestamp() if self._watermark else read_at) \
            + OVERLAP_S
        self.stats["refreshes"] += 1
        self.stats["rows_applied"] += len(rows)

    def store(self) -> HistoryStore:
        """The history, up to date with the database (see the class docstring)."""
        from geo_sigap.storage.incidents import change_stamp

        with self.db.session() as s:
            stamp = change_stamp(s)
        if self._built and stamp[2:] != self._stamp[2:]:
            self._stamp = (*self._stamp[:2], *stamp[2:])  # units changed: units() re-reads
        if self._built and stamp == self._stamp and time.time() >= self._settled_at:
            self._maybe_reconcile()
            return self.history
        with self._lock:
            if not self._built:
                self._build()
            elif stamp != self._stamp or time.time() < self._settled_at:
                self._catch_up(stamp)
        self._maybe_reconcile()
        return self.history

    def settled(self) -> bool:
        return self._built and time.time() >= self._settled_at

    # -- deletions -------------------------------------------------------------------------

    def _maybe_reconcile(self) -> None:
        if self.reconcile_every_s is None or self._reconciling:
            return
        if time.monotonic() - self._last_reconcile < self.reconcile_every_s:
            return
        self._reconciling = True
        threading.Thread(target=self._reconcile_bg, name="analytics-reconcile",
                         daemon=True).start()

    def _reconcile_bg(self) -> None:
        try:
            self.reconcile()
        except Exception:  # noqa: BLE001 - a failed check is retried next time
            log.exception("analytics reconcile failed")
        finally:
            self._reconciling = False

    def reconcile(self) -> int:
        """Compare the ids of every quarter with the table; forget deleted incidents and read
        any missed ones. Returns the number of incidents corrected."""
        import numpy as np
        from sqlalchemy import func, select

        from geo_sigap.storage.incidents import analytics_rows, incident_ids_between
        from geo_sigap.storage.tables import IncidentRow

        self._last_reconcile = time.monotonic()
        if not self._built:
            return 0
        fixed = 0
        with self.db.session() as s:
            lo = s.scalar(select(func.min(IncidentRow.reported_at)))
            hi = s.scalar(select(func.max(IncidentRow.reported_at)))
        keys = {quarter_key(b.quarter) for b in self.history.blocks()}
        if lo is not None:
            keys |= set(range(quarter_key(Quarter.of(pd.Timestamp(lo))),
                              quarter_key(Quarter.of(pd.Timestamp(hi))) + 1))
        for k in sorted(keys):
            q = key_quarter(k)
            with self.db.session() as s:
                ids = np.asarray(incident_ids_between(s, _utc(q.start), _utc(q.end)),
                                 dtype=np.int64)
            b = self.history.block(q)
            have = b.data.index.to_numpy() if b is not None else np.empty(0, np.int64)
            gone = np.setdiff1d(have, ids)
            missing = np.setdiff1d(ids, have)
            if len(gone):
                with self._lock:
                    self.history.delete(gone)
            if len(missing):
                with self.db.session() as s:
                    rows = analytics_rows(s, ids=missing.tolist())
                with self._lock:
                    self.history.upsert(rows)
            fixed += len(gone) + len(missing)
        self.stats["reconciles"] += 1
        return fixed

    # -- units -----------------------------------------------------------------------------

    def units(self):
        """``(units GeoDataFrame of kelurahan/RW/RT, token)``, re-read when units change
        (:func:`analytics_units`; of the units ``units_of`` gives, when it has them)."""
        from geo_sigap.storage.incidents import change_stamp

        if self._stamp is not None:
            token = self._stamp[2:]  # read by the store() call just made
        else:
            with self.db.session() as s:
                token = change_stamp(s)[2:]
        cached = self._units
        if cached is not None and cached[1] == token:
            return cached
        held = self._units_of(token) if self._units_of is not None else None
        if held is None:
            from geo_sigap.storage.units import load_units

            with self.db.session() as s:
                held = load_units(s, ANALYTICS_LEVELS)
        self._units = (analytics_units(held), token)
        return self._units


#: The unit levels the analytics read (maps, hotspots per unit, heat bounds).
ANALYTICS_LEVELS = (AdminLevel.KELURAHAN, AdminLevel.RW, AdminLevel.RT)


def analytics_units(units):
    """The analytics' units frame (EPSG:4326; ``code, name, level, parent_code,
    population, geometry``; kelurahan, RW and RT in the order given) of
    :class:`~geo_sigap.domain.admin.AdminUnit` objects — the same frame as
    :func:`geo_sigap.storage.units.units_frame` makes, over the same geometry and
    string objects: built from the units the service already holds (``Services.units``)
    it costs no second copy of every polygon (about 25 MB at 17,000 RT)."""
    import geopandas as gpd

    keep = [u for u in units if u.level in ANALYTICS_LEVELS]
    frame = gpd.GeoDataFrame(
        {"code": [u.code for u in keep], "name": [u.name for u in keep],
         "level": [u.level.name.lower() for u in keep],
         "parent_code": [u.parent_code for u in keep],
         "population": pd.to_numeric(pd.Series([u.population for u in keep],
                                                dtype=object), errors="coerce")},
        geometry=[u.geometry for u in keep], crs="EPSG:4326")
    return frame
