"""For citizens (no sign-in): report with a location, follow a ticket's status.
Nothing here ever returns a reporter's name or phone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Request
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


@router.get("/status/{ticket}", summary="Status laporan menurut kode tiket",
            dependencies=[Depends(limit("public_status", "public_status_per_hour"))])
def status(ticket: str, request: Request) -> dict[str, Any]:
    return queries.public_status(request.app.state.services, ticket)
