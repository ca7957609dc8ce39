"""Folium maps made by analytics display offline (no CDN) in notebooks and files."""

import re

import numpy as np

from geo_sigap.analytics.heatmap import kde_grid

REMOTE_ASSET = re.compile(r'<(?:script[^>]+src|link[^>]+href)=(?:"|&quot;)https?://', re.I)


def test_heat_folium_map_loads_nothing_from_the_internet():
    rng = np.random.default_rng(7)
    grid = kde_grid(rng.uniform(103.64, 103.66, 500), rng.uniform(-1.63, -1.61, 500),
                    bandwidth_m=300)
    shown = grid.to_folium()._repr_html_()
    assert "L.imageOverlay" in shown or "imageOverlay" in shown
    assert "leaflet" in shown.lower()
    assert not REMOTE_ASSET.search(shown)
