"""Health and service metadata."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select, text

from geo_sigap import __version__

router = APIRouter(tags=["sistem"])


@router.get("/health", summary="Kesehatan layanan")
def health(request: Request) -> dict:
    """``status: ok`` when the database answers; counts of loaded data."""
    from geo_sigap.storage.tables import AdminUnitRow, IncidentRow, TeamRow

    services = request.app.state.services
    with services.db.session() as s:
        s.execute(text("SELECT 1"))
        counts = {
            "units": s.scalar(select(func.count()).select_from(AdminUnitRow)),
            "teams": s.scalar(select(func.count()).select_from(TeamRow)),
            "incidents": s.scalar(select(func.count()).select_from(IncidentRow)),
        }
    return {
        "status": "ok",
        "version": __version__,
        "database": services.db.engine.dialect.name,
        "spatial": services.db.spatial,
        "demo": services.settings.demo,
        "counts": counts,
    }
