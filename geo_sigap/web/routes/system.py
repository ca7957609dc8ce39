"""Health and service metadata."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from geo_sigap import __version__

router = APIRouter(tags=["sistem"])


@router.get("/health", summary="Kesehatan layanan")
def health(request: Request) -> dict:
    """``status: ok`` when the database answers; how much data is loaded; ``warm``:
    the start-up warm-up has ended (every engine built: the steady state from here on).

    Constant time: ``counts`` are the highest row ids (one primary-key index read each,
    never a table scan). Incidents, teams and units are not deleted in normal operation,
    so they equal the row counts there (on PostgreSQL a rolled-back insert leaves a gap).
    """
    from geo_sigap.storage.tables import AdminUnitRow, IncidentRow, TeamRow

    services = request.app.state.services
    with services.db.session() as s:
        row = s.execute(select(
            select(func.max(AdminUnitRow.id)).scalar_subquery(),
            select(func.max(TeamRow.id)).scalar_subquery(),
            select(func.max(IncidentRow.id)).scalar_subquery(),
        )).one()
        counts = {"units": row[0] or 0, "teams": row[1] or 0, "incidents": row[2] or 0}
    return {
        "status": "ok",
        "version": __version__,
        "database": services.db.engine.dialect.name,
        "spatial": services.db.spatial,
        "demo": services.settings.demo,
        "counts": counts,
        "warm": services.warm.is_set(),
    }
