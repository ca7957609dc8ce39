"""GeoSIGAP: geospatial incident dispatch and incident maps for Indonesian
public-order (trantibum) teams.

Layers (dependencies point inward):

- :mod:`geo_sigap.domain` — incidents, administrative units, teams, categories,
  the SOP lifecycle. Pure Python + shapely; no web or storage framework.
- :mod:`geo_sigap.geocoding`, :mod:`geo_sigap.routing`, :mod:`geo_sigap.analytics` —
  spatial engines working on domain objects and arrays.
- :mod:`geo_sigap.dispatch` — use cases (report, verify, assign, advance, resolve).
- :mod:`geo_sigap.storage`, :mod:`geo_sigap.importers` — persistence and data loading.
- :mod:`geo_sigap.web`, :mod:`geo_sigap.cli` — the edges.
"""

__version__ = "0.1.0"
