"""For citizens (no sign-in): report with a location (and photos), follow a ticket's
status, look up a place, see recent reports nearby. Nothing here ever returns a
reporter's name or phone, a report's text, or the exact point of a sensitive report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from geo_sigap.dispatch import intake, queries
from geo_sigap.dispatch.actors import Actor
from geo_sigap.web.ratelimit import limit

router = APIRouter(prefix="/api/public", tags=["publik"])


class CitizenReportIn(BaseModel):
    category: str = Field(..., max_length=40, examples=["ternak"])
    description: str = Field(..., min_length=3, max_length=4000,
                             examples=["Sapi lepas di jalan depan sekolah"])
    lon: float | str = Field(..., examples=[103.6009])
    lat: float | str = Field(..., examples=[-1.6195])
    address_text: str | None = Field(None, max_length=500)
    reporter_name: str | None = Field(None, max_length=200,
                                      description="Private: seen only by the operators")
    reporter_phone: str | None = Field(None, max_length=40,
                                       description="Private: seen only by the operators")


@router.post("/reports", status_code=201, summary="Laporan warga",
             dependencies=[Depends(limit("public_reports", "public_reports_per_hour"))])
def citizen_report(body: CitizenReportIn, request: Request,
                   idempotency_key: str | None = Header(None, max_length=100)):
    """Returns only ``{ticket, status, status_url}``."""
    data = intake.ReportInput(channel="web", **body.model_dump())
    res = intake.report_incident(request.app.state.services, Actor.citizen(), data,
                                 idempotency_key=idempotency_key)
    t = res.incident["ticket"]
    return JSONResponse({"ticket": t, "status": res.incident["status"],
                         "status_url": f"/api/public/status/{t}",
                         "warnings": list(res.warnings)},
                        status_code=201 if res.created else 200)


@router.post("/photo-reports", status_code=201, summary="Laporan warga dengan foto (multipart)",
             dependencies=[Depends(limit("public_reports", "public_reports_per_hour"))])
async def citizen_photo_report(
        request: Request, category: str = Form(..., max_length=40),
        description: str = Form(..., min_length=3, max_length=4000),
        lon: str = Form(..., max_length=40), lat: str = Form(..., max_length=40),
        address_text: str | None = Form(None, max_length=500),
        reporter_name: str | None = Form(None, max_length=200),
        reporter_phone: str | None = Form(None, max_length=40),
        photos: list[UploadFile] = File(default_factory=list),
        idempotency_key: str | None = Header(None, max_length=100)):
    """The same report as ``/reports`` with up to 6 ``photos`` (JPEG/PNG/WebP, checked by
    content, each at most ``GEO_SIGAP_MAX_UPLOAD_BYTES`` — the field photos' limits).
    Photos are seen by staff only. Returns only ``{ticket, status, status_url, photos}``."""
    import anyio

    from geo_sigap.dispatch import field
    from geo_sigap.errors import PayloadTooLarge

    services = request.app.state.services
    max_bytes = services.settings.max_upload_bytes
    uploads = []
    for p in photos:
        data = await p.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise PayloadTooLarge(f"Foto terlalu besar (maks. {max_bytes / 1e6:.1f} MB)",
                                  f"Photo too large (max {max_bytes / 1e6:.1f} MB)",
                                  max_bytes=max_bytes)
        uploads.append(field.Upload(p.filename or "foto", data))
    data = intake.ReportInput(channel="web", category=category, description=description,
                              lon=lon, lat=lat, address_text=address_text,
                              reporter_name=reporter_name, reporter_phone=reporter_phone)
    res = await anyio.to_thread.run_sync(lambda: intake.report_incident(
        services, Actor.citizen(), data, idempotency_key=idempotency_key, photos=uploads))
    t = res.incident["ticket"]
    return JSONResponse({"ticket": t, "status": res.incident["status"],
                         "status_url": f"/api/public/status/{t}", "photos": len(uploads),
                         "warnings": list(res.warnings)},
                        status_code=201 if res.created else 200)


@router.get("/nearby", summary="Laporan terbaru di sekitar (perkiraan tempat)",
            dependencies=[Depends(limit("public_nearby", "public_status_per_hour"))])
def nearby(request: Request, lon: float | None = Query(None), lat: float | None = Query(None),
           radius_m: float = Query(2000, gt=0, le=20000),
           days: int = Query(14, ge=1, le=60)) -> dict[str, Any]:
    """Reports of the last ``days`` days (around ``lon, lat`` when given): category,
    status, kelurahan and an approximate point — never the exact point of categories
    with ``public_exact = false`` (pekat, ODGJ: the kelurahan's centre instead), never
    any text or ticket."""
    return queries.public_nearby(request.app.state.services, lon, lat, radius_m=radius_m,
                                 days=days)


@router.get("/places", summary="Cari alamat atau patokan (untuk warga)",
            dependencies=[Depends(limit("public_places", "public_status_per_hour"))])
def places(request: Request, q: str = Query(..., min_length=2, max_length=200),
           limit_: int = Query(5, alias="limit", ge=1, le=10)) -> dict[str, Any]:
    """The forward geocoder's candidates (landmarks, streets, RT/RW/kelurahan names):
    ``{candidates: [{label, lon, lat, level, place}]}``."""
    return queries.public_places(request.app.state.services, q, limit=limit_)


@router.get("/status/{ticket}", summary="Status laporan menurut kode tiket",
            dependencies=[Depends(limit("public_status", "public_status_per_hour"))])
def status(ticket: str, request: Request) -> dict[str, Any]:
    return queries.public_status(request.app.state.services, ticket)
