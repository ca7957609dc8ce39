"""Byte-stable writers for the demo files (GeoJSON, OSM XML, CSV).

No generation timestamps, fixed row order, coordinates with 6 decimals (EPSG:4326).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import pandas as pd

from geo_sigap.demo.area import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ID
from geo_sigap.demo.roads import RoadNetwork


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, level: str) -> None:
    """GeoJSON (EPSG:4326) whose ``name`` and ``description`` say it is synthetic."""
    if path.exists():
        path.unlink()
    gdf.to_file(
        path, driver="GeoJSON", engine="pyogrio", layer=f"paal_merah_demo_{level}_SINTETIS",
        layer_options={"COORDINATE_PRECISION": "6", "RFC7946": "NO", "WRITE_BBOX": "NO",
                       "DESCRIPTION": f"{SYNTHETIC_NOTE_ID} / {SYNTHETIC_NOTE_EN}"},
    )


def write_osm_xml(net: RoadNetwork, path: Path) -> None:
    """OSM XML 0.6 that ``osmnx.graph_from_xml`` reads; ids positive, sorted."""
    lons = [c[0] for c in net.nodes.values()]
    lats = [c[1] for c in net.nodes.values()]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="geo_sigap.demo.generate (SINTETIS / SYNTHETIC)">',
        f"  <!-- {escape(SYNTHETIC_NOTE_ID)} -->",
        f"  <!-- {escape(SYNTHETIC_NOTE_EN)} -->",
        f"  <note>{escape(SYNTHETIC_NOTE_ID)} {escape(SYNTHETIC_NOTE_EN)}</note>",
        f'  <bounds minlat="{min(lats):.6f}" minlon="{min(lons):.6f}" '
        f'maxlat="{max(lats):.6f}" maxlon="{max(lons):.6f}"/>',
    ]
    for nid in sorted(net.nodes):
        lon, lat = net.nodes[nid]
        lines.append(f'  <node id="{nid}" lat="{lat:.6f}" lon="{lon:.6f}" version="1"/>')
    for w in sorted(net.ways, key=lambda w: w.id):
        lines.append(f'  <way id="{w.id}" version="1">')
        lines += [f'    <nd ref="{n}"/>' for n in w.node_ids]
        tags = {**w.tags, "source": "geo_sigap demo (sintetis)"}
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, ``\\n`` line ends, floats with 6 decimals, no index."""
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.6f", encoding="utf-8")
