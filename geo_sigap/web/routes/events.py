"""The live event stream (server-sent events) of incident and team changes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from geo_sigap.dispatch.actors import STAFF, Actor
from geo_sigap.dispatch.events import Event, EventHub
from geo_sigap.domain.lifecycle import UserRole
from geo_sigap.web.auth import staff_actor_async, still_signed_in
from geo_sigap.web.limits import MAX_EVENT_ID

router = APIRouter(prefix="/api", tags=["peta"])
RECHECK_S = 5.0  # an open stream re-checks its session at least this often


def hub(request: Request) -> EventHub:
    app = request.app
    if getattr(app.state, "event_hub", None) is None:
        services = app.state.services
        app.state.event_hub = EventHub(services.db,
                                       batch_s=services.settings.event_batch_ms / 1000)
    return app.state.event_hub


@router.get("/events", summary="Aliran peristiwa langsung (SSE)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"example":
                       'id: 42\nevent: incident\ndata: {"action":"verify","ticket":'
                       '"SGP-250304-7KQ4","status":"terverifikasi"}\n\n'}}}})
async def events(request: Request, who: Actor = Depends(staff_actor_async),
                 last_event_id: int | None = Header(None, alias="Last-Event-ID", ge=0,
                                                    le=MAX_EVENT_ID),
                 after: int | None = Query(None, ge=0, le=MAX_EVENT_ID,
                                           description="Resume after this id"),
                 follow: bool = Query(True, description="false: send the backlog and end")):
    """``event: incident`` / ``event: team`` with JSON data. Resume with the
    ``Last-Event-ID`` header (EventSource does it) or ``?after=``; without either, only
    events committed after this answer starts. Team members receive only their team's
    incidents. The stream ends soon after its session ends (logout, expiry): it is
    re-checked before each delivery and at least every few seconds."""
    who.require(STAFF, "mengikuti peristiwa langsung", "follow live events")
    h = hub(request)
    start = last_event_id if last_event_id is not None else after
    if start is None:
        start = await h.position()  # fixed before the 200 is sent
    # registered before answering: nothing committed from here on can be missed
    sub = await h.subscribe(start) if follow else None

    def accept(ev: Event) -> bool:
        if who.role != UserRole.TEAM_MEMBER or ev.kind != "incident":
            return True
        return who.team_code in ev.payload.get("teams", [])

    async def alive() -> bool:
        return await still_signed_in(request, who)

    body = h.stream(start, follow=follow, accept=accept, alive=alive, recheck_s=RECHECK_S,
                    subscription=sub)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
