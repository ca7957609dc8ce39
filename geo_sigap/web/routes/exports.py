"""Downloads for the planner page: incidents and hotspot results as GeoPackage or CSV
(no personal data; :mod:`geo_sigap.standards.exports`)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from geo_sigap.dispatch.actors import Actor
from geo_sigap.standards import exports
from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/exports", tags=["analitik"])


async def _export(what: str, request: Request, who: Actor, format: str,
                  quarter: str | None, audience: str, level: str) -> FileResponse:
    services = request.app.state.services
    folder = Path(tempfile.mkdtemp(prefix="sigap-export-"))
    try:
        res, media, name = await anyio.to_thread.run_sync(lambda: exports.export_file(
            services, who, what, folder, fmt=format, quarter=quarter, audience=audience,
            level=level))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(res.path, media_type=media, filename=name,
                        headers={"Cache-Control": "private, no-store"},
                        background=BackgroundTask(shutil.rmtree, folder, True))


@router.get("/incidents", summary="Ekspor kejadian (GeoPackage atau CSV, tanpa data pribadi)",
            response_class=FileResponse)
async def incidents(request: Request, who: Actor = Depends(staff_actor),
                    format: str = Query("gpkg", pattern="^(gpkg|csv)$"),
                    quarter: str | None = Query(None, max_length=7),
                    audience: str = Query("staf", pattern="^(staf|publik)$")):
    """Planner, coordinator, admin: a point layer ``incidents`` (EPSG:4326) or CSV."""
    return await _export("incidents", request, who, format, quarter, audience, "kelurahan")


@router.get("/hotspots", summary="Ekspor hotspot Gi* (GeoPackage atau CSV)",
            response_class=FileResponse)
async def hotspots(request: Request, who: Actor = Depends(staff_actor),
                   format: str = Query("gpkg", pattern="^(gpkg|csv)$"),
                   quarter: str | None = Query(None, max_length=7),
                   level: str = Query("kelurahan", pattern="^(kelurahan|rw|rt|hex)$")):
    """Planner, coordinator, admin: a polygon layer ``hotspots`` or CSV."""
    return await _export("hotspots", request, who, format, quarter, "staf", level)
