"""Reading a geospatial file into EPSG:4326 polygons: the file, its CRS, repairs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo_sigap.errors import ImportFailed


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise ImportFailed(f"Berkas tidak ditemukan: {path}", f"File not found: {path}")
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several error types
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ImportFailed(
            f"Berkas {path.name} tidak dapat dibaca sebagai data geospasial: {first}",
            f"{path.name} cannot be read as geospatial data: {first}",
            file=str(path),
        ) from exc


def _set_crs(gdf: gpd.GeoDataFrame, path: Path, source_crs: str | None) -> tuple[gpd.GeoDataFrame, str]:
    if source_crs:
        try:
            gdf = gdf.set_crs(source_crs, allow_override=True)
        except Exception as exc:  # noqa: BLE001
            raise ImportFailed(
                f"CRS tidak dikenal: {source_crs!r}", f"Unknown CRS: {source_crs!r}"
            ) from exc
    minx, miny, maxx, maxy = gdf.total_bounds
    degrees = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    if gdf.crs is not None and gdf.crs.is_geographic and not degrees and not source_crs:
        gdf = gdf.set_crs(None, allow_override=True)  # e.g. GeoJSON (always "4326") in metres
    if gdf.crs is None:
        if degrees:
            gdf = gdf.set_crs("EPSG:4326")
        else:
            raise ImportFailed(
                f"{path.name}: sistem koordinat (CRS) tidak diketahui dan koordinatnya bukan "
                "derajat lon/lat. Sebutkan dengan --crs (mis. EPSG:32748 untuk UTM 48S).",
                f"{path.name}: unknown coordinate system (CRS) and the coordinates are not "
                "lon/lat degrees. Give it with --crs (e.g. EPSG:32748 for UTM 48S).",
                file=str(path),
            )
    crs = gdf.crs.to_string()
    try:
        gdf = gdf.to_crs("EPSG:4326")
    except Exception as exc:  # noqa: BLE001
        raise ImportFailed(
            f"{path.name}: koordinat tidak dapat diubah dari {crs} ke EPSG:4326: {exc}",
            f"{path.name}: cannot transform coordinates from {crs} to EPSG:4326: {exc}",
        ) from exc
    return gdf, crs


def _polygonal(geom):
    """Repair a geometry; return (polygonal geometry or None, was_repaired)."""
    if geom is None or geom.is_empty:
        return None, False
    repaired = False
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        repaired = True
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, repaired
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return geom, repaired
