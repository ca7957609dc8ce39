"""The road graph: built once from OSM XML/PBF, osmnx GraphML or road lines, cached as ``.npz``.

:class:`RoadGraph` holds plain numpy arrays — node coordinates (lon/lat, EPSG:4326),
directed edges with their length (metres, great-circle) and a travel time per profile
(seconds; ``inf`` where the profile may not drive), the edge in the opposite direction
of the same road (its *twin*, ``-1`` on one-way streets), and every edge's geometry.
Loading the cache takes a fraction of a second for a city (no networkx, no pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geo_sigap.errors import ConfigError, ImportFailed
from geo_sigap.routing.profiles import RoutingConfig, oneway_direction, road_class

FORMAT_VERSION = "1"
EARTH_RADIUS_M = 6_371_008.8
_MODE_TAGS = ("motorcycle", "motorcar", "motor_vehicle", "vehicle", "access", "service",
              "junction", "oneway", "maxspeed", "highway", "name", "area", "toll")


@dataclass(slots=True)
class RoadGraph:
    """Directed road graph as numpy arrays.

    Attributes
    ----------
    node_lon, node_lat
        Degrees, EPSG:4326, shape ``(n,)``.
    node_id
        Source ids (OSM node ids, or sequential for line files), ``int64``.
    edge_u, edge_v
        Node indices of each directed edge, ``int32``, shape ``(m,)``.
    edge_length
        Metres (great-circle).
    edge_time
        Seconds, shape ``(len(profiles), m)``; ``inf`` where the profile may not drive.
    edge_twin
        Index of the opposite-direction edge of the same road, ``-1`` if none.
    geom_ptr, geom_lon, geom_lat
        Edge ``e``'s polyline is ``geom_lon[geom_ptr[e]:geom_ptr[e+1]]`` (from u to v).
    edge_name, edge_class
        Street name and highway class (strings).
    """

    node_lon: np.ndarray
    node_lat: np.ndarray
    node_id: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_time: np.ndarray
    edge_twin: np.ndarray
    geom_ptr: np.ndarray
    geom_lon: np.ndarray
    geom_lat: np.ndarray
    edge_name: np.ndarray
    edge_class: np.ndarray
    profiles: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    def profile_index(self, profile: str) -> int:
        try:
            return self.profiles.index(profile)
        except ValueError:
            raise ConfigError(
                f"Profil perjalanan tidak dikenal: {profile!r}. Pilihan: {', '.join(self.profiles)}",
                f"Unknown travel profile: {profile!r}. Choices: {', '.join(self.profiles)}",
            ) from None

    def edge_coords(self, e: int) -> np.ndarray:
        """``(k, 2)`` lon/lat vertices of edge ``e`` from u to v."""
        a, b = self.geom_ptr[e], self.geom_ptr[e + 1]
        return np.column_stack([self.geom_lon[a:b], self.geom_lat[a:b]])

    # ------------------------------------------------------------------ cache
    def save(self, path: str | Path) -> Path:
        """Write the graph to an uncompressed ``.npz`` (atomic rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        meta = dict(self.meta, profiles=list(self.profiles), format=FORMAT_VERSION)
        fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
        os.close(fd)
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> RoadGraph:
        """Read a graph written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {name: data[name] for name in _ARRAYS}
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(
                f"Berkas jaringan jalan tersimpan tidak dapat dibaca: {path} ({exc})",
                f"Cannot read the cached road network: {path} ({exc})",
            ) from exc
        if meta.get("format") != FORMAT_VERSION:
            raise ConfigError(
                f"Berkas jaringan jalan tersimpan {path} berformat lama; buat ulang",
                f"Cached road network {path} has an old format; rebuild it",
            )
        return cls(profiles=tuple(meta.pop("profiles")), meta=meta, **arrays)


_ARRAYS = ("node_lon", "node_lat", "node_id", "edge_u", "edge_v", "edge_length", "edge_time",
           "edge_twin", "geom_ptr", "geom_lon", "geom_lat", "edge_name", "edge_class")


# ---------------------------------------------------------------------- builders
def from_edges(
    node_lon: Sequence[float],
    node_lat: Sequence[float],
    edges: Iterable[tuple[int, int, dict[str, Any], Sequence[tuple[float, float]] | None]],
    config: RoutingConfig,
    *,
    node_id: Sequence[int] | None = None,
    meta: dict[str, Any] | None = None,
) -> RoadGraph:
    """Build a graph from ways between node indices.

    Parameters
    ----------
    node_lon, node_lat
        Node coordinates, degrees EPSG:4326.
    edges
        ``(u, v, tags, coords)`` per road piece between two nodes, in the way's drawing
        order; ``tags`` are OSM-style (``highway``, ``oneway``, ``motorcar`` …);
        ``coords`` the lon/lat polyline from u to v (``None``: straight). Directions
        come from ``oneway``; pieces no profile may use are dropped.
    """
    lon = np.asarray(node_lon, dtype=np.float64)
    lat = np.asarray(node_lat, dtype=np.float64)
    directed = []
    for u, v, tags, coords in edges:
        pts = np.asarray(coords if coords is not None else [(lon[u], lat[u]), (lon[v], lat[v])],
                         dtype=np.float64)
        speeds = [config.profiles[p].speed_ms(tags) for p in config.names]
        if all(s is None for s in speeds):
            continue
        length = float(polyline_length_m(pts[:, 0], pts[:, 1]))
        times = [length / s if s else np.inf for s in speeds]
        way = oneway_direction(tags)
        info = (str(tags.get("name") or ""), road_class(tags) or "")
        if way >= 0:
            directed.append((u, v, length, times, pts, info))
        if way <= 0:
            directed.append((v, u, length, times, pts[::-1], info))
    return _assemble(lon, lat, node_id, directed, config, meta or {})


def _assemble(lon, lat, node_id, directed, config: RoutingConfig, meta) -> RoadGraph:
    m = len(directed)
    if m == 0:
        raise ImportFailed(
            "Jaringan jalan kosong: tidak ada ruas yang boleh dilalui motor atau mobil",
            "The road network is empty: no way usable by motorcycle or car",
        )
    edge_u = np.fromiter((d[0] for d in directed), np.int32, m)
    edge_v = np.fromiter((d[1] for d in directed), np.int32, m)
    length = np.fromiter((d[2] for d in directed), np.float64, m)
    times = np.array([d[3] for d in directed], dtype=np.float64).T.copy()
    counts = np.fromiter((len(d[4]) for d in directed), np.int64, m)
    geom_ptr = np.zeros(m + 1, np.int64)
    np.cumsum(counts, out=geom_ptr[1:])
    coords = np.concatenate([d[4] for d in directed])
    names = np.array([d[5][0] for d in directed], dtype=str)
    classes = np.array([d[5][1] for d in directed], dtype=str)
    # keep only nodes that some edge touches, renumbered
    used = np.unique(np.concatenate([edge_u, edge_v]))
    remap = np.full(len(lon), -1, np.int64)
    remap[used] = np.arange(len(used))
    ids = np.asarray(node_id if node_id is not None else np.arange(len(lon)), dtype=np.int64)
    edge_u = remap[edge_u].astype(np.int32)
    edge_v = remap[edge_v].astype(np.int32)
    return RoadGraph(
        node_lon=np.ascontiguousarray(lon[used]), node_lat=np.ascontiguousarray(lat[used]),
        node_id=ids[used], edge_u=edge_u, edge_v=edge_v, edge_length=length,
        edge_time=times, edge_twin=_twins(edge_u, edge_v, length, coords, geom_ptr),
        geom_ptr=geom_ptr, geom_lon=np.ascontiguousarray(coords[:, 0]),
        geom_lat=np.ascontiguousarray(coords[:, 1]), edge_name=names, edge_class=classes,
        profiles=config.names,
        meta=dict(meta, speeds=config.fingerprint(), built_at=time.time()),
    )


def _twins(edge_u, edge_v, length, coords, geom_ptr) -> np.ndarray:
    """The opposite edge of the same road: reversed ends, same length and middle vertex."""
    by_key: dict[tuple[int, int], list[int]] = {}
    for e, (u, v) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), strict=True)):
        by_key.setdefault((u, v), []).append(e)
    twin = np.full(len(edge_u), -1, np.int32)
    for e, (u, v) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), strict=True)):
        if twin[e] >= 0:
            continue
        for f in by_key.get((v, u), ()):
            if twin[f] >= 0 or f == e or abs(length[f] - length[e]) > 0.01 + 1e-6 * length[e]:
                continue
            a, b = geom_ptr[e], geom_ptr[e + 1]
            c, d = geom_ptr[f], geom_ptr[f + 1]
            if b - a == d - c and np.allclose(coords[a:b], coords[c:d][::-1], atol=1e-9):
                twin[e], twin[f] = f, e
                break
    return twin


def from_osm_xml(path: str | Path, config: RoutingConfig) -> RoadGraph:
    """Read an OSM XML file with ``osmnx.graph_from_xml`` (offline).

    Every way with a ``highway`` class some profile may use is kept (``retain_all``:
    islands too); degree-2 nodes are merged with ``osmnx.simplify_graph`` only where
    the merged pieces allow the same profiles, and travel times are summed piece by
    piece before merging.
    """
    import osmnx as ox

    path = Path(path)
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(saved) | set(_MODE_TAGS))
    try:
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:  # noqa: BLE001 - osmnx raises many kinds on bad XML
        raise ImportFailed(
            f"Berkas OSM tidak dapat dibaca: {path} ({exc})",
            f"Cannot read the OSM file: {path} ({exc})",
        ) from exc
    finally:
        ox.settings.useful_tags_way = saved
    names = config.names
    drop = []
    for u, v, k, data in G.edges(keys=True, data=True):
        speeds = [config.profiles[p].speed_ms(data) for p in names]
        if all(s is None for s in speeds):
            drop.append((u, v, k))
            continue
        for p, s in zip(names, speeds, strict=True):
            data[f"_t_{p}"] = data["length"] / s if s else float("inf")
        data["_profiles"] = ",".join(p for p, s in zip(names, speeds, strict=True) if s)
        data["_class"] = road_class(data) or ""
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if G.number_of_edges() == 0:
        raise ImportFailed(
            f"Berkas OSM {path} tidak berisi jalan yang dapat dilalui motor atau mobil",
            f"OSM file {path} holds no road usable by motorcycle or car",
        )
    aggs = {"length": sum, **{f"_t_{p}": sum for p in names}}
    G = ox.simplify_graph(G, edge_attrs_differ=["_profiles", "oneway"], edge_attr_aggs=aggs)
    ids = list(G.nodes)
    index = {n: i for i, n in enumerate(ids)}
    lon = np.array([G.nodes[n]["x"] for n in ids], dtype=np.float64)
    lat = np.array([G.nodes[n]["y"] for n in ids], dtype=np.float64)
    directed = []
    for u, v, data in G.edges(data=True):
        geom = data.get("geometry")
        pts = (np.asarray(geom.coords, dtype=np.float64) if geom is not None
               else np.array([(lon[index[u]], lat[index[u]]), (lon[index[v]], lat[index[v]])]))
        name = data.get("name") or ""
        if isinstance(name, list):
            name = " / ".join(sorted(set(map(str, name))))
        cls = data.get("_class") or ""
        if isinstance(cls, list):
            cls = sorted(set(cls))[0]
        times = [float(data[f"_t_{p}"]) for p in names]
        directed.append((index[u], index[v], float(data["length"]), times, pts, (str(name), cls)))
    return _assemble(lon, lat, np.array(ids, dtype=np.int64), directed, config,
                     {"source": str(path), "format": "osm", "joined_ends": 0,
                      "source_columns": {"highway": "highway", "oneway": "oneway",
                                         "name": "name", "maxspeed": "maxspeed"},
                      "oneway_encoding": "OSM oneway=yes/-1, junction=roundabout"})


def from_osm_pbf(path: str | Path, config: RoutingConfig) -> RoadGraph:
    """Read an OSM PBF file: converted to OSM XML with ``osmium`` (optional dependency)."""
    try:
        import osmium
    except ImportError:
        raise ConfigError(
            "Membaca .osm.pbf memerlukan paket 'osmium' (pip install osmium), atau ubah "
            "dulu ke .osm dengan: osmium cat berkas.osm.pbf -o berkas.osm",
            "Reading .osm.pbf needs the 'osmium' package (pip install osmium), or convert "
            "it first: osmium cat file.osm.pbf -o file.osm",
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "roads.osm"
        writer = osmium.SimpleWriter(str(xml))
        try:
            for obj in osmium.FileProcessor(str(path)):
                writer.add(obj)
        finally:
            writer.close()
        graph = from_osm_xml(xml, config)
    graph.meta["source"] = str(path)
    return graph


def from_lines(source: Any, config: RoutingConfig, options: Any = None) -> RoadGraph:
    """Road lines (GeoJSON, Shapefile, GPKG path or a GeoDataFrame) noded at shared vertices.

    Columns are matched by name and synonym (``highway``/``fclass``/``TYPE``/``JENIS``
    …, ``oneway``/``ONEWAY`` …) or by ``options`` (:class:`~geo_sigap.routing.lines.
    RoadOptions`); dangling ends are joined within its snap tolerance. See
    :mod:`geo_sigap.routing.lines`.
    """
    from geo_sigap.routing.lines import graph_from_lines

    return graph_from_lines(source, config, options)


def from_place(query: str | Any, config: RoutingConfig) -> RoadGraph:
    """Download the network of a place name or polygon with osmnx (needs the internet).

    Optional path for set-up only; never used by the service at run time or in tests.
    """
    import osmnx as ox

    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "place.osm"
        saved = list(ox.settings.useful_tags_way)
        ox.settings.useful_tags_way = sorted(set(saved) | set(_MODE_TAGS))
        try:
            G = (ox.graph_from_place(query, network_type="all", simplify=False, retain_all=True)
                 if isinstance(query, str) else
                 ox.graph_from_polygon(query, network_type="all", simplify=False,
                                       retain_all=True))
        finally:
            ox.settings.useful_tags_way = saved
        ox.io.save_graph_xml(G, xml)
        graph = from_osm_xml(xml, config)
    graph.meta["source"] = f"osm:{query}"
    return graph


def build_graph(path: str | Path, config: RoutingConfig, options: Any = None) -> RoadGraph:
    """Build from a file, choosing the reader by its suffix.

    ``.osm``/``.xml`` OSM XML, ``.pbf`` OSM PBF, ``.graphml`` an osmnx graph
    (``ox.save_graphml``), anything else road lines (GeoJSON, Shapefile, GeoPackage)
    read with ``options`` (:class:`~geo_sigap.routing.lines.RoadOptions`).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"Berkas jaringan jalan tidak ditemukan: {path}",
            f"Road network file not found: {path}",
        )
    name = path.name.lower()
    if name.endswith(".pbf"):
        graph = from_osm_pbf(path, config)
    elif name.endswith((".osm", ".xml", ".osm.xml")):
        graph = from_osm_xml(path, config)
    elif name.endswith(".graphml"):
        from geo_sigap.routing.graphml import graph_from_graphml

        graph = graph_from_graphml(path, config)
    else:
        return from_lines(path, config, options)
    if "metric_crs" not in graph.meta:
        from geo_sigap.domain.projection import metric_crs_for_lonlat

        graph.meta["metric_crs"] = metric_crs_for_lonlat(graph.node_lon, graph.node_lat)
    return graph


def cache_path(path: str | Path, config: RoutingConfig, cache_dir: str | Path,
               options: Any = None) -> Path:
    """Cache file for ``path``: keyed by the file's content hash, the speeds and the
    reading options (column mapping, snap tolerance)."""
    from geo_sigap.routing.lines import RoadOptions

    path = Path(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    opts = (options or RoadOptions()).fingerprint()
    key = f"{digest.hexdigest()[:16]}-{config.fingerprint()}-{opts}-v{FORMAT_VERSION}"
    return Path(cache_dir) / f"{path.stem}.{key}.roads.npz"


def default_cache_dir() -> Path:
    """Where graphs (and engines' prepared data) are cached without a ``cache_dir``."""
    return Path.home() / ".cache" / "geo_sigap" / "routing"


def load_or_build(
    path: str | Path,
    config: RoutingConfig,
    cache_dir: str | Path | None = None,
    *,
    progress: Any = None,
    options: Any = None,
    isolate_gdal: bool = False,
) -> RoadGraph:
    """Load the cached graph for ``path``, building and caching it on first use.

    ``cache_dir`` defaults to ``~/.cache/geo_sigap/routing``; ``progress`` is an
    optional ``callable(str)`` told what happens (Bahasa Indonesia); ``options``
    (:class:`~geo_sigap.routing.lines.RoadOptions`) say how to read road lines.
    ``isolate_gdal``: build files that need GDAL (Shapefile, GeoPackage, PBF) in a
    child process — the service does, because GDAL and a SpatiaLite extension loaded
    in one process corrupt each other's heap (see :mod:`geo_sigap.maps.roads`).
    """
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache_path(path, config, cache_dir, options)
    if target.exists():
        try:
            return RoadGraph.load(target)
        except ConfigError:
            pass  # unreadable or old cache: rebuild below
    if progress:
        progress(f"Membangun jaringan jalan dari {path} …")
    if isolate_gdal and _needs_gdal(path):
        _build_in_child(path, config, cache_dir, options, target)
        return RoadGraph.load(target)
    graph = build_graph(path, config, options)
    graph.save(target)
    if progress:
        progress(f"Jaringan jalan: {graph.n_nodes:,} simpul, {graph.n_edges:,} ruas; "
                 .replace(",", ".") + f"disimpan di {target}")
    return graph


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (arrays or scalars, degrees EPSG:4326)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def polyline_length_m(lon: np.ndarray, lat: np.ndarray) -> float:
    """Length of a lon/lat polyline in metres (sum of great-circle pieces)."""
    if len(lon) < 2:
        return 0.0
    return float(np.sum(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])))


def _needs_gdal(path: str | Path) -> bool:
    return not Path(path).name.lower().endswith((".osm", ".xml", ".graphml", ".geojson",
                                                 ".json"))


def _build_in_child(path, config: RoutingConfig, cache_dir, options, target: Path) -> None:
    """``python -m geo_sigap.routing.graph``: build and cache ``path`` in a child process."""
    import subprocess
    import sys

    from geo_sigap.routing.lines import RoadOptions

    opts = options or RoadOptions()
    args = json.dumps({"path": str(path), "cache_dir": str(cache_dir),
                       "speeds": None if config.source == "<bawaan>" else config.source,
                       "columns": dict(opts.columns),
                       "values": {k: dict(v) for k, v in opts.values.items()},
                       "snap": opts.snap_tolerance_m})
    proc = subprocess.run([sys.executable, "-m", "geo_sigap.routing.graph", args],
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode == 3:
        err = json.loads(proc.stdout.strip().splitlines()[-1])
        raise ImportFailed(err["id"], err["en"])
    if proc.returncode != 0 or not target.exists():
        raise ImportFailed(
            f"Jaringan jalan tidak dapat dibangun dari {path}: {proc.stderr[-500:]}",
            f"Cannot build the road network from {path}: {proc.stderr[-500:]}",
        )


def _main(argv: list[str]) -> int:
    from geo_sigap.errors import GeoSigapError
    from geo_sigap.routing.lines import RoadOptions
    from geo_sigap.routing.profiles import load_routing_config

    a = json.loads(argv[0])
    try:
        opts = RoadOptions(columns=a["columns"], values=a["values"], snap_tolerance_m=a["snap"])
        load_or_build(a["path"], load_routing_config(a["speeds"]), a["cache_dir"], options=opts)
    except GeoSigapError as exc:
        print(json.dumps({"id": exc.message("id"), "en": exc.message("en")}))
        return 3
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
