"""The dispatch service's only contact with the geocoding and routing engines.

Each function takes the :class:`~geo_sigap.services.Services` and uses
``services.reverse_geocoder`` / ``services.forward_geocoder`` / ``services.routing``
when present, so that integrating (or faking, in tests) an engine happens here only.
Coordinates are (lon, lat) EPSG:4326; distances in metres, times in seconds.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.domain.incidents import Placement
from geo_sigap.domain.teams import Role, Team, TeamStatus, Vehicle
from geo_sigap.errors import ConfigError, NoRoute
from geo_sigap.storage.tables import TeamRow
from geo_sigap.storage.watch import watch_tables


@dataclass(frozen=True, slots=True)
class Located:
    """A checked point and where it falls. ``lon, lat`` are after a swap correction."""

    lon: float
    lat: float
    placement: Placement
    flags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def outside_coverage(self) -> bool:
        return "outside_coverage" in self.flags or "no_boundaries" in self.flags


def _engine(services: Any, name: str) -> Any:
    try:
        return getattr(services, name)
    except AttributeError:
        return None


def locate(services: Any, lon: object, lat: object) -> Located:
    """Check (lon, lat) and reverse-geocode it to RT/RW/kelurahan.

    Raises :class:`~geo_sigap.errors.InvalidCoordinates` for NaN, out-of-range or
    non-numeric values. Swapped lat/lon are corrected with a warning. With no
    boundaries loaded, the point is kept with flag ``no_boundaries``.
    """
    geocoder = _engine(services, "reverse_geocoder")
    if geocoder is not None and getattr(geocoder, "levels", [None]):
        res = geocoder.locate(lon, lat)
        return Located(res.lon, res.lat, res.placement, tuple(res.flags), tuple(res.warnings))
    cp = check_lonlat(lon, lat)
    flags = ("no_boundaries",) + (("swapped_latlon",) if cp.swapped else ())
    return Located(cp.lon, cp.lat, Placement(flags=flags), flags,
                   (cp.warning,) if cp.warning else ())


def search_places(services: Any, text: str, *, limit: int = 5) -> list[dict[str, Any]]:
    """Forward-geocode ``text`` (offline) → candidate dicts, best first; [] without data."""
    geocoder = _engine(services, "forward_geocoder")
    if geocoder is None or not text or not text.strip():
        return []
    from geo_sigap.geocoding.forward import search_with_street

    return [{**c.to_dict(), "near_street": ns}
            for c, ns in search_with_street(geocoder, text, limit=limit)]


def routing_engine(services: Any) -> Any | None:
    """The routing engine, or ``None`` when no road network is configured."""
    try:
        return services.routing
    except AttributeError:
        return None


def suggest_teams(services: Any, lonlat: tuple[float, float], category: Any,
                  unit_codes: list[str], teams: list[Team] | None, now: datetime,
                  *, with_routes: bool = False) -> Any | None:
    """Ranked teams per needed role (:func:`geo_sigap.routing.suggest.suggest`), or
    ``None`` when there is no routing engine. ``teams=None``: :func:`current_teams`. A
    category without roles is offered Bhabinkamtibmas, Satpol PP and Linmas teams."""
    engine = routing_engine(services)
    if engine is None:
        return None
    from geo_sigap.routing.suggest import suggest

    s = services.settings
    roles = None if category.roles else [Role.BHABINKAMTIBMAS, Role.SATPOL_PP, Role.LINMAS]
    return suggest(engine, lonlat, category, unit_codes,
                   current_teams(services) if teams is None else teams, now,
                   stale_after=timedelta(minutes=s.stale_position_minutes),
                   responsible_within=timedelta(minutes=s.responsible_within_minutes),
                   roles=roles, with_routes=with_routes,
                   teams_snapshot=teams is None)  # current_teams' list is not changed


def suggestions_for_placement(services: Any, lonlat: tuple[float, float],
                              category_code: str, placement: dict[str, Any], now: datetime
                              ) -> dict[str, Any] | None:
    """JSON-ready team suggestions (no route geometries) for an incident at ``lonlat``
    (EPSG:4326) whose ``placement`` has ``rt_code``…``kecamatan_code``; ``None`` without a
    routing engine. The same answer as ``workflow.suggestions_for_view``."""
    if routing_engine(services) is None:
        return None
    codes = [c for c in (placement.get("rt_code"), placement.get("rw_code"),
                         placement.get("kelurahan_code"), placement.get("kecamatan_code")) if c]
    res = suggest_teams(services, lonlat, services.categories.get(category_code), codes, None,
                        now, with_routes=False)
    return res.to_dict()


# -- the team list, cached ------------------------------------------------------------
# Teams change rarely (status, GPS fix) and are read by every suggestion. The list is
# kept per database and dropped as soon as this process writes to the teams table
# through SQLAlchemy (and again at commit); writes by other processes (other uvicorn
# workers, the CLI) are noticed by a cheap ``(count, max(updated_at))`` check made at
# most every TEAMS_RECHECK_S seconds — every status/position write sets updated_at.

TEAMS_RECHECK_S = 1.0
_TEAM_STAMP = select(func.count(TeamRow.id), func.max(TeamRow.updated_at))
_TEAM_COLUMNS = select(
    TeamRow.code, TeamRow.name, TeamRow.role, TeamRow.phone, TeamRow.vehicle,
    TeamRow.post_lon, TeamRow.post_lat, TeamRow.area_codes, TeamRow.status,
    TeamRow.last_lon, TeamRow.last_lat, TeamRow.last_position_at).order_by(TeamRow.code)
_teams_by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_teams_lock = threading.Lock()
_teams_generation = [0]


def current_teams(services: Any) -> list[Team]:
    """All teams (ordered by code), as of now. Do not modify the returned list."""
    engine = services.db.engine
    hit = _teams_by_engine.get(engine)
    clock = time.monotonic()
    if hit is not None and hit[0] == _teams_generation[0] and clock < hit[1]:
        return hit[3]
    generation = _teams_generation[0]
    with services.db.session() as s:
        stamp = tuple(s.execute(_TEAM_STAMP).one())
        if hit is not None and hit[0] == generation and hit[2] == stamp:
            teams = hit[3]
        else:
            teams = [_team(r) for r in s.execute(_TEAM_COLUMNS)]
    with _teams_lock:
        if generation == _teams_generation[0]:
            _teams_by_engine[engine] = (generation, clock + TEAMS_RECHECK_S, stamp, teams)
    return teams


def _team(r) -> Team:
    return Team(code=r[0], name=r[1], role=Role(r[2]), phone=r[3], vehicle=Vehicle(r[4]),
                post=(r[5], r[6]), area_codes=tuple(r[7] or ()), status=TeamStatus(r[8]),
                last_position=(r[9], r[10]) if r[9] is not None and r[10] is not None
                else None, last_position_at=r[11])


def _teams_changed() -> None:
    with _teams_lock:
        _teams_generation[0] += 1
        _teams_by_engine.clear()


watch_tables((TeamRow,), _teams_changed, inserts=True)


def team_eta(services: Any, lonlat: tuple[float, float], team: Team, now: datetime
             ) -> tuple[float | None, float | None]:
    """(eta_s, distance_m) of one team to a point by road; (None, None) without routing."""
    engine = routing_engine(services)
    if engine is None:
        return None, None
    from geo_sigap.routing.profiles import profile_for

    pos, _ = team.position_at(now, timedelta(minutes=services.settings.stale_position_minutes))
    res = engine.eta_from_teams(lonlat, [pos], profile_for(team.vehicle))
    eta, dist = float(res.eta_s[0]), float(res.distance_m[0])
    return (None if eta != eta else eta), (None if dist != dist else dist)


def team_route(services: Any, lonlat: tuple[float, float], team: Team, now: datetime) -> Any:
    """The team's road route to the point (a flagged straight line when unreachable).

    Raises :class:`ConfigError` when no road network is configured.
    """
    engine = routing_engine(services)
    if engine is None:
        raise ConfigError(
            "Jaringan jalan belum dimuat (GEO_SIGAP_ROAD_NETWORK); rute tidak tersedia",
            "No road network configured (GEO_SIGAP_ROAD_NETWORK); routes unavailable")
    from geo_sigap.routing.profiles import profile_for

    pos, _ = team.position_at(now, timedelta(minutes=services.settings.stale_position_minutes))
    res = engine.eta_from_teams(lonlat, [pos], profile_for(team.vehicle))
    route = res.route(0)
    if route is None:
        raise NoRoute("Tidak ada rute", "No route")
    return route
