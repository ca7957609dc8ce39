"""Teams: list with positions; GPS updates from the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from geo_sigap.dispatch import field, queries
from geo_sigap.dispatch.actors import Actor
from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/teams", tags=["tim"])


class PositionIn(BaseModel):
    lon: float | str = Field(..., examples=[103.6012])
    lat: float | str = Field(..., examples=[-1.6193])
    accuracy_m: float | None = Field(None, ge=0, examples=[12.0])
    at: datetime | None = Field(None, description="Time of the fix (default: now)")


@router.get("", summary="Tim, status dan posisi")
def teams(request: Request, who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    items = queries.teams_view(request.app.state.services, who)
    return {"count": len(items), "items": items}


@router.post("/{code}/position", summary="Pembaruan posisi GPS tim")
def position(code: str, body: PositionIn, request: Request,
             who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    return field.record_team_position(request.app.state.services, who, code, body.lon,
                                      body.lat, accuracy_m=body.accuracy_m, at=body.at)
