"""Teams (roster and posts) from CSV: ``code,name,role,phone,vehicle,post_lon,post_lat,area_codes[,status]``."""

from __future__ import annotations

import re
from pathlib import Path

from geo_sigap.domain.admin import level_of
from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.domain.teams import Role, Team, TeamStatus, Vehicle
from geo_sigap.errors import GeoSigapError
from geo_sigap.importers._csv import cell, read_csv, refuse
from geo_sigap.importers.progress import Progress, null_progress

REQUIRED = ["code", "name", "role", "post_lon", "post_lat"]
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}$")


def normalize_phone(phone: str | None) -> str | None:
    """Indonesian numbers to international form: ``0812-…`` → ``+62812…``."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9+]", "", phone)
    if digits.startswith("+"):
        return digits
    if digits.startswith("62"):
        return "+" + digits
    if digits.startswith("0"):
        return "+62" + digits[1:]
    return "+" + digits


def read_teams(path: str | Path, *, progress: Progress = null_progress) -> list[Team]:
    df = read_csv(path, REQUIRED)
    teams: list[Team] = []
    errors: list[str] = []
    seen: set[str] = set()
    for i, row in df.iterrows():
        line = int(i) + 2  # header is line 1
        if i % 100 == 0:
            progress("memeriksa tim", int(i), len(df))
        try:
            code = cell(row, "code")
            if not code:
                raise GeoSigapError("kode tim kosong", "empty team code")
            if code in seen:
                raise GeoSigapError(f"kode tim {code} ganda", f"duplicate team code {code}")
            seen.add(code)
            p = check_lonlat(cell(row, "post_lon"), cell(row, "post_lat"))
            areas = tuple(a.strip() for a in (cell(row, "area_codes") or "").replace(",", ";")
                          .split(";") if a.strip())
            for a in areas:
                level_of(a)
            phone = cell(row, "phone")
            if phone and not _PHONE.match(phone):
                raise GeoSigapError(f"nomor telepon tidak sah: {phone!r}",
                                    f"invalid phone number: {phone!r}")
            status = cell(row, "status") or TeamStatus.TERSEDIA.value
            teams.append(Team(
                code=code, name=cell(row, "name") or code, role=Role.parse(cell(row, "role")
                                                                          or ""),
                post=(p.lon, p.lat), vehicle=Vehicle.parse(cell(row, "vehicle")),
                phone=normalize_phone(phone), area_codes=areas, status=TeamStatus(status),
            ))
        except GeoSigapError as exc:
            errors.append(f"baris {line}: {exc.message_id}")
        except ValueError as exc:
            errors.append(f"baris {line}: {exc}")
    if errors:
        raise refuse(path, errors)
    progress("memeriksa tim", len(df), len(df))
    return teams


def import_teams(db, teams: list[Team]) -> dict:
    from geo_sigap.storage.teams import upsert_teams

    with db.session() as s:
        ins, upd = upsert_teams(s, teams)
    roles: dict[str, int] = {}
    for t in teams:
        roles[t.role.value] = roles.get(t.role.value, 0) + 1
    return {"inserted": ins, "updated": upd, "roles": roles}
