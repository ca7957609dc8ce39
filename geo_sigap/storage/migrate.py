"""Schema migrations with alembic, run programmatically (``geo-sigap db upgrade``)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REV = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "geo_sigap.storage:migrations")
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent).

    A database already at the head is recognised without alembic (its import and the
    loading of every migration script cost a few tenths of a second at each start)."""
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def script_heads() -> set[str] | None:
    """The head revisions of the migration scripts, read from their ``revision`` and
    ``down_revision`` lines; ``None`` when a script does not read plainly (alembic
    decides then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        if path.name == "__init__.py":
            continue
        src = path.read_text(encoding="utf-8")
        rev, down = _REV.search(src), _DOWN.search(src)
        if rev is None or down is None:
            return None
        revisions.add(rev.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads or None


def at_head(engine: Engine) -> bool:
    """Whether the database's ``alembic_version`` rows are exactly the scripts' heads."""
    heads = script_heads()
    if not heads:
        return False
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT version_num FROM alembic_version"))
                         .scalars())
    except Exception:  # noqa: BLE001 - no table yet (a new database): alembic creates it
        return False
    return stored == heads
