"""The incrementally kept analytics history equals a full recomputation.

Random histories (seeded) are written to storage (SQLite and PostGIS), then changed:
new reports, transitions (status, on-scene time), reports moved to another quarter or
category, deletions. After each step the store that followed the changes must hold the
same partitions — and give the same KPIs, heat grid, hotspot counts and periods — as a
store built from scratch. The answers themselves are checked against the plain path
(``filter_incidents`` + ``annotate``) on the synthetic history.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from geo_sigap.analytics.frames import Quarter, filter_incidents
from geo_sigap.analytics.from_storage import OVERLAP_S, StorageHistory
from geo_sigap.analytics.incremental import (
    HistoryStore,
    LiveAnalytics,
    store_from_frame,
)
from geo_sigap.domain.categories import load_categories
from tests.conftest import KEL_A, KEL_B, RT_A1, RT_A2, RW_A

CATS = ["pkl", "gepeng", "pekat", "keributan"]
STATUSES = ["diterima", "terverifikasi", "ditugaskan", "di_lokasi", "selesai", "ditolak"]
T_START = datetime(2025, 1, 1, tzinfo=UTC)


def _assert_same(a: HistoryStore, b: HistoryStore) -> None:
    assert a.quarters() == b.quarters()
    for qa, qb in zip(a.blocks(), b.blocks(), strict=True):
        assert qa.quarter == qb.quarter
        pd.testing.assert_frame_equal(qa.frame, qb.frame, check_dtype=False,
                                      check_index_type=False)
    pd.testing.assert_series_equal(a.summary(), b.summary())


def _answers(store: HistoryStore, units, categories) -> dict:
    live = LiveAnalytics(lambda: store, lambda: (units, 1), categories)
    out = {"periods": live.periods(), "kpis": live.kpis()}
    for q in store.quarters():
        out[f"kpis {q}"] = live.kpis(quarter=str(q))
        out[f"kpis {q} pkl night"] = live.kpis(category="pkl", quarter=str(q), hours="18-6")
        h = live.hotspots(quarter=str(q), level="rt", permutations=99)
        out[f"rt {q}"] = [f["properties"]["count"] for f in h["features"]]
    if len(store):
        heat = live.heat(bandwidth_m=200)
        out["heat"] = (heat["n_points"], heat["values"])
    return out


# ------------------------------------------------------------------ in memory

def _random_rows(rng: random.Random, ids) -> pd.DataFrame:
    rows = []
    for i in ids:
        t = T_START + timedelta(minutes=rng.randrange(0, 60 * 24 * 500))
        st = rng.choice(STATUSES)
        rows.append({
            "id": i, "category": rng.choice(CATS), "lon": 103.59 + rng.random() * 0.03,
            "lat": -1.625 + rng.random() * 0.01, "status": st, "priority": rng.randint(1, 4),
            "kelurahan_code": rng.choice([KEL_A, KEL_B, None]), "rw_code": RW_A,
            "rt_code": rng.choice([RT_A1, RT_A2]), "reported_at": t,
            "on_scene_at": t + timedelta(minutes=rng.randrange(5, 90))
            if st in ("di_lokasi", "selesai") else None})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_store_upserts_and_deletes_equal_a_rebuild(seed):
    rng = random.Random(seed)
    truth = _random_rows(rng, range(1, 301)).set_index("id", drop=False)
    store = store_from_frame(truth.reset_index(drop=True))
    next_id = 301
    for _ in range(12):
        op = rng.choice(["new", "change", "move", "delete", "same"])
        if op == "new":
            rows = _random_rows(rng, range(next_id, next_id + rng.randint(1, 20)))
            next_id += len(rows)
            truth = pd.concat([truth, rows.set_index("id", drop=False)])
            store.upsert(rows)
        elif op in ("change", "move", "same"):
            ids = rng.sample(list(truth.index), 15)
            rows = truth.loc[ids].copy()
            if op == "change":
                rows["status"] = [rng.choice(STATUSES) for _ in ids]
                rows["category"] = [rng.choice(CATS) for _ in ids]
            elif op == "move":
                rows["reported_at"] = [t + timedelta(days=rng.choice([-120, 95, 200]))
                                       for t in rows["reported_at"]]
            truth.loc[ids] = rows
            before = store.version
            store.upsert(rows.reset_index(drop=True))
            if op == "same":
                assert store.version == before  # rows read again change nothing
        else:
            ids = rng.sample(list(truth.index), 10)
            truth = truth.drop(index=ids)
            store.delete(ids)
        _assert_same(store, store_from_frame(truth.reset_index(drop=True)))


def test_a_change_touches_only_its_quarters():
    rng = random.Random(7)
    rows = _random_rows(rng, range(1, 201))
    store = store_from_frame(rows)
    versions = {b.quarter: b.version for b in store.blocks()}
    one = rows.iloc[[0]].copy()
    one["status"] = "selesai" if one["status"].iat[0] != "selesai" else "ditolak"
    changed = store.upsert(one)
    q = Quarter.of(pd.Timestamp(one["reported_at"].iat[0]))
    assert changed == {q}
    assert {b.quarter: b.version for b in store.blocks() if b.version != versions[b.quarter]} \
        .keys() == {q}


def test_answers_equal_the_plain_path(units, incidents):
    """KPIs from the two timestamps they need equal annotate()'s; partitions equal filters."""
    from geo_sigap.analytics.performance import annotate

    cats = load_categories()
    store = store_from_frame(incidents)
    live = LiveAnalytics(lambda: store, lambda: (units, 1), cats)
    for params in [{}, {"quarter": "2026Q3"}, {"quarter": "2026Q2", "category": "pkl,pekat"},
                   {"quarter": "2026Q1", "hours": "20-3"}, {"kecamatan": "15.71.11.1003"}]:
        got = live.kpis(**params)
        start = end = None
        if "quarter" in params:
            q = Quarter.parse(params["quarter"])
            start, end = q.start, q.end
        hours = tuple(int(v) for v in params["hours"].split("-")) if "hours" in params else None
        cat = params["category"].split(",") if "category" in params else None
        inc = filter_incidents(incidents, categories=cat, start=start, end=end, hours=hours,
                               kecamatan=params.get("kecamatan"))
        ann = annotate(inc, cats)
        resp = ann["min_respons"].dropna()
        wt = ann["within_target"].dropna().astype(bool)
        assert got["incidents"] == len(inc)
        assert got["by_category"] == {k: int(v) for k, v in inc["category"].value_counts().items()}
        assert got["overdue"] == int(ann["overdue"].sum())
        assert got["response_median_min"] == round(float(resp.median()), 1)
        assert got["response_p90_min"] == round(float(resp.quantile(0.9)), 1)
        assert got["share_within_target"] == round(float(wt.mean()), 1)
    q = Quarter.parse("2026Q3")
    block = store.frame(q)
    plain = filter_incidents(incidents, start=q.start, end=q.end, exclude_rejected=False)
    assert len(block) == len(plain)
    assert sorted(block["rt_code"].fillna("")) == sorted(plain["rt_code"].fillna(""))


# ------------------------------------------------------------------ on storage

def _add(s, rng, n, tickets, *, old=False):
    from geo_sigap.storage.tables import IncidentRow

    now = datetime.now(UTC)

    for _ in range(n):
        t = T_START + timedelta(minutes=rng.randrange(0, 60 * 24 * 450))
        st = rng.choice(STATUSES)
        rt = rng.choice([RT_A1, RT_A2, None])
        tickets.append(f"T-{len(tickets):05d}")
        s.add(IncidentRow(
            ticket=tickets[-1], category=rng.choice(CATS), description="", channel="web",
            lon=103.596 + rng.random() * 0.004, lat=-1.624 + rng.random() * 0.008,
            priority=rng.randint(1, 4), status=st, kelurahan_code=KEL_A if rt else KEL_B,
            rw_code=RW_A if rt else None, rt_code=rt, placement={}, reported_at=t,
            on_scene_at=t + timedelta(minutes=rng.randrange(3, 80))
            if st in ("di_lokasi", "selesai") else None,
            # history imported days ago (old=True), or written now
            updated_at=now - timedelta(minutes=rng.randrange(60, 14400)) if old else now))


def test_storage_history_follows_writes(area_db, monkeypatch):
    from sqlalchemy import select

    import geo_sigap.storage.incidents as storage_incidents

    from geo_sigap.storage.tables import IncidentRow
    from geo_sigap.storage.units import units_frame

    db, rng, tickets = area_db, random.Random(11), []
    cats = load_categories()
    with db.session() as s:
        _add(s, rng, 120, tickets, old=True)
    live = StorageHistory(db, reconcile_every_s=None)
    live.store()
    assert live.stats["builds"] == 1
    read_since: set[int] = set()  # ids read by catch-ups (rows changed since a watermark)
    plain = storage_incidents.analytics_rows

    def spy(session, **kw):
        rows = plain(session, **kw)
        if kw.get("updated_since") is not None:
            read_since.update(rows["id"])
        return rows

    monkeypatch.setattr(storage_incidents, "analytics_rows", spy)
    with db.session() as s:  # rows at the watermark are read again once (the overlap)
        stamps = dict(s.execute(select(IncidentRow.id, IncidentRow.updated_at)).all())
    edge = max(stamps.values()) - timedelta(seconds=OVERLAP_S)
    touched: set[int] = {i for i, t in stamps.items() if t >= edge}
    with db.session() as s:
        units = units_frame(s)
    units = units.loc[units["level"].isin(["kelurahan", "rw", "rt"])]
    for step in range(8):
        op = ["new", "transition", "move", "delete"][step % 4]
        with db.session() as s:
            rows = list(s.scalars(select(IncidentRow).order_by(IncidentRow.id)))
            if op == "new":
                _add(s, rng, rng.randint(1, 6), tickets)
            elif op == "transition":  # e.g. a team arrives, a report is rejected
                for r in rng.sample(rows, 6):
                    touched.add(r.id)
                    r.status = rng.choice(STATUSES)
                    r.on_scene_at = r.reported_at + timedelta(minutes=rng.randrange(1, 60))
                    r.category = rng.choice(CATS)
            elif op == "move":  # a corrected report time: another quarter
                for r in rng.sample(rows, 4):
                    touched.add(r.id)
                    r.reported_at = r.reported_at + timedelta(days=rng.choice([-100, 100]))
            else:
                for r in rng.sample(rows, 3):
                    s.delete(r)
        got = live.store()
        if op == "delete":
            assert live.reconcile() == 3
        fresh = StorageHistory(db, reconcile_every_s=None).store()
        _assert_same(got, fresh)
        assert _answers(got, units, cats) == _answers(fresh, units, cats)
    assert live.stats["builds"] == 1  # never rebuilt: changes were applied
    # catch-ups read changed rows only: no untouched incident of the history is read again
    untouched = set(range(1, 121)) - touched
    assert read_since and not (read_since & untouched), sorted(read_since & untouched)


def test_change_stamp_is_an_index_read(area_db):
    """The version check and the duplicate search are served by indexes (SQLite plan)."""
    from sqlalchemy import text

    if area_db.is_postgres:
        with area_db.session() as s:
            names = set(s.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE tablename='incidents'")))
        assert {"ix_incidents_updated_at", "ix_incidents_category_reported"} <= names
        return
    with area_db.session() as s:
        plan = " ".join(str(r[-1]) for r in s.execute(text(
            "EXPLAIN QUERY PLAN SELECT max(updated_at) FROM incidents")))
        assert "ix_incidents_updated_at" in plan, plan
        from geo_sigap.dispatch.intake import duplicate_candidates

        stmt = duplicate_candidates("sqlite")
        raw = s.execute(text("EXPLAIN QUERY PLAN " + stmt.text), {
            "category": "pkl", "t0": "2026-01-01 00:00:00.000000",
            "t1": "2026-01-02 00:00:00.000000", "lon0": 0.0, "lon1": 1.0, "lat0": 0.0,
            "lat1": 1.0})
        plan = " ".join(str(r[-1]) for r in raw)
    assert "ix_incidents_category_reported" in plan, plan


def test_unchanged_store_costs_no_reading(area_db):
    db, rng, tickets = area_db, random.Random(5), []
    with db.session() as s:
        _add(s, rng, 30, tickets)
    live = StorageHistory(db, reconcile_every_s=None)
    live.store()
    live._settled_at = 0  # as if the overlap window had passed
    refreshes = live.stats["refreshes"]
    for _ in range(5):
        live.store()
    assert live.stats["refreshes"] == refreshes
    assert np.isfinite(len(live.store()))


def test_fast_hotspots_equal_the_plain_functions(units, incidents):
    """Cached grid/weights/geometry GeoJSON give the answer of hex_hotspots / unit_hotspots
    + to_geojson."""
    from geo_sigap.analytics.hotspots import hex_hotspots, to_geojson, unit_hotspots

    store = store_from_frame(incidents)
    live = LiveAnalytics(lambda: store, lambda: (units, 1), load_categories())
    q = Quarter.parse("2026Q2")
    inc = filter_incidents(incidents, start=q.start, end=q.end)
    got = live.hotspots(quarter="2026Q2", permutations=199)
    kel = units.loc[units["level"] == "kelurahan"]
    want = to_geojson(hex_hotspots(inc, kel, 250.0, permutations=199),
                      ["code", "count", "gi_z", "gi_p", "gi_class", "gi_label"])
    assert got["features"] == want["features"]
    got = live.hotspots(quarter="2026Q2", level="rt", permutations=199)
    want = to_geojson(unit_hotspots(inc, units, "rt", permutations=199),
                      ["code", "name", "count", "gi_z", "gi_p", "gi_class", "gi_label",
                       "moran_q", "moran_label"])
    assert got["features"] == want["features"]
    assert live.hotspots(quarter="2026Q2", level="rt", permutations=199, encoded=True) \
        .startswith(b'{"type":"FeatureCollection"')


def test_rows_of_a_long_import_are_found_whatever_their_updated_at(area_db):
    """An import stamps its rows when it starts and commits minutes later: the rows have an
    updated_at far behind the watermark, but new ids."""
    db, rng, tickets = area_db, random.Random(9), []
    with db.session() as s:
        _add(s, rng, 20, tickets)
    live = StorageHistory(db, reconcile_every_s=None)
    assert len(live.store()) == 20
    with db.session() as s:
        _add(s, rng, 15, tickets, old=True)  # updated_at hours to days ago
    got = live.store()
    assert len(got) == 35
    _assert_same(got, StorageHistory(db, reconcile_every_s=None).store())


def _add_now(s, rng, n, tickets):
    """Reports of the open (current) quarter."""
    from geo_sigap.storage.tables import IncidentRow

    now = datetime.now(UTC)
    start = Quarter.of(pd.Timestamp(now)).start.tz_convert(UTC).to_pydatetime()
    for _ in range(n):
        t = start + (now - start) * rng.random()
        tickets.append(f"T-{len(tickets):05d}")
        s.add(IncidentRow(
            ticket=tickets[-1], category=rng.choice(CATS), description="", channel="web",
            lon=103.597, lat=-1.62, priority=2, status="diterima", kelurahan_code=KEL_A,
            rw_code=RW_A, rt_code=RT_A1, placement={}, reported_at=t, updated_at=now))


@pytest.mark.parametrize("seed", [3, 4])
def test_a_restart_reuses_stored_closed_quarters_only_while_they_are_unchanged(
        area_db, tmp_path, seed):
    """Closed quarters are stored when read; a new StorageHistory (a restart) takes a
    stored quarter only when its rows, ids and newest updated_at are still those of the
    table. After random edits, imports (old updated_at), moves and deletions in closed
    quarters the restarted history equals a rebuild from the table, and exactly the
    quarters that changed (and the open one) were read again."""
    from sqlalchemy import select

    from geo_sigap.analytics.incremental import quarter_key
    from geo_sigap.storage.tables import IncidentRow

    from geo_sigap.storage.units import units_frame

    db, rng, tickets = area_db, random.Random(seed), []
    cats = load_categories()
    with db.session() as s:
        _add(s, rng, 150, tickets, old=True)
        _add_now(s, rng, 5, tickets)
        units = units_frame(s)
    units = units.loc[units["level"].isin(["kelurahan", "rw", "rt"])]
    folder = tmp_path / "history"

    def restart():
        h = StorageHistory(db, reconcile_every_s=None, snapshot_dir=folder)
        return h, h.store()

    first, got = restart()
    n_quarters = len(got.quarters())
    assert first.stats["quarters_read"] == n_quarters  # nothing stored yet
    again, got = restart()
    assert again.stats.get("quarters_read") == 1  # the open quarter, from its own rows
    assert again.stats["quarters_stored"] == n_quarters - 1
    _assert_same(got, StorageHistory(db, reconcile_every_s=None).store())
    current = Quarter.of(pd.Timestamp.now(tz="UTC"))
    for _ in range(3):
        changed: set[int] = set()
        with db.session() as s:
            rows = [r for r in s.scalars(select(IncidentRow).order_by(IncidentRow.id))
                    if Quarter.of(pd.Timestamp(r.reported_at)) < current]
            op = rng.choice(["edit", "import", "move", "delete"])
            r = rng.choice(rows)
            q = quarter_key(Quarter.of(pd.Timestamp(r.reported_at)))
            if op == "edit":  # a late transition of an old report: updated_at moves on
                r.status = "selesai" if r.status != "selesai" else "ditolak"
                r.updated_at = datetime.now(UTC)
                changed.add(q)
            elif op == "move":  # a corrected report time: leaves one quarter, enters one
                r.reported_at = r.reported_at + timedelta(days=rng.choice([-95, 95]))
                r.updated_at = datetime.now(UTC)
                changed |= {q, quarter_key(Quarter.of(pd.Timestamp(r.reported_at)))}
            elif op == "delete":
                s.delete(r)
                changed.add(q)
            else:  # imported history: stamped days ago, into closed quarters
                before = {r.id for r in rows}
                _add(s, rng, 4, tickets, old=True)
                s.flush()
                new = s.scalars(select(IncidentRow).where(IncidentRow.id.not_in(before)))
                changed |= {quarter_key(Quarter.of(pd.Timestamp(x.reported_at)))
                            for x in new
                            if Quarter.of(pd.Timestamp(x.reported_at)) < current}
        h, got = restart()
        want = StorageHistory(db, reconcile_every_s=None).store()
        _assert_same(got, want)
        for a, b in zip(got.blocks(), want.blocks(), strict=True):  # the same dtypes too
            pd.testing.assert_frame_equal(a.frame, b.frame)
        assert _answers(got, units, cats) == _answers(want, units, cats)
        held = {quarter_key(q) for q in want.quarters()}
        assert h.stats.get("quarters_read", 0) == len(changed & held) + 1, op
        assert h.stats.get("quarters_stored", 0) == len(held) - len(changed & held) - 1, op


def test_report_data_reads_the_compared_quarters_whole_and_older_ones_lean(area_db):
    """The rakor report's read: the same incidents as reading its eight quarters whole;
    every column of the two it compares, the pattern columns only of the six before."""
    from geo_sigap.analytics.from_storage import (PATTERN_COLUMNS, load_from_storage,
                                                  load_report_data, report_range)

    db, rng, tickets = area_db, random.Random(5), []
    with db.session() as s:
        _add(s, rng, 300, tickets, old=True)
    cats = load_categories()
    q = Quarter.parse("2026Q1")
    start, end = report_range(q)
    got = load_report_data(db, cats, q).incidents
    whole = load_from_storage(db, cats, start=start, end=end).incidents
    key = ["reported_at", "lon", "lat"]
    got = got.sort_values(key).reset_index(drop=True)
    whole = whole.sort_values(key).reset_index(drop=True)
    assert len(got) == len(whole) > 0
    assert got["reported_at"].min() >= start and got["reported_at"].max() < end
    recent = (got["reported_at"] >= q.previous().start).to_numpy()
    assert 0 < recent.sum() < len(got)
    cols = [c for c in whole.columns if c != "ticket"]
    pd.testing.assert_frame_equal(got.loc[recent, cols], whole.loc[recent, cols],
                                  check_dtype=False)
    lean = list(PATTERN_COLUMNS)
    pd.testing.assert_frame_equal(got.loc[~recent, lean], whole.loc[~recent, lean],
                                  check_dtype=False)
    # what the patterns do not need is not read for the older quarters
    assert got.loc[~recent, "on_scene_at"].isna().all()
    assert whole.loc[~recent, "on_scene_at"].notna().any()
