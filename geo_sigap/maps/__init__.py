"""Static maps (exports, reports, notebooks) that work offline, and base-map road lines."""

__all__ = ["OfflineMap", "incident_map", "offline_html", "save_offline"]


def __getattr__(name: str):
    # folium (and pandas with it) is imported on first use of a static map, not when the
    # web service imports ``geo_sigap.maps.roads`` for the base map (service start-up)
    if name in __all__:
        from geo_sigap.maps import folium_maps

        return getattr(folium_maps, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
