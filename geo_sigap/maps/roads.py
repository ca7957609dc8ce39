"""Road lines for drawing a base map (not for routing): read once, simplify, cache.

GeoJSON and OSM XML are read in this process (json / osmnx + shapely). Shapefile,
GeoPackage and OSM PBF need GDAL (pyogrio); they are read in a child process, because
GDAL's bundled libraries and a SpatiaLite extension loaded into the same process corrupt
each other's heap (seen as "double free or corruption" on exit).

Run as ``python -m geo_sigap.maps.roads ROADS_FILE OUT.geojson`` to build one file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from geo_sigap.errors import ConfigError

log = logging.getLogger(__name__)

ROAD_TOLERANCE_DEG = 1.5e-5  # ≈ 1.7 m at Jambi (EPSG:4326 degrees)
DECIMALS = 6  # ≈ 0.1 m
FORMAT = 1


def _as_text(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _lines_geojson(path: Path) -> list[tuple[str | None, str | None, Any]]:
    data = json.loads(path.read_text("utf-8"))
    feats = data.get("features", []) if data.get("type") == "FeatureCollection" else [data]
    out = []
    for f in feats:
        geom = f.get("geometry")
        if not geom or geom.get("type") not in ("LineString", "MultiLineString"):
            continue
        props = f.get("properties") or {}
        out.append((_as_text(props.get("highway")), _as_text(props.get("name")), shape(geom)))
    return out


def _lines_osm_xml(path: Path) -> list[tuple[str | None, str | None, Any]]:
    import osmnx as ox

    g = ox.graph_from_xml(path, simplify=True, retain_all=True, bidirectional=True)
    seen: set[tuple[int, int]] = set()
    out = []
    for u, v, data in g.edges(data=True):
        pair = (min(u, v), max(u, v))
        if pair in seen:  # the reverse twin of a two-way road
            continue
        seen.add(pair)
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([(g.nodes[u]["x"], g.nodes[u]["y"]),
                                       (g.nodes[v]["x"], g.nodes[v]["y"])])
        out.append((_as_text(data.get("highway")), _as_text(data.get("name")), geom))
    return out


def _lines_gdal(path: Path) -> list[tuple[str | None, str | None, Any]]:
    import geopandas as gpd

    if path.name.lower().endswith(".pbf"):
        gdf = gpd.read_file(path, layer="lines", engine="pyogrio")
        gdf = gdf[gdf["highway"].notna()]
    else:
        gdf = gpd.read_file(path, engine="pyogrio")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    hw = gdf["highway"] if "highway" in gdf else [None] * len(gdf)
    nm = gdf["name"] if "name" in gdf else [None] * len(gdf)
    return [(_as_text(h), _as_text(n), g) for h, n, g in zip(hw, nm, gdf.geometry, strict=True)
            if g is not None and g.geom_type in ("LineString", "MultiLineString")]


def _lines_named(path: Path) -> list[tuple[str | None, str | None, Any]] | None:
    """Lines read as for routing (any column names, osmnx GraphML); ``None`` when the
    file's road classes cannot be read."""
    from geo_sigap.errors import ImportFailed
    from geo_sigap.routing.lines import named_lines

    try:
        gdf = named_lines(path)
    except ImportFailed:
        return None
    return [(_as_text(h), _as_text(n), g) for h, n, g in
            zip(gdf["highway"], gdf["name"], gdf.geometry, strict=True)]


def build_roads_geojson(path: Path) -> bytes:
    """Read ``path`` and return simplified road lines as GeoJSON bytes (EPSG:4326).

    Properties: ``highway`` (class), ``name``. Lines are simplified with
    Douglas-Peucker at :data:`ROAD_TOLERANCE_DEG` and rounded to 6 decimals.
    """
    name = path.name.lower()
    if name.endswith((".osm", ".xml")):
        rows = _lines_osm_xml(path)
    elif name.endswith(".pbf"):
        rows = _lines_gdal(path)
    else:
        rows = _lines_named(path) or (_lines_geojson(path) if name.endswith(
            (".geojson", ".json")) else _lines_gdal(path))
    geoms = shapely.set_precision(
        shapely.simplify([g for _, _, g in rows], ROAD_TOLERANCE_DEG, preserve_topology=False),
        10 ** -DECIMALS) if rows else []
    features = [
        {"type": "Feature", "properties": {"highway": hw, "name": nm},
         "geometry": json.loads(shapely.to_geojson(g))}
        for (hw, nm, _), g in zip(rows, geoms, strict=True) if g is not None and not g.is_empty
    ]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":")).encode()


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def roads_geojson(path: Path, cache_dir: Path) -> bytes:
    """Simplified road GeoJSON for ``path``, cached in ``cache_dir`` by content hash."""
    path = Path(path)
    target = Path(cache_dir) / f"map_roads.{_digest(path)}.v{FORMAT}.geojson"
    if target.exists():
        return target.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.name.lower().endswith((".geojson", ".json", ".osm", ".xml", ".graphml")):
        body = build_roads_geojson(path)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(target)
    else:  # GDAL formats: in a child process (see the module docstring)
        proc = subprocess.run([sys.executable, "-m", "geo_sigap.maps.roads", str(path),
                               str(target)], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not target.exists():
            raise ConfigError(
                f"Jalan untuk peta tidak dapat dibaca dari {path}: {proc.stderr[-500:]}",
                f"Cannot read road lines for the map from {path}: {proc.stderr[-500:]}")
        body = target.read_bytes()
    log.info("jalan untuk peta disimpan di %s", target)
    return body


def _main(argv: list[str]) -> int:
    src, out = Path(argv[0]), Path(argv[1])
    body = build_roads_geojson(src)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
