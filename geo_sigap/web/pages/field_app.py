"""The installable, offline-first field app: web app manifest and service worker.

``GET /lapangan.webmanifest`` — the manifest (start URL and scope ``/lapangan``).
``GET /lapangan-sw.js`` — the service worker, registered by ``/lapangan`` with scope
``/lapangan``. It precaches the page, its scripts and styles and the base map of the area
(``/api/map/boundaries?level=kelurahan``, ``/api/map/roads``), answers them from the
cache when the network is gone, and keeps the last answer of the field API reads
(assignments, routes, the signed-in user) for offline use. Its cache name carries a hash
of the files it caches, so a new release replaces the old cache. Writes are never
answered by the worker: the page queues them (IndexedDB) and sends them itself.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

# What /lapangan needs to start with no network (relative to /static, with ?v= where the
# page asks for it so).
VERSIONED = ["css/sigap.css", "css/phone.css", "js/common.js", "js/basemap.js",
             "js/fieldstore.js", "js/photo.js", "js/lapangan.js"]
PLAIN = ["vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js",
         "vendor/leaflet/images/marker-icon.png", "vendor/leaflet/images/marker-icon-2x.png",
         "vendor/leaflet/images/marker-shadow.png", "vendor/leaflet/images/layers.png",
         "vendor/leaflet/images/layers-2x.png", "favicon.svg", "icons/sigap-192.png"]
MAP_DATA = ["/api/map/boundaries?level=kelurahan", "/api/map/roads"]


def precache_urls() -> list[str]:
    """Every URL the worker stores on install."""
    from geo_sigap.web.pages import assets_version

    return (["/lapangan", "/lapangan.webmanifest"]
            + [f"/static/{p}?v={assets_version()}" for p in VERSIONED]
            + [f"/static/{p}" for p in PLAIN] + MAP_DATA)


@lru_cache(maxsize=1)
def _assets_hash() -> str:
    """The static files' version (every file, the worker's own included) and the
    templates the page is made from."""
    from geo_sigap.web.pages import TEMPLATES_DIR, assets_version

    h = hashlib.sha256(assets_version().encode())
    for name in ("base.html", "lapangan.html", "_map_assets.html"):
        h.update((TEMPLATES_DIR / name).read_bytes())
    return h.hexdigest()[:12]


@router.get("/lapangan-sw.js")
def service_worker(request: Request) -> Response:
    from geo_sigap.web.pages import STATIC_DIR

    body = (STATIC_DIR / "js" / "sw-lapangan.js").read_text("utf-8")
    body = body.replace("__CACHE__", json.dumps(f"sigap-lapangan-{_assets_hash()}"))
    body = body.replace("__PRECACHE__", json.dumps(precache_urls()))
    return Response(body, media_type="application/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": "/lapangan",
        "X-Content-Type-Options": "nosniff"})


@router.get("/lapangan.webmanifest")
def manifest(request: Request) -> Response:
    from geo_sigap.web.i18n import Translator, pick_locale

    s = getattr(request.app.state, "settings", None)
    t = Translator(pick_locale(None, request.cookies.get("sigap_lang"),
                               request.headers.get("accept-language"),
                               getattr(s, "locale", "id")))
    body = {
        "name": t("fieldapp.name"), "short_name": t("fieldapp.short_name"),
        "description": t("fieldapp.description"), "lang": t.locale,
        "start_url": "/lapangan", "scope": "/lapangan", "display": "standalone",
        "orientation": "portrait", "background_color": "#f4f6f9", "theme_color": "#1d2330",
        "icons": [
            {"src": "/static/icons/sigap-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icons/sigap-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})
