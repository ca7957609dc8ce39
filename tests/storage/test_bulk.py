"""The bulk writer's fast paths against plain references on random inputs: points as WKB
(shapely), COPY text blocks (psycopg's own row-by-row COPY)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely

from geo_sigap.storage.bulk import copy_text, point_wkb

# text that COPY's text format must escape or keep as it is
_PIECES = ["a", "Jl. Sudirman", "\t", "\n", "\r", "\\", "\\N", "\\t", ",", '"', "'", "é",
           "😀", " ", "RT 005/RW 002", "{\"k\": \"\\u00e9\"}", "\x1f", "NULL", ""]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 6)))


def test_point_wkb_equals_shapely():
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(95, 141, 500), [0.0, -0.0, 103.6, 180.0]])
    lat = np.concatenate([rng.uniform(-11, 6, 500), [0.0, 0.0, -1.6, -90.0]])
    points = shapely.points(lon, lat)
    assert point_wkb(lon, lat) == list(shapely.to_wkb(points))
    ewkb = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    assert point_wkb(lon, lat, srid=4326, hex=True) == list(ewkb)
    back = shapely.from_wkb(point_wkb(lon, lat))
    assert np.array_equal(shapely.get_x(back), lon) and np.array_equal(shapely.get_y(back), lat)
    assert point_wkb(np.empty(0), np.empty(0)) == []


@pytest.mark.postgis
def test_copy_text_reads_back_as_psycopg_rows(_postgis_db):
    """Random rows (text with tabs, line breaks, backslashes, NULL-looking strings,
    emoji; floats; ints; booleans; timestamps; NULLs) COPYed as one block read back
    exactly as the same rows COPYed by psycopg's ``write_row``."""
    rng = random.Random(11)
    n = 400
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    cols = {
        "s": [_text(rng) if rng.random() > 0.2 else None for _ in range(n)],
        "f": [rng.choice([rng.uniform(-200, 200), 0.1 + 0.2, 1e-300, -0.0, 103.123456789])
              for _ in range(n)],
        "i": [rng.randint(-2**40, 2**40) for _ in range(n)],
        "b": [rng.random() > 0.5 for _ in range(n)],
        "t": [(t0 + timedelta(seconds=rng.randint(0, 10**8), microseconds=rng.randint(0, 999999)))
              .strftime("%Y-%m-%dT%H:%M:%S.%f+00:00") if rng.random() > 0.3 else None
              for _ in range(n)],
        "j": [None if rng.random() < 0.1 else '{"a": "%s"}' % rng.choice(["x", "\\\\", "é"])
              for _ in range(n)],
    }
    cols["s"][0] = ""  # empty text stays empty, not NULL
    ddl = "(k int, s text, f float8, i bigint, b boolean, t timestamptz, j json)"
    conn = _postgis_db.engine.raw_connection()
    try:
        cur = conn.driver_connection.cursor()
        cur.execute(f"CREATE TEMP TABLE ref {ddl}")
        cur.execute(f"CREATE TEMP TABLE fast {ddl}")
        names = ["k", *cols]
        rows = list(zip(range(n), *cols.values(), strict=True))
        with cur.copy(f"COPY ref ({', '.join(names)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
        with cur.copy(f"COPY fast ({', '.join(names)}) FROM STDIN") as cp:
            cp.write(copy_text([list(range(n)), *[np.array(v, dtype=object)
                                                  for v in cols.values()]]))
        q = "SELECT k, s, f, i, b, t, j::text FROM {} ORDER BY k"
        cur.execute(q.format("ref"))
        ref = cur.fetchall()
        cur.execute(q.format("fast"))
        fast = cur.fetchall()
        assert len(ref) == n and fast == ref
        assert fast[0][1] == "" and any(r[1] is None for r in fast)
    finally:
        conn.rollback()
        conn.close()


def test_copy_text_empty_and_escapes():
    assert copy_text([[], []]) == b""
    assert copy_text([["a\tb", None, "c\\d\ne\r"], [1.5, 2.0, None], [True, False, None]]) == (
        b"a\\tb\t1.5\tt\n\\N\t2.0\tf\nc\\\\d\\ne\\r\t\\N\t\\N\n")


@pytest.mark.postgis
def test_vacuum_after_load_marks_pages_visible(_postgis_db):
    """A large load on PostgreSQL ends with its pages all-visible (index-only reads need
    no table visit); on SQLite it does nothing."""
    from sqlalchemy import text

    from geo_sigap.storage.bulk import vacuum_after_load
    from tests.conftest import _reset_postgis

    db = _postgis_db
    _reset_postgis(db)
    with db.session() as s:
        s.execute(text(
            "INSERT INTO incidents (ticket, category, description, channel, priority, "
            "status, placement, reported_at, version, updated_at) "
            "SELECT 'V-' || g, 'pkl', '', 'hotline', 3, 'diterima', '{}', "
            "now() - g * interval '1 minute', 1, now() FROM generate_series(1, 3000) g"))
    import time

    for _ in range(5):  # a reader of an earlier test still open may hold the horizon back
        vacuum_after_load(db)
        with db.session() as s:
            visible, pages = s.execute(text(
                "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'incidents'")
            ).one()
        if visible == pages:
            break
        time.sleep(0.5)
    assert pages > 0 and visible == pages
    _reset_postgis(db)


def test_vacuum_after_load_is_nothing_on_sqlite(tmp_path):
    from geo_sigap.storage import open_database
    from geo_sigap.storage.bulk import vacuum_after_load

    db = open_database(f"sqlite:///{tmp_path / 'v.db'}", spatialite=False)
    vacuum_after_load(db)
    db.dispose()


def test_a_first_load_sets_aside_the_random_key_indexes_only(db):
    """The indexes whose keys grow along a load stay; every other secondary index (and on
    PostgreSQL every foreign key of the two tables) is set aside until finish()."""
    from sqlalchemy import inspect

    from geo_sigap.storage.bulk import _KEPT, BulkWriter

    with db.session() as s:
        insp = inspect(s.connection())
        secondary = {ix["name"] for t in ("incidents", "assignments")
                     for ix in insp.get_indexes(t) if not ix.get("unique")}
        w = BulkWriter(s, actor="t", now=datetime.now(UTC), expected_rows=10)
        dropped = set(w.dropped_indexes)
        fks = {"incidents_duplicate_of_id_fkey", "assignments_incident_id_fkey"}
        assert _KEPT <= secondary
        assert dropped - fks == secondary - _KEPT
        assert (dropped & fks == fks) if db.is_postgres else not (dropped & fks)
        w.finish()
        s.rollback()
