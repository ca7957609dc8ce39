"""Base-map GeoJSON drawn from the area's own data (no tiles, no internet).

``GET /api/map/boundaries?level=kelurahan|rw|rt`` — admin polygons from the database,
simplified per level with a coverage-preserving simplification (shared borders stay
shared). ``GET /api/map/roads`` — road lines from ``Settings.road_network``, read once and
cached as a simplified GeoJSON file in ``Settings.cache_dir``
(:func:`geo_sigap.maps.roads.roads_geojson`). ``GET /api/map/incidents`` — every open
incident in one columnar answer for the live map (staff only, no personal data). Both answer with an
``ETag`` and honour ``If-None-Match``; the public pages use them too (no personal data).

``GET /api/map/coverage?level=rt|rw&category=&role=`` — minutes by road from the nearest
post of each role to every RT/RW (:func:`geo_sigap.routing.coverage.coverage`), as GeoJSON
for the coordinator's map (staff only), computed when the teams' posts change and kept per
version of the posts and units (:mod:`geo_sigap.maps.coverage_cache`).
``GET /api/map/periods`` — the quarters that hold incidents and the default one for the
analytics overlays.
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
from geo_sigap.maps.simplify import TOLERANCE_DEG
from geo_sigap.maps.simplify import simplified as _simplified
from geo_sigap.web.responses import json_response

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/map", tags=["peta"])

_lock = threading.Lock()


def _staff(request: Request):
    from geo_sigap.web.auth import staff_actor

    return staff_actor(request)


def _cache(request: Request) -> dict:
    state = request.app.state
    if not hasattr(state, "map_cache"):
        state.map_cache = {}
    return state.map_cache


def _geojson_response(request: Request, body: bytes, etag: str, *,
                      gzipped: bytes | None = None) -> Response:
    """The answer with its ETag (304 on ``If-None-Match``); ``gzipped``: the same body
    compressed once beforehand, sent as is to clients that accept gzip."""
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    inm = request.headers.get("if-none-match", "")
    if etag in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    if gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(gzipped, media_type="application/geo+json",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, media_type="application/geo+json", headers=headers)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def boundaries_geojson(units, level: AdminLevel) -> bytes:
    """FeatureCollection of the units at ``level``, simplified, coordinates to 6 decimals.

    Properties: ``code``, ``name``, ``level``, ``parent_code``. Units without geometry
    are left out. Output EPSG:4326.
    """
    chosen = [u for u in units if u.level == level and u.geometry is not None]
    simple = _simplified([u.geometry for u in chosen], level)
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


def zoom_tolerance(level: AdminLevel, zoom: int | None) -> float:
    """Simplification tolerance (degrees) for a web-map zoom: the level's own tolerance, or
    half a screen pixel at that zoom when coarser (``360 / (256 · 2^zoom) / 2``)."""
    tol = TOLERANCE_DEG[level]
    if zoom is None:
        return tol
    return max(tol, 0.5 * 360.0 / (256 * 2 ** int(zoom)))


class LevelLayer:
    """One level's units, simplified once per zoom, each feature's GeoJSON text kept, so
    that a view (bbox) is answered by joining the features it touches."""

    def __init__(self, units, level: AdminLevel, tol: float):
        chosen = [u for u in units if u.level == level and u.geometry is not None]
        simple = _simplified([u.geometry for u in chosen], level, tol)
        self.bounds = shapely.bounds(shapely.from_wkb(shapely.to_wkb(
            [u.geometry for u in chosen]))) if chosen else None
        self.features = [
            json.dumps({"type": "Feature",
                        "properties": {"code": u.code, "name": u.name,
                                       "level": level.name.lower(),
                                       "parent_code": u.parent_code},
                        "geometry": json.loads(shapely.to_geojson(g))},
                       separators=(",", ":"))
            for u, g in zip(chosen, simple, strict=True)]

    def body(self, bbox: tuple[float, float, float, float] | None) -> bytes:
        feats = self.features
        if bbox is not None and self.bounds is not None:
            w, s, e, n = bbox
            b = self.bounds
            hit = (b[:, 0] <= e) & (b[:, 2] >= w) & (b[:, 1] <= n) & (b[:, 3] >= s)
            feats = [f for f, h in zip(feats, hit, strict=True) if h]
        return ('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}").encode()


def _parse_bbox(text: str | None):
    from geo_sigap.errors import InvalidInput

    if not text:
        return None
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("bbox harus 'barat,selatan,timur,utara' (derajat)",
                           "bbox must be 'west,south,east,north' (degrees)") from None
    if not (w <= e and s <= n):
        raise InvalidInput("bbox tidak sah: barat > timur atau selatan > utara",
                           "Invalid bbox: west > east or south > north")
    return w, s, e, n


GEOJSON_ANSWER = {200: {"content": {"application/geo+json": {}}}}


@router.get("/boundaries", summary="Batas wilayah (GeoJSON) untuk peta dasar",
            responses=GEOJSON_ANSWER)
def boundaries(request: Request, level: str = Query("kelurahan"),
               bbox: str | None = Query(None, description="barat,selatan,timur,utara (EPSG:4326)"),
               zoom: int | None = Query(None, ge=0, le=22)) -> Response:
    """Kelurahan, RW or RT polygons (or any admin level) as simplified GeoJSON.

    ``bbox``: only the units touching the view; ``zoom``: geometry simplified to half a
    screen pixel at that zoom (never finer than the level's own tolerance). The map loads
    the RT layer this way, for the view, only at the zoom it is drawn at.
    """
    lv = AdminLevel.parse(level)
    box = _parse_bbox(bbox)
    services = request.app.state.services
    units = services.units
    tol = zoom_tolerance(lv, zoom)
    cache = _cache(request)
    if box is None and zoom is None:
        key = ("boundaries", int(lv), id(units), len(units))
        if key not in cache:
            body = boundaries_geojson(units, lv)
            cache[key] = (body, _etag(body))
        body, etag = cache[key]
        return _geojson_response(request, body, etag)
    key = ("boundary-layer", int(lv), round(tol, 9), id(units), len(units))
    layer = cache.get(key)
    if layer is None:
        with _lock:
            layer = cache.get(key)
            if layer is None:
                layer = cache[key] = LevelLayer(units, lv, tol)
    body = layer.body(box)
    return _geojson_response(request, body, _etag(body))


@router.get("/roads", summary="Jalan (GeoJSON) untuk peta dasar", responses=GEOJSON_ANSWER)
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
    """Every open incident in one compact, columnar answer (staff only; no personal data).
    A team member gets only the open cases their team is assigned to."""
    from geo_sigap.dispatch.actors import STAFF
    from geo_sigap.domain.lifecycle import UserRole
    from geo_sigap.maps.feed import open_incidents_feed

    who.require(STAFF, "melihat peta kejadian", "see the incident map")
    team = None
    if who.role == UserRole.TEAM_MEMBER:
        team = who.team_code or "\x00"  # a member without a team sees nothing
    services = request.app.state.services
    with services.db.session() as s:
        feed = open_incidents_feed(s, services.categories, team_code=team)
    return json_response(feed)


# ------------------------------------------------------------------ coverage (travel time)

@router.get("/coverage", summary="Cakupan waktu tempuh dari pos terdekat per peran (GeoJSON)",
            responses=GEOJSON_ANSWER)
def coverage_map(request: Request, level: str = Query("rt", pattern="^(rt|rw)$"),
                 category: str | None = Query(None, max_length=40),
                 role: str | None = Query(None, max_length=40),
                 who=Depends(_staff)) -> Response:
    """RT or RW polygons with minutes by road from the nearest post of each role.

    ``category`` gives the roles (lead first) and the target time; ``role`` computes one
    role only. 503 when no local road network is configured. Computed when the teams'
    posts change, not per request (:class:`geo_sigap.maps.coverage_cache.CoverageCache`);
    header ``X-Sigap-Cache: hit|stale|miss`` (``stale``: the answer of the posts before,
    while the new one is computed in the background).
    """
    from geo_sigap.domain.teams import Role

    services = request.app.state.services
    cat = services.categories.get(category) if category else None
    the_role = Role.parse(role) if role else None
    engine = services.routing
    if engine is None or not hasattr(engine, "network"):
        raise ConfigError(
            "Cakupan waktu tempuh memerlukan jaringan jalan lokal (GEO_SIGAP_ROAD_NETWORK), "
            "yang belum diatur.",
            "Travel-time coverage needs a local road network (GEO_SIGAP_ROAD_NETWORK), "
            "which is not configured.")
    answer = services.coverage.get(level, cat.code if cat else "",
                                   the_role.value if the_role else "")
    resp = _geojson_response(request, answer.body, answer.etag, gzipped=answer.gz)
    resp.headers["X-Sigap-Cache"] = answer.status
    return resp


# ------------------------------------------------------------------ analytics periods

@router.get("/periods", summary="Triwulan yang berisi kejadian (untuk lapisan analitik)")
def periods(request: Request, who=Depends(_staff)) -> dict:
    """``{quarters: [{code, label}], default}``, newest first.

    ``default`` is the last complete quarter of the data: the quarter before the current
    one (WIB), or the data's last quarter when the history stops earlier.
    """
    return request.app.state.services.analytics.periods()
