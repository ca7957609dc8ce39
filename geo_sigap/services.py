"""The composition root: settings → database, category table, geocoders, routing engine.

Built by :func:`geo_sigap.web.app.create_app` and by CLI commands; heavy parts are built
on first use and rebuilt by :meth:`Services.reload` after new data is imported.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from geo_sigap.domain.categories import CategoryTable, load_categories
from geo_sigap.settings import Settings
from geo_sigap.storage import Database, open_database

log = logging.getLogger(__name__)


def use_jit_cache(settings: Settings, package_dir: Path | None = None) -> Path | None:
    """Where the compiled kernels (numba ``cache=True``) are kept between starts.

    numba writes them beside the package's modules (``__pycache__``); when that folder is
    not writable (a read-only install) and ``NUMBA_CACHE_DIR`` is not set, they go to
    ``<data_dir>/cache/numba`` instead, so that a second start loads them instead of
    compiling again. Returns the folder chosen here, or ``None`` when numba's own place
    (or the operator's ``NUMBA_CACHE_DIR``) is used. Call before the kernels are imported.
    """
    import os
    import sys
    import tempfile

    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    package_dir = package_dir or Path(__file__).parent
    try:  # the same test numba makes: can a file be created in <package>/routing/__pycache__
        probe = package_dir / "routing" / "__pycache__"
        probe.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=probe):
            return None
    except OSError:
        pass
    target = settings.cache_dir / "numba"
    target.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(target)
    if "numba" in sys.modules:  # numba read its settings when imported
        sys.modules["numba"].config.CACHE_DIR = str(target)
    return target


def _built_once(method):
    """Like :func:`functools.cached_property`, but two threads never build it twice."""
    name = method.__name__

    def getter(self):
        try:
            return self.__dict__[name]
        except KeyError:
            pass
        lock = self._locks.setdefault(name, threading.RLock())  # one lock per engine
        with lock:
            if name not in self.__dict__:
                self.__dict__[name] = method(self)
            return self.__dict__[name]

    getter.__doc__ = method.__doc__
    return property(getter)


@dataclass
class Services:
    settings: Settings
    db: Database
    categories: CategoryTable
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _locks: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        use_jit_cache(settings)
        db = open_database(settings.database_url, spatialite=settings.spatialite,
                           synchronous=settings.sqlite_synchronous)
        return cls(settings, db, load_categories(settings.categories_file))

    # -- data-derived engines (built lazily, thread-safe) ---------------------------------

    @_built_once
    def units(self):
        from geo_sigap.storage.units import load_units

        with self.db.session() as s:
            return load_units(s)

    @_built_once
    def coverage_bbox(self) -> tuple[float, float, float, float] | None:
        from geo_sigap.storage.units import coverage_bbox

        with self.db.session() as s:
            return coverage_bbox(s)

    @_built_once
    def reverse_geocoder(self):
        """Point → RT/RW/kelurahan over the stored units (:mod:`geo_sigap.geocoding`)."""
        from geo_sigap.geocoding.reverse import ReverseGeocoder

        return ReverseGeocoder.from_units(self.units,
                                          gap_tolerance_m=self.settings.gap_tolerance_m)

    @_built_once
    def forward_geocoder(self):
        """Text → ranked candidates from units, street names and the gazetteer (offline);
        Nominatim after a weak offline answer only when ``online_geocoder`` is on."""
        from geo_sigap.geocoding.forward import ForwardGeocoder
        from geo_sigap.geocoding.online import CombinedGeocoder, NominatimGeocoder
        from geo_sigap.geocoding.sources import load_gazetteer, streets_from_file

        reverse = self.reverse_geocoder
        road, gaz = self.settings.road_network, self.settings.gazetteer_file
        from geo_sigap.routing.lines import road_options

        streets = (streets_from_file(road, road_options(self.settings))
                   if road and Path(road).exists() else None)
        gazetteer = load_gazetteer(gaz) if gaz and Path(gaz).exists() else None
        forward = ForwardGeocoder(reverse.units, streets, gazetteer, reverse=reverse)
        if self.settings.online_geocoder:
            forward = CombinedGeocoder(forward, NominatimGeocoder(
                enabled=True, reverse=reverse, viewbox=reverse.coverage_bbox))
        return forward

    @_built_once
    def routing(self):
        """The road-network routing engine, or ``None`` when no network is configured."""
        from geo_sigap.routing.engine import RoutingEngine

        if self.settings.osrm_url:
            from geo_sigap.routing.osrm import OsrmEngine

            return OsrmEngine(self.settings.osrm_url)
        if not self.settings.road_network:
            return None
        from geo_sigap.routing.graph import load_or_build
        from geo_sigap.routing.lines import road_options
        from geo_sigap.routing.profiles import load_routing_config

        config = load_routing_config(self.settings.routing_speeds_file)
        graph = load_or_build(self.settings.road_network, config,
                              self.settings.cache_dir / "routing",
                              options=road_options(self.settings), isolate_gdal=True)
        engine = RoutingEngine(graph, config)
        engine.warm_up()
        return engine

    @_built_once
    def http_transport(self):
        """HTTP calls to the chat channels' APIs (:mod:`geo_sigap.channels.outbound`);
        used only for channels that have credentials configured."""
        from geo_sigap.channels.outbound import HttpxTransport

        return HttpxTransport()

    @_built_once
    def analytics_history(self):
        """The incident history kept up to date incrementally for the live analytics
        (:class:`geo_sigap.analytics.from_storage.StorageHistory`)."""
        from geo_sigap.analytics.from_storage import StorageHistory

        return StorageHistory(self.db)

    @_built_once
    def analytics(self):
        """KPIs, heat, hotspots and periods for the web map, cached per quarter partition
        (:class:`geo_sigap.analytics.incremental.LiveAnalytics`)."""
        from geo_sigap.analytics.incremental import LiveAnalytics

        history = self.analytics_history
        return LiveAnalytics(history.store, history.units, self.categories)

    def analytics_data(self, start=None, end=None):
        """Incidents (``start <= reported_at < end``, all when not given), units and teams
        as analytics frames, read now (the CLI, the rakor report)."""
        from geo_sigap.analytics.from_storage import load_from_storage

        return load_from_storage(self.db, self.categories, start=start, end=end)

    def report_data(self, quarter):
        """The analytics frames the rakor report of ``quarter`` reads (its quarters only;
        :func:`geo_sigap.analytics.from_storage.load_report_data`)."""
        from geo_sigap.analytics.from_storage import load_report_data

        return load_report_data(self.db, self.categories, quarter)

    def post_proposals(self, units, target_min: float = 15.0):
        """Per role, the best moves of a post on the road network (RTs gained within
        ``target_min``); ``None`` without a local road network (the pack then leaves the
        section out)."""
        from geo_sigap.routing.engine import RoutingEngine

        engine = self.routing
        if not isinstance(engine, RoutingEngine):
            return None
        from geo_sigap.analytics.placement import post_proposals
        from geo_sigap.storage.teams import list_teams

        with self.db.session() as s:
            teams = list_teams(s)
        return post_proposals(engine, units, teams, target_min)

    def print_base_layers(self):
        """Streets (the road network's named lines), landmarks (the gazetteer) and the
        teams' posts, for the printed maps of the rakor pack
        (:class:`geo_sigap.maps.printed.BaseLayers`; empty parts when not configured)."""
        import pandas as pd

        from geo_sigap.geocoding.sources import load_gazetteer
        from geo_sigap.maps.printed import BaseLayers
        from geo_sigap.maps.roads import roads_geojson
        from geo_sigap.storage.teams import list_teams

        roads = self.settings.road_network
        gaz = self.settings.gazetteer_file
        with self.db.session() as s:
            posts = pd.DataFrame([{"name": t.name, "role": t.role.value, "lon": t.post[0],
                                   "lat": t.post[1]} for t in list_teams(s)],
                                 columns=["name", "role", "lon", "lat"])
        return BaseLayers.from_files(
            roads_geojson(roads, self.settings.cache_dir) if roads and Path(roads).exists()
            else None,
            load_gazetteer(gaz) if gaz and Path(gaz).exists() else None, posts)

    def rakor_pack(self, quarter, kecamatan=None, pdf: bool = False) -> dict:
        """Paths of the rakor pack (``html``, ``pdf``, ``json``) of ``quarter``, built once
        per data version under ``cache_dir/rakor`` (the /analisis page); the PDF is
        printed when ``pdf`` asks for it."""
        from geo_sigap.analytics.report.cache import cached_pack

        return cached_pack(self, quarter, kecamatan, self.settings.cache_dir / "rakor", pdf)

    def warm_up(self) -> None:
        """Build the geocoders, the routing engine (and compile their kernels) and the
        analytics history now, so that the first request does not wait for them."""
        from geo_sigap.dispatch.users import dummy_password_hash

        dummy_password_hash()  # unknown-user logins cost one hash from the first on
        _ = self.reverse_geocoder
        _ = self.forward_geocoder
        _ = self.routing
        from geo_sigap.analytics._kernels import warm_up as warm_gi_kernel

        warm_gi_kernel()
        self.analytics_history.store()

    def reload(self) -> None:
        """Forget derived engines (after an import)."""
        with self._lock:
            for name in ("units", "coverage_bbox", "reverse_geocoder", "forward_geocoder",
                         "routing"):
                self.__dict__.pop(name, None)

    def close(self) -> None:
        self.db.dispose()
