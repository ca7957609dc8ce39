"""The planner's page API (/analisis): the rakor pack of a quarter and area as JSON
(findings, tables, figures), as the HTML/PDF pack, the GeoPackage of all its data, and
each table as CSV or GeoPackage.

Planners, coordinators and admins only. Packs come from the services layer
(:meth:`geo_sigap.services.Services.rakor_pack`): built once per data version.
"""

from __future__ import annotations

import csv
import io
import re

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from geo_sigap.dispatch.actors import AUDITORS, Actor
from geo_sigap.errors import InvalidInput
from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/analysis", tags=["analitik"])

QUARTER = Query(..., pattern=r"^\d{4}Q[1-4]$", description="Triwulan, mis. 2026Q3")
KECAMATAN = Query(None, pattern=r"^\d{2}\.\d{2}\.\d{2}$",
                  description="Kode kecamatan (kosong: seluruh wilayah)")


def _planner(who: Actor = Depends(staff_actor)) -> Actor:
    who.require(AUDITORS, "membuka analisis triwulanan", "open the quarterly analysis")
    return who


async def _pack(request: Request, quarter: str, kecamatan: str | None,
                pdf: bool = False) -> dict:
    services = request.app.state.services
    return await anyio.to_thread.run_sync(lambda: services.rakor_pack(quarter, kecamatan, pdf))


@router.get("/options", summary="Triwulan dan wilayah yang bisa dipilih")
async def options(request: Request, who: Actor = Depends(_planner)) -> dict:
    from geo_sigap.analytics.report.fmt import area_title, kecamatan_names

    services = request.app.state.services
    periods = await anyio.to_thread.run_sync(services.analytics.periods)
    units, _ = await anyio.to_thread.run_sync(services.analytics_history.units)
    codes = [str(c) for c in units.loc[units["level"] == "kelurahan", "code"]]
    kec = kecamatan_names(codes)
    areas = [{"code": None, "name": area_title(None, codes)}]
    if len(kec) > 1 or not areas[0]["name"].startswith("Kecamatan"):
        areas += [{"code": c, "name": f"Kecamatan {n}"} for c, n in sorted(kec.items(),
                                                                           key=lambda x: x[1])]
    return {**periods, "areas": areas}


@router.get("/pack", summary="Temuan, tabel dan peta paket rakor (JSON)")
async def pack(request: Request, quarter: str = QUARTER, kecamatan: str | None = KECAMATAN,
               who: Actor = Depends(_planner)) -> Response:
    paths = await _pack(request, quarter, kecamatan)
    return Response(paths["json"].read_bytes(), media_type="application/json",
                    headers={"Cache-Control": "private, no-store"})


MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
         "gpkg": "application/geopackage+sqlite3"}


@router.get("/pack.{fmt}", summary="Unduh paket rakor (PDF, HTML, atau GeoPackage semua "
            "tabel dan peta)", response_class=FileResponse)
async def pack_file(request: Request, fmt: str, quarter: str = QUARTER,
                    kecamatan: str | None = KECAMATAN, who: Actor = Depends(_planner)):
    if fmt not in MEDIA:
        raise InvalidInput("Format harus pdf, html atau gpkg", "Format must be pdf, html or gpkg")
    paths = await _pack(request, quarter, kecamatan, pdf=fmt == "pdf")
    path = paths[fmt]
    return FileResponse(path, media_type=MEDIA[fmt], filename=path.name,
                        headers={"Cache-Control": "private, no-store"})


@router.get("/table.gpkg", summary="Data di balik satu tabel paket rakor (GeoPackage, "
            "EPSG:4326)", response_class=FileResponse)
async def table_gpkg(request: Request, quarter: str = QUARTER,
                     kecamatan: str | None = KECAMATAN,
                     table: str = Query(..., pattern=r"^[a-z_]{1,40}$"),
                     who: Actor = Depends(_planner)):
    """One layer named as in the pack's GeoPackage (``tabel_01_titik_panas…``): polygons
    or points where the table's rows are places, an attribute table otherwise."""
    import shutil
    import tempfile
    from pathlib import Path

    from starlette.background import BackgroundTask

    from geo_sigap.analytics.report.cache import read_json
    from geo_sigap.analytics.report.layers import one_layer

    paths = await _pack(request, quarter, kecamatan)
    found = next((t for t in read_json(paths)["tables"] if t["key"] == table), None)
    if found is None:
        raise InvalidInput(f"Tabel tidak dikenal: {table}", f"Unknown table: {table}")
    folder = Path(tempfile.mkdtemp(prefix="sigap-table-"))
    name = re.sub(r"[^A-Za-z0-9_.-]", "_",
                  f"rakor_{quarter}_{kecamatan or 'semua'}_{found['layer']}.gpkg")
    try:
        await anyio.to_thread.run_sync(one_layer, paths["gpkg"], found["layer"], folder / name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(folder / name, media_type=MEDIA["gpkg"], filename=name,
                        headers={"Cache-Control": "private, no-store"},
                        background=BackgroundTask(shutil.rmtree, folder, True))


@router.get("/table.csv", summary="Data di balik satu tabel paket rakor (CSV)",
            response_class=Response)
async def table_csv(request: Request, quarter: str = QUARTER,
                    kecamatan: str | None = KECAMATAN,
                    table: str = Query(..., pattern=r"^[a-z_]{1,40}$"),
                    who: Actor = Depends(_planner)) -> Response:
    from geo_sigap.analytics.report.cache import read_json

    data = read_json(await _pack(request, quarter, kecamatan))
    found = next((t for t in data["tables"] if t["key"] == table), None)
    if found is None:
        raise InvalidInput(f"Tabel tidak dikenal: {table}", f"Unknown table: {table}")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(found["columns"])
    w.writerows(found["rows"])
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"rakor_{quarter}_{kecamatan or 'semua'}_{table}.csv")
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})
