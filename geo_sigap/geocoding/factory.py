"""Building the geocoders from settings-like values (for the service layer and CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geo_sigap.geocoding.forward import ForwardGeocoder
from geo_sigap.geocoding.online import CombinedGeocoder, NominatimGeocoder
from geo_sigap.geocoding.reverse import ReverseGeocoder
from geo_sigap.geocoding.sources import load_gazetteer, streets_from_file
from geo_sigap.geocoding.units import unit_table


def build_geocoders(units: Any, *, road_network: str | Path | None = None,
                    gazetteer_file: str | Path | None = None, gap_tolerance_m: float = 50.0,
                    online: bool = False, online_client: Any = None
                    ) -> tuple[ReverseGeocoder, ForwardGeocoder | CombinedGeocoder]:
    """``(reverse, forward)`` geocoders over ``units`` (AdminUnit list or GeoDataFrame,
    EPSG:4326), the named streets of ``road_network`` (OSM XML or GeoJSON/GPKG/SHP) and
    the landmarks of ``gazetteer_file`` (CSV ``name,kind,lon,lat`` or GeoJSON).

    ``online=True`` (``Settings.online_geocoder``) adds Nominatim after the offline search
    when the offline answer is weak; it is off by default and needs geopy.
    """
    table = unit_table(units)
    reverse = ReverseGeocoder(table, gap_tolerance_m=gap_tolerance_m)
    streets = streets_from_file(road_network) if road_network else None
    gazetteer = load_gazetteer(gazetteer_file) if gazetteer_file else None
    forward: ForwardGeocoder | CombinedGeocoder = ForwardGeocoder(
        table, streets, gazetteer, reverse=reverse)
    if online:
        forward = CombinedGeocoder(forward, NominatimGeocoder(
            enabled=True, client=online_client, reverse=reverse,
            viewbox=reverse.coverage_bbox))
    return reverse, forward
