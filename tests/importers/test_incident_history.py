"""The streaming history import (chunks; COPY blocks on PostgreSQL, executemany on SQLite;
indexes and foreign keys set aside for a first load) against the row-by-row import
(``read_incidents`` + ``import_incidents``, through the ORM) on random histories."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from sqlalchemy import select, text

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.domain.categories import load_categories
from geo_sigap.errors import ImportFailed
from geo_sigap.importers.incidents import import_incidents, import_incidents_csv, read_incidents
from geo_sigap.importers.placement import placer_from_db
from geo_sigap.importers.teams import import_teams, read_teams
from geo_sigap.storage.tables import AssignmentRow, IncidentRow
from geo_sigap.storage.units import upsert_units

KEL = ("15.71.11.1003", "15.71.11.1004")
TEAMS = ("BHB-1", "BBS-1", "LMS-1")
COLUMNS = ["ticket", "category", "description", "channel", "lon", "lat", "address_text",
           "priority", "status", "reported_at", "verified_at", "dispatched_at",
           "en_route_at", "on_scene_at", "handled_at", "resolved_at", "rejected_at",
           "rejection_reason", "lead_team", "support_teams"]
_TEXT = ["lapak", "di depan\tpasar", "baris\nbaru", "garis \\ miring", "\\N", "kutip \"x\"",
         "koma, titik", "é ü", "😀", "\r", "RT 005/RW 002", "  spasi  ", ""]
STEPS = ["verified_at", "dispatched_at", "en_route_at", "on_scene_at", "handled_at",
         "resolved_at"]


@pytest.fixture
def area(db, tmp_path):
    a = shapely.box(103.60, -1.62, 103.62, -1.60)
    b = shapely.box(103.62, -1.62, 103.64, -1.60)
    with db.session() as s:
        upsert_units(s, [
            AdminUnit("15.71.11", AdminLevel.KECAMATAN, "Paal Merah", "15.71",
                      shapely.union_all([a, b])),
            AdminUnit(KEL[0], AdminLevel.KELURAHAN, "Eka Jaya", "15.71.11", a),
            AdminUnit(KEL[1], AdminLevel.KELURAHAN, "Talang Bakung", "15.71.11", b)])
    tf = tmp_path / "teams.csv"
    tf.write_text("code,name,role,phone,vehicle,post_lon,post_lat,area_codes\n"
                  f"BHB-1,Bhabin,bhabinkamtibmas,,motor,103.61,-1.61,{KEL[0]}\n"
                  f"BBS-1,Babinsa,babinsa,,motor,103.63,-1.61,{KEL[1]}\n"
                  f"LMS-1,Linmas,linmas,,motor,103.63,-1.61,{KEL[1]}\n")
    import_teams(db, read_teams(tf))
    return db


def _rows(rng: random.Random, n: int, prefix: str) -> list[dict]:
    cats = ["pkl", "gepeng", "keributan", "odgj", "lainnya"]
    out = []
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        at = t0 + timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        r = {c: "" for c in COLUMNS}
        r["ticket"] = f"{prefix}-{i:05d}"
        r["category"] = rng.choice(cats)
        r["description"] = "".join(rng.choice(_TEXT) for _ in range(rng.randint(0, 4)))
        r["channel"] = rng.choice(["hotline", "wa_group", "langsung", ""])
        r["lon"] = f"{rng.uniform(103.59, 103.65):.6f}"  # some outside the area
        r["lat"] = f"{rng.uniform(-1.625, -1.595):.6f}"
        if rng.random() < 0.05:  # swapped lat/lon: corrected on import
            r["lon"], r["lat"] = r["lat"], r["lon"]
        r["address_text"] = rng.choice(["", "Jl. Kapten\tPattimura", "Pasar\\Angso Duo",
                                        "Gg. Mawar\nNo. 3"])
        r["priority"] = rng.choice(["", "1", "2", "3"])
        # offsets, naive WIB and Z
        fmt = rng.choice(["%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%SZ"])
        r["reported_at"] = at.strftime(fmt) if rng.random() < 0.7 else \
            (at + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")
        if rng.random() < 0.1:
            r["rejected_at"] = (at + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
            r["rejection_reason"] = rng.choice(["ganda", "bukan\twewenang", "iseng\\"])
        else:
            t = at
            for step in STEPS[:rng.randint(0, len(STEPS))]:
                t = t + timedelta(minutes=rng.randint(0, 90))
                r[step] = t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
            if r["dispatched_at"]:
                r["lead_team"] = rng.choice(TEAMS)
                r["support_teams"] = ";".join(rng.sample(TEAMS, rng.randint(0, 2)))
        out.append(r)
    return out


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


_COMPARED = ("category", "description", "channel", "lon", "lat", "address_text",
             "priority", "status", "kecamatan_code", "kelurahan_code", "rw_code", "rt_code",
             "placement", "reported_at", "verified_at", "dispatched_at", "en_route_at",
             "on_scene_at", "handled_at", "resolved_at", "rejected_at", "rejection_reason")


def _stored(db, prefix: str) -> list[tuple]:
    with db.session() as s:
        rows = s.scalars(select(IncidentRow).where(IncidentRow.ticket.like(f"{prefix}-%"))
                         .order_by(IncidentRow.ticket)).all()
        out = []
        for r in rows:
            asg = sorted((a.team_code, a.kind, a.role, a.assigned_at, a.active)
                         for a in r.assignments)
            out.append((r.ticket.split("-", 1)[1], *(getattr(r, c) for c in _COMPARED),
                        (r.geom.x, r.geom.y), tuple(asg)))
        return out


def _constraints(db) -> set[str]:
    with db.session() as s:
        if db.is_postgres:
            return set(s.execute(text(
                "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid IN ('incidents'::regclass, 'assignments'::regclass)"))
                .scalars())
        return set(s.execute(text(
            "SELECT name || ' ' || sql FROM sqlite_master WHERE tbl_name IN "
            "('incidents', 'assignments') AND sql IS NOT NULL")).scalars())


@pytest.mark.parametrize("seed", [1, 2])
def test_streaming_import_stores_what_the_row_by_row_import_stores(area, tmp_path, seed):
    db, rng, cats = area, random.Random(seed), load_categories()
    before = _constraints(db)
    first = _rows(rng, 700, "A")
    _write(tmp_path / "a.csv", first)
    got = import_incidents_csv(db, tmp_path / "a.csv", cats, placer_from_db(db),
                               chunk_rows=128)
    assert got["inserted"] == 700 and got["skipped_existing"] == 0
    # the same rows through the ORM, under other tickets
    _write(tmp_path / "b.csv", [{**r, "ticket": "B" + r["ticket"][1:]} for r in first])
    incs, links = read_incidents(tmp_path / "b.csv", cats)
    ref = import_incidents(db, incs, links, placer_from_db(db))
    assert ref["outside_coverage"] == got["outside_coverage"] > 0
    fast, slow = _stored(db, "A"), _stored(db, "B")
    assert len(fast) == len(slow) == 700
    for a, b in zip(fast, slow, strict=True):
        assert a == b
    assert any("\t" in r[2] or "\n" in r[2] or "\\" in r[2] for r in fast)  # escapes met
    # a second load into a table that is not empty (no indexes or keys set aside on
    # PostgreSQL; ids from the sequence one by one), tickets stored already skipped
    more = _rows(rng, 300, "C")
    _write(tmp_path / "c.csv", more + first[:50])
    got = import_incidents_csv(db, tmp_path / "c.csv", cats, placer_from_db(db),
                               chunk_rows=128)
    assert got["inserted"] == 300 and got["skipped_existing"] == 50
    _write(tmp_path / "d.csv", [{**r, "ticket": "D" + r["ticket"][1:]} for r in more])
    incs, links = read_incidents(tmp_path / "d.csv", cats)
    import_incidents(db, incs, links, placer_from_db(db))
    assert _stored(db, "C") == _stored(db, "D")
    # every index and foreign key is back as it was, and the keys hold
    assert _constraints(db) == before
    with db.session() as s:
        ids = s.scalars(select(IncidentRow.id)).all()
        assert len(ids) == len(set(ids)) == 2000
        orphans = s.scalar(text("SELECT count(*) FROM assignments a LEFT JOIN incidents i "
                                "ON i.id = a.incident_id WHERE i.id IS NULL"))
        assert orphans == 0
        assert s.scalar(select(AssignmentRow.id).order_by(AssignmentRow.id.desc())
                        .limit(1)) is not None


def test_refusals_name_rows_in_both_languages(area, tmp_path):
    """Every kind of wrong row, in the streaming and the row-by-row reader: the same rows,
    "baris N: …" in Indonesian and "row N: …" in English."""
    db, cats = area, load_categories()
    rows = _rows(random.Random(8), 12, "F")
    rows[1]["category"] = "banjirr"
    rows[2]["lon"] = "abc"
    rows[3]["reported_at"] = ""
    rows[4].update(verified_at="2024-01-01T00:00:00+00:00",
                   reported_at="2024-01-02T00:00:00+00:00", dispatched_at="", en_route_at="",
                   on_scene_at="", handled_at="", resolved_at="", rejected_at="",
                   lead_team="", support_teams="")
    rows[5]["ticket"] = rows[0]["ticket"]
    rows[6]["channel"] = "merpati"
    _write(tmp_path / "f.csv", rows)
    for run in (lambda: import_incidents_csv(db, tmp_path / "f.csv", cats,
                                             placer_from_db(db), chunk_rows=4),
                lambda: read_incidents(tmp_path / "f.csv", cats)):
        with pytest.raises(ImportFailed) as e:
            run()
        ids, ens = e.value.details["errors"], e.value.details["errors_en"]
        assert [x.split(":")[0] for x in ids] == [f"baris {n}" for n in (3, 4, 5, 6, 7, 8)]
        assert [x.split(":")[0] for x in ens] == [f"row {n}" for n in (3, 4, 5, 6, 7, 8)]
        assert "baris" not in e.value.message_en and "ditolak" in e.value.message_id
    rows = _rows(random.Random(8), 3, "G")
    rows[0]["lead_team"] = "XYZ-9"
    _write(tmp_path / "g.csv", rows)
    with pytest.raises(ImportFailed) as e:
        import_incidents_csv(db, tmp_path / "g.csv", cats, placer_from_db(db))
    assert "kode tim tidak dikenal: XYZ-9" in e.value.message_id
    assert "unknown team code(s): XYZ-9" in e.value.message_en


def test_a_refused_first_load_leaves_keys_and_indexes(area, tmp_path):
    """A bad row late in the file: nothing stored, and what the load set aside (indexes,
    on PostgreSQL the foreign keys) is there again (the transaction is rolled back)."""
    db, cats = area, load_categories()
    before = _constraints(db)
    rows = _rows(random.Random(5), 400, "E")
    rows[350]["reported_at"] = "kemarin sore"
    _write(tmp_path / "e.csv", rows)
    with pytest.raises(ImportFailed) as e:
        import_incidents_csv(db, tmp_path / "e.csv", cats, placer_from_db(db),
                             chunk_rows=100)
    assert "baris 352" in e.value.message_id and "reported_at" in e.value.message_id
    # the row named in each language
    assert "row 352: reported_at is not a readable time" in e.value.message_en
    assert "baris" not in e.value.message_en and "tidak" not in e.value.message_en
    assert e.value.details["errors"][0].startswith("baris 352")
    assert e.value.details["errors_en"][0].startswith("row 352")
    assert _constraints(db) == before
    with db.session() as s:
        assert s.scalar(text("SELECT count(*) FROM incidents")) == 0
