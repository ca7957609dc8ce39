"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from geo_sigap import __version__
from geo_sigap.services import Services
from geo_sigap.settings import Settings
from geo_sigap.web.errors import install_error_handlers
from geo_sigap.web.limits import BodySizeLimit

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

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        nonlocal services
        if services is None:
            services = Services.from_settings(settings)
        app.state.services = services
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="GeoSIGAP", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        openapi_tags=[
            {"name": "sistem", "description": "Kesehatan layanan dan metadata"},
            {"name": "geocoding", "description": "Titik → RT/RW/kelurahan, teks → lokasi"},
        ],
    )
    app.state.settings = settings
    if services is not None:
        app.state.services = services
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_json=settings.max_body_bytes,
                       max_multipart=settings.max_upload_bytes * 4 + 64 * 1024)

    from geo_sigap.web.routes import system

    app.include_router(system.router)
    return app
