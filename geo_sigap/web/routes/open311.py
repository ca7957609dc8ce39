"""Open311 GeoReport v2 (``/open311/v2``), JSON and XML; off unless
``GEO_SIGAP_OPEN311_ENABLED``. Errors use the spec's shape
(``[{"code", "description"}]`` / ``<errors><error>``) instead of ours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from geo_sigap.errors import GeoSigapError, InvalidInput
from geo_sigap.standards import open311
from geo_sigap.web.errors import request_locale, status_for

router = APIRouter(prefix="/open311/v2", tags=["open311"])
XML = "text/xml; charset=utf-8"


def _split(name: str) -> tuple[str, str]:
    """``"SGP-1.xml"`` → ``("SGP-1", "xml")``; no extension: JSON."""
    for fmt in ("json", "xml"):
        if name.lower().endswith("." + fmt):
            return name[: -len(fmt) - 1], fmt
    return name, "json"


def _render(rows: list[dict[str, Any]], fmt: str, root: str, item: str,
            status: int = 200) -> Response:
    if fmt == "xml":
        return Response(open311.to_xml(root, item, rows), status_code=status, media_type=XML)
    return JSONResponse(rows, status_code=status, media_type="application/json; charset=utf-8")


async def _answer(request: Request, fmt: str, root: str, item: str,
                  work: Callable[[], list[dict[str, Any]]], status: int = 200) -> Response:
    try:
        open311.check_enabled(request.app.state.settings,
                              request.query_params.get("jurisdiction_id"))
        rows = await anyio.to_thread.run_sync(work)
    except GeoSigapError as exc:
        code = status_for(exc)
        code = 400 if code == 422 else code  # the spec answers bad input with 400
        return _render(open311.error_rows(code, exc.message(request_locale(request))), fmt,
                       "errors", "error", status=code)
    return _render(rows, fmt, root, item, status)


def _services(fmt: str):
    async def services(request: Request) -> Response:
        table = request.app.state.services.categories
        return await _answer(request, fmt, "services", "service",
                             lambda: open311.services_list(table, request_locale(request)))
    return services


def _requests_get(fmt: str):
    async def requests(request: Request) -> Response:
        svc, params = request.app.state.services, dict(request.query_params)
        return await _answer(request, fmt, "service_requests", "request",
                             lambda: open311.list_requests(svc, params,
                                                           locale=request_locale(request)))
    return requests


def _requests_post(fmt: str):
    async def post(request: Request) -> Response:
        svc = request.app.state.services
        try:
            form = {k: str(v) for k, v in (await request.form()).items()}
        except Exception:  # noqa: BLE001 - a body that is not a form
            form = {}

        def work():
            if not form:
                raise InvalidInput("Kirim sebagai application/x-www-form-urlencoded",
                                   "Send application/x-www-form-urlencoded")
            open311.check_api_key(svc.settings, form.get("api_key")
                                  or request.query_params.get("api_key"))
            return open311.post_request(svc, form)

        return await _answer(request, fmt, "service_requests", "request", work, status=201)
    return post


for _suffix, _fmt in (("", "json"), (".json", "json"), (".xml", "xml")):
    router.add_api_route(f"/services{_suffix}", _services(_fmt), methods=["GET"],
                         summary=f"Open311: daftar layanan (kategori){_suffix}")
    router.add_api_route(f"/requests{_suffix}", _requests_get(_fmt), methods=["GET"],
                         summary=f"Open311: daftar permintaan (status publik){_suffix}")
    router.add_api_route(f"/requests{_suffix}", _requests_post(_fmt), methods=["POST"],
                         summary=f"Open311: kirim permintaan (api_key){_suffix}",
                         status_code=201)


@router.get("/services/{code}", summary="Open311: definisi layanan")
async def service_definition(code: str, request: Request) -> Response:
    """An object (JSON) / ``<service_definition>`` (XML), not a list."""
    code, fmt = _split(code)
    table = request.app.state.services.categories
    answer = await _answer(request, fmt, "service_definition", "service",
                           lambda: [open311.service_definition(table, code)])
    if answer.status_code != 200:
        return answer
    definition = open311.service_definition(table, code)
    if fmt == "xml":
        return Response(open311.definition_xml(definition), media_type=XML)
    return JSONResponse(definition, media_type="application/json; charset=utf-8")


@router.get("/requests/{ticket}", summary="Open311: satu permintaan")
async def one_request(ticket: str, request: Request) -> Response:
    ticket, fmt = _split(ticket)
    svc = request.app.state.services
    return await _answer(request, fmt, "service_requests", "request",
                         lambda: open311.get_request(svc, ticket,
                                                     locale=request_locale(request)))


@router.get("/discovery.json", summary="Open311: penemuan layanan (discovery)")
@router.get("/discovery", include_in_schema=False)
async def discovery(request: Request) -> Response:
    settings = request.app.state.settings
    root = (settings.public_base_url or str(request.base_url)).rstrip("/")
    from geo_sigap import __version__

    return await _answer(request, "json", "discovery", "endpoint",
                         lambda: open311.discovery(f"{root}/open311/v2", __version__))
