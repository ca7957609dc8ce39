"""Browser pages: server-rendered shells whose scripts call the JSON API.

Every page works with no internet: scripts, styles and the base map (boundaries and
roads from ``/api/map/…``) are served by this app; a web tile layer appears only when
``Settings.map_tiles_url`` is set, and the Content-Security-Policy of every page allows
no other origin. Pages never check permissions themselves — the API does; a page whose
API calls answer 401 sends the browser to ``/masuk``.

Use :func:`install` to add the pages, the base-map endpoints and ``/static`` to an app.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_sigap import __version__
from geo_sigap.web.i18n import LANG_COOKIE, Translator, parse_locale, pick_locale

WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
SESSION_COOKIE = "sigap_session"

router = APIRouter(include_in_schema=False)


def assets_version_of(static_dir: Path) -> str:
    """A hash of the release and of every file under ``static_dir`` (names and bytes):
    the ``?v=`` of the pages' scripts and styles. A changed file gets a new URL, so no
    browser keeps running an earlier release's script or style from its cache."""
    import hashlib

    h = hashlib.sha256(__version__.encode())
    for f in sorted(q for q in static_dir.rglob("*") if q.is_file()):
        h.update(f.relative_to(static_dir).as_posix().encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


@lru_cache(maxsize=1)
def assets_version() -> str:
    """:func:`assets_version_of` the app's own static files (read once per process)."""
    return assets_version_of(STATIC_DIR)


def _static_files(directory: Path):
    """``StaticFiles`` whose answers say how long to keep them: a URL with ``?v=``
    names one release's file for good (kept a year, never asked again); any other
    is asked again each time (``no-cache``: a 304 while it has not changed)."""
    from fastapi.staticfiles import StaticFiles

    class _Static(StaticFiles):
        def file_response(self, full_path, stat_result, scope, status_code=200):
            response = super().file_response(full_path, stat_result, scope, status_code)
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                                 if versioned else "no-cache")
            return response

    return _Static(directory=str(directory))


@lru_cache(maxsize=1)
def _templates():
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=str(TEMPLATES_DIR))


def _settings(request: Request):
    return getattr(request.app.state, "settings", None)


def _tiles_url(request: Request) -> str | None:
    s = _settings(request)
    return getattr(s, "map_tiles_url", None) or None


def content_security_policy(tiles_url: str | None = None) -> str:
    """Only this origin may serve scripts, styles, data and images (plus the tile host)."""
    img = "'self' data: blob:"
    if tiles_url:
        parts = urlsplit(tiles_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tiles_url else parts.netloc
            img += f" {parts.scheme}://{host}"
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; media-src 'self' data: blob:; "
            "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'")


def _category_names(request: Request, locale: str) -> dict[str, str]:
    """Category code → name in ``locale``, for the pages' scripts ({} without services)."""
    services = getattr(request.app.state, "services", None)
    table = getattr(services, "categories", None) if services is not None else None
    if table is None:
        return {}
    return {c.code: c.label(locale) for c in table}


def _page_roles():
    """Page → the roles that may open it (pages not listed: anyone; the API still checks
    every call). A signed-in user of another role gets a 403 page, not the page shell."""
    from geo_sigap.dispatch.actors import AUDITORS, STAFF
    from geo_sigap.domain.lifecycle import UserRole as R

    not_planner = STAFF - {R.PLANNER}
    return {"operator": not_planner, "dispatch": not_planner, "analisis": AUDITORS}


def page_refused(request: Request, page: str) -> bool:
    """True when the signed-in user's role may not open ``page`` (no session: False, the
    page's API calls send the browser to /masuk)."""
    roles = _page_roles().get(page)
    if roles is None or getattr(request.app.state, "services", None) is None:
        return False
    from geo_sigap.web.auth import actor, request_token

    if request_token(request) is None:
        return False
    try:
        who = actor(request)
    except Exception:  # noqa: BLE001 - expired/invalid session: the page sends to /masuk
        return False
    return who.role not in roles


def render(request: Request, template: str, *, page: str, title_key: str,
           **context: object) -> HTMLResponse:
    """Render ``template`` in the request's locale; remember a ``?lang=`` choice."""
    if page_refused(request, page):
        page, template, title_key = "forbidden", "403.html", "forbidden.title"
        context = {"path": request.url.path}
    s = _settings(request)
    query_lang = request.query_params.get("lang")
    locale = pick_locale(query_lang, request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language"),
                         getattr(s, "locale", "id"))
    t = Translator(locale)
    tiles = _tiles_url(request)
    response = _templates().TemplateResponse(
        request, template,
        {
            "t": t, "locale": locale, "other_locale": "en" if locale == "id" else "id",
            "i18n_json": t.as_json(), "page": page, "title": t(title_key),
            "version": assets_version(), "tiles_url": tiles or "",
            "demo": bool(getattr(s, "demo", False)),
            "categories": _category_names(request, locale), **context,
        },
    )
    response.headers["Content-Security-Policy"] = content_security_policy(tiles)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if parse_locale(query_lang):
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    if page == "forbidden":
        response.status_code = 403
    return response


@router.get("/")
def landing(request: Request) -> Response:
    """Staff with a session go to the live map; everyone else to the sign-in page."""
    target = "/peta" if request.cookies.get(SESSION_COOKIE) else "/masuk"
    return RedirectResponse(target, status_code=303)


def safe_next_path(value: str | None) -> str:
    """``value`` when it is a path on this site, else ``""`` (no open redirect).

    Browsers read ``/\\evil.example`` as ``//evil.example`` and drop tabs and line
    breaks (``/<TAB>/evil.example``), so backslashes and control characters are refused
    along with ``//host`` and ``scheme:`` URLs.
    """
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return ""
    if "\\" in value or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


@router.get("/masuk", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return render(request, "masuk.html", page="masuk", title_key="login.title",
                  next_url=safe_next_path(next))


@router.get("/peta", response_class=HTMLResponse)
def coordinator_map(request: Request) -> HTMLResponse:
    return render(request, "peta.html", page="peta", title_key="map.title",
                  gi_permutations=GI_PERMUTATIONS)


#: The Gi* permutation count of the one hotspot test per quarter that the live map and the
#: rakor report share (:data:`geo_sigap.analytics.hotspots.PERMUTATIONS`; the map asks
#: ``/api/analytics/hotspots`` for it, whose hex answer is
#: ``LiveAnalytics.hex_hotspots``, the result the service's pack prints).
GI_PERMUTATIONS = 9999


@router.get("/operator", response_class=HTMLResponse)
def operator_intake(request: Request) -> HTMLResponse:
    return render(request, "operator.html", page="operator", title_key="intake.title")


@router.get("/dispatch/{ticket}", response_class=HTMLResponse)
def dispatcher_panel(request: Request, ticket: str) -> HTMLResponse:
    return render(request, "dispatch.html", page="dispatch", title_key="dispatch.suggestions",
                  ticket=ticket, wa_share=WA_SHARE)


@router.get("/analisis", response_class=HTMLResponse)
def planner_analysis(request: Request) -> HTMLResponse:
    """Quarterly analysis for planners and coordinators (the rakor pack in the browser)."""
    return render(request, "analisis.html", page="analisis", title_key="analysis.title")


#: Where a message is shared from the dispatcher's browser: ``wa.me`` without a number
#: opens WhatsApp's share sheet (choose the team's group), with a number that chat.
WA_SHARE = "https://wa.me/"


@router.get("/lapangan", response_class=HTMLResponse)
def field_team(request: Request) -> HTMLResponse:
    return render(request, "lapangan.html", page="lapangan", title_key="field.title")


@router.get("/lapor", response_class=HTMLResponse)
def citizen_report(request: Request) -> HTMLResponse:
    return render(request, "lapor.html", page="lapor", title_key="citizen.title")


@router.get("/status", response_class=HTMLResponse)
def status_lookup(request: Request, tiket: str | None = None) -> Response:
    if tiket and tiket.strip():
        return RedirectResponse(f"/status/{tiket.strip().upper()}", status_code=303)
    return render(request, "status.html", page="status", title_key="status.title", ticket="")


@router.get("/status/{ticket}", response_class=HTMLResponse)
def status_page(request: Request, ticket: str) -> HTMLResponse:
    return render(request, "status.html", page="status", title_key="status.title",
                  ticket=ticket)


DOCS_ASSETS = "/docs/assets"


@lru_cache(maxsize=1)
def _docs_version() -> str:
    """The ``?v=`` of Swagger UI's files: theirs change with that package, not ours."""
    return assets_version_of(_swagger_ui_dir())


def _swagger_ui_dir() -> Path:
    """Swagger UI's own files, from the ``swagger-ui-bundle-v2`` package (no CDN)."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI schema, every asset served by this app."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="GeoSIGAP — API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js?v={_docs_version()}",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css?v={_docs_version()}",
        swagger_favicon_url="/static/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None})


def wants_html(request: Request) -> bool:
    """A browser navigating to a page (not a script or an API client)."""
    if request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def not_found_page(request: Request) -> HTMLResponse:
    """The 404 page for browsers, in the request's language, with links onward."""
    response = render(request, "404.html", page="notfound", title_key="notfound.title",
                      path=request.url.path)
    response.status_code = 404
    return response


def install(app: FastAPI) -> None:
    """Add the pages, ``/docs``, the base-map API (``/api/map/…``) and ``/static``."""
    from geo_sigap.web.routes import map as map_routes

    from geo_sigap.web.pages import field_app

    app.include_router(map_routes.router)
    app.include_router(field_app.router)
    app.include_router(router)
    app.mount("/static", _static_files(STATIC_DIR), name="static")
    app.mount(DOCS_ASSETS, _static_files(_swagger_ui_dir()), name="docs-assets")
