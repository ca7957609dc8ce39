"""Incidents through the SOP: intake, lists, transitions, assignment, field reports,
audit, overdue cases. Thin: parse, call one use case, shape the answer."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from datetime import datetime
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from geo_sigap.dispatch import field, intake, queries, workflow
from geo_sigap.dispatch.actors import Actor
from geo_sigap.errors import PayloadTooLarge, megabytes
from geo_sigap.web.auth import staff_actor, staff_actor_async
from geo_sigap.web.errors import request_locale
from geo_sigap.web.limits import MAX_DB_ID
from geo_sigap.web.responses import json_response

router = APIRouter(tags=["kasus"])


class IncidentIn(BaseModel):
    """A report (SOP step 1). ``lon``/``lat`` EPSG:4326; swapped values are corrected
    with a warning, invalid ones refused."""

    category: str = Field(..., max_length=40, examples=["keributan"])
    description: str = Field("", max_length=4000,
                             examples=["Ada keributan pemuda di depan masjid, RT 05"])
    channel: str = Field("hotline", examples=["hotline"],
                         description="wa_group, hotline, langsung, web, officer, api")
    lon: float | str = Field(..., examples=[103.6009])
    lat: float | str = Field(..., examples=[-1.6195])
    address_text: str | None = Field(None, max_length=500, examples=["Depan Masjid Al-Ikhlas"])
    reporter_name: str | None = Field(None, max_length=200, examples=["Budi"])
    reporter_phone: str | None = Field(None, max_length=40, examples=["0812-3456-7890"])
    reported_at: datetime | None = Field(None, examples=["2025-03-04T21:15:00+07:00"])
    priority: int | str | None = Field(None, examples=[2])

    def to_input(self) -> intake.ReportInput:
        return intake.ReportInput(**self.model_dump())


class TransitionIn(BaseModel):
    action: Literal["verify", "reject", "depart", "arrive", "handle", "resolve", "rework",
                    "dispatch"] = Field(..., examples=["verify"])
    version: int = Field(..., examples=[1], description="The version you are looking at")
    reason: str | None = Field(None, max_length=2000, examples=["Hoaks: tidak ada kejadian"])
    priority: int | str | None = Field(None, examples=[2])
    note: str | None = Field(None, max_length=4000)
    public_note: str | None = Field(None, max_length=1000,
                                    description="resolve: the closing note citizens see")


class PickIn(BaseModel):
    team_code: str = Field(..., max_length=40, examples=["BHB-1003"])
    kind: Literal["lead", "support"] = "lead"


class AssignIn(BaseModel):
    version: int = Field(..., examples=[2])
    assignments: list[PickIn] = Field(..., min_length=1, max_length=10)


def _svc(request: Request):
    return request.app.state.services


# Intake runs in a small pool of its own rather than AnyIO's shared 40-thread pool: the
# hop is cheaper, and a few threads contend less for the GIL. On SQLite the reports of
# the threads waiting at one moment share a transaction (group commit, see
# dispatch._tx.grouped_write): the pool's size is the largest such batch. Threads start
# on first use.
_INTAKE_THREADS = 8


class _IntakePool:
    """Threads that run intake calls for the event loop: the call goes in a
    ``SimpleQueue``, and its answer straight to the awaiting asyncio future with one
    ``call_soon_threadsafe``. ``run_in_executor`` on a ``ThreadPoolExecutor`` adds a
    ``concurrent.futures.Future`` (with its lock), its chaining callbacks and the pool's
    idle bookkeeping around every call (~0.4 ms of CPU per report on one core)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._free = 0  # threads not running a call, less the calls waiting for one
        self._lock = threading.Lock()

    def _run(self) -> None:
        while True:
            loop, fut, call = self._calls.get()
            try:
                value, error = call(), None
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request
                value, error = None, exc
            with self._lock:
                self._free += 1
            try:
                loop.call_soon_threadsafe(_settle, fut, value, error)
            except RuntimeError:  # the loop has closed (shutdown)
                pass
            del fut, call, value, error

    async def run(self, call):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self._lock:  # a thread for this call if none is free (up to size)
            if self._free <= 0 and len(self._threads) < self.size:
                t = threading.Thread(target=self._run, name=f"sigap-intake-{len(self._threads)}",
                                     daemon=True)
                self._threads.append(t)
                self._free += 1
                t.start()
            self._free -= 1  # claimed by this call until a thread has run it
        self._calls.put((loop, fut, call))
        return await fut


def _settle(fut: asyncio.Future, value, error) -> None:
    if fut.cancelled():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(value)


_pool = _IntakePool(_INTAKE_THREADS)


async def _in_intake_thread(fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` in the intake pool, with the caller's context variables."""
    return await _pool.run(functools.partial(contextvars.copy_context().run, fn, *args,
                                             **kwargs))


@router.post("/api/incidents", status_code=201, summary="Catat laporan (langkah 1)",
             responses={200: {"description": "Sudah dicatat dengan Idempotency-Key yang sama"},
                        409: {"description": "Transisi tidak sah"},
                        422: {"description": "Masukan tidak sah"}})
async def create_incident(body: IncidentIn, request: Request,
                          who: Actor = Depends(staff_actor_async),
                          idempotency_key: str | None = Header(None, max_length=100),
                          suggest: bool = Query(False, description="Sertakan saran tim")):
    """Geocoded on intake; a likely duplicate is linked in ``duplicate_of``. A retry
    with the same ``Idempotency-Key`` answers 200 with the first incident."""
    res = await _in_intake_thread(intake.report_incident, _svc(request), who,
                                  body.to_input(), idempotency_key=idempotency_key,
                                  with_suggestions=suggest)
    out = {**res.incident, "warnings": res.warnings_in(request_locale(request)),
           "created": res.created}
    return json_response(out, 201 if res.created else 200)


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_datetime(value: Any) -> Any:
    """A time in a query is ISO 8601 text; a bare number (Unix seconds, ``0.5``) is refused
    rather than read as a moment in 1970."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError("datetime_parsing", "Input should be an ISO 8601 date-time")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


@router.get("/api/incidents", summary="Daftar kasus")
def list_incidents(request: Request, who: Actor = Depends(staff_actor),
                   status: str | None = None, category: str | None = None,
                   kelurahan: str | None = None, open: bool = False,  # noqa: A002
                   overdue: bool = False, since: IsoDateTime | None = None,
                   limit: int = Query(200, ge=1, le=2000)) -> dict[str, Any]:
    items = queries.list_incidents(_svc(request), who, status=status, category=category,
                                   kelurahan=kelurahan, open_only=open, since=since,
                                   overdue_only=overdue, limit=limit)
    return json_response({"count": len(items), "items": items})


@router.get("/api/overdue", summary="Kasus terbuka yang melewati target waktu respons")
def overdue(request: Request, who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    items = queries.overdue_incidents(_svc(request), who)
    return json_response({"count": len(items), "items": items})


@router.get("/api/incidents/{ticket}", summary="Satu kasus lengkap")
def get_incident(ticket: str, request: Request, who: Actor = Depends(staff_actor)):
    return json_response(queries.get_incident(_svc(request), who, ticket))


@router.post("/api/incidents/{ticket}/transitions", summary="Langkah SOP (status)",
             responses={409: {"description": "Tidak diizinkan dari status ini, atau versi "
                                             "kedaluwarsa (concurrent_edit)"}})
def transition(ticket: str, body: TransitionIn, request: Request,
               who: Actor = Depends(staff_actor),
               idempotency_key: str | None = Header(None, max_length=100)):
    """verify, reject (reason), depart, arrive, handle (needs the field report or a
    reason), resolve (``public_note`` for citizens), rework (reason). A retry with the
    same ``Idempotency-Key`` answers the case without making the step twice."""
    return workflow.transition(_svc(request), who, ticket, body.action, version=body.version,
                               reason=body.reason, priority=body.priority, note=body.note,
                               public_note=body.public_note,
                               idempotency_key=idempotency_key)


@router.get("/api/incidents/{ticket}/suggestions", summary="Saran tim per peran")
def suggestions(ticket: str, request: Request, who: Actor = Depends(staff_actor)):
    return workflow.suggestions(_svc(request), who, ticket)


@router.post("/api/incidents/{ticket}/assign", summary="Tugaskan tim (langkah 3)",
             responses={409: {"description": "Versi kedaluwarsa: kasus terkini di details"}})
def assign(ticket: str, body: AssignIn, request: Request, who: Actor = Depends(staff_actor)):
    """Returns the incident and one ready WhatsApp message + wa.me link per team."""
    picks = [workflow.TeamPick(p.team_code, p.kind) for p in body.assignments]
    return workflow.assign(_svc(request), who, ticket, picks, version=body.version)


class UnassignIn(BaseModel):
    version: int = Field(..., examples=[3])
    team_code: str = Field(..., max_length=40, examples=["BHB-1003"])
    reason: str | None = Field(None, max_length=2000, examples=["Tim lebih dekat tersedia"])


@router.post("/api/incidents/{ticket}/unassign", summary="Alihkan: lepaskan tim dari kasus",
             responses={409: {"description": "Versi kedaluwarsa atau status tidak sesuai"}})
def unassign(ticket: str, body: UnassignIn, request: Request,
             who: Actor = Depends(staff_actor)):
    """The team leaves the case (it is told on its event stream); assign the new team
    with ``/assign``."""
    return workflow.unassign(_svc(request), who, ticket, body.team_code, version=body.version,
                             reason=body.reason)


@router.get("/api/incidents/{ticket}/route", summary="Rute tim ke lokasi")
def route(ticket: str, request: Request, team: str = Query(..., max_length=40),
          who: Actor = Depends(staff_actor)):
    return queries.route_for(_svc(request), who, ticket, team)


@router.post("/api/incidents/{ticket}/reports", summary="Laporan lapangan (langkah 6)")
async def field_report(ticket: str, request: Request, text: str = Form(..., max_length=8000),
                       photos: list[UploadFile] = File(default_factory=list),
                       who: Actor = Depends(staff_actor),
                       idempotency_key: str | None = Header(None, max_length=100)):
    """multipart: ``text`` and up to 6 ``photos`` (JPEG/PNG/WebP, checked by content).
    A retry with the same ``Idempotency-Key`` stores nothing twice."""
    import anyio

    s = _svc(request)
    limit = s.settings.max_upload_bytes
    uploads = []
    for p in photos:
        data = await p.read(limit + 1)
        if len(data) > limit:
            mb_id, mb_en = megabytes(limit)
            raise PayloadTooLarge(f"Foto {p.filename} terlalu besar (maks. {mb_id})",
                                  f"Photo {p.filename} too large (max {mb_en})",
                                  max_bytes=limit)
        uploads.append(field.Upload(p.filename or "foto", data))
    return await anyio.to_thread.run_sync(
        lambda: field.add_field_report(s, who, ticket, text, uploads,
                                       idempotency_key=idempotency_key))


@router.get("/api/attachments/{attachment_id}", summary="Foto laporan lapangan",
            response_class=FileResponse)
def attachment(request: Request,
               attachment_id: int = Path(..., ge=1, le=MAX_DB_ID,
                                         description="Id of the photo (1 … 2³¹−1)"),
               who: Actor = Depends(staff_actor)):
    path, ctype, name = field.open_attachment(_svc(request), who, attachment_id)
    return FileResponse(path, media_type=ctype, filename=name,
                        headers={"Cache-Control": "private, no-store",
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/api/incidents/{ticket}/audit", summary="Jejak audit dan durasi langkah")
def audit(ticket: str, request: Request, who: Actor = Depends(staff_actor)):
    return queries.audit_log(_svc(request), who, ticket)


@router.get("/api/me/assignments", summary="Penugasan tim saya")
def my_assignments(request: Request, who: Actor = Depends(staff_actor)):
    items = queries.my_assignments(_svc(request), who)
    return {"count": len(items), "items": items}


@router.get("/api/categories", tags=["sistem"], summary="Tabel kategori")
def categories(request: Request) -> dict[str, Any]:
    table = _svc(request).categories
    return {"items": [
        {"code": c.code, "name": c.name, "name_en": c.name_en,
         "lead": c.lead.value if c.lead else None, "support": [r.value for r in c.support],
         "default_priority": int(c.default_priority),
         "target_minutes": table.target_minutes(c.code, c.default_priority),
         "sk4_sop": c.sk4_sop, "icon": c.icon, "description": c.description,
         "description_en": c.description_en,
         "report_photo_required": c.report_photo_required} for c in table]}


