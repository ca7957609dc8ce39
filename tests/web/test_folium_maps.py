"""folium maps made by geo_sigap.maps open with no internet."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo_sigap.errors import ConfigError
from geo_sigap.maps import OfflineMap, incident_map, offline_html, save_offline
from geo_sigap.maps.folium_maps import map_data
from tests.web.area import units


def _frames():
    us = units()
    ugdf = gpd.GeoDataFrame({"code": [u.code for u in us], "name": [u.name for u in us],
                             "level": [u.level.name.lower() for u in us]},
                            geometry=[u.geometry for u in us], crs=4326)
    inc = gpd.GeoDataFrame({"ticket": ["PM-1", "PM-2", "PM-3"],
                            "category": ["pkl", "odgj", "bencana"],
                            "status": ["diterima", "di_lokasi", "selesai"]},
                           geometry=[Point(103.625, -1.64), Point(103.635, -1.645),
                                     Point(103.631, -1.633)], crs=4326)
    return inc, ugdf


def test_incident_map_has_markers_and_boundaries_and_no_cdn(tmp_path):
    inc, ugdf = _frames()
    m = incident_map(inc, ugdf)
    assert isinstance(m, OfflineMap)
    counts = map_data(m)
    assert counts["circle_markers"] == 3
    assert counts["geojson_layers"] == 3  # kelurahan, rw, rt
    out = save_offline(m, tmp_path / "peta.html")
    text = out.read_text("utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", text)
    assert "cdn.jsdelivr" not in text and "code.jquery" not in text
    assert "L.circleMarker" in text and "Talang Bakung" in text
    assert "PM-2" in text
    assert len(text) > 140_000  # Leaflet itself is inlined
    # leaflet.css images are inlined as data URIs
    assert "url(images/" not in text and "data:image/png;base64" in text
    # the popup colour follows the status
    assert "#17becf" in text


def test_remote_plugins_are_refused():
    from folium.plugins import MarkerCluster

    inc, _ = _frames()
    m = incident_map(inc)
    MarkerCluster().add_to(m)  # links its JS/CSS on a CDN
    with pytest.raises(ConfigError) as err:
        offline_html(m)
    assert "internet" in err.value.message_id


def test_opens_in_a_plain_folium_workflow(tmp_path):
    """Points in a projected CRS are reprojected; a map with no units still fits."""
    inc, _ = _frames()
    m = incident_map(inc.to_crs(32748))
    html = offline_html(m)
    assert "fitBounds" in html
    assert "-1.64" in html
