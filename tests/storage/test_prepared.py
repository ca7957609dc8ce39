"""Prepared statements of the intake path (``storage.prepared``): the same rows, errors
and answers as ``Session.execute`` and the ORM, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import bindparam, event, exc, insert, select, text

from geo_sigap.domain.incidents import Channel, Incident, Placement
from geo_sigap.domain.lifecycle import Status
from geo_sigap.storage import incidents
from geo_sigap.storage.prepared import _UNSUPPORTED, Prepared, point_wkb
from geo_sigap.storage.tables import AuditRow, EventRow, IncidentRow
from tests.conftest import backend_database

T0 = datetime(2026, 3, 4, 14, 15, 16, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "spatialite",
                        pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request, tmp_path):
    yield from backend_database(request, tmp_path)


def _incident(ticket: str, lon: float, **kw) -> Incident:
    return Incident(
        ticket=ticket, category="keributan", description="ribut di depan masjid, RT 05",
        channel=Channel.HOTLINE, location=(lon, -1.6195), reported_at=T0,
        address_text="Jl. Kapten Pattimura", reporter_name="Budi",
        reporter_phone="+6281234567890", verified_at=T0 + timedelta(minutes=3),
        placement=Placement(kelurahan_code="15.71.11.1003", kelurahan_name="Eka Jaya",
                            kecamatan_code="15.71.11", kecamatan_name="Paal Merah",
                            rw_code="15.71.11.1003.002", rw_name="RW 002",
                            rt_code="15.71.11.1003.002.005", rt_name="RT 005",
                            flags=("border",)), **kw)


def _columns(row: IncidentRow) -> dict:
    out = {c.key: getattr(row, c.key) for c in IncidentRow.__table__.columns
           if c.key not in ("id", "ticket", "updated_at", "geom")}
    out["geom"] = shapely.to_wkt(row.geom, rounding_precision=9)
    return out


def test_a_prepared_insert_stores_the_row_the_orm_stores(db):
    with db.session() as s:
        s.add(incidents.new_row(_incident("ORM-1", 103.6009), idempotency_key="k-orm",
                                idempotency_fingerprint="f" * 64, created_by="operator"))
    with db.session() as s:
        new = incidents.insert_new(s, _incident("FAST-1", 103.6009),
                                   idempotency_key="k-fast", idempotency_fingerprint="f" * 64,
                                   created_by="operator")
        assert isinstance(new.id, int) and new.id > 0
    with db.session() as s:
        orm = incidents.incident_row(s, "ORM-1")
        fast = incidents.incident_row(s, "FAST-1")
        assert fast.id == new.id
        want, got = _columns(orm), _columns(fast)
        assert got.pop("idempotency_key") == "k-fast"
        assert want.pop("idempotency_key") == "k-orm"
        assert got == want
        assert fast.reported_at == T0 and fast.reported_at.tzinfo is not None
        assert fast.updated_at.tzinfo is not None
        assert fast.placement["flags"] == ["border"] and fast.version == 1
        # the values handed back are the stored ones (the answer is made from them)
        for k in want:
            if k != "geom":
                assert getattr(new, k) == getattr(fast, k), k
        assert new.assignments == [] and new.reports == []
        if db.spatial != "wkb":  # the database reads the point as a geometry
            fn = "ST_X" if db.is_postgres else "X"
            assert s.execute(text(f"SELECT {fn}(geom) FROM incidents WHERE ticket='FAST-1'")
                             ).scalar() == pytest.approx(103.6009)


def test_insert_new_gives_every_column_but_the_id(monkeypatch):
    """Every column is given (none left to a default the prepared INSERT would not add)
    and nothing that is not a column."""
    given: list[set] = []

    class Spy:
        def execute(self, session, values):
            given.append(set(values))
            return 1

    monkeypatch.setattr(incidents, "_INSERT", Spy())
    incidents.insert_new(None, _incident("COLS-1", 103.6))
    assert given == [{c.key for c in IncidentRow.__table__.columns} - {"id"}]


def test_the_intake_statements_run_prepared_on_every_backend(db):
    """None of them falls back to Session.execute (the point of the module), except the
    PostgreSQL duplicate search, whose NOT IN list SQLAlchemy expands."""
    from geo_sigap.dispatch import intake
    from geo_sigap.storage import audit, events

    dialect = db.engine.dialect
    prepared = [incidents._INSERT, audit._INSERT, intake._ID_BY_KEY,
                events._PG_ADD if db.is_postgres else events._SQLITE_ADD]
    if not db.is_postgres:
        prepared.append(intake._DUPLICATES["sqlite"])
    for p in prepared:
        assert p._plan(dialect) is not _UNSUPPORTED, p.stmt
    assert intake._DUPLICATES_OTHER._plan(dialect) is _UNSUPPORTED


def test_point_wkb_is_shapelys_wkb():
    for x, y in [(103.6009, -1.6195), (0.0, 0.0), (-180.0, 90.0), (1e-300, -0.0)]:
        assert point_wkb(x, y) == shapely.to_wkb(Point(x, y), byte_order=1)
        assert shapely.from_wkb(point_wkb(x, y)).equals(Point(x, y))


def test_a_unique_violation_is_sqlalchemys_integrity_error_and_the_session_recovers(db):
    with db.session() as s:
        incidents.insert_new(s, _incident("DUP-1", 103.60))
    with pytest.raises(exc.IntegrityError) as err:  # what report_incident retries on
        with db.session() as s:
            incidents.insert_new(s, _incident("DUP-1", 103.61))
    assert "parameters hidden" in str(err.value)  # no reporter's name or phone logged
    with db.session() as s:  # nothing of the failed transaction is kept
        assert s.scalar(select(IncidentRow.lon).where(IncidentRow.ticket == "DUP-1")) \
            == pytest.approx(103.60)
        assert len(s.scalars(select(IncidentRow.id)).all()) == 1


def test_a_failed_transaction_rolls_back_what_prepared_statements_wrote(db):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with db.session() as s:
            incidents.insert_new(s, _incident("RB-1", 103.60))
            from geo_sigap.storage.events import add_event

            add_event(s, "incident", {"ticket": "RB-1"})
            raise Boom
    with db.session() as s:
        assert s.scalars(select(IncidentRow.id)).all() == []
        assert s.scalars(select(EventRow.id)).all() == []


def test_pending_orm_changes_are_flushed_first_as_session_execute_does(db):
    by_ticket = Prepared(select(IncidentRow.__table__.c.id).where(
        IncidentRow.__table__.c.ticket == bindparam("t")))
    with db.session() as s:
        row = incidents.new_row(_incident("PEND-1", 103.60))
        s.add(row)  # not flushed yet
        found = by_ticket.execute(s, {"t": "PEND-1"}).first()
        assert found is not None and found[0] == row.id
        with s.no_autoflush:  # … and not when autoflush is off, as with the ORM
            s.add(incidents.new_row(_incident("PEND-2", 103.61)))
            assert by_ticket.execute(s, {"t": "PEND-2"}).first() is None


def test_listeners_on_the_engine_see_every_statement(db):
    """With a before/after_cursor_execute listener (tracing, statement counts) the
    statements go through SQLAlchemy: nothing runs unseen."""
    seen: list[str] = []

    def listen(conn, cursor, statement, params, context, executemany):
        seen.append(statement.split()[0] + " " + statement.split()[2])

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with db.session() as s:
            new = incidents.insert_new(s, _incident("SEEN-1", 103.60))
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert "INSERT incidents" in seen
    with db.session() as s:
        assert s.get(IncidentRow, new.id).ticket == "SEEN-1"


def test_an_insert_with_a_python_default_left_out_is_not_prepared(db):
    """SQLAlchemy fills in ``default=`` columns that are not given; a prepared statement
    would store NULL instead, so such an INSERT goes through Session.execute."""
    p = Prepared(insert(EventRow.__table__), keys=("kind", "payload"), returning_id=True)
    assert p._plan(db.engine.dialect) is _UNSUPPORTED
    with db.session() as s:
        id_ = p.execute(s, {"kind": "test", "payload": {"a": 1}})
    with db.session() as s:
        row = s.get(EventRow, id_)
        assert row.at is not None and row.payload == {"a": 1}  # the default `at` is set


def test_prepared_select_answers_as_session_execute(db):
    from geo_sigap.dispatch.intake import duplicate_candidates, find_duplicate

    with db.session() as s:
        first = incidents.insert_new(s, _incident("D-1", 103.6009))
        incidents.insert_new(s, _incident("D-2", 103.6010), duplicate_of_id=first.id)
        incidents.insert_new(s, _incident("D-3", 103.7000, status=Status.DITOLAK))
    params = {"category": "keributan", "t0": T0 - timedelta(minutes=30),
              "t1": T0 + timedelta(minutes=30), "lon0": 103.5, "lon1": 103.8,
              "lat0": -1.7, "lat1": -1.5}
    stmt = duplicate_candidates(db.engine.dialect.name)
    with db.session() as s:
        want = [tuple(r) for r in s.execute(stmt, params).all()]
        got = [tuple(r) for r in Prepared(stmt).execute(s, params).all()]
        assert got == want and len(got) == 2  # the rejected report is not a candidate
        dup = find_duplicate(s, "keributan", (103.60095, -1.6195), T0, radius_m=50,
                             window_min=30)
        assert dup is not None and dup.ticket == "D-1"  # a duplicate's own original
        assert find_duplicate(s, "pkl", (103.60095, -1.6195), T0, radius_m=50,
                              window_min=30) is None


def test_audit_and_event_rows_hold_what_was_given(db):
    from geo_sigap.domain.incidents import AuditEntry
    from geo_sigap.storage import audit
    from geo_sigap.storage.events import add_event, events_after

    with db.session() as s:
        audit.append(s, AuditEntry(at=T0, actor="operator", actor_role="operator",
                                   action="report", incident_ticket="A-1",
                                   to_status="diterima",
                                   details={"channel": "hotline", "flags": ["gap"]}),
                     incident_id=7)
        ev = add_event(s, "incident", {"ticket": "A-1", "lon": 103.6, "teams": []})
    with db.session() as s:
        row = s.scalars(select(AuditRow)).one()
        assert (row.at, row.actor, row.action, row.incident_id, row.ticket, row.to_status,
                row.from_status, row.details) == (T0, "operator", "report", 7, "A-1",
                                                  "diterima", None,
                                                  {"channel": "hotline", "flags": ["gap"]})
        stored = events_after(s, 0)
        assert [(e.id, e.kind, e.payload) for e in stored] == [
            (ev.id, "incident", {"ticket": "A-1", "lon": 103.6, "teams": []})]
        assert stored[0].at.tzinfo is not None


def test_the_live_map_feed_reads_times_as_the_typed_rows(db):
    """The feed reads its two times as the driver gives them (no SQLAlchemy parsing):
    the same instants, in the same ISO text, as the ORM's aware UTC values."""
    from geo_sigap.domain.categories import Priority, load_categories
    from geo_sigap.maps.feed import open_incidents_feed

    cats = load_categories()
    wib = T0.astimezone(timezone(timedelta(hours=7)))
    with db.session() as s:
        a = incidents.new_row(_incident("FEED-1", 103.60))
        a.on_scene_at = T0.replace(microsecond=0) + timedelta(minutes=9)  # no microseconds
        s.add(a)
        b = incidents.new_row(_incident("FEED-2", 103.61))
        b.reported_at = wib + timedelta(seconds=1)  # given in WIB: stored as UTC
        s.add(b)
    with db.session() as s:
        feed = open_incidents_feed(s, cats)
        typed = {r.ticket: r for r in s.scalars(select(IncidentRow))}
    f = feed["fields"]
    rows = {r[f.index("ticket")]: dict(zip(f, r, strict=True)) for r in feed["rows"]}
    for ticket, row in typed.items():
        got = rows[ticket]
        assert got["reported_at"] == row.reported_at.isoformat()
        assert got["on_scene_at"] == (row.on_scene_at.isoformat() if row.on_scene_at else None)
        target = cats.target_minutes(row.category, Priority(row.priority))
        assert got["due_at"] == (row.reported_at + timedelta(minutes=target)).isoformat()
    assert rows["FEED-1"]["on_scene_at"] == "2026-03-04T14:24:16+00:00"  # no ".000000"
    assert rows["FEED-2"]["reported_at"] == (T0 + timedelta(seconds=1)).isoformat()
    assert list(rows) == ["FEED-2", "FEED-1"]  # newest first
