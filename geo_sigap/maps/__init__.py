"""Static maps (exports, reports, notebooks) that work offline, and base-map road lines."""

from geo_sigap.maps.folium_maps import OfflineMap, incident_map, offline_html, save_offline

__all__ = ["OfflineMap", "incident_map", "offline_html", "save_offline"]
