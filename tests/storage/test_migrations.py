"""Migration 0005 on a database at 0004 that holds incidents, on SQLite and PostGIS: the
rows stay, the quarter check is read from ``ix_incidents_reported_updated`` and equals a
plain count over the rows, the covered single-column indexes are gone; down and up again."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import inspect, select, text

from geo_sigap.storage.engine import make_engine
from geo_sigap.storage.incidents import quarter_check
from geo_sigap.storage.migrate import at_head, current_revision, script_heads, upgrade
from geo_sigap.storage.tables import IncidentRow

GONE = {"ix_incidents_category", "ix_incidents_status", "ix_incidents_reported_at"}


def _indexes(engine) -> dict[str, list[str]]:
    with engine.connect() as c:
        return {ix["name"]: ix["column_names"] for ix in inspect(c).get_indexes("incidents")}


def _add_incidents(engine, rng: random.Random, n: int) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with sa.orm.Session(engine) as s:
        for i in range(n):
            at = t0 + timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
            s.add(IncidentRow(ticket=f"M-{i:05d}", category=rng.choice(["pkl", "odgj"]),
                              channel="hotline", status=rng.choice(["diterima", "selesai"]),
                              lon=103.6, lat=-1.6, reported_at=at, placement={},
                              updated_at=at + timedelta(days=rng.randint(0, 400))))
        s.commit()


def _reference(engine, start, end) -> tuple[int, int, int]:
    with sa.orm.Session(engine) as s:
        rows = s.execute(select(IncidentRow.id, IncidentRow.reported_at,
                                IncidentRow.updated_at)).all()
    inside = [(i, u) for i, r, u in rows if start <= r < end]
    if not inside:
        return (0, 0, 0)
    newest = max(u for _, u in inside)
    return (len(inside), sum(i for i, _ in inside), int(round(newest.timestamp() * 1e6)))


def test_upgrade_from_0004_with_data(empty_url):
    engine, _ = make_engine(empty_url, spatialite=False)
    try:
        upgrade(engine, "0004")
        assert current_revision(engine) == "0004"
        assert GONE <= set(_indexes(engine))
        rng = random.Random(7)
        _add_incidents(engine, rng, 400)
        upgrade(engine)
        assert current_revision(engine) in script_heads() and at_head(engine)
        ix = _indexes(engine)
        assert not GONE & set(ix)
        assert ix["ix_incidents_reported_updated"] == ["reported_at", "updated_at"]
        # the composites that cover the dropped ones are there
        assert ix["ix_incidents_category_reported"] == ["category", "reported_at", "lon",
                                                        "lat"]  # 0006: the place too
        assert ix["ix_incidents_status_reported"] == ["status", "reported_at"]
        with sa.orm.Session(engine) as s:
            assert s.scalar(select(sa.func.count()).select_from(IncidentRow)) == 400
            for _ in range(12):
                a = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(-30, 800))
                b = a + timedelta(days=rng.choice([1, 30, 91, 92]))
                assert quarter_check(s, a, b) == _reference(engine, a, b)
            if engine.dialect.name == "sqlite":
                plan = _sqlite_plan(s)
                assert "COVERING INDEX ix_incidents_reported_updated" in plan, plan
            else:
                include = s.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                        "'ix_incidents_reported_updated'"))
                assert "INCLUDE (id)" in include
        # and back down to 0004 and up again
        upgrade_down(engine, "0004")
        assert GONE <= set(_indexes(engine))
        upgrade(engine)
        assert not GONE & set(_indexes(engine))
    finally:
        engine.dispose()


def _sqlite_plan(s) -> str:
    a, b = "2024-04-01 00:00:00.000000", "2024-07-01 00:00:00.000000"
    raw = s.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN SELECT count(*), coalesce(sum(id), 0), max(updated_at) "
        "FROM incidents WHERE reported_at >= ? AND reported_at < ?", (a, b))
    return " ".join(str(r[-1]) for r in raw)


def upgrade_down(engine, revision: str) -> None:
    from alembic import command

    from geo_sigap.storage.migrate import alembic_config

    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
