"""Optional adapter to an external OSRM server (``/table`` and ``/route`` services).

For deployments whose road networks outgrow one process. Off by default: the service
builds it only when ``GEO_SIGAP_OSRM_URL`` is set. It offers the same
``eta_from_teams`` / ``route`` interface as :class:`~geo_sigap.routing.engine.RoutingEngine`,
so :func:`~geo_sigap.routing.suggest.suggest` works with either. The HTTP transport is
injectable (tests use a fake one; nothing here runs at import).
"""

from __future__ import annotations

import json
import time as _time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from shapely.geometry import LineString

from geo_sigap.errors import NoRoute
from geo_sigap.routing.engine import OFF_NETWORK, ROAD, UNREACHABLE, EtaResult, Route
from geo_sigap.routing.graph import haversine_m
from geo_sigap.routing.profiles import RoutingConfig, load_routing_config

Transport = Callable[[str, float], Mapping[str, Any]]


def urllib_transport(url: str, timeout: float) -> Mapping[str, Any]:
    """GET ``url`` and decode its JSON body (the default transport)."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - configured URL
        return json.loads(resp.read().decode("utf-8"))


class OsrmEngine:
    """Travel times from an OSRM server.

    Parameters
    ----------
    base_url
        E.g. ``http://osrm.internal:5000``.
    profiles
        Our profile name → the OSRM profile in the URL (``motor`` → ``motorcycle``).
    transport
        ``callable(url, timeout) -> dict``; :func:`urllib_transport` by default.
    """

    def __init__(self, base_url: str, *, profiles: Mapping[str, str] | None = None,
                 transport: Transport | None = None, timeout_s: float = 2.0,
                 config: RoutingConfig | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.profiles = dict(profiles or {"motor": "motorcycle", "mobil": "driving"})
        self.transport = transport or urllib_transport
        self.timeout_s = timeout_s
        self.config = config or load_routing_config()

    def _get(self, service: str, profile: str, points: Sequence[tuple[float, float]],
             query: Mapping[str, str]) -> Mapping[str, Any]:
        coords = ";".join(f"{lon:.7f},{lat:.7f}" for lon, lat in points)
        url = (f"{self.base_url}/{service}/v1/{self.profiles.get(profile, profile)}/{coords}?"
               + urllib.parse.urlencode(query, safe=";,"))
        try:
            body = self.transport(url, self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - any transport failure is the same to us
            raise NoRoute(
                f"Layanan rute OSRM tidak dapat dihubungi ({exc})",
                f"The OSRM routing service cannot be reached ({exc})",
            ) from exc
        if body.get("code") != "Ok":
            raise NoRoute(
                f"Layanan rute OSRM menolak permintaan: {body.get('code')} "
                f"{body.get('message', '')}".strip(),
                f"The OSRM routing service refused the request: {body.get('code')} "
                f"{body.get('message', '')}".strip(),
                osrm_code=body.get("code"),
            )
        return body

    def eta_from_teams(self, incident_lonlat: tuple[float, float],
                       team_points: Sequence[tuple[float, float]] | np.ndarray, profile: str,
                       *, groups: Any = None, k: int | None = None, required: Any = None,
                       max_time_s: float = np.inf) -> EtaResult:
        """One ``/table`` request: every team (sources) to the incident (destination 0).

        ``groups``/``k``/``required`` are accepted for interface parity; OSRM returns
        every team's time.
        """
        t0 = _time.perf_counter()
        pts = [tuple(map(float, p)) for p in np.asarray(team_points, float).reshape(-1, 2)]
        n = len(pts)
        cfg = self.config
        inc = (float(incident_lonlat[0]), float(incident_lonlat[1]))
        body = self._get("table", profile, [inc, *pts], {
            "sources": ";".join(str(i + 1) for i in range(n)), "destinations": "0",
            "annotations": "duration,distance"})
        durations = body.get("durations") or [[None]] * n
        distances = body.get("distances") or [[None]] * n
        snapped = [s.get("distance", 0.0) for s in body.get("sources", [{}] * n)]
        inc_snap = (body.get("destinations") or [{}])[0].get("distance", 0.0)
        arr = np.array(pts) if n else np.zeros((0, 2))
        straight = haversine_m(arr[:, 0], arr[:, 1], inc[0], inc[1])
        eta = np.full(n, np.nan)
        meters = np.full(n, np.nan)
        status = np.full(n, ROAD, dtype=object)
        for i in range(n):
            d, m = durations[i][0], distances[i][0]
            if snapped[i] > cfg.max_snap_m or inc_snap > cfg.max_snap_m:
                status[i] = OFF_NETWORK
            elif d is None:
                status[i] = UNREACHABLE
            else:
                access = snapped[i] + inc_snap
                eta[i] = float(d) + access / cfg.access_speed_ms
                meters[i] = float(m if m is not None else np.nan) + access
        estimate = status != ROAD
        eta[estimate] = straight[estimate] * cfg.detour_factor / cfg.straight_speed_ms
        meters[estimate] = straight[estimate] * cfg.detour_factor
        result = EtaResult(profile=profile, eta_s=eta, distance_m=meters,
                           status=status.astype(str), is_estimate=estimate,
                           access_m=np.array(snapped, float), lower_bound_s=np.inf,
                           incident_access_m=float(inc_snap),
                           search_ms=(_time.perf_counter() - t0) * 1000.0)

        def route(i: int) -> Route:
            if estimate[i]:
                return Route(LineString([pts[i], inc]), float(meters[i]), float(eta[i]),
                             profile, is_estimate=True)
            return self.route(pts[i], inc, profile)

        result._route = route
        return result

    def route(self, from_lonlat: tuple[float, float], to_lonlat: tuple[float, float],
              profile: str) -> Route:
        """One ``/route`` request; geometry as GeoJSON lon/lat."""
        body = self._get("route", profile, [from_lonlat, to_lonlat],
                         {"overview": "full", "geometries": "geojson"})
        routes = body.get("routes") or []
        if not routes:
            raise NoRoute("OSRM tidak menemukan rute", "OSRM found no route")
        r = routes[0]
        coords = [tuple(c) for c in r["geometry"]["coordinates"]]
        if len(coords) == 1:
            coords.append(coords[0])
        return Route(LineString(coords), float(r["distance"]), float(r["duration"]), profile)
