"""Operator helpers for intake: a pasted WhatsApp message → draft report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from geo_sigap.dispatch import intake
from geo_sigap.dispatch.actors import Actor
from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/intake", tags=["kasus"])


class WhatsAppIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=20000, examples=[
        "[21.15, 4/3/2025] Budi RT 05: ada keributan pemuda di Jalan Atas dekat masjid"])


@router.post("/whatsapp", summary="Draf laporan dari pesan grup WhatsApp")
def whatsapp(body: WhatsAppIn, request: Request,
             who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    """Nothing is stored: confirm the draft with ``POST /api/incidents``."""
    return intake.draft_from_whatsapp(request.app.state.services, who, body.text)
