"""The rakor pack's fast paths against their plain references: its own read of the eight
quarters (from the table, or from the quarters the service stored),
the binomial test and the normal tail without scipy.stats."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from geo_sigap.analytics.frames import Quarter
from geo_sigap.domain.categories import load_categories
from tests.analytics.test_incremental import _add


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    key = ["reported_at", "lon", "lat", "category"]
    return df.sort_values(key, kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("stored", [False, True], ids=["table", "stored quarters"])
def test_report_read_equals_the_plain_read(area_db, tmp_path, monkeypatch, stored):
    """Every column of the two compared quarters and the pattern columns of the six
    before, as the plain reader gives them (``from_storage.load_report_data``) — also
    when the closed quarters come from the service's stored history; kelurahan and RW
    units without RT unless asked; teams with their posts."""
    from geo_sigap.analytics.from_storage import (PATTERN_COLUMNS, StorageHistory,
                                                  load_report_data as plain_read)
    from geo_sigap.analytics.report import data as D
    from geo_sigap.analytics.report.data import load_report_data

    taken = []
    plain_stored = D._stored_quarter
    monkeypatch.setattr(D, "_stored_quarter", lambda s, snap, q: taken.append(
        plain_stored(s, snap, q)) or taken[-1])
    db, rng, tickets = area_db, random.Random(7), []
    with db.session() as s:
        _add(s, rng, 400, tickets, old=True)
    snap = tmp_path / "history"
    if stored:  # the service's history, its closed quarters stored
        StorageHistory(db, reconcile_every_s=None, snapshot_dir=snap).store()
        assert any(snap.rglob("*.npz"))
    cats = load_categories()
    q = Quarter.parse("2026Q1")
    want = plain_read(db, cats, q)
    got = load_report_data(db, cats, q, snapshot_dir=snap, rt=False)
    # the six older quarters came from the stored history (those holding incidents)
    assert sum(f is not None for f in taken) == (3 if stored else 0), taken  # 2025Q1–Q3
    a, b = _sorted(got.incidents), _sorted(want.incidents)
    assert len(a) == len(b) > 0
    recent = (a["reported_at"] >= q.previous().start).to_numpy()
    assert 0 < recent.sum() < len(a)
    cols = [c for c in b.columns if c != "ticket"]
    pd.testing.assert_frame_equal(a.loc[recent, cols], b.loc[recent, cols], check_dtype=False)
    lean = [c for c in PATTERN_COLUMNS if c != "kecamatan_code"]
    pd.testing.assert_frame_equal(a.loc[~recent, lean], b.loc[~recent, lean],
                                  check_dtype=False)
    assert set(got.units["level"]) == {"kelurahan", "rw"}
    plain_units = want.units.loc[want.units["level"] != "rt"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.units.reset_index(drop=True)[["code", "name", "level"]],
                                  plain_units[["code", "name", "level"]])
    assert "rt" in set(load_report_data(db, cats, q, rt=True).units["level"])
    pd.testing.assert_frame_equal(got.teams, want.teams)
    posts = got.meta["posts"]
    assert list(posts.columns) == ["code", "name", "role", "lon", "lat"]
    assert posts["lon"].notna().all() and len(posts) == len(want.teams)


def test_report_read_takes_a_stored_quarter_only_while_it_matches_the_table(area_db,
                                                                            tmp_path):
    """A closed quarter changed after it was stored is read from the table."""
    from sqlalchemy import select, update

    from geo_sigap.analytics.from_storage import StorageHistory, _utc
    from geo_sigap.analytics.report import data as D
    from geo_sigap.storage.tables import IncidentRow

    db, rng, tickets = area_db, random.Random(3), []
    with db.session() as s:
        _add(s, rng, 300, tickets, old=True)
    snap = tmp_path / "history"
    StorageHistory(db, reconcile_every_s=None, snapshot_dir=snap).store()
    q = Quarter.parse("2025Q2")
    snapshot = D._snapshot(db, snap)
    with db.session() as s:
        assert D._stored_quarter(s, snapshot, q) is not None
        first = s.scalar(select(IncidentRow.id).where(
            IncidentRow.reported_at >= _utc(q.start), IncidentRow.reported_at < _utc(q.end))
            .order_by(IncidentRow.id).limit(1))
        s.execute(update(IncidentRow).where(IncidentRow.id == first)
                  .values(category="gepeng", updated_at=pd.Timestamp.now(tz="UTC")))
    with db.session() as s:
        assert D._stored_quarter(s, snapshot, q) is None


def test_binomial_test_equals_scipy_stats():
    from scipy.stats import binomtest

    from geo_sigap.analytics.temporal import binom_half_p

    rng = np.random.default_rng(12)
    for _ in range(2000):
        n = int(rng.integers(1, 30000))
        k = int(rng.integers(0, n + 1)) if rng.random() < 0.5 else \
            int(np.clip(round(n / 2 + rng.normal(0, np.sqrt(n))), 0, n))
        assert binom_half_p(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9,
                                                   abs=1e-300), (k, n)
    assert binom_half_p(0, 0) == 1.0 and binom_half_p(5, 10) == 1.0


def test_mann_kendall_p_equals_the_normal_tail():
    from scipy.stats import norm

    from geo_sigap.analytics.emerging import mann_kendall_rows

    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 8)).round(1)
    S, _tau, p = mann_kendall_rows(X)
    n = X.shape[1]
    for i in range(len(X)):
        _, t = np.unique(X[i], return_counts=True)
        var = (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18.0
        z = (S[i] - np.sign(S[i])) / np.sqrt(var)
        want = 1.0 if S[i] == 0 else 2 * norm.sf(abs(z))
        assert p[i] == pytest.approx(want, rel=1e-12)


def test_the_pack_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = ("import sys, geo_sigap.analytics.report.builder, geo_sigap.analytics.temporal, "
            "geo_sigap.analytics.heatmap; print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("freq", ["quarter", "month"])
def test_slice_positions_equal_the_labels(freq):
    """The pattern test's slice of each incident through integer keys equals looking its
    label up among the slices (labels outside them, and a malformed one, give -1)."""
    from geo_sigap.analytics.emerging import _slice_index, slice_labels

    rng = np.random.default_rng(5)
    t = pd.Series(pd.to_datetime(rng.integers(1.6e9, 1.8e9, 20000), unit="s", utc=True)
                  .tz_convert("Asia/Jakarta"), name="reported_at")
    lab = slice_labels(t, freq)
    # a quarter 9 (month 13) of 2026 would be 2028Q1 (2027-01) as a plain key
    slices = sorted(lab.unique())[3:-3] + ["2026Q9" if freq == "quarter" else "2026-13", "x"]
    np.testing.assert_array_equal(_slice_index(t, slices, freq),
                                  pd.Index(slices).get_indexer(lab))


def test_month_labels_equal_strftime():
    from geo_sigap.analytics.temporal import month_labels

    rng = np.random.default_rng(6)
    t = pd.Series(pd.to_datetime(rng.integers(1.6e9, 1.8e9, 20000), unit="s", utc=True)
                  .tz_convert("Asia/Jakarta"), name="reported_at")
    pd.testing.assert_series_equal(month_labels(t), t.dt.strftime("%Y-%m"))
    pd.testing.assert_series_equal(month_labels(t.iloc[:0]), t.iloc[:0].dt.strftime("%Y-%m"))


def test_cli_report_writes_the_pack_of_the_quarter(area_db, db_url, tmp_path, monkeypatch):
    """``geo-sigap report --quarter … --no-pdf``: the pack of the history in the database
    (HTML, JSON, GeoPackage), its headline counting the quarter's incidents."""
    import json

    from typer.testing import CliRunner

    from geo_sigap.analytics.frames import filter_incidents
    from geo_sigap.analytics.from_storage import load_report_data as plain_read
    from geo_sigap.cli.main import app

    with area_db.session() as s:
        _add(s, random.Random(9), 300, [], old=True)
    q = Quarter.parse("2025Q3")
    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", db_url)
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GEO_SIGAP_SECRET_KEY", "test-secret-0123456789")
    monkeypatch.delenv("GEO_SIGAP_ROAD_NETWORK", raising=False)
    out = tmp_path / "rakor"
    r = CliRunner().invoke(app, ["report", "--quarter", str(q), "--no-pdf", "-o", str(out)])
    assert r.exit_code == 0, r.output
    for ext in ("html", "json", "gpkg"):
        assert (out / f"rakor_{q}.{ext}").stat().st_size > 0
    assert not (out / f"rakor_{q}.pdf").exists()
    pack = json.loads((out / f"rakor_{q}.json").read_text("utf-8"))
    inc = plain_read(area_db, load_categories(), q).incidents
    n = len(filter_incidents(inc, start=q.start, end=q.end))
    assert pack["headline"][0][1] == str(n) and n > 0
