"""The dispatch service's only contact with the geocoding and routing engines.

Each function takes the :class:`~geo_sigap.services.Services` and uses
``services.reverse_geocoder`` / ``services.forward_geocoder`` / ``services.routing``
when present, so that integrating (or faking, in tests) an engine happens here only.
Coordinates are (lon, lat) EPSG:4326; distances in metres, times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from geo_sigap.domain.coordinates import check_lonlat
from geo_sigap.domain.incidents import Placement
from geo_sigap.domain.teams import Team
from geo_sigap.errors import ConfigError, NoRoute


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
    return [c.to_dict() for c in geocoder.search(text, limit=limit)]


def routing_engine(services: Any) -> Any | None:
    """The routing engine, or ``None`` when no road network is configured."""
    try:
        return services.routing
    except AttributeError:
        return None


def suggest_teams(services: Any, lonlat: tuple[float, float], category: Any,
                  unit_codes: list[str], teams: list[Team], now: datetime,
                  *, with_routes: bool = False) -> Any | None:
    """Ranked teams per needed role (:func:`geo_sigap.routing.suggest.suggest`), or
    ``None`` when there is no routing engine."""
    engine = routing_engine(services)
    if engine is None:
        return None
    from geo_sigap.routing.suggest import suggest

    s = services.settings
    return suggest(engine, lonlat, category, unit_codes, teams, now,
                   stale_after=timedelta(minutes=s.stale_position_minutes),
                   responsible_within=timedelta(minutes=s.responsible_within_minutes),
                   with_routes=with_routes)


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
