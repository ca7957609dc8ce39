"""OGC API – Features (read-only) under ``/ogcapi``, for QGIS and other GIS clients; off
unless ``GEO_SIGAP_OGCAPI_ENABLED``. Role-aware through the usual bearer token
(:mod:`geo_sigap.standards.ogcapi` decides what each role sees)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from geo_sigap.errors import FeatureDisabled, GeoSigapError
from geo_sigap.standards import ogcapi
from geo_sigap.web.auth import actor as request_actor
from geo_sigap.web.errors import error_body, request_locale, status_for

router = APIRouter(prefix="/ogcapi", tags=["ogcapi"])
JSON, GEOJSON = "application/json", "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _base(request: Request) -> str:
    public = request.app.state.settings.public_base_url
    root = (public or str(request.base_url)).rstrip("/")
    return f"{root}/ogcapi"


def _json(body: Any, media: str = JSON, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=media)


async def _answer(request: Request, work: Callable[[Any], Any], media: str = JSON
                  ) -> JSONResponse:
    """Run ``work(actor)`` in a thread; errors in our JSON shape, bad parameters 400."""
    try:
        if not request.app.state.settings.ogcapi_enabled:
            raise FeatureDisabled("OGC API – Features tidak diaktifkan",
                                  "OGC API – Features is not enabled")
        who = request_actor(request)
        body = await anyio.to_thread.run_sync(lambda: work(who))
    except GeoSigapError as exc:
        code = status_for(exc)
        code = 400 if code == 422 else code
        return _json(error_body(exc.code, exc.message(request_locale(request)), exc.details),
                     status=code)
    return _json(body, media)


def _collection_doc(base: str, c: ogcapi.Collection, bbox: list[float] | None
                    ) -> dict[str, Any]:
    href = f"{base}/collections/{c.id}"
    doc: dict[str, Any] = {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "crs": [ogcapi.CRS84], "storageCrs": ogcapi.CRS84,
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": c.title},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": c.title},
        ]}
    if bbox:
        doc["extent"] = {"spatial": {"bbox": [bbox], "crs": ogcapi.CRS84}}
        if c.temporal:
            doc["extent"]["temporal"] = {
                "interval": [[None, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return doc


@router.get("", summary="OGC API: halaman awal")
@router.get("/", include_in_schema=False)
async def landing(request: Request):
    base = _base(request)
    return await _answer(request, lambda who: {
        "title": "GeoSIGAP — OGC API – Features",
        "description": "Kejadian ketenteraman dan ketertiban umum, batas wilayah, pos tim "
                       "dan hotspot sebagai lapisan GIS (hanya baca).",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": JSON, "title": "this document"},
            {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI,
             "title": "OpenAPI 3.0"},
            {"href": str(request.base_url).rstrip("/") + "/docs", "rel": "service-doc",
             "type": "text/html", "title": "API documentation"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": JSON,
             "title": "conformance classes"},
            {"href": f"{base}/conformance",
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/conformance", "type": JSON,
             "title": "conformance classes"},
            {"href": f"{base}/collections", "rel": "data", "type": JSON,
             "title": "collections"},
            {"href": f"{base}/collections", "rel": "http://www.opengis.net/def/rel/ogc/1.0/data",
             "type": JSON, "title": "collections"},
        ]})


@router.get("/api", summary="OGC API: definisi OpenAPI 3.0")
async def api_definition(request: Request):
    base = _base(request)
    return await _answer(request, lambda who: ogcapi.openapi(base), OPENAPI)


@router.get("/conformance", summary="OGC API: kelas kesesuaian")
async def conformance(request: Request):
    return await _answer(request, lambda who: {"conformsTo": ogcapi.CONFORMANCE})


@router.get("/collections", summary="OGC API: koleksi")
async def collections(request: Request):
    base, svc = _base(request), request.app.state.services

    def work(who):
        bbox = ogcapi.extent(svc)
        return {"links": [{"href": f"{base}/collections", "rel": "self", "type": JSON}],
                "collections": [_collection_doc(base, c, bbox)
                                for c in ogcapi.collections(svc, who)]}
    return await _answer(request, work)


@router.get("/collections/{collection_id}", summary="OGC API: satu koleksi")
async def collection(collection_id: str, request: Request):
    base, svc = _base(request), request.app.state.services
    return await _answer(request, lambda who: _collection_doc(
        base, ogcapi.collection(svc, who, collection_id), ogcapi.extent(svc)))


@router.get("/collections/{collection_id}/items", summary="OGC API: fitur (GeoJSON)")
async def items(collection_id: str, request: Request, bbox: str | None = None,
                datetime: str | None = None, limit: str | None = None,
                offset: str | None = None, quarter: str | None = None):
    """``bbox`` minx,miny,maxx,maxy (CRS84), ``datetime`` RFC 3339 instant or interval,
    ``limit`` 1–1000 (default 100), ``offset``; ``next``/``prev`` links page through."""
    base, svc = _base(request), request.app.state.services

    def work(who):
        q = ogcapi.parse_query(bbox, datetime, limit, offset, quarter)
        feats, matched = ogcapi.items(svc, who, collection_id, q)
        href = f"{base}/collections/{collection_id}/items"
        params = {k: v for k, v in request.query_params.items() if k not in ("offset", "f")}

        def link(rel: str, off: int) -> dict[str, str]:
            return {"href": f"{href}?{urlencode({**params, 'limit': q.limit, 'offset': off})}",
                    "rel": rel, "type": GEOJSON}

        links = [link("self", q.offset),
                 {"href": f"{base}/collections/{collection_id}", "rel": "collection",
                  "type": JSON}]
        if q.offset + len(feats) < matched:
            links.append(link("next", q.offset + q.limit))
        if q.offset > 0:
            links.append(link("prev", max(0, q.offset - q.limit)))
        return {"type": "FeatureCollection", "features": feats, "numberMatched": matched,
                "numberReturned": len(feats), "timeStamp": _now(), "links": links}
    return await _answer(request, work, GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}",
            summary="OGC API: satu fitur (GeoJSON)")
async def one_item(collection_id: str, feature_id: str, request: Request):
    base, svc = _base(request), request.app.state.services

    def work(who):
        f = ogcapi.item(svc, who, collection_id, feature_id)
        href = f"{base}/collections/{collection_id}"
        return {**f, "links": [
            {"href": f"{href}/items/{feature_id}", "rel": "self", "type": GEOJSON},
            {"href": href, "rel": "collection", "type": JSON}]}
    return await _answer(request, work, GEOJSON)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
