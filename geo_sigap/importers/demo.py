"""Loading the bundled synthetic demo area (Kecamatan Paal Merah) into a database.

The files under ``data/boundaries/paal_merah_demo/`` and ``data/demo/`` are made by
``python -m geo_sigap.demo.generate``; they are synthetic except for the six kelurahan
names and codes.
"""

from __future__ import annotations

from pathlib import Path

from geo_sigap.domain.categories import CategoryTable
from geo_sigap.errors import ConfigError
from geo_sigap.importers.progress import Progress, null_progress

LEVEL_FILES = ("provinsi", "kabupaten_kota", "kecamatan", "kelurahan", "rw", "rt")


def data_root() -> Path:
    """The repository's ``data/`` folder (a source checkout), else ``./data``."""
    here = Path(__file__).resolve().parents[2] / "data"
    return here if (here / "demo").exists() else Path.cwd() / "data"


def demo_paths(root: Path | None = None) -> dict[str, Path]:
    root = root or data_root()
    b = root / "boundaries" / "paal_merah_demo"
    d = root / "demo"
    return {
        "boundaries": b, "roads": d / "roads.osm", "poi": d / "poi.csv",
        "teams": d / "teams.csv", "incidents": d / "incidents.csv",
    }


def check_demo_files(root: Path | None = None) -> dict[str, Path]:
    paths = demo_paths(root)
    missing = [str(p) for k, p in paths.items() if not p.exists()]
    if missing:
        raise ConfigError(
            "Data demo tidak lengkap: " + ", ".join(missing)
            + ". Buat dengan: python -m geo_sigap.demo.generate",
            "Demo data incomplete: " + ", ".join(missing)
            + ". Make it with: python -m geo_sigap.demo.generate",
        )
    return paths


def load_demo(db, categories: CategoryTable, *, root: Path | None = None,
              progress: Progress = null_progress, with_history: bool = True) -> dict:
    """Import the demo boundaries, teams and (optionally) incident history. Idempotent."""
    from geo_sigap.importers.boundaries import import_boundaries, read_boundaries
    from geo_sigap.importers.incidents import import_incidents_csv
    from geo_sigap.importers.placement import placer_from_db
    from geo_sigap.importers.teams import import_teams, read_teams

    paths = check_demo_files(root)
    summary: dict = {"boundaries": {}}
    for level in LEVEL_FILES:
        f = paths["boundaries"] / f"{level}.geojson"
        if f.exists():
            data = read_boundaries(f, progress=progress, derive_parents=False)
            summary["boundaries"][level] = import_boundaries(db, data)["inserted"]
    summary["teams"] = import_teams(db, read_teams(paths["teams"], progress=progress))
    if with_history:  # the streaming import: whole columns at a time, executemany batches
        summary["incidents"] = import_incidents_csv(db, paths["incidents"], categories,
                                                    placer_from_db(db), progress=progress)
    return summary


def demo_loaded(db) -> bool:
    from sqlalchemy import func, select

    from geo_sigap.storage.tables import AdminUnitRow

    with db.session() as s:
        return bool(s.scalar(select(func.count()).select_from(AdminUnitRow)))
