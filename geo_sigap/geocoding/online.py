"""Optional online geocoder (Nominatim) behind the same ``search`` interface.

Off by default (``GEO_SIGAP_ONLINE_GEOCODER``): nothing here touches the network unless
it was built with ``enabled=True``. Uses geopy (``pip install geo-sigap[online]``) or an
injected client with geopy's ``geocode(query, exactly_one=False, limit=…)`` shape, which
is how tests run it offline.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point, mapping

from geo_sigap.errors import ConfigError, GeoSigapError
from geo_sigap.geocoding.forward import Candidate, Note
from geo_sigap.geocoding.reverse import ReverseGeocoder


class NominatimGeocoder:
    """Forward geocoding through Nominatim.

    Parameters
    ----------
    enabled
        Must be ``True`` to search; otherwise :meth:`search` raises :class:`ConfigError`.
    client
        Object with ``geocode(query, exactly_one=False, limit=n, country_codes=…,
        viewbox=…)`` returning items with ``.latitude``, ``.longitude``, ``.address``
        (geopy's ``Nominatim``); built from geopy when omitted.
    reverse
        Places the results in the loaded units (optional).
    viewbox
        (minlon, minlat, maxlon, maxlat) to prefer, e.g. the covered area.
    """

    def __init__(self, *, enabled: bool = False, client: Any = None,
                 reverse: ReverseGeocoder | None = None, user_agent: str = "geo-sigap",
                 viewbox: tuple[float, float, float, float] | None = None,
                 timeout_s: float = 5.0) -> None:
        self.enabled = enabled
        self._client = client
        self.reverse = reverse
        self.user_agent = user_agent
        self.viewbox = viewbox
        self.timeout_s = timeout_s

    def _geocoder(self) -> Any:
        if self._client is None:
            try:
                from geopy.geocoders import Nominatim
            except ImportError as exc:
                raise ConfigError(
                    "Geocoder online memerlukan paket geopy (pip install 'geo-sigap[online]')",
                    "The online geocoder needs geopy (pip install 'geo-sigap[online]')",
                ) from exc
            self._client = Nominatim(user_agent=self.user_agent, timeout=self.timeout_s)
        return self._client

    def search(self, text: str, limit: int = 5, near: tuple[float, float] | None = None
               ) -> list[Candidate]:
        """Candidates from Nominatim, ``source="nominatim"``, confidence from its rank."""
        if not self.enabled:
            raise ConfigError(
                "Geocoder online tidak diaktifkan (GEO_SIGAP_ONLINE_GEOCODER=true)",
                "The online geocoder is off (GEO_SIGAP_ONLINE_GEOCODER=true)",
            )
        if not isinstance(text, str) or not text.strip():
            return []
        kwargs: dict[str, Any] = {"exactly_one": False, "limit": limit, "country_codes": "id"}
        if self.viewbox:
            b = self.viewbox
            kwargs["viewbox"] = [(b[1], b[0]), (b[3], b[2])]  # geopy: (lat, lon) corners
        try:
            results = self._geocoder().geocode(text, **kwargs) or []
        except GeoSigapError:
            raise
        except Exception:  # network errors must not break intake: no candidates
            return []
        out = []
        for rank, r in enumerate(results[:limit]):
            lon, lat = float(r.longitude), float(r.latitude)
            placement = None
            if self.reverse is not None:
                try:
                    res = self.reverse.locate(lon, lat)
                    placement = None if res.outside_coverage else res.placement
                except GeoSigapError:
                    placement = None
            out.append(Candidate(
                label=str(getattr(r, "address", text)), level="landmark",
                confidence=round(0.7 * (0.9 ** rank), 4), lon=lon, lat=lat,
                geometry=mapping(Point(lon, lat)), placement=placement, ambiguous=len(results) > 1,
                matched=text, notes=(Note("Hasil geocoder online (Nominatim)", "Online geocoder result (Nominatim)"),), source="nominatim"))
        return out


class CombinedGeocoder:
    """Offline first; the online geocoder only when offline finds nothing good enough."""

    def __init__(self, offline: Any, online: NominatimGeocoder | None = None, *,
                 min_confidence: float = 0.6) -> None:
        self.offline = offline
        self.online = online
        self.min_confidence = min_confidence

    def search(self, text: str, limit: int = 5, near: tuple[float, float] | None = None
               ) -> list[Candidate]:
        found = self.offline.search(text, limit=limit, near=near)
        if self.online is not None and self.online.enabled and (
                not found or found[0].confidence < self.min_confidence):
            found = found + self.online.search(text, limit=limit, near=near)
        return found[:limit]
