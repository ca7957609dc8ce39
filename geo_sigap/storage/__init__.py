"""Persistence: SQLAlchemy 2 + GeoAlchemy2 on SQLite (SpatiaLite when present) or PostGIS."""

from geo_sigap.storage.engine import Database, open_database

__all__ = ["Database", "open_database"]
