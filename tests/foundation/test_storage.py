"""The same storage tests on plain SQLite, SpatiaLite and PostGIS."""

from datetime import UTC, datetime

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.domain.incidents import AuditEntry, Channel, Incident, Placement
from geo_sigap.domain.teams import Role, Team
from geo_sigap.storage import audit, incidents, teams, units
from geo_sigap.storage.migrate import current_revision

T0 = datetime(2026, 3, 4, 14, 15, tzinfo=UTC)


def _unit(code, level, geom, parent=None):
    return AdminUnit(code=code, level=level, name=f"U {code}", parent_code=parent,
                     geometry=geom, population=1000)


def test_schema_is_migrated(db):
    assert current_revision(db.engine) is not None
    assert db.spatial in ("wkb", "spatialite", "postgis")


def test_units_roundtrip_with_geometry(db):
    poly = shapely.Polygon([(103.64, -1.62), (103.66, -1.62), (103.66, -1.60), (103.64, -1.60)])
    with db.session() as s:
        ins, upd = units.upsert_units(s, [
            _unit("15.71.11", AdminLevel.KECAMATAN, poly),
            _unit("15.71.11.1003", AdminLevel.KELURAHAN, poly, "15.71.11")])
    assert (ins, upd) == (2, 0)
    with db.session() as s:
        got = {u.code: u for u in units.load_units(s)}
        assert got["15.71.11.1003"].geometry.equals(shapely.MultiPolygon([poly]))
        assert got["15.71.11.1003"].parent_code == "15.71.11"
        assert units.coverage_bbox(s) == pytest.approx((103.64, -1.62, 103.66, -1.60))
        # upsert replaces
        assert units.upsert_units(s, [_unit("15.71.11", AdminLevel.KECAMATAN, poly)]) == (0, 1)
    if db.spatial != "wkb":  # spatial SQL works on the stored geometries
        fn = "ST_Contains"
        with db.session() as s:
            n = s.execute(text(
                f"SELECT count(*) FROM admin_units WHERE {fn}(geom, "
                f"{'ST_GeomFromText' if db.is_postgres else 'GeomFromText'}"
                "('POINT(103.65 -1.61)', 4326))")).scalar()
        assert n == 2


def test_incident_roundtrip_keeps_time_zone_and_placement(db):
    inc = Incident(ticket="SGP-260304-AAAA", category="pkl", description="lapak di trotoar",
                   channel=Channel.HOTLINE, location=(103.65, -1.61), reported_at=T0,
                   reporter_name="Siti", reporter_phone="+6281200000000",
                   placement=Placement(kelurahan_code="15.71.11.1003", kelurahan_name="Eka Jaya",
                                       flags=("gap_nearest",)))
    with db.session() as s:
        s.add(incidents.new_row(inc))
    with db.session() as s:
        back = incidents.to_incident(incidents.incident_row(s, "SGP-260304-AAAA"))
    assert back.reported_at == T0 and back.reported_at.tzinfo is not None
    assert back.location == (103.65, -1.61)
    assert back.placement.kelurahan_name == "Eka Jaya"
    assert back.placement.flags == ("gap_nearest",)
    frame = None
    with db.session() as s:
        frame = incidents.incidents_frame(s)
    assert list(frame["ticket"]) == ["SGP-260304-AAAA"]
    assert "reporter_name" not in frame.columns and "reporter_phone" not in frame.columns


def test_incidents_frame_reads_raw_values_as_the_typed_rows(db):
    """The analytics frame converts driver values per column: the same values as the ORM's
    typed rows (aware UTC timestamps, missing ones NaT), on every backend."""
    from datetime import timedelta

    import pandas as pd

    from geo_sigap.storage.tables import IncidentRow

    with db.session() as s:
        for i in range(3):
            inc = Incident(ticket=f"F-{i}", category="pkl", description="",
                           channel=Channel.WEB, location=(103.6 + i / 100, -1.6),
                           reported_at=T0 + timedelta(minutes=37 * i, microseconds=i))
            row = incidents.new_row(inc)
            if i:
                row.on_scene_at = T0 + timedelta(hours=i, seconds=5)
            s.add(row)
    with db.session() as s:
        frame = incidents.incidents_frame(s, start=T0, end=T0 + timedelta(minutes=60))
        typed = {r.ticket: r for r in s.query(IncidentRow)}
        assert list(frame["ticket"]) == ["F-0", "F-1"]  # the range only
        for _, f in frame.iterrows():
            r = typed[f["ticket"]]
            assert f["reported_at"] == pd.Timestamp(r.reported_at)
            assert f["reported_at"].tzinfo is not None
            assert (pd.isna(f["on_scene_at"]) if r.on_scene_at is None
                    else f["on_scene_at"] == pd.Timestamp(r.on_scene_at))
            assert (f["lon"], f["lat"], f["priority"]) == (r.lon, r.lat, r.priority)
            assert f["category"] == r.category and f["status"] == r.status


def test_optimistic_locking_detects_concurrent_edit(db):
    inc = Incident(ticket="T-1", category="pkl", description="", channel=Channel.WEB,
                   location=None, reported_at=T0)
    with db.session() as s:
        s.add(incidents.new_row(inc))
    s1, s2 = db.sessions(), db.sessions()
    try:
        r1, r2 = incidents.incident_row(s1, "T-1"), incidents.incident_row(s2, "T-1")
        r1.priority = 1
        s1.commit()
        r2.priority = 2
        with pytest.raises(StaleDataError):
            s2.commit()
    finally:
        s1.close()
        s2.close()


def test_audit_log_is_append_only(db):
    with db.session() as s:
        audit.append(s, AuditEntry(at=T0, actor="ops", actor_role="operator", action="verify",
                                   incident_ticket="T-1", details={"priority": 2}))
    with pytest.raises(Exception, match="append-only"):
        with db.session() as s:
            s.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(Exception, match="append-only"):
        with db.session() as s:
            s.execute(text("DELETE FROM audit_log"))
    with db.session() as s:
        [e] = audit.entries(s)
    assert (e.actor, e.details) == ("ops", {"priority": 2})


def test_teams_and_positions(db):
    t = Team(code="LIN-1", name="Linmas RW 2", role=Role.LINMAS, post=(103.65, -1.61),
             area_codes=("15.71.11.1003.RW002",))
    with db.session() as s:
        teams.upsert_teams(s, [t])
    with db.session() as s:
        teams.record_position(s, "LIN-1", 103.66, -1.62, T0)
    with db.session() as s:
        [back] = teams.list_teams(s)
    assert back.last_position == (103.66, -1.62) and back.last_position_at == T0
    assert back.area_codes == ("15.71.11.1003.RW002",)


def test_spatialite_does_not_break_bundled_geos(tmp_path):
    """Opening SpatiaLite before geopandas is imported must not corrupt shapely (RTLD_GLOBAL)."""
    import subprocess
    import sys

    code = f"""
from geo_sigap.storage.engine import make_engine
engine, mode = make_engine("sqlite:///{tmp_path / 'o.db'}")
with engine.connect():
    pass
import geopandas, shapely
g = geopandas.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
g.to_file("{tmp_path / 'o.geojson'}")
back = geopandas.read_file("{tmp_path / 'o.geojson'}")
assert shapely.from_wkb(shapely.to_wkb(back.geometry[0])).equals(shapely.box(0, 0, 1, 1))
print(mode)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_database_errors_do_not_print_personal_data(db):
    """A failing statement's message must not contain the bound values (reporter data)."""
    from sqlalchemy.exc import IntegrityError

    inc = Incident(ticket="DUP-1", category="pkl", description="", channel=Channel.WEB,
                   location=None, reported_at=T0, reporter_name="Siti Rahasia",
                   reporter_phone="+6281299990000")
    with db.session() as s:
        s.add(incidents.new_row(inc))
    with pytest.raises(IntegrityError) as e:
        with db.session() as s:
            s.add(incidents.new_row(inc))  # same ticket: unique violation
    assert "Siti Rahasia" not in str(e.value) and "6281299990000" not in str(e.value)
