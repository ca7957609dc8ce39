"""osmnx GraphML (``ox.save_graphml``) read as a :class:`~geo_sigap.routing.graph.RoadGraph`.

A city that already has an osmnx graph uses it as it is: its nodes, its directed edges
(osmnx stores a two-way street as two edges and a one-way street as one), their
``length`` (metres), ``highway``, ``name``, ``maxspeed`` and access tags, and their
geometry. A projected graph (``ox.project_graph``) is turned back into lon/lat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geo_sigap.errors import ImportFailed
from geo_sigap.routing.profiles import RoutingConfig, road_class


def graph_from_graphml(path: str | Path, config: RoutingConfig):
    """Read an osmnx GraphML file (needs osmnx, offline)."""
    import osmnx as ox
    import shapely

    from geo_sigap.routing.graph import _assemble, polyline_length_m

    path = Path(path)
    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # noqa: BLE001 - networkx/osmnx raise many kinds
        raise ImportFailed(
            f"Berkas GraphML tidak dapat dibaca (harus dari osmnx save_graphml): {path} ({exc})",
            f"Cannot read the GraphML file (it must come from osmnx save_graphml): "
            f"{path} ({exc})",
        ) from exc
    ids = list(G.nodes)
    try:
        x = np.array([float(G.nodes[n]["x"]) for n in ids])
        y = np.array([float(G.nodes[n]["y"]) for n in ids])
    except KeyError as exc:
        raise ImportFailed(
            f"GraphML {path} bukan graf osmnx: simpul tanpa koordinat x/y",
            f"GraphML {path} is not an osmnx graph: nodes without x/y coordinates",
        ) from exc
    to_wgs = _to_wgs84(G.graph.get("crs"))
    lon, lat = to_wgs(x, y) if to_wgs else (x, y)
    index = {n: i for i, n in enumerate(ids)}
    names = config.names
    directed = []
    for u, v, data in G.edges(data=True):
        tags = _tags(data)
        speeds = [config.profiles[p].speed_ms(tags) for p in names]
        if all(s is None for s in speeds):
            continue
        geom = data.get("geometry")
        if geom is not None:
            pts = np.asarray(shapely.get_coordinates(geom), dtype=np.float64)
            if to_wgs:
                pts = np.column_stack(to_wgs(pts[:, 0], pts[:, 1]))
        else:
            pts = np.array([(lon[index[u]], lat[index[u]]), (lon[index[v]], lat[index[v]])])
        length = _float(data.get("length"))
        if length is None or not np.isfinite(length):
            length = polyline_length_m(pts[:, 0], pts[:, 1])
        times = [length / s if s else np.inf for s in speeds]
        name = data.get("name") or ""
        if isinstance(name, list):
            name = " / ".join(sorted(set(map(str, name))))
        hw = data.get("highway")
        cls = (sorted({road_class({**tags, "highway": h}) or "" for h in hw})[0]
               if isinstance(hw, list) and hw else road_class(tags) or "")
        directed.append((index[u], index[v], float(length), times, pts, (str(name), cls)))
    if not directed:
        raise ImportFailed(
            f"GraphML {path} tidak berisi jalan yang dapat dilalui motor atau mobil",
            f"GraphML {path} holds no road usable by motorcycle or car",
        )
    try:
        node_ids = np.array([int(n) for n in ids], dtype=np.int64)
    except (TypeError, ValueError):
        node_ids = np.arange(len(ids), dtype=np.int64)
    present = {k for _, _, d in G.edges(data=True) for k in d}
    meta = {
        "source": str(path), "format": "graphml", "joined_ends": 0,
        "source_columns": {f: (f if f in present else None)
                           for f in ("highway", "oneway", "name", "maxspeed", "length")},
        "oneway_encoding": "osmnx: satu sisi berarah per arah",
    }
    return _assemble(lon, lat, node_ids, directed, config, meta)


def _tags(data: dict[str, Any]) -> dict[str, Any]:
    """Edge attributes as OSM tags; osmnx gives a bool ``oneway``."""
    tags = {k: v for k, v in data.items() if k not in ("geometry", "length", "osmid")}
    ow = tags.get("oneway")
    if isinstance(ow, bool | np.bool_):
        tags["oneway"] = "yes" if ow else "no"
    return tags


def _float(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_wgs84(crs: Any):
    if crs is None:
        return None
    from pyproj import CRS, Transformer

    src = CRS.from_user_input(crs)
    if src.equals(CRS.from_epsg(4326)) or (src.is_geographic and src.datum.name.startswith(
            "World Geodetic System 1984")):
        return None
    t = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    return lambda x, y: t.transform(np.asarray(x), np.asarray(y))


def graphml_lines(path: str | Path) -> list[tuple[str | None, str | None, Any]]:
    """``(name, highway, LineString lon/lat)`` per road of an osmnx GraphML (a two-way
    street once)."""
    import osmnx as ox
    import shapely

    G = ox.load_graphml(Path(path))
    to_wgs = _to_wgs84(G.graph.get("crs"))
    seen: set[tuple[Any, Any]] = set()
    out = []
    for u, v, data in G.edges(data=True):
        if (v, u) in seen:
            continue
        seen.add((u, v))
        geom = data.get("geometry")
        pts = (np.asarray(shapely.get_coordinates(geom)) if geom is not None else
               np.array([(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])],
                        dtype=np.float64))
        if to_wgs:
            pts = np.column_stack(to_wgs(pts[:, 0], pts[:, 1]))
        name, hw = data.get("name"), data.get("highway")
        name = name[0] if isinstance(name, list) and name else name
        hw = hw[0] if isinstance(hw, list) and hw else hw
        out.append((None if name is None else str(name), None if hw is None else str(hw),
                    shapely.LineString(pts)))
    return out
