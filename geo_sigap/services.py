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


def _build_routing(settings: Settings):
    """The routing engine of ``settings`` (graph from its cache in ``cache_dir/routing``
    or built from the road file and cached; kernels compiled or loaded and warmed), an
    OSRM client when ``osrm_url`` is set, ``None`` without a road network."""
    if settings.osrm_url:
        from geo_sigap.routing.osrm import OsrmEngine

        return OsrmEngine(settings.osrm_url)
    if not settings.road_network:
        return None
    from geo_sigap.routing.engine import RoutingEngine
    from geo_sigap.routing.graph import load_or_build
    from geo_sigap.routing.lines import road_options
    from geo_sigap.routing.profiles import load_routing_config

    config = load_routing_config(settings.routing_speeds_file)
    graph = load_or_build(settings.road_network, config, settings.cache_dir / "routing",
                          options=road_options(settings), isolate_gdal=True)
    # the engine's prepared data (CSR, snapping pieces, landmark tables) beside the graph
    engine = RoutingEngine(graph, config, cache_dir=settings.cache_dir / "routing")
    engine.warm_up()
    return engine


def _cached_streets(settings: Settings):
    """The road file's named streets (:func:`geo_sigap.geocoding.sources.
    streets_from_file`), kept in ``cache_dir/geocoding`` beside the graph cache so that a
    later start does not parse the road file again (an OSM city file takes seconds
    through osmnx; the cache loads in a fraction of that)."""
    from geo_sigap.geocoding.sources import streets_from_file
    from geo_sigap.routing.lines import road_options

    options = road_options(settings)
    target = _streets_cache_path(settings.road_network, options,
                                 settings.cache_dir / "geocoding")
    cached = _load_streets(target)
    if cached is not None:
        return cached
    streets = streets_from_file(settings.road_network, options)
    try:
        _save_streets(streets, target)
    except OSError as exc:  # a read-only data dir: parse again next start
        log.warning("street cache not written (%s): %s", target, exc)
    return streets


WARM_PARTS = {"routing": "jaringan jalan & kernel rute", "gi": "kernel Gi*",
              "streets": "nama jalan"}


def warm_caches(settings: Settings, parts=tuple(WARM_PARTS),
                step=lambda part, label: None) -> None:
    """Fill the caches a start reads, without opening the database: ``routing`` (the
    road graph and its compiled kernels), ``gi`` (the Gi* kernel), ``streets`` (the
    forward geocoder's street names); ``step(part, label)`` after each. The demo's first
    start runs ``routing`` in a child process (:func:`start_cache_warming`) while it
    loads the database, so that both cores work; the service then loads them all."""
    use_jit_cache(settings)
    road = settings.road_network
    has_road = bool(road) and Path(road).exists() and not settings.osrm_url
    for part in parts:
        if part == "routing" and has_road:
            _build_routing(settings)
        elif part == "gi":
            from geo_sigap.analytics._kernels import warm_up as warm_gi_kernel

            warm_gi_kernel()
        elif part == "streets" and has_road:
            _cached_streets(settings)
        step(part, WARM_PARTS[part])


_WARM_MAIN = """
import sys
from geo_sigap.services import warm_caches
from geo_sigap.settings import Settings
warm_caches(Settings(), sys.argv[1].split(","),
            lambda part, label: print("STEP", part, flush=True))
"""
_WARM_LABEL = "menyiapkan jaringan jalan & kernel rute (proses kedua)"


class CacheWarming:
    """A child process running :func:`warm_caches` (see :func:`start_cache_warming`)."""

    def __init__(self, env: dict[str, str], parts, progress) -> None:
        import os
        import subprocess
        import sys

        self.progress, self.parts = progress, list(parts)
        self.done: list[str] = []
        self.output: list[str] = []
        self._finished = threading.Event()  # every part done, or the child's output ended
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WARM_MAIN, ",".join(self.parts)],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self._reader = threading.Thread(target=self._read, name="geo-sigap-cache-warming",
                                        daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for line in self.proc.stdout:
                if line.startswith("STEP "):
                    self.done.append(line.split()[1])
                    self.progress(_WARM_LABEL, len(self.done), len(self.parts))
                    if len(self.done) == len(self.parts):
                        self._finished.set()
                else:
                    self.output.append(line.rstrip("\n"))
        finally:
            self._finished.set()

    def stop(self) -> None:
        """End the child now (its half-written caches are never read: atomic renames)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def wait(self) -> bool:
        """Wait for the child's parts; ``True`` when every part was done. Once the last
        is done (its caches written: atomic renames) the child's own exit — about a
        second of a big interpreter shutting down — is not waited for. A failure is
        logged and harmless: the service's own warm-up builds what is missing."""
        self._finished.wait()
        if len(self.done) == len(self.parts):
            threading.Thread(target=self.proc.wait, name="geo-sigap-cache-warming-exit",
                             daemon=True).start()  # reaped when it has exited
            return True
        self.proc.wait()
        self._reader.join(10)
        if self.proc.returncode != 0:
            log.warning("cache warming failed (%s): %s", self.proc.returncode,
                        "\n".join(self.output[-20:]))
            return False
        return True


def start_cache_warming(env: dict[str, str], parts=("routing",),
                        progress=lambda step, done, total: None) -> CacheWarming:
    """Start :func:`warm_caches` of ``parts`` in a child process, with the
    ``GEO_SIGAP_*`` variables ``env`` over this process's environment;
    ``progress(step, done, total)`` is told each finished part."""
    progress(_WARM_LABEL, 0, len(parts))
    return CacheWarming(env, parts, progress)


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
    _warm_thread: threading.Thread | None = field(default=None, repr=False)
    #: set by the warm-up once a suggestion no longer waits (routing engine and team list)
    routing_warm: threading.Event = field(default_factory=threading.Event, repr=False)
    #: set when the whole warm-up has ended (engines built, memory frozen and trimmed)
    warm: threading.Event = field(default_factory=threading.Event, repr=False)
    #: the units part of the change stamp read with :attr:`units`
    _units_token: tuple | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from geo_sigap._malloc import limit_arenas

        limit_arenas(settings.malloc_arena_max)  # before the request threads start
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        use_jit_cache(settings)
        db = open_database(settings.database_url, spatialite=settings.spatialite,
                           synchronous=settings.sqlite_synchronous)
        return cls(settings, db, load_categories(settings.categories_file))

    # -- data-derived engines (built lazily, thread-safe) ---------------------------------

    @_built_once
    def units(self):
        from geo_sigap.storage.incidents import change_stamp
        from geo_sigap.storage.units import load_units

        with self.db.session() as s:
            units = load_units(s)
            self._units_token = change_stamp(s)[2:]
        return units

    def _units_of(self, token: tuple):
        """:attr:`units` when they are the stored units of the change stamp's units part
        ``token`` (the analytics history then shares their polygons), else ``None``."""
        units = self.units
        return units if self._units_token == token else None

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
        from geo_sigap.geocoding.sources import load_gazetteer

        reverse = self.reverse_geocoder
        road, gaz = self.settings.road_network, self.settings.gazetteer_file
        streets = self._streets() if road and Path(road).exists() else None
        gazetteer = load_gazetteer(gaz) if gaz and Path(gaz).exists() else None
        forward = ForwardGeocoder(reverse.units, streets, gazetteer, reverse=reverse)
        if self.settings.online_geocoder:
            forward = CombinedGeocoder(forward, NominatimGeocoder(
                enabled=True, reverse=reverse, viewbox=reverse.coverage_bbox))
        return forward

    def _streets(self):
        """The road file's named streets, cached (:func:`_cached_streets`)."""
        return _cached_streets(self.settings)

    @_built_once
    def routing(self):
        """The road-network routing engine, or ``None`` when no network is configured."""
        return _build_routing(self.settings)

    @_built_once
    def units_version(self) -> str:
        """A fingerprint of the stored units, the same in every process
        (:func:`geo_sigap.maps.coverage_cache.units_version`)."""
        from geo_sigap.maps.coverage_cache import units_version

        return units_version(self.units)

    @_built_once
    def coverage(self):
        """Travel-time coverage layers per version of the teams' posts and the units, kept
        in memory and under ``cache_dir/coverage`` for every worker
        (:class:`geo_sigap.maps.coverage_cache.CoverageCache`)."""
        from geo_sigap.domain.teams import Role
        from geo_sigap.maps.coverage_cache import CoverageCache, teams_version
        from geo_sigap.maps.coverage_layer import COVERAGE_LEVELS, coverage_collection
        from geo_sigap.storage.teams import list_teams

        def version() -> str:
            with self.db.session() as s:
                return f"{teams_version(s)}-{self.units_version}"

        def compute(level: str, category: str, role: str) -> dict:
            with self.db.session() as s:
                teams = list_teams(s)
            return coverage_collection(
                self.routing, self.units, teams, COVERAGE_LEVELS[level],
                category=self.categories.get(category) if category else None,
                role=Role.parse(role) if role else None)

        return CoverageCache(self.settings.cache_dir / "coverage", compute, version)

    def has_road_network(self) -> bool:
        """A local road network to compute coverage on (OSRM answers routes only)."""
        from geo_sigap.routing.engine import RoutingEngine

        road = self.settings.road_network
        if self.settings.osrm_url or not road or not Path(road).exists():
            return False
        return isinstance(self.routing, RoutingEngine)

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

        return StorageHistory(self.db, snapshot_dir=self.settings.cache_dir / "history",
                              units_of=self._units_of)

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
        """Build the engines (and load or compile their kernels) now, so that requests do
        not wait for them: first what a team suggestion needs (the routing engine, the
        team list), then what a report needs (the reverse geocoder), the Gi* kernel, the
        forward geocoder and the analytics history."""
        try:
            engine = self.routing  # before any other import: nothing delays it
            if engine is not None:
                from geo_sigap.dispatch.ports import current_teams

                current_teams(self)  # read once: the first suggestion finds it cached
        finally:
            self.routing_warm.set()
        from geo_sigap.dispatch.users import dummy_password_hash

        dummy_password_hash()  # unknown-user logins cost one hash from the first on
        _ = self.reverse_geocoder
        from geo_sigap.analytics._kernels import warm_up as warm_gi_kernel

        warm_gi_kernel()
        _ = self.forward_geocoder
        if self.has_road_network():  # the coverage layers /peta asks for first (a thread)
            self.coverage.refresh()
        self.analytics_history.store()

    def start_warm_up(self) -> threading.Thread:
        """Run :meth:`warm_up` in a background thread (once per ``Services``; later calls
        return the same thread). Errors are logged, never raised: a request that needs
        the failed engine raises the real error. When it is done, the long-lived engines
        are moved out of the garbage collector's view (``gc.freeze``) so that full
        collections do not pause requests."""
        with self._lock:
            if self._warm_thread is None:
                self._warm_thread = threading.Thread(target=self._warm_up_logged,
                                                     name="geo-sigap-warm-up", daemon=True)
                self._warm_thread.start()
            return self._warm_thread

    def wait_for_routing(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the warm-up's routing part (started by
        :meth:`start_warm_up`); ``True`` when a suggestion no longer waits for it."""
        return self.routing_warm.wait(max(0.0, timeout)) if self._warm_thread else False

    def _warm_up_logged(self) -> None:
        import gc
        import time

        t0 = time.perf_counter()
        try:
            self.warm_up()
            log.info("warm-up done in %.1f s", time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - a request will raise the real error later
            log.exception("warm-up failed")
        gc.unfreeze()  # the start's garbage too (frozen by resume_collections)
        gc.collect()
        gc.freeze()
        from geo_sigap._malloc import release_free_memory

        release_free_memory()  # the builds' temporary tables, freed but still resident
        self.warm.set()

    def reload(self) -> None:
        """Forget derived engines (after an import)."""
        with self._lock:
            for name in ("units", "units_version", "coverage_bbox", "reverse_geocoder",
                         "forward_geocoder", "routing", "coverage"):
                self.__dict__.pop(name, None)

    def close(self) -> None:
        self.db.dispose()


# -- the forward geocoder's street cache ------------------------------------------------

_STREETS_FORMAT = "1"


def _streets_cache_path(road: str | Path, options, folder: Path) -> Path:
    """Keyed by the road file's content hash, the reading options and the format."""
    import hashlib

    road = Path(road)
    digest = hashlib.sha256()
    with open(road, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    key = f"{digest.hexdigest()[:16]}-{options.fingerprint()}-v{_STREETS_FORMAT}"
    return folder / f"{road.stem}.{key}.streets.npz"


def _save_streets(streets, target: Path) -> None:
    """``name, highway, geometry`` (EPSG:4326) as plain arrays: names, classes and the
    geometries' WKB in one byte buffer with offsets (no pickle); atomic rename."""
    import os
    import tempfile

    import numpy as np
    import shapely

    wkb = shapely.to_wkb(streets.geometry.to_numpy())
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    buf = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    highway = ["" if not isinstance(h, str) else h for h in streets["highway"]]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=target.parent)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, name=np.array(list(streets["name"]), dtype=str),
                     highway=np.array(highway, dtype=str), wkb=buf, offsets=offsets)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_streets(target: Path):
    """The streets saved by :func:`_save_streets`, or ``None`` (absent or unreadable)."""
    if not target.exists():
        return None
    import geopandas as gpd
    import numpy as np
    import shapely

    try:
        with np.load(target, allow_pickle=False) as data:
            names, highway = data["name"], data["highway"]
            buf, offsets = data["wkb"].tobytes(), data["offsets"]
    except (OSError, KeyError, ValueError) as exc:
        log.warning("street cache unreadable, rebuilt (%s): %s", target, exc)
        return None
    geoms = shapely.from_wkb([buf[a:b] for a, b in zip(offsets[:-1], offsets[1:])])
    return gpd.GeoDataFrame(
        {"name": names.astype(object),
         "highway": [h or None for h in highway.tolist()], "geometry": geoms},
        geometry="geometry", crs=4326)
