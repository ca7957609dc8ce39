"""Base-map GeoJSON drawn from the area's own data (no tiles, no internet).

``GET /api/map/boundaries?level=kelurahan|rw|rt`` — admin polygons from the database,
simplified per level with a coverage-preserving simplification (shared borders stay
shared). ``GET /api/map/roads`` — road lines from ``Settings.road_network``, read once and
cached as a simplified GeoJSON file in ``Settings.cache_dir``
(:func:`geo_sigap.maps.roads.roads_geojson`). ``GET /api/map/incidents`` — every open
incident in one columnar answer for the live map (staff only, no personal data). Both answer with an
``ETag`` and honour ``If-None-Match``; the public pages use them too (no personal data).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.errors import ConfigError
from geo_sigap.maps.roads import roads_geojson

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/map", tags=["peta"])

# Simplification tolerance per level, degrees (EPSG:4326); 1e-5° ≈ 1.1 m at Jambi.
TOLERANCE_DEG = {
    AdminLevel.PROVINSI: 5e-4, AdminLevel.KABKOTA: 2e-4, AdminLevel.KECAMATAN: 1e-4,
    AdminLevel.KELURAHAN: 4e-5, AdminLevel.RW: 2e-5, AdminLevel.RT: 1e-5,
}
_DECIMALS = 6  # ≈ 0.1 m
_lock = threading.Lock()


def _staff(request: Request):
    from geo_sigap.web.auth import staff_actor

    return staff_actor(request)


def _cache(request: Request) -> dict:
    state = request.app.state
    if not hasattr(state, "map_cache"):
        state.map_cache = {}
    return state.map_cache


def _geojson_response(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    inm = request.headers.get("if-none-match", "")
    if etag in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def boundaries_geojson(units, level: AdminLevel) -> bytes:
    """FeatureCollection of the units at ``level``, simplified, coordinates to 6 decimals.

    Properties: ``code``, ``name``, ``level``, ``parent_code``. Units without geometry
    are left out. Output EPSG:4326.
    """
    chosen = [u for u in units if u.level == level and u.geometry is not None]
    geoms = [u.geometry for u in chosen]
    tol = TOLERANCE_DEG[level]
    if geoms:
        arr = shapely.make_valid(shapely.from_wkb(shapely.to_wkb(geoms)))
        try:
            simple = shapely.coverage_simplify(arr, tol, simplify_boundary=True)
        except Exception:  # not a valid coverage (overlaps): simplify one by one
            simple = shapely.simplify(arr, tol, preserve_topology=True)
        simple = shapely.set_precision(simple, 10 ** -_DECIMALS)
        empty = shapely.is_empty(simple)
        simple[empty] = arr[empty]
    else:
        simple = []
    features = [
        {
            "type": "Feature",
            "properties": {"code": u.code, "name": u.name, "level": level.name.lower(),
                           "parent_code": u.parent_code},
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for u, g in zip(chosen, simple, strict=True)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":")).encode()


@router.get("/boundaries", summary="Batas wilayah (GeoJSON) untuk peta dasar")
def boundaries(request: Request, level: str = Query("kelurahan")) -> Response:
    """Kelurahan, RW or RT polygons (or any admin level) as simplified GeoJSON."""
    lv = AdminLevel.parse(level)
    services = request.app.state.services
    units = services.units
    key = ("boundaries", int(lv), id(units), len(units))
    cache = _cache(request)
    if key not in cache:
        body = boundaries_geojson(units, lv)
        cache[key] = (body, _etag(body))
    body, etag = cache[key]
    return _geojson_response(request, body, etag)


@router.get("/roads", summary="Jalan (GeoJSON) untuk peta dasar")
def roads(request: Request) -> Response:
    """Road lines of the configured road network; an empty collection when none is set."""
    settings = request.app.state.services.settings
    path = settings.road_network
    cache = _cache(request)
    key = ("roads", str(path))
    if key not in cache:
        with _lock:
            if key not in cache:
                if path is None:
                    body = b'{"type":"FeatureCollection","features":[]}'
                else:
                    path = Path(path)
                    if not path.exists():
                        raise ConfigError(
                            f"Berkas jaringan jalan tidak ditemukan: {path}",
                            f"Road network file not found: {path}",)
                    body = roads_geojson(path, settings.cache_dir)
                cache[key] = (body, _etag(body))
    body, etag = cache[key]
    return _geojson_response(request, body, etag)


@router.get("/incidents", summary="Kejadian terbuka (ringkas) untuk peta langsung")
def open_incidents(request: Request, who=Depends(_staff)) -> dict:
    """Every open incident in one compact, columnar answer (staff only; no personal data)."""
    from geo_sigap.maps.feed import open_incidents_feed

    services = request.app.state.services
    with services.db.session() as s:
        return open_incidents_feed(s, services.categories)
