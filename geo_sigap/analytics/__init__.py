"""Hotspot analytics for the quarterly rakor: heatmaps, Gi*/Local Moran hotspots,
emerging hotspots, temporal patterns, response performance and the rakor report.

Inputs are plain frames (see :mod:`geo_sigap.analytics.frames`) so that analytics does
not depend on storage. Submodules are imported on use; importing this package is cheap.
"""
