"""Analytics for the web map: heat grid, hotspot GeoJSON, KPIs.

Answers come from ``request.app.state.services.analytics``
(:class:`geo_sigap.analytics.incremental.LiveAnalytics`): the history is kept up to date
incrementally per quarter and answers are cached per quarter partition, in the services
layer.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/analytics", tags=["analitik"], dependencies=[Depends(staff_actor)])


def _live(request: Request):
    return request.app.state.services.analytics


def _gzip_ok(request: Request) -> bool | str:
    """``"gzip"`` when the client takes gzip (the cached answer is then sent as compressed
    once, not compressed again per request), else ``True`` (JSON bytes)."""
    return "gzip" if "gzip" in request.headers.get("accept-encoding", "") else True


def _json(body: bytes, encoded: bool | str = True) -> Response:
    headers = {"Vary": "Accept-Encoding"}
    if encoded == "gzip":
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


_COMPACT = Query(False, description="hanya yang digambar peta (tanpa nilai grid / label; "
                 "koordinat 5 desimal)")


@router.get("/heat", summary="Peta panas (grid kepadatan kejadian per km²)")
def heat(request: Request, category: str | None = None, quarter: str | None = None,
         hours: str | None = Query(None, description="jam WIB 'dari-sampai', mis. 20-3"),
         kecamatan: str | None = None, bandwidth_m: float | None = Query(None, gt=0, le=5000),
         kernel: str = Query("quartic", pattern="^(quartic|gaussian)$"),
         compact: bool = _COMPACT) -> Response:
    enc = _gzip_ok(request)
    return _json(_live(request).heat(category, quarter, hours, kecamatan, bandwidth_m, kernel,
                                     encoded=enc, compact=compact), enc)


@router.get("/hotspots", summary="Titik panas Gi* (GeoJSON)")
def hotspots(request: Request, category: str | None = None, quarter: str | None = None,
             hours: str | None = None, kecamatan: str | None = None,
             level: str = Query("hex", pattern="^(hex|kelurahan|rw|rt)$"),
             hex_m: float = Query(250.0, ge=50, le=2000),
             permutations: int = Query(999, ge=99, le=9999),
             compact: bool = _COMPACT) -> Response:
    enc = _gzip_ok(request)
    return _json(_live(request).hotspots(category, quarter, hours, kecamatan, level, hex_m,
                                         permutations, encoded=enc, compact=compact), enc)


@router.get("/kpis", summary="Angka utama (jumlah, waktu respons, keterlambatan)")
def kpis(request: Request, category: str | None = None, quarter: str | None = None,
         hours: str | None = None, kecamatan: str | None = None) -> Response:
    enc = _gzip_ok(request)
    return _json(_live(request).kpis(category, quarter, hours, kecamatan, encoded=enc), enc)
