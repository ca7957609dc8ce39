"""Geocoding endpoints: point → RT/RW/kelurahan, text → candidate locations.

Thin: parse, call the geocoder built by the service layer
(``request.app.state.services.reverse_geocoder`` / ``.forward_geocoder``), shape JSON.
Errors are raised as :mod:`geo_sigap.errors` exceptions; ``geo_sigap.web.errors`` maps
them to HTTP.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from geo_sigap.errors import InvalidInput

from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/geocode", tags=["geocoding"], dependencies=[Depends(staff_actor)])


@router.get("/reverse", summary="Titik → RT/RW/kelurahan")
def reverse(request: Request, lon: str = Query(..., description="Bujur, EPSG:4326"),
            lat: str = Query(..., description="Lintang, EPSG:4326")) -> dict[str, Any]:
    """Units at (lon, lat) with codes, names, flags, warnings and alternatives.

    Swapped lat/lon are corrected with a warning; NaN/out-of-range values are refused
    (``invalid_coordinates``); a point outside the data has flag ``outside_coverage``.
    """
    geocoder = request.app.state.services.reverse_geocoder
    return geocoder.locate(lon, lat).to_dict()


@router.get("/search", summary="Teks alamat → kandidat lokasi")
def search(request: Request, q: str = Query(..., max_length=500, description="Alamat/patokan"),
           limit: int = Query(5, ge=1, le=20),
           near_lon: float | None = None, near_lat: float | None = None) -> dict[str, Any]:
    """Ranked candidates with confidence, level, geometry and ambiguity marks."""
    near = None
    if (near_lon is None) != (near_lat is None):
        raise InvalidInput("near_lon dan near_lat harus diisi bersama",
                           "near_lon and near_lat go together")
    if near_lon is not None and near_lat is not None:
        from geo_sigap.domain.coordinates import check_lonlat

        near_cp = check_lonlat(near_lon, near_lat)  # NaN/inf/out of range → 422
        near = (near_cp.lon, near_cp.lat)
    from geo_sigap.geocoding.forward import search_with_street

    from geo_sigap.web.errors import request_locale

    found = search_with_street(request.app.state.services.forward_geocoder, q, limit=limit,
                               near=near)
    locale = request_locale(request)
    return {"query": q,
            "candidates": [{**c.to_dict(locale), "near_street": ns} for c, ns in found],
            "ambiguous": any(c.ambiguous for c, _ in found[:2])}
