"""Loading what forward geocoding searches: named streets and landmarks.

All outputs are GeoDataFrames in EPSG:4326 (lon/lat degrees).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_sigap.errors import ImportFailed


def streets_from_osm(path: str | Path) -> gpd.GeoDataFrame:
    """Named ways of an OSM XML file as lines: columns ``name, highway, geometry``.

    Reads with ``osmnx.graph_from_xml(path, simplify=False, retain_all=True)`` then
    ``osmnx.graph_to_gdfs``; one row per edge whose ``name`` is set (a list of names
    gives one row per name). Offline; nothing is downloaded.
    """
    import osmnx as ox

    try:
        graph = ox.graph_from_xml(str(path), simplify=False, retain_all=True)
    except Exception as exc:  # osmnx raises several kinds on a bad file
        raise ImportFailed(
            f"Berkas OSM tidak dapat dibaca: {path} ({exc})",
            f"Cannot read OSM file: {path} ({exc})", path=str(path),
        ) from exc
    edges = ox.graph_to_gdfs(graph, nodes=False)
    return _named_lines(edges)


def streets_from_file(path: str | Path, options=None) -> gpd.GeoDataFrame:
    """Named lines from a GeoJSON/GPKG/SHP road file, an osmnx GraphML, or an OSM XML
    file (``.osm``) via :func:`streets_from_osm`.

    Line files are read as for routing (:func:`geo_sigap.routing.lines.named_lines`:
    ``name``/``NAMA``/``NAMRJL`` … columns, or ``options`` from ``--map``); a file
    whose road classes cannot be read falls back to its ``name`` column.
    """
    from geo_sigap.routing.lines import named_lines

    p = Path(path)
    if p.suffix.lower() in (".osm", ".xml"):
        return streets_from_osm(p)
    if p.suffix.lower() == ".graphml":
        return _named_lines(named_lines(p))
    try:
        return _named_lines(named_lines(p, options))
    except ImportFailed:
        pass
    gdf = gpd.read_file(p)
    if "name" not in gdf.columns:
        raise ImportFailed(
            f"Berkas jalan tanpa kolom 'name': {p}", f"Road file has no 'name' column: {p}",
            path=str(p),
        )
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    return _named_lines(gdf)


def _named_lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    df = pd.DataFrame({
        "name": gdf["name"].to_numpy() if "name" in gdf else [None] * len(gdf),
        "highway": gdf["highway"].to_numpy() if "highway" in gdf else [None] * len(gdf),
        "geometry": gdf.geometry.to_numpy(),
    })
    df = df.explode("name")
    df["highway"] = [h[0] if isinstance(h, list) and h else h for h in df["highway"]]
    df = df[df["name"].map(lambda v: isinstance(v, str) and v.strip() != "")]
    geom = df["geometry"].to_numpy()
    df = df[shapely.get_type_id(geom) != 0] if len(df) else df  # drop stray points
    df["name"] = df["name"].str.strip()
    return gpd.GeoDataFrame(df.reset_index(drop=True), geometry="geometry", crs=4326)


def load_gazetteer(path: str | Path) -> gpd.GeoDataFrame:
    """Landmarks as points: columns ``name, kind, geometry`` (EPSG:4326).

    Reads a CSV ``name,kind,lon,lat`` or a GeoJSON/GPKG with ``name``/``kind`` columns
    (or the OSM POI schema ``dest_name``/``category``). Rows without a name or with
    unusable coordinates are dropped.
    """
    p = Path(path)
    if not p.exists():
        raise ImportFailed(f"Berkas gazetir tidak ada: {p}", f"Gazetteer file not found: {p}",
                           path=str(p))
    if p.suffix.lower() == ".csv":
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        missing = {"name", "lon", "lat"} - set(df.columns)
        if missing:
            raise ImportFailed(
                f"Kolom gazetir kurang: {sorted(missing)} (perlu name,kind,lon,lat)",
                f"Gazetteer lacks columns: {sorted(missing)} (need name,kind,lon,lat)",
                path=str(p),
            )
        lon = pd.to_numeric(df["lon"].str.replace(",", "."), errors="coerce")
        lat = pd.to_numeric(df["lat"].str.replace(",", "."), errors="coerce")
        gdf = gpd.GeoDataFrame(
            {"name": df["name"], "kind": df["kind"] if "kind" in df else ""},
            geometry=gpd.points_from_xy(lon, lat), crs=4326)
    else:
        src = gpd.read_file(p)
        if src.crs is not None and not src.crs.equals("EPSG:4326"):
            src = src.to_crs(4326)
        name_col = "name" if "name" in src else "dest_name" if "dest_name" in src else None
        kind_col = "kind" if "kind" in src else "category" if "category" in src else None
        if name_col is None:
            raise ImportFailed(f"Gazetir tanpa kolom nama: {p}", f"Gazetteer has no name: {p}",
                               path=str(p))
        geom = src.geometry.values
        points = [g if g is not None and g.geom_type == "Point" else
                  (g.representative_point() if g is not None and not g.is_empty else None)
                  for g in geom]
        gdf = gpd.GeoDataFrame(
            {"name": src[name_col].astype(str), "kind": src[kind_col] if kind_col else ""},
            geometry=gpd.GeoSeries(points, crs=4326), crs=4326)
    gdf["kind"] = gdf["kind"].fillna("").astype(str)
    keep = gdf["name"].str.strip().ne("") & gdf["name"].ne("nan") & gdf.geometry.notna()
    keep &= ~gdf.geometry.is_empty
    gdf = gdf[keep.to_numpy()].reset_index(drop=True)
    xy = shapely.get_coordinates(gdf.geometry.values)
    if len(xy) == len(gdf):
        gdf = gdf[np.isfinite(xy).all(axis=1)].reset_index(drop=True)
    return gdf
