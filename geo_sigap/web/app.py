"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from geo_sigap import __version__
from geo_sigap.services import Services
from geo_sigap.settings import Settings
from geo_sigap.web.errors import install_error_handlers
from geo_sigap.web.limits import BodySizeLimit, RefuseControlCharacters

DESCRIPTION = """
GeoSIGAP — layanan peta dan penugasan kejadian ketenteraman dan ketertiban umum
(SOP SIGAP KETIMUN, Tim SK4). Semua galat berbentuk
`{"error": {"code", "message", "details"}}`, pesan dalam Bahasa Indonesia
(bahasa Inggris dengan `?lang=en` atau `Accept-Language: en`).
"""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app for ``settings`` (read from the environment when not given)."""
    settings = settings or Settings()
    if services is None:
        settings.check_secret()
    _check_attachments_dir(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        nonlocal services
        if services is None:
            services = Services.from_settings(settings)
        app.state.services = services
        if settings.warm_up_on_start:
            services.start_warm_up()  # once: the CLI may have started it already
        try:
            yield
        finally:
            hub = getattr(app.state, "event_hub", None)
            if hub is not None:
                await hub.stop()
            services.close()

    app = FastAPI(
        title="GeoSIGAP", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None,  # /docs is served from local assets (web.pages)
        openapi_tags=[
            {"name": "sistem", "description": "Kesehatan layanan dan metadata"},
            {"name": "auth", "description": "Masuk/keluar; token API dan cookie sesi"},
            {"name": "kasus", "description": "Siklus SOP: laporan, verifikasi, penugasan, "
             "langkah lapangan, penyelesaian, audit"},
            {"name": "tim", "description": "Tim, status dan posisi GPS"},
            {"name": "peta", "description": "Aliran peristiwa langsung untuk peta"},
            {"name": "publik", "description": "Laporan warga dan status tiket (tanpa data "
             "pribadi)"},
            {"name": "geocoding", "description": "Titik → RT/RW/kelurahan, teks → lokasi"},
            {"name": "analitik", "description": "Peta panas, hotspot, kinerja"},
            {"name": "open311", "description": "Open311 GeoReport v2 (aktif bila "
             "dikonfigurasi)"},
            {"name": "ogcapi", "description": "OGC API – Features untuk QGIS (aktif bila "
             "dikonfigurasi)"},
            {"name": "kanal", "description": "Webhook WhatsApp, Telegram dan SMS (aktif "
             "bila dikonfigurasi)"},
        ],
    )
    app.state.settings = settings
    if services is not None:
        app.state.services = services
    install_error_handlers(app)
    from geo_sigap.dispatch.field import MAX_PHOTOS

    app.add_middleware(BodySizeLimit, max_json=settings.max_body_bytes,  # a full report fits
                       max_multipart=settings.max_upload_bytes * MAX_PHOTOS + 256 * 1024)
    app.add_middleware(RefuseControlCharacters)
    from geo_sigap.web.auth import CrossSiteWriteGuard

    app.add_middleware(CrossSiteWriteGuard)  # outermost: refused before the body is read
    # outermost: compress pages, scripts and map data (the event stream is left alone)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)

    from geo_sigap.web import pages
    from geo_sigap.web.routes import (
        analysis,
        analytics,
        auth,
        drafts,
        events,
        exports,
        geocoding,
        incidents,
        intake,
        ogcapi,
        open311,
        public,
        system,
        teams,
        webhooks,
    )

    for module in (system, auth, incidents, intake, teams, events, public, geocoding,
                   analytics, webhooks, open311, ogcapi, exports, drafts, analysis):
        app.include_router(module.router)
    pages.install(app)  # pages, base-map API (/api/map) and /static
    from geo_sigap.web.errors import document_error_answers

    document_error_answers(app)
    return app


def _check_attachments_dir(settings: Settings) -> None:
    """Refuse to start when report photos would be stored inside the package or the
    ``/static`` web root (anyone could then download them without signing in)."""
    from pathlib import Path

    import geo_sigap
    from geo_sigap.errors import ConfigError
    from geo_sigap.web.pages import STATIC_DIR

    where = Path(settings.attachments_dir).resolve()
    for root in (STATIC_DIR.resolve(), Path(geo_sigap.__file__).resolve().parent):
        if where == root or root in where.parents:
            raise ConfigError(
                f"Folder lampiran {where} berada di dalam {root}; atur GEO_SIGAP_DATA_DIR "
                "ke folder di luar paket dan folder web",
                f"The attachments folder {where} is inside {root}; set GEO_SIGAP_DATA_DIR "
                "to a folder outside the package and the web root")
