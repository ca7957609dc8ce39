"""A geometry column type that works on PostGIS, SpatiaLite and plain SQLite.

- PostGIS: ``geometry(<TYPE>, 4326)`` (GeoAlchemy2's type for DDL), written with
  ``ST_GeomFromWKB`` and read with ``ST_AsBinary``.
- SQLite with ``mod_spatialite`` loaded: a SpatiaLite geometry (``GeomFromWKB`` /
  ``AsBinary``), registered with ``RecoverGeometryColumn`` by the migration.
- Plain SQLite (no system package): the WKB bytes as a BLOB.

Python values are shapely geometries (EPSG:4326 lon/lat) both ways.

GeoAlchemy2 is imported only where PostgreSQL is used (``storage.engine.make_engine``
imports it with a PostgreSQL engine, before any DDL): importing it loads every dialect it
supports, MSSQL's included (~0.18 s of a service start), and hooks its DDL listeners
into every statement, which SQLite does not need.
"""

from __future__ import annotations

import shapely
from sqlalchemy import LargeBinary, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

SRID = 4326


def spatialite_loaded(dialect) -> bool:
    return bool(getattr(dialect, "geo_sigap_spatialite", False))


class _FromWKB(FunctionElement):
    inherit_cache = True


class _AsWKB(FunctionElement):
    inherit_cache = True


@compiles(_FromWKB)
def _from_wkb_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_FromWKB, "postgresql")
def _from_wkb_pg(element, compiler, **kw):
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


@compiles(_FromWKB, "sqlite")
def _from_wkb_sqlite(element, compiler, **kw):
    inner = compiler.process(element.clauses, **kw)
    return f"GeomFromWKB({inner}, {SRID})" if spatialite_loaded(compiler.dialect) else inner


@compiles(_AsWKB)
def _as_wkb_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_AsWKB, "postgresql")
def _as_wkb_pg(element, compiler, **kw):
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


@compiles(_AsWKB, "sqlite")
def _as_wkb_sqlite(element, compiler, **kw):
    inner = compiler.process(element.clauses, **kw)
    return f"AsBinary({inner})" if spatialite_loaded(compiler.dialect) else inner


def _shape(value):
    if value is None:
        return None
    if isinstance(value, str):  # some drivers hand back hex
        return shapely.from_wkb(bytes.fromhex(value))
    return shapely.from_wkb(bytes(value))


class _WKBResult(TypeDecorator):
    """Type of the ``AsBinary(col)`` expression: WKB bytes → shapely."""

    impl = LargeBinary
    cache_ok = True

    def process_result_value(self, value, dialect):
        return _shape(value)


class Geom(TypeDecorator):
    """Shapely geometry ↔ spatial column (see module docstring)."""

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL events on PostGIS; our migration creates the GiST indexes.
    spatial_index = False
    use_N_D_index = False
    use_typmod = None
    srid = SRID
    dimension = 2
    nullable = True

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect):
        if dialect is not None and dialect.name == "postgresql":
            from geoalchemy2 import Geometry  # imported with a PostgreSQL engine

            return dialect.type_descriptor(
                Geometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary()) if dialect is not None else LargeBinary()

    def bind_expression(self, bindvalue):
        return _FromWKB(bindvalue)

    def column_expression(self, col):
        return type_coerce(_AsWKB(col), _WKBResult())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        return shapely.to_wkb(value, hex=False, include_srid=False)

    def bind_processor(self, dialect):
        # Send plain bytes on every backend (GeoAlchemy2's own processor expects elements).
        def process(value):
            return self.process_bind_param(value, dialect)

        return process

    def result_processor(self, dialect, coltype):
        return _shape
