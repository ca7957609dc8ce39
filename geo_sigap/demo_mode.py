"""``geo-sigap serve --demo``: an embedded SQLite database on the bundled demo area.

Everything lives under ``var/demo/`` (created on first run): the database, attachments,
caches and a random secret key. The demo users and their known passwords exist only in
this mode.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from geo_sigap.importers.progress import Progress, null_progress


def demo_dir() -> Path:
    return Path(os.environ.get("GEO_SIGAP_DEMO_DIR", "var/demo")).resolve()


def prepare_demo(*, progress: Progress = null_progress) -> dict[str, str]:
    """Create/load the demo database if needed; return the environment for the service."""
    from geo_sigap.importers.demo import check_demo_files, demo_loaded, load_demo
    from geo_sigap.services import Services
    from geo_sigap.settings import Settings

    paths = check_demo_files()
    d = demo_dir()
    d.mkdir(parents=True, exist_ok=True)
    secret_file = d / "secret.key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    env = {
        "GEO_SIGAP_DEMO": "true",
        "GEO_SIGAP_DATA_DIR": str(d),
        "GEO_SIGAP_DATABASE_URL": os.environ.get("GEO_SIGAP_DATABASE_URL",
                                                 f"sqlite:///{d / 'geo_sigap.db'}"),
        "GEO_SIGAP_ROAD_NETWORK": str(paths["roads"]),
        "GEO_SIGAP_GAZETTEER_FILE": str(paths["poi"]),
        "GEO_SIGAP_SECRET_KEY": secret_file.read_text().strip(),
    }
    settings = Settings(**{k[len("GEO_SIGAP_"):].lower(): v for k, v in env.items()})
    services = Services.from_settings(settings)
    try:
        if not demo_loaded(services.db):
            load_demo(services.db, services.categories, progress=progress)
        _ensure_demo_users(services)
    finally:
        services.close()
    return env


def _ensure_demo_users(services) -> None:
    """Demo accounts (password = username + '123'); created only in demo mode."""
    try:
        from geo_sigap.dispatch.users import ensure_demo_users
    except ImportError:  # users arrive with the dispatch service
        return
    ensure_demo_users(services.db)
