"""Geocoding: points → administrative units (reverse) and text → locations (forward).

Public API::

    ReverseGeocoder.from_units(units, gap_tolerance_m=50) .locate(lon, lat) / .locate_many
    ForwardGeocoder(units, streets, gazetteer).search(text, limit=5, near=None)
    NominatimGeocoder(enabled=False, ...).search(...)     # optional, online
    streets_from_osm(path), streets_from_file(path), load_gazetteer(path)
    geocode_csv(input, output, reverse, forward, ...)     # batch CSV
    build_geocoders(units, road_network=, gazetteer_file=, gap_tolerance_m=, online=)
"""

from geo_sigap.geocoding.batch import geocode_csv
from geo_sigap.geocoding.factory import build_geocoders
from geo_sigap.geocoding.forward import Candidate, ForwardGeocoder
from geo_sigap.geocoding.normalize import normalize, parse_address
from geo_sigap.geocoding.online import CombinedGeocoder, NominatimGeocoder
from geo_sigap.geocoding.reverse import FLAGS, ReverseGeocoder, ReverseResult
from geo_sigap.geocoding.sources import load_gazetteer, streets_from_file, streets_from_osm
from geo_sigap.geocoding.units import UnitTable, unit_table

__all__ = [
    "FLAGS", "Candidate", "CombinedGeocoder", "ForwardGeocoder", "NominatimGeocoder",
    "ReverseGeocoder", "ReverseResult", "UnitTable", "build_geocoders", "geocode_csv", "load_gazetteer",
    "normalize", "parse_address", "streets_from_file", "streets_from_osm", "unit_table",
]
