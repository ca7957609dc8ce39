"""Completing a draft report (a chat message, a pasted or phoned-in report) before it is
verified: point, category, priority, description, address."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from geo_sigap.channels.complete import complete_draft
from geo_sigap.dispatch.actors import Actor
from geo_sigap.web.auth import staff_actor

router = APIRouter(tags=["kasus"])


class DraftIn(BaseModel):
    version: int = Field(..., description="The version of the case you are looking at")
    lon: float | str | None = Field(None, examples=[103.6003])
    lat: float | str | None = Field(None, examples=[-1.6198])
    category: str | None = Field(None, max_length=40)
    priority: int | str | None = None
    description: str | None = Field(None, max_length=4000)
    address_text: str | None = Field(None, max_length=500)


@router.patch("/api/incidents/{ticket}/draft", summary="Lengkapi laporan yang menunggu "
              "verifikasi (titik, kategori, uraian)")
async def complete(ticket: str, body: DraftIn, request: Request,
                   who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    """Operator, dispatcher, coordinator, admin; only while the status is ``diterima``;
    409 ``concurrent_edit`` for a stale ``version``, 409 ``invalid_transition`` once
    verified or rejected."""
    services = request.app.state.services
    data = body.model_dump()
    return await anyio.to_thread.run_sync(
        lambda: complete_draft(services, who, ticket, **data))
