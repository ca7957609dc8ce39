"""Group commit (``grouped_write``): units of work arriving together share one
transaction on SQLite, each with its own answer, its own failure, and none lost."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from geo_sigap.dispatch import _tx
from geo_sigap.dispatch._tx import group_stats, grouped_write
from geo_sigap.storage.events import add_event
from geo_sigap.storage.tables import EventRow


class Refused(Exception):
    pass


def _stored(db) -> list[int]:
    with db.session() as s:
        return [p["n"] for p in s.scalars(select(EventRow.payload).order_by(EventRow.id))]


def _unit(n: int, *, fail: bool = False, pause: float = 0.0):
    def run(s):
        add_event(s, "test", {"n": n})
        if pause:
            time.sleep(pause)  # others arrive meanwhile
        if fail:
            raise Refused(n)
        return n
    return run


def test_every_caller_gets_its_own_answer_and_only_the_good_units_are_stored(db):
    calls = [(n, _unit(n, fail=n % 7 == 3, pause=0.001 if n % 5 == 0 else 0.0))
             for n in range(240)]
    before = group_stats(db)
    # 12 callers at a time, each with 20 units one after another
    out: dict[int, object] = {}

    def caller(chunk):
        for n, fn in chunk:
            try:
                out[n] = grouped_write(db, fn)
            except BaseException as exc:  # noqa: BLE001
                out[n] = exc

    ts = [threading.Thread(target=caller, args=(calls[i::12],)) for i in range(12)]
    [t.start() for t in ts]
    [t.join(120) for t in ts]
    assert not any(t.is_alive() for t in ts), "a caller was never answered"
    assert sorted(out) == list(range(240)), sorted(set(range(240)) - set(out))
    for n in range(240):
        if n % 7 == 3:
            assert isinstance(out[n], Refused) and out[n].args == (n,)
        else:
            assert out[n] == n
    assert sorted(_stored(db)) == [n for n in range(240) if n % 7 != 3]
    batches, items = (a - b for a, b in zip(group_stats(db), before, strict=True))
    if db.is_postgres:
        assert (batches, items) == (0, 0)  # one transaction per unit there
    else:
        assert items == 240
        assert batches < items, "no unit shared a transaction"


@pytest.fixture(params=["sqlite", "spatialite"])
def sqlite_db(request, tmp_path):
    """Group commit is SQLite's (PostgreSQL runs each unit on its own, tested above)."""
    from tests.conftest import backend_database

    for database in backend_database(request, tmp_path):
        yield database


def _held_batch(db, units) -> dict[int, object]:
    """Run ``units`` as one batch: a first unit holds the transaction until all of them
    are waiting, so the next batch takes them all."""
    release = threading.Event()

    def blocker(s):
        release.wait(30)
        return "blocker"

    first = threading.Thread(target=lambda: grouped_write(db, blocker))
    first.start()
    while not _tx._group(db).leading:
        time.sleep(0.001)
    out: dict[int, object] = {}

    def go(n, fn):
        try:
            out[n] = grouped_write(db, fn)
        except BaseException as exc:  # noqa: BLE001
            out[n] = exc

    ts = []
    for n, fn in units:  # queued in this order
        t = threading.Thread(target=go, args=(n, fn))
        t.start()
        ts.append(t)
        while len(_tx._group(db).pending) < len(ts):
            time.sleep(0.001)
    before = group_stats(db)
    release.set()
    first.join(30)
    [t.join(30) for t in ts]
    assert not any(t.is_alive() for t in ts)
    batches, items = (a - b for a, b in zip(group_stats(db), before, strict=True))
    assert (batches, items) == (1, len(units)), "not one batch"
    return out


def test_a_unit_sees_the_units_before_it_in_its_batch(sqlite_db):
    db = sqlite_db
    seen = []

    def unit(n):
        def run(s):
            seen.append(s.scalar(select(func.count()).select_from(EventRow)))
            add_event(s, "test", {"n": n})
            return n
        return run

    out = _held_batch(db, [(n, unit(n)) for n in range(5)])
    assert out == {n: n for n in range(5)}
    assert seen == [0, 1, 2, 3, 4]
    assert _stored(db) == [0, 1, 2, 3, 4]


def test_a_refused_unit_takes_nothing_of_the_others_with_it(sqlite_db):
    db = sqlite_db
    out = _held_batch(db, [(0, _unit(0)), (1, _unit(1, fail=True)), (2, _unit(2))])
    assert out[0] == 0 and out[2] == 2 and isinstance(out[1], Refused)
    assert _stored(db) == [0, 2]


def test_when_the_commit_fails_every_unit_of_the_batch_fails_and_nothing_is_kept(sqlite_db):
    db = sqlite_db

    def breaks_at_commit(s):  # a foreign key checked only at COMMIT
        s.execute(text("PRAGMA defer_foreign_keys=ON"))
        s.execute(text("INSERT INTO assignments (incident_id, team_code, kind, role, assigned_by, "
                       "assigned_at, active) VALUES (987654, 'X', 'lead', 'bhabinkamtibmas', 'x', "
                       "'2026-01-01 00:00:00', 1)"))
        return "looked fine"

    out = _held_batch(db, [(0, _unit(0)), (1, breaks_at_commit), (2, _unit(2))])
    assert all(isinstance(v, Exception) for v in out.values()), out
    assert _stored(db) == []
    # and the next unit is stored as usual
    assert grouped_write(db, _unit(9)) == 9
    assert _stored(db) == [9]
