"""Analytics frames read from the database (the service's and the CLI's source).

Same shapes as :func:`geo_sigap.analytics.loaders.load_demo_incidents`; no personal data
leaves storage (the incidents frame has no reporter columns).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from geo_sigap.analytics.frames import normalise_incidents
from geo_sigap.analytics.loaders import AnalyticsData
from geo_sigap.domain.admin import AdminLevel


def data_version(db) -> str:
    """Changes whenever an incident or a unit is added or changed."""
    from geo_sigap.storage.tables import AdminUnitRow, IncidentRow

    with db.session() as s:
        n, last = s.execute(select(func.count(), func.max(IncidentRow.updated_at))).one()
        units = s.scalar(select(func.count()).select_from(AdminUnitRow))
    return f"db-{n}-{last.isoformat() if last else 0}-{units}"


def load_from_storage(db, categories) -> AnalyticsData:
    from geo_sigap.storage.incidents import incidents_frame
    from geo_sigap.storage.teams import list_teams
    from geo_sigap.storage.units import units_frame

    version = data_version(db)
    with db.session() as s:
        incidents = incidents_frame(s)
        units = units_frame(s, [AdminLevel.KELURAHAN, AdminLevel.RW, AdminLevel.RT])
        teams = pd.DataFrame(
            [{"code": t.code, "name": t.name, "role": t.role.value} for t in list_teams(s)],
            columns=["code", "name", "role"])
    units = units[["code", "name", "level", "parent_code", "population", "geometry"]]
    units["population"] = pd.to_numeric(units["population"], errors="coerce")
    return AnalyticsData(incidents=normalise_incidents(incidents), units=units, teams=teams,
                         categories=categories, version=version,
                         meta={"source": "database"})
