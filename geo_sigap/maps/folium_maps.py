"""Static incident maps with folium that open with no internet.

folium normally links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs. Maps made
here use only the Leaflet copy vendored under ``geo_sigap/web/static/vendor/leaflet``:
linked as ``/static/vendor/leaflet/…`` (works inside the GeoSIGAP app) and inlined by
:func:`offline_html` / :func:`save_offline` (works from a file, a USB stick, an e-mail).

Only elements that need nothing but Leaflet are used (GeoJson, CircleMarker,
Popup/Tooltip, LayerControl); :func:`offline_html` refuses to produce HTML that still
points at another host.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import folium

from geo_sigap.errors import ConfigError

VENDOR = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor"
LEAFLET_JS_URL = "/static/vendor/leaflet/leaflet.js"
LEAFLET_CSS_URL = "/static/vendor/leaflet/leaflet.css"
_LOCAL = {LEAFLET_JS_URL: VENDOR / "leaflet" / "leaflet.js",
          LEAFLET_CSS_URL: VENDOR / "leaflet" / "leaflet.css"}

STATUS_COLORS = {
    "diterima": "#d62728", "terverifikasi": "#ff7f0e", "ditugaskan": "#9467bd",
    "menuju_lokasi": "#1f77b4", "di_lokasi": "#17becf", "ditangani": "#2ca02c",
    "selesai": "#7f7f7f", "ditolak": "#7f7f7f",
}
LEVEL_STYLE = {
    "kelurahan": {"color": "#3b3b98", "weight": 2.5, "fillOpacity": 0.03},
    "rw": {"color": "#6c5ce7", "weight": 1.2, "dashArray": "5 4", "fill": False},
    "rt": {"color": "#a29bfe", "weight": 0.8, "dashArray": "2 3", "fill": False},
}


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose only assets are the vendored Leaflet JS and CSS."""

    default_js = [("leaflet", LEAFLET_JS_URL)]
    default_css = [("leaflet_css", LEAFLET_CSS_URL)]

    def _repr_html_(self, **kwargs) -> str:
        """Notebook display with Leaflet inlined (folium's own would load it from a CDN)."""
        doc = html.escape(offline_html(self), quote=True)
        return (f'<iframe srcdoc="{doc}" style="width:100%;height:520px;border:none" '
                'sandbox="allow-scripts"></iframe>')


def _style(level: str):
    style = LEVEL_STYLE.get(level, LEVEL_STYLE["rt"])
    return lambda _feature: style


def incident_map(incidents_gdf, units_gdf=None, *, roads_gdf=None, status_col: str = "status",
                 label_cols: tuple[str, ...] = ("ticket", "category", "status"),
                 radius_px: float = 6.0, zoom_start: int = 14) -> OfflineMap:
    """A folium map of incidents over the area's boundaries (and roads), no tiles.

    Parameters
    ----------
    incidents_gdf
        GeoDataFrame of points (EPSG:4326 or any CRS, reprojected to 4326) with a
        ``status`` column (colours) and the ``label_cols`` shown in popups.
    units_gdf
        Optional boundaries (EPSG:4326) with ``name`` and ``level`` (kelurahan/rw/rt).
    roads_gdf
        Optional road lines (EPSG:4326).
    radius_px
        Marker radius in screen pixels.

    Returns
    -------
    OfflineMap
        Pass to :func:`save_offline` to write a self-contained HTML file.
    """
    pts = incidents_gdf.to_crs(4326) if incidents_gdf.crs is not None else incidents_gdf
    frames = [f for f in (units_gdf, pts) if f is not None and len(f)]
    m = OfflineMap(location=[-1.63, 103.63], zoom_start=zoom_start, tiles=None,
                   control_scale=True, prefer_canvas=True)
    if roads_gdf is not None and len(roads_gdf):
        folium.GeoJson(roads_gdf[["geometry"]].to_json(), name="Jalan",
                       style_function=lambda _f: {"color": "#b9a27a", "weight": 1.5},
                       interactive=False).add_to(m)
    if units_gdf is not None and len(units_gdf):
        units = units_gdf.to_crs(4326) if units_gdf.crs is not None else units_gdf
        for level in ("kelurahan", "rw", "rt"):
            part = units[units["level"] == level] if "level" in units else units
            if not len(part):
                continue
            cols = [c for c in ("code", "name") if c in part.columns]
            folium.GeoJson(part[[*cols, "geometry"]].to_json(), name=f"Batas {level.upper() if level != 'kelurahan' else 'kelurahan'}",
                           style_function=_style(level),
                           tooltip=folium.GeoJsonTooltip(fields=cols[-1:]) if cols else None,
                           ).add_to(m)
            if "level" not in units:
                break
    group = folium.FeatureGroup(name="Kejadian").add_to(m)
    for _, row in pts.iterrows():
        g = row.geometry
        if g is None or g.is_empty:
            continue
        status = str(row.get(status_col, ""))
        text = "<br>".join(f"<b>{html.escape(c)}</b>: {html.escape(str(row.get(c, '')))}"
                           for c in label_cols if c in pts.columns)
        folium.CircleMarker([g.y, g.x], radius=radius_px, weight=1.5, color="#ffffff",
                            fill=True, fill_color=STATUS_COLORS.get(status, "#555555"),
                            fill_opacity=0.95, popup=folium.Popup(text, max_width=300)
                            ).add_to(group)
    folium.LayerControl(collapsed=False).add_to(m)
    if frames:
        import geopandas as gpd
        import pandas as pd

        allg = gpd.GeoSeries(pd.concat([f.geometry.to_crs(4326) if f.crs else f.geometry
                                        for f in frames]), crs=4326)
        minx, miny, maxx, maxy = allg.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _css_with_inline_images(css: str, base: Path) -> str:
    def repl(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        f = base / ref
        if ref.startswith(("data:", "http:", "https:")) or not f.exists():
            return match.group(0)
        mime = "image/svg+xml" if f.suffix == ".svg" else f"image/{f.suffix.lstrip('.')}"
        return f"url(data:{mime};base64,{base64.b64encode(f.read_bytes()).decode()})"

    return re.sub(r"url\(([^)]+)\)", repl, css)


_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""",
                     re.I)


def offline_html(m: folium.Map) -> str:
    """The map as one HTML document with Leaflet's JS and CSS inlined.

    Raises :class:`ConfigError` if an element still links a script or stylesheet on
    another host (e.g. a folium plugin that needs its own CDN assets).
    """
    doc = m.get_root().render()
    js = _LOCAL[LEAFLET_JS_URL].read_text("utf-8").replace("</script", "<\\/script")
    css = _css_with_inline_images(_LOCAL[LEAFLET_CSS_URL].read_text("utf-8"),
                                  _LOCAL[LEAFLET_CSS_URL].parent)
    doc = re.sub(r'<script src="' + re.escape(LEAFLET_JS_URL) + r'"></script>',
                 lambda _m: f"<script>{js}</script>", doc)
    doc = re.sub(r'<link rel="stylesheet" href="' + re.escape(LEAFLET_CSS_URL) + r'"\s*/?>',
                 lambda _m: f"<style>{css}</style>", doc)
    remote = _REMOTE.findall(doc)
    if remote:
        raise ConfigError(
            "Peta masih memuat berkas dari internet: " + ", ".join(sorted(set(remote))),
            "The map still loads files from the internet: " + ", ".join(sorted(set(remote))),
            urls=sorted(set(remote)))
    return doc


def save_offline(m: folium.Map, path: str | Path) -> Path:
    """Write :func:`offline_html` of ``m`` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(offline_html(m), encoding="utf-8")
    return path


def map_data(m: folium.Map) -> dict[str, Any]:
    """Counts of what a map holds (for reports and tests): markers and GeoJSON layers."""
    counts = {"circle_markers": 0, "geojson_layers": 0}
    for child in m._children.values():
        stack = [child]
        while stack:
            el = stack.pop()
            if isinstance(el, folium.CircleMarker):
                counts["circle_markers"] += 1
            elif isinstance(el, folium.GeoJson):
                counts["geojson_layers"] += 1
            stack.extend(getattr(el, "_children", {}).values())
    return counts
