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
    from geo_sigap.services import Services, start_cache_warming, warm_caches
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
    # First run: the second core builds the road graph, compiles the routing kernels (the
    # longest part) and caches the street names while this one loads the database (and
    # compiles the geocoding kernels doing so), then the Gi* kernel; the service start
    # then only loads them.
    warming = None
    if not (d / "geo_sigap.db").exists():
        warming = start_cache_warming(env, WARM_CHILD, progress)
    services = Services.from_settings(settings)
    try:
        if not demo_loaded(services.db):
            if warming is None:
                warming = start_cache_warming(env, WARM_CHILD, progress)
            load_demo(services.db, services.categories, progress=progress)
        _ensure_demo_users(services)
        if warming is not None:
            progress(WARM_LOCAL_STEP, 0, len(WARM_LOCAL))
            warm_caches(settings, WARM_LOCAL,
                        _counted(progress, WARM_LOCAL_STEP, len(WARM_LOCAL)))
    except BaseException:
        if warming is not None:
            warming.stop()  # the error is shown now, not after the child's compile
        raise
    finally:
        services.close()
    if warming is not None:
        _import_service_modules()  # while the second process finishes its part
        warming.wait()
    return env


def _import_service_modules() -> None:
    """Import what the service start imports next (the web app, the routing engine and
    numba): on a first run this process is otherwise idle while the second one compiles
    the routing kernels, and the start then finds them imported (about a second)."""
    import geo_sigap.routing.engine  # noqa: F401
    import geo_sigap.web.app  # noqa: F401


WARM_CHILD = ("routing", "streets")  # the child has osmnx loaded for the graph already
WARM_LOCAL = ("gi",)  # here, after the database
WARM_LOCAL_STEP = "menyiapkan kernel Gi*"


def _counted(progress: Progress, step: str, total: int):
    done = []

    def tick(part: str, label: str) -> None:
        done.append(part)
        progress(step, len(done), total)

    return tick


def _ensure_demo_users(services) -> None:
    """Demo accounts (password = username + '123'); created only in demo mode."""
    try:
        from geo_sigap.dispatch.users import ensure_demo_users
    except ImportError:  # users arrive with the dispatch service
        return
    ensure_demo_users(services.db)
